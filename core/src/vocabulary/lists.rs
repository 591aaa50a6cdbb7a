//! The closed lists of the contract (§3): each is an enum whose wire code is the contract's lower
//! snake case. On disk a value is its variant index, so variants are only ever appended, never
//! reordered (the golden file test in `store` catches a reorder).

use std::fmt;

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

macro_rules! closed_list {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize, Encode, Decode)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Its place in [`Self::ALL`], for tables indexed by value.
            pub fn index(self) -> usize {
                self as usize
            }

            /// The contract's code for this value, as in JSON and CSV.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

closed_list!(Gender {
    Female = "female",
    Male = "male",
    NonBinary = "non_binary",
    Undisclosed = "undisclosed",
});

closed_list!(
    /// Who sent the person. `spip`, `csapa` and `ase` reveal justice, health or child-protection
    /// follow-up: see [`PrescriberKind::is_sensitive`].
    PrescriberKind {
        FranceTravail = "france_travail",
        MissionLocale = "mission_locale",
        CapEmploi = "cap_emploi",
        Plie = "plie",
        Departement = "departement",
        Ccas = "ccas",
        Caf = "caf",
        Spip = "spip",
        Afpa = "afpa",
        Chrs = "chrs",
        E2c = "e2c",
        Epide = "epide",
        Ase = "ase",
        Csapa = "csapa",
        SelfReferred = "self",
        Other = "other",
    }
);

impl PrescriberKind {
    /// Kinds that reveal justice, health or child-protection follow-up; evaluators see them as `other`.
    pub fn is_sensitive(self) -> bool {
        matches!(self, PrescriberKind::Spip | PrescriberKind::Csapa | PrescriberKind::Ase)
    }
}

closed_list!(Programme { Ai = "ai", Aci = "aci", Ei = "ei", Etti = "etti", Plie = "plie", Other = "other" });

closed_list!(
    /// The person's situation when the episode starts.
    Situation {
        Unemployed = "unemployed",
        LongTermUnemployed = "long_term_unemployed",
        Inactive = "inactive",
        Employed = "employed",
        InTraining = "in_training",
    }
);

closed_list!(Benefit { Rsa = "rsa", Ass = "ass", Aah = "aah", Other = "other" });

closed_list!(Qualification { None = "none", CapBep = "cap_bep", Bac = "bac", BacPlus = "bac_plus" });

closed_list!(ContractKind {
    Cddi = "cddi",
    Cdd = "cdd",
    Cdi = "cdi",
    MiseADisposition = "mise_a_disposition",
    Cui = "cui",
    Other = "other",
});

closed_list!(ContractEndReason {
    EndOfTerm = "end_of_term",
    Resignation = "resignation",
    Dismissal = "dismissal",
    MutualAgreement = "mutual_agreement",
    HiredElsewhere = "hired_elsewhere",
    Other = "other",
});

closed_list!(AssessmentKind {
    BilanDeCompetences = "bilan_de_competences",
    WorkSituationAssessment = "work_situation_assessment",
    Pmsmp = "pmsmp",
    Other = "other",
});

closed_list!(TrainingResult { Certified = "certified", Completed = "completed", Abandoned = "abandoned" });

closed_list!(SupportDomain {
    Budget = "budget",
    Health = "health",
    Housing = "housing",
    Mobility = "mobility",
    Family = "family",
    Childcare = "childcare",
    Digital = "digital",
    Legal = "legal",
    Language = "language",
    Other = "other",
});

closed_list!(SupportAction { Diagnostic = "diagnostic", Orientation = "orientation", Assistance = "assistance" });

closed_list!(FollowUpKind { Individual = "individual", Committee = "committee", Phone = "phone", Group = "group" });

closed_list!(
    /// Where a person went at the end of an episode; [`Destination::category`] gives the official
    /// IAE classification.
    Destination {
        Cdi = "cdi",
        Cdd6MonthsPlus = "cdd_6_months_plus",
        Interim6MonthsPlus = "interim_6_months_plus",
        CivilService = "civil_service",
        BusinessCreation = "business_creation",
        CddUnder6Months = "cdd_under_6_months",
        InterimUnder6Months = "interim_under_6_months",
        SubsidisedContract = "subsidised_contract",
        QualifyingTraining = "qualifying_training",
        OtherSiae = "other_siae",
        JobSeeking = "job_seeking",
        Inactive = "inactive",
        NoNews = "no_news",
        Other = "other",
        Health = "health",
        Maternity = "maternity",
        Moved = "moved",
        Retirement = "retirement",
        Deceased = "deceased",
        Incarceration = "incarceration",
    }
);

closed_list!(
    /// The official IAE categories of exits (CONTRACT §3).
    ExitCategory {
        DurableEmployment = "durable_employment",
        TransitionEmployment = "transition_employment",
        PositiveExit = "positive_exit",
        OtherExit = "other_exit",
        NeutralExit = "neutral_exit",
    }
);

impl Destination {
    pub fn category(self) -> ExitCategory {
        use Destination::*;
        match self {
            Cdi | Cdd6MonthsPlus | Interim6MonthsPlus | CivilService | BusinessCreation => {
                ExitCategory::DurableEmployment
            }
            CddUnder6Months | InterimUnder6Months | SubsidisedContract => ExitCategory::TransitionEmployment,
            QualifyingTraining | OtherSiae => ExitCategory::PositiveExit,
            JobSeeking | Inactive | NoNews | Other => ExitCategory::OtherExit,
            Health | Maternity | Moved | Retirement | Deceased | Incarceration => ExitCategory::NeutralExit,
        }
    }
}

impl ExitCategory {
    /// Durable + transition + positive: the numerator of the dynamic exit rate.
    pub fn is_dynamic(self) -> bool {
        matches!(
            self,
            ExitCategory::DurableEmployment | ExitCategory::TransitionEmployment | ExitCategory::PositiveExit
        )
    }
}

closed_list!(SituationAfterExit {
    Employed = "employed",
    Training = "training",
    JobSeeking = "job_seeking",
    Inactive = "inactive",
    Unknown = "unknown",
});

closed_list!(ErasureReason { Request = "request", Retention = "retention", Other = "other" });

closed_list!(StructureKind {
    Ai = "ai",
    Aci = "aci",
    Ei = "ei",
    Etti = "etti",
    Plie = "plie",
    Ccas = "ccas",
    Other = "other",
});

closed_list!(
    /// Who funds a structure (CONTRACT §11).
    FunderKind {
        State = "state",
        Departement = "departement",
        Region = "region",
        Esf = "esf",
        Municipality = "municipality",
        Other = "other",
    }
);

closed_list!(
    /// Which report a `report_published` event records: only the activity report so far.
    ReportKind { Activity = "activity" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_destination_has_the_contract_category() {
        let expected = [
            ("cdi", "durable_employment"),
            ("cdd_6_months_plus", "durable_employment"),
            ("interim_6_months_plus", "durable_employment"),
            ("civil_service", "durable_employment"),
            ("business_creation", "durable_employment"),
            ("cdd_under_6_months", "transition_employment"),
            ("interim_under_6_months", "transition_employment"),
            ("subsidised_contract", "transition_employment"),
            ("qualifying_training", "positive_exit"),
            ("other_siae", "positive_exit"),
            ("job_seeking", "other_exit"),
            ("inactive", "other_exit"),
            ("no_news", "other_exit"),
            ("other", "other_exit"),
            ("health", "neutral_exit"),
            ("maternity", "neutral_exit"),
            ("moved", "neutral_exit"),
            ("retirement", "neutral_exit"),
            ("deceased", "neutral_exit"),
            ("incarceration", "neutral_exit"),
        ];
        assert_eq!(expected.len(), Destination::ALL.len());
        for (destination, category) in expected {
            let destination = Destination::from_code(destination).unwrap();
            assert_eq!(destination.category().code(), category, "{destination}");
        }
    }

    #[test]
    fn codes_match_serde() {
        for kind in PrescriberKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.code());
        }
        assert!(serde_json::from_str::<Gender>("\"woman\"").is_err());
    }
}
