//! The outcome and entry statistics as workbooks. Outcomes: one sheet, the whole first
//! (« Ensemble »), then each group; entries: the participants by gender, then situation × gender
//! and age band × gender, each on its sheet. What the period and the structure are, and how the
//! rate is computed, go on the notes' sheet.

use parcours_core::vocabulary::Date;
use parcours_projections::{Entries, EsfIndicators, GroupKey, IndicatorRow, OutcomeField, Outcomes};

use super::{Cell, Workbook};
use crate::french;
use crate::labels::Labelled;
use crate::report_html::figure_label;

/// What a statistics file says it covers: the period, and the structure by its name (« Toutes
/// les structures » when none).
fn about(from: Date, to: Date, structure: &str, withheld: bool) -> Vec<(String, String)> {
    let mut notes = vec![
        ("Période".to_owned(), format!("du {} au {}", french::date_long(from), french::date_long(to))),
        ("Structure".to_owned(), structure.to_owned()),
    ];
    if withheld {
        notes.push((
            "Cases masquées".to_owned(),
            "Les petits effectifs sont masqués, ainsi que ceux qui permettraient de les retrouver.".to_owned(),
        ));
    }
    notes
}

/// The outcomes; `name` gives a structure's name from its slug (groups by structure).
pub fn outcomes_workbook(outcomes: &Outcomes, structure: &str, name: impl Fn(&str) -> String) -> Workbook {
    let mut columns = vec!["Groupe".to_owned()];
    columns.extend(OutcomeField::ALL.iter().map(|field| {
        let label = figure_label(&format!("outcomes.{}", field.code()));
        match field {
            OutcomeField::DynamicExitRate | OutcomeField::EmployedAtSixMonthsShare => format!("{label} (%)"),
            _ => label,
        }
    }));
    let row = |group: String, counts: &parcours_projections::OutcomeCounts| {
        let mut row = vec![Cell::Text(group)];
        row.extend(OutcomeField::ALL.iter().map(|&field| Cell::from(counts.get(field))));
        row
    };
    let withheld = !outcomes.counts.withheld.is_empty()
        || outcomes.groups.iter().flatten().any(|group| !group.counts.withheld.is_empty());
    let mut notes = about(outcomes.from, outcomes.to, structure, withheld);
    notes.push((
        "Taux de sortie dynamique".to_owned(),
        "(emploi durable + emploi de transition + sorties positives) ÷ (sorties − sorties neutres), en pourcentage."
            .to_owned(),
    ));
    let mut workbook = Workbook { columns, sheets: Vec::new(), definitions: notes, dated: outcomes.to };
    let sheet = workbook.sheet("Sorties");
    sheet.rows.push(row("Ensemble".to_owned(), &outcomes.counts));
    for group in outcomes.groups.iter().flatten() {
        let label = match &group.key {
            GroupKey::Gender(gender) => gender.label().to_owned(),
            GroupKey::AgeBand(band) => band.label().to_owned(),
            GroupKey::Situation(situation) => situation.label().to_owned(),
            GroupKey::Structure(slug) => name(slug.as_str()),
            GroupKey::Prescriber(prescriber) => prescriber.label().to_owned(),
        };
        sheet.rows.push(row(label, &group.counts));
    }
    workbook
}

/// The entries, by gender and by situation and age band at entry.
pub fn entries_workbook(entries: &Entries, structure: &str) -> Workbook {
    let columns = ["Catégorie", "Genre", "Effectif", "Part (%)"].map(String::from).to_vec();
    let withheld = entries.suppressed
        || entries.by_gender.iter().any(|row| row.cell.suppressed)
        || entries.by_situation_and_gender.iter().any(|row| row.cell.suppressed)
        || entries.by_age_band_and_gender.iter().any(|row| row.cell.suppressed);
    let notes = about(entries.from, entries.to, structure, withheld);
    let mut workbook = Workbook { columns, sheets: Vec::new(), definitions: notes, dated: entries.to };
    let sheet = workbook.sheet("Entrées");
    sheet.rows.push(vec!["Personnes entrées".into(), "Ensemble".into(), entries.participants.into(), Cell::Empty]);
    for row in &entries.by_gender {
        let gender = row.gender.label();
        sheet.rows.push(vec!["Personnes entrées".into(), gender.into(), row.cell.count.into(), row.cell.share.into()]);
    }
    let sheet = workbook.sheet("Situation à l'entrée");
    for row in &entries.by_situation_and_gender {
        let (situation, gender) = (row.situation.label(), row.gender.label());
        sheet.rows.push(vec![situation.into(), gender.into(), row.cell.count.into(), row.cell.share.into()]);
    }
    let sheet = workbook.sheet("Âge à l'entrée");
    for row in &entries.by_age_band_and_gender {
        let (band, gender) = (row.age_band.label(), row.gender.label());
        sheet.rows.push(vec![band.into(), gender.into(), row.cell.count.into(), row.cell.share.into()]);
    }
    workbook
}

/// The ESF+ common indicators (Regulation (EU) 2021/1057, Annex I) as the managing authority reads
/// them: one sheet per part, each indicator by gender.
pub fn esf_workbook(indicators: &EsfIndicators, structure: &str) -> Workbook {
    let columns = ["Indicateur", "Total", "Femmes", "Hommes", "Non binaire", "Non renseigné", "Code"];
    let all_rows = || indicators.output.iter().chain(&indicators.results_on_leaving).chain(&indicators.longer_term);
    let withheld = all_rows().any(|row| row.suppressed);
    let mut notes = about(indicators.from, indicators.to, structure, withheld);
    notes.push((
        "Source".to_owned(),
        "Indicateurs communs du FSE+ (règlement (UE) 2021/1057, annexe I) : réalisations à l'entrée, résultats \
         immédiats à la sortie, emploi six mois après la sortie."
            .to_owned(),
    ));
    let mut workbook = Workbook {
        columns: columns.map(String::from).to_vec(),
        sheets: Vec::new(),
        definitions: notes,
        dated: indicators.to,
    };
    let parts = [
        ("Réalisations", &indicators.output),
        ("Résultats à la sortie", &indicators.results_on_leaving),
        ("Résultats à long terme", &indicators.longer_term),
    ];
    for (name, rows) in parts {
        let sheet = workbook.sheet(name);
        for row in rows {
            let IndicatorRow { indicator, total, female, male, non_binary, undisclosed, .. } = row;
            sheet.rows.push(vec![
                esf_label(indicator).into(),
                (*total).into(),
                (*female).into(),
                (*male).into(),
                (*non_binary).into(),
                (*undisclosed).into(),
                (*indicator).into(),
            ]);
        }
    }
    workbook
}

/// An ESF+ indicator in the managing authority's words.
fn esf_label(indicator: &str) -> &str {
    match indicator {
        "participants" => "Participants",
        "unemployed_including_long_term" => "Chômeurs, y compris de longue durée",
        "long_term_unemployed" => "Chômeurs de longue durée",
        "inactive" => "Personnes inactives",
        "employed" => "Personnes exerçant un emploi, y compris indépendant",
        "below_30" => "Participants de moins de 30 ans",
        "above_54" => "Participants de plus de 54 ans",
        "isced_0_2" => "Niveau CITE 0 à 2",
        "isced_3_4" => "Niveau CITE 3 ou 4",
        "isced_5_8" => "Niveau CITE 5 à 8",
        "with_disabilities" => "Participants handicapés",
        "third_country_nationals" => "Ressortissants de pays tiers",
        "foreign_background" => "Participants d'origine étrangère",
        "minorities" => "Minorités",
        "homeless_or_housing_exclusion" => "Sans domicile ou exclus du logement",
        "rural_areas" => "Participants des zones rurales",
        "job_searching_on_leaving" => "À la recherche d'un emploi à la sortie",
        "in_education_or_training_on_leaving" => "Suivant un enseignement ou une formation à la sortie",
        "gaining_a_qualification_on_leaving" => "Obtenant une qualification à la sortie",
        "in_employment_on_leaving" => "Exerçant un emploi, y compris indépendant, à la sortie",
        "disadvantaged_in_any_of_these" => "Participants défavorisés dans l'une de ces situations",
        "in_employment_six_months_after_leaving" => "Exerçant un emploi six mois après la sortie",
        other => other,
    }
}
