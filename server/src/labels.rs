//! Every word of the contract's closed lists, in French: the one place where a code such as
//! `long_term_unemployed` becomes what a coordinator reads.
//!
//! [`Labelled`] is implemented once per list with an exhaustive `match`, so a value added to a list
//! in `core` does not compile until it has its French label here.

use parcours_core::store::access::Role;
use parcours_core::vocabulary::{
    AssessmentKind, Benefit, ContractEndReason, ContractKind, Destination, EducationLevel, ErasureReason, ExitCategory,
    FollowUpKind, FunderKind, Gender, PrescriberKind, Programme, Qualification, Situation, SituationAfterExit,
    StepKind, SupportAction, SupportDomain, TrainingResult,
};
use parcours_projections::{AgeBand, PersonStatus};

use crate::app::auditing::journal::JournalKind;

/// A closed list whose values have a French label, for choices in forms and words in pages.
pub trait Labelled: Copy + PartialEq + 'static {
    fn all() -> &'static [Self];
    /// The contract's code, as sent by forms and in JSON.
    fn code(self) -> &'static str;
    fn label(self) -> &'static str;

    fn from_code(code: &str) -> Option<Self> {
        Self::all().iter().copied().find(|value| value.code() == code)
    }
}

macro_rules! labels {
    ($list:ty { $($value:ident => $label:literal),+ $(,)? }) => {
        impl Labelled for $list {
            fn all() -> &'static [Self] {
                <$list>::ALL
            }
            fn code(self) -> &'static str {
                <$list>::code(self)
            }
            fn label(self) -> &'static str {
                match self {
                    $(<$list>::$value => $label),+
                }
            }
        }
    };
}

labels!(Gender { Female => "Femme", Male => "Homme", NonBinary => "Non binaire", Undisclosed => "Non précisé" });

labels!(PrescriberKind {
    FranceTravail => "France Travail",
    MissionLocale => "Mission locale",
    CapEmploi => "Cap emploi",
    Plie => "PLIE",
    Departement => "Conseil départemental",
    Ccas => "CCAS",
    Caf => "CAF",
    Spip => "SPIP",
    Afpa => "AFPA",
    Chrs => "CHRS",
    E2c => "École de la deuxième chance",
    Epide => "EPIDE",
    Ase => "Aide sociale à l'enfance",
    Csapa => "CSAPA",
    SelfReferred => "Démarche personnelle",
    Other => "Autre",
});

labels!(Programme {
    Ai => "Association intermédiaire (AI)",
    Aci => "Atelier et chantier d'insertion (ACI)",
    Ei => "Entreprise d'insertion (EI)",
    Etti => "Entreprise de travail temporaire d'insertion (ETTI)",
    Plie => "PLIE",
    Other => "Autre",
});

labels!(Situation {
    Unemployed => "Demandeur d'emploi",
    LongTermUnemployed => "Demandeur d'emploi de longue durée",
    Inactive => "Sans activité",
    Employed => "En emploi",
    InTraining => "En formation",
});

labels!(Benefit { Rsa => "RSA", Ass => "ASS", Aah => "AAH", Other => "Autre minimum social" });

labels!(Qualification {
    None => "Sans diplôme",
    CapBep => "CAP ou BEP",
    Bac => "Baccalauréat",
    BacPlus => "Études supérieures",
});

labels!(ContractKind {
    Cddi => "CDDI",
    Cdd => "CDD",
    Cdi => "CDI",
    MiseADisposition => "Mise à disposition",
    Cui => "Contrat unique d'insertion (CUI)",
    Other => "Autre",
});

labels!(ContractEndReason {
    EndOfTerm => "Arrivée au terme",
    Resignation => "Démission",
    Dismissal => "Licenciement",
    MutualAgreement => "Rupture d'un commun accord",
    HiredElsewhere => "Embauche dans une autre entreprise",
    Other => "Autre",
});

labels!(AssessmentKind {
    BilanDeCompetences => "Bilan de compétences",
    WorkSituationAssessment => "Évaluation en situation de travail",
    Pmsmp => "Immersion en entreprise (PMSMP)",
    Other => "Autre",
});

labels!(EducationLevel {
    Isced02 => "CITE 0 à 2 : jusqu'au premier cycle du secondaire",
    Isced34 => "CITE 3 et 4 : deuxième cycle du secondaire, post-secondaire non supérieur",
    Isced58 => "CITE 5 à 8 : enseignement supérieur",
    Refused => "Ne souhaite pas répondre",
});

labels!(FunderKind {
    State => "État",
    Departement => "Département",
    Region => "Région",
    Esf => "Fonds social européen (FSE+)",
    Municipality => "Commune ou intercommunalité",
    Other => "Autre financeur",
});

labels!(TrainingResult {
    Certified => "Certification obtenue",
    Completed => "Suivie jusqu'au bout",
    Abandoned => "Abandonnée",
});

labels!(SupportDomain {
    Budget => "Budget",
    Health => "Santé",
    Housing => "Logement",
    Mobility => "Mobilité",
    Family => "Famille",
    Childcare => "Garde d'enfants",
    Digital => "Numérique",
    Legal => "Droits et démarches juridiques",
    Language => "Langue française",
    Other => "Autre",
});

labels!(SupportAction {
    Diagnostic => "Diagnostic",
    Orientation => "Orientation vers un partenaire",
    Assistance => "Accompagnement",
});

labels!(FollowUpKind {
    Individual => "Entretien individuel",
    Committee => "Comité de suivi",
    Phone => "Entretien téléphonique",
    Group => "Atelier collectif",
});

labels!(Destination {
    Cdi => "CDI",
    Cdd6MonthsPlus => "CDD de 6 mois ou plus",
    Interim6MonthsPlus => "Intérim de 6 mois ou plus",
    CivilService => "Fonction publique",
    BusinessCreation => "Création d'entreprise",
    CddUnder6Months => "CDD de moins de 6 mois",
    InterimUnder6Months => "Intérim de moins de 6 mois",
    SubsidisedContract => "Contrat aidé",
    QualifyingTraining => "Formation qualifiante",
    OtherSiae => "Autre structure d'insertion",
    JobSeeking => "Recherche d'emploi",
    Inactive => "Sans activité",
    NoNews => "Sans nouvelles",
    Other => "Autre",
    Health => "Raisons de santé",
    Maternity => "Congé maternité",
    Moved => "Déménagement",
    Retirement => "Retraite",
    Deceased => "Décès",
    Incarceration => "Incarcération",
});

labels!(ExitCategory {
    DurableEmployment => "Emploi durable",
    TransitionEmployment => "Emploi de transition",
    PositiveExit => "Sortie positive",
    OtherExit => "Autre sortie",
    NeutralExit => "Sortie neutre",
});

labels!(SituationAfterExit {
    Employed => "En emploi",
    Training => "En formation",
    JobSeeking => "En recherche d'emploi",
    Inactive => "Sans activité",
    Unknown => "Inconnue",
});

labels!(ErasureReason {
    Request => "à la demande de la personne",
    Retention => "fin de la durée de conservation",
    Other => "autre motif",
});

labels!(StepKind {
    Registered => "Inscription",
    Referred => "Orientation",
    ContractStarted => "Début de contrat",
    ContractEnded => "Fin de contrat",
    HoursWorked => "Heures travaillées",
    SkillsAssessed => "Évaluation des compétences",
    TrainingStarted => "Début de formation",
    TrainingCompleted => "Fin de formation",
    SupportProvided => "Accompagnement social",
    FollowUpHeld => "Entretien de suivi",
    Exited => "Sortie",
    FollowedUpAfterExit => "Suivi après la sortie",
    Corrected => "Correction",
    PersonalDataErased => "Effacement des données personnelles",
    StructureUpdated => "Mise à jour de la structure",
    ReportPublished => "Publication d'un rapport",
    ReferralAccepted => "Orientation acceptée",
    ReferralDeclined => "Orientation refusée",
    MergedInto => "Dossier fusionné dans un autre",
    Absorbed => "Dossier fusionné reçu",
    Unmerged => "Fusion annulée",
});

labels!(PersonStatus {
    Registered => "Inscrite, pas encore orientée",
    WaitingForContract => "En attente de contrat",
    InContract => "En contrat",
    Exited => "Sortie du parcours",
});

labels!(AgeBand { Under25 => "Moins de 25 ans", From25To50 => "25 à 50 ans", Over50 => "Plus de 50 ans" });

labels!(JournalKind {
    Correction => "Correction",
    Retraction => "Annulation",
    Erasure => "Effacement des données personnelles",
    Publication => "Publication d'un bilan",
    TokenCreated => "Accès créé",
    TokenRevoked => "Accès retiré",
});

/// The role a person signed in with, as the page header names it.
pub fn role(role: Role) -> &'static str {
    match role {
        Role::Admin => "administration",
        Role::Coordinator => "coordination",
        Role::Auditor => "audit",
        Role::Evaluator => "évaluation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Labelled + std::fmt::Debug>() {
        for value in T::all() {
            assert!(!value.label().is_empty());
            assert_eq!(T::from_code(value.code()), Some(*value));
        }
        let mut labels: Vec<&str> = T::all().iter().map(|value| value.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), T::all().len(), "two values of a list read the same");
    }

    #[test]
    fn every_value_has_its_own_label_and_its_code_back() {
        check::<Gender>();
        check::<PrescriberKind>();
        check::<Programme>();
        check::<Situation>();
        check::<Benefit>();
        check::<Qualification>();
        check::<ContractKind>();
        check::<ContractEndReason>();
        check::<AssessmentKind>();
        check::<TrainingResult>();
        check::<EducationLevel>();
        check::<FunderKind>();
        check::<SupportDomain>();
        check::<SupportAction>();
        check::<FollowUpKind>();
        check::<Destination>();
        check::<ExitCategory>();
        check::<SituationAfterExit>();
        check::<ErasureReason>();
        check::<JournalKind>();
        check::<StepKind>();
        check::<PersonStatus>();
        check::<AgeBand>();
    }
}
