//! French words for the codes of the contract, as the printed report shows them. Exhaustive
//! matches: a value added to a closed list fails to compile here until it has its words.

use parcours_core::vocabulary::{
    ContractKind, Destination, Gender, Month, Situation, SituationAfterExit, SupportAction, SupportDomain,
};
use parcours_projections::report::Band;
use parcours_projections::{AgeBand, OutcomeField};

pub fn gender(gender: Gender) -> &'static str {
    match gender {
        Gender::Female => "Femmes",
        Gender::Male => "Hommes",
        Gender::NonBinary => "Personnes non binaires",
        Gender::Undisclosed => "Genre non déclaré",
    }
}

pub fn situation(situation: Situation) -> &'static str {
    match situation {
        Situation::Unemployed => "Demandeur d'emploi",
        Situation::LongTermUnemployed => "Demandeur d'emploi de longue durée",
        Situation::Inactive => "Inactif",
        Situation::Employed => "En emploi",
        Situation::InTraining => "En formation",
    }
}

pub fn age_band(band: AgeBand) -> &'static str {
    match band {
        AgeBand::Under25 => "Moins de 25 ans",
        AgeBand::From25To50 => "25 à 50 ans",
        AgeBand::Over50 => "Plus de 50 ans",
    }
}

/// A benefit's code from the report (`rsa`, …, `none`).
pub fn benefit(code: &str) -> &'static str {
    match code {
        "rsa" => "RSA",
        "ass" => "ASS",
        "aah" => "AAH",
        "other" => "Autre allocation",
        _ => "Aucune allocation",
    }
}

pub fn band(band: Band) -> String {
    match band {
        Band::Under(cut) => format!("Moins de {} €", super::number::integer(u64::from(cut))),
        Band::Between(low, high) => format!(
            "De {} à {} €",
            super::number::integer(u64::from(low)),
            super::number::integer(u64::from(high.saturating_sub(1)))
        ),
        Band::AndOver(cut) => format!("{} € et plus", super::number::integer(u64::from(cut))),
        Band::Unknown => "Non renseigné".to_owned(),
    }
}

pub fn contract_kind(kind: ContractKind) -> &'static str {
    match kind {
        ContractKind::Cddi => "CDDI",
        ContractKind::Cdd => "CDD",
        ContractKind::Cdi => "CDI",
        ContractKind::MiseADisposition => "Mise à disposition",
        ContractKind::Cui => "CUI",
        ContractKind::Other => "Autre contrat",
    }
}

pub fn domain(domain: SupportDomain) -> &'static str {
    match domain {
        SupportDomain::Budget => "Budget",
        SupportDomain::Health => "Santé",
        SupportDomain::Housing => "Logement",
        SupportDomain::Mobility => "Mobilité",
        SupportDomain::Family => "Famille",
        SupportDomain::Childcare => "Garde d'enfants",
        SupportDomain::Digital => "Numérique",
        SupportDomain::Legal => "Droit",
        SupportDomain::Language => "Langue",
        SupportDomain::Other => "Autre",
    }
}

pub fn action(action: Option<SupportAction>) -> &'static str {
    match action {
        Some(SupportAction::Diagnostic) => "Diagnostic",
        Some(SupportAction::Orientation) => "Orientation",
        Some(SupportAction::Assistance) => "Aide",
        None => "Non précisée",
    }
}

pub fn destination(destination: Destination) -> &'static str {
    match destination {
        Destination::Cdi => "CDI",
        Destination::Cdd6MonthsPlus => "CDD de 6 mois ou plus",
        Destination::Interim6MonthsPlus => "Intérim de 6 mois ou plus",
        Destination::CivilService => "Fonction publique",
        Destination::BusinessCreation => "Création d'entreprise",
        Destination::CddUnder6Months => "CDD de moins de 6 mois",
        Destination::InterimUnder6Months => "Intérim de moins de 6 mois",
        Destination::SubsidisedContract => "Contrat aidé",
        Destination::QualifyingTraining => "Formation qualifiante",
        Destination::OtherSiae => "Autre structure d'insertion",
        Destination::JobSeeking => "Recherche d'emploi",
        Destination::Inactive => "Inactivité",
        Destination::NoNews => "Sans nouvelles",
        Destination::Other => "Autre",
        Destination::Health => "Santé",
        Destination::Maternity => "Maternité",
        Destination::Moved => "Déménagement",
        Destination::Retirement => "Retraite",
        Destination::Deceased => "Décès",
        Destination::Incarceration => "Incarcération",
    }
}

pub fn six_months(situation: SituationAfterExit) -> &'static str {
    match situation {
        SituationAfterExit::Employed => "En emploi",
        SituationAfterExit::Training => "En formation",
        SituationAfterExit::JobSeeking => "En recherche d'emploi",
        SituationAfterExit::Inactive => "Inactif",
        SituationAfterExit::Unknown => "Situation inconnue",
    }
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `mars 2024`.
pub fn month(month: Month) -> String {
    format!("{} {}", MONTHS[usize::from(month.month.clamp(1, 12)) - 1], month.year)
}

/// `mars`, for the axis of a chart.
pub fn month_short(month: Month) -> &'static str {
    const SHORT: [&str; 12] =
        ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
    SHORT[usize::from(month.month.clamp(1, 12)) - 1]
}

/// `1er janvier 2024`, `15 mars 2024`.
pub fn date(date: parcours_core::vocabulary::Date) -> String {
    use chrono::Datelike;
    let day = date.0.day();
    let day = if day == 1 { "1er".to_owned() } else { day.to_string() };
    format!("{day} {} {}", MONTHS[date.0.month0() as usize], date.0.year())
}

/// The official exit categories, in the contract's order, with their counts.
pub const CATEGORIES: [(OutcomeField, &str); 5] = [
    (OutcomeField::DurableEmployment, "Emploi durable"),
    (OutcomeField::TransitionEmployment, "Emploi de transition"),
    (OutcomeField::PositiveExits, "Sortie positive"),
    (OutcomeField::OtherExits, "Autre sortie"),
    (OutcomeField::NeutralExits, "Sortie neutre"),
];
