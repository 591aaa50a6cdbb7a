//! The numbers and names the demo draws from, as tables of weights.
//!
//! Weights are relative (most tables sum to 1,000 so they read as per mille). The shares aim at the
//! published figures of French integration through economic activity (IAE): who is referred, by
//! whom, on which contracts, and where they go; the names are those of the Agen area
//! (Lot-et-Garonne), so that a coordinator there recognises the partners.

use crate::vocabulary::{
    AssessmentKind, Benefit, ContractEndReason, ContractKind, Destination, ExitCategory, FollowUpKind, Gender,
    PrescriberKind, Programme, Qualification, Situation, SituationAfterExit, StructureKind, SupportAction,
    SupportDomain, TrainingResult,
};

/// A value and its weight.
pub type Weighted<T> = (T, u32);

/// How a kind of structure employs and follows people.
pub struct KindProfile {
    pub programme: Programme,
    /// Share of women among those referred, per mille (the rest is mostly men, see [`GENDER_OTHER`]).
    pub female_per_mille: u32,
    /// Episodes that never reach a contract whatever their exit (accompaniment only), per mille.
    pub no_contract_per_mille: u32,
    pub contract_kinds: &'static [Weighted<ContractKind>],
    /// Whole weekly hours of a contract.
    pub weekly_hours: &'static [Weighted<u32>],
    /// Hours actually worked in a month, in percent of the contract's pace (inclusive range).
    pub monthly_pace_percent: (u32, u32),
    /// Months from the first contract to the end of the stay (inclusive range).
    pub stay_months: (u32, u32),
    pub first_contract_months: &'static [Weighted<u32>],
    pub renewal_months: u32,
    /// Employers other than the structure; empty when the structure employs its people itself.
    pub employers: &'static [&'static str],
    pub jobs: &'static [&'static str],
    pub skills: &'static [&'static str],
    /// Typical size, as a weight among structures of a scaled configuration.
    pub typical_weight: u32,
    /// How its name reads in a scaled configuration: "{label} {town}".
    pub label: &'static str,
    pub slug_prefix: &'static str,
}

impl KindProfile {
    pub fn of(kind: StructureKind) -> &'static KindProfile {
        match kind {
            StructureKind::Ai => &AI,
            StructureKind::Aci => &ACI,
            StructureKind::Ei => &EI,
            StructureKind::Etti => &ETTI,
            StructureKind::Plie => &PLIE,
            StructureKind::Ccas => &CCAS,
            StructureKind::Other => &OTHER,
        }
    }
}

const LOCAL_EMPLOYERS: &[&str] = &[
    "Mairie d'Agen",
    "Agglomération d'Agen",
    "Centre hospitalier d'Agen-Nérac",
    "Hypermarché de Boé",
    "Coopérative fruitière du Lot-et-Garonne",
    "EHPAD de Bon-Encontre",
    "Transports urbains de l'Agenais",
    "Conserverie de pruneaux d'Agen",
];

static AI: KindProfile = KindProfile {
    programme: Programme::Ai,
    female_per_mille: 700,
    no_contract_per_mille: 40,
    contract_kinds: &[(ContractKind::MiseADisposition, 850), (ContractKind::Cddi, 150)],
    weekly_hours: &[(6, 150), (8, 200), (12, 250), (16, 200), (20, 150), (24, 50)],
    monthly_pace_percent: (45, 115),
    stay_months: (2, 24),
    first_contract_months: &[(1, 300), (2, 300), (3, 400)],
    renewal_months: 3,
    employers: &[],
    jobs: &["Agent d'entretien", "Aide ménagère", "Manutentionnaire", "Agent de restauration", "Jardinier"],
    skills: &[
        "Entretien des locaux",
        "Repassage",
        "Respect des consignes d'hygiène",
        "Relation avec le particulier employeur",
        "Ponctualité",
        "Autonomie dans les déplacements",
    ],
    typical_weight: 12,
    label: "Association intermédiaire",
    slug_prefix: "ai",
};

static ACI: KindProfile = KindProfile {
    programme: Programme::Aci,
    female_per_mille: 330,
    no_contract_per_mille: 30,
    contract_kinds: &[(ContractKind::Cddi, 1000)],
    weekly_hours: &[(20, 100), (24, 100), (26, 650), (30, 80), (35, 70)],
    monthly_pace_percent: (85, 105),
    stay_months: (4, 24),
    first_contract_months: &[(4, 500), (6, 300), (12, 200)],
    renewal_months: 6,
    employers: &[],
    jobs: &[
        "Ouvrier maraîcher",
        "Agent d'entretien des espaces verts",
        "Valoriste",
        "Agent de tri",
        "Ouvrier du bâtiment",
    ],
    skills: &[
        "Conduite de cultures maraîchères",
        "Utilisation de la débroussailleuse",
        "Tri et valorisation des déchets",
        "Travail en équipe",
        "Ponctualité",
        "Respect des règles de sécurité",
        "Vente au magasin solidaire",
    ],
    typical_weight: 10,
    label: "Chantier d'insertion",
    slug_prefix: "aci",
};

static EI: KindProfile = KindProfile {
    programme: Programme::Ei,
    female_per_mille: 220,
    no_contract_per_mille: 30,
    contract_kinds: &[(ContractKind::Cddi, 1000)],
    weekly_hours: &[(24, 150), (26, 150), (30, 200), (35, 500)],
    monthly_pace_percent: (88, 105),
    stay_months: (4, 24),
    first_contract_months: &[(4, 400), (6, 350), (12, 250)],
    renewal_months: 6,
    employers: &[],
    jobs: &["Manœuvre du bâtiment", "Peintre en bâtiment", "Agent de nettoyage industriel", "Aide-plaquiste"],
    skills: &[
        "Préparation des supports",
        "Lecture de plans simples",
        "Port des équipements de protection",
        "Travail en hauteur",
        "Ponctualité",
        "Travail en équipe",
    ],
    typical_weight: 8,
    label: "Entreprise d'insertion",
    slug_prefix: "ei",
};

static ETTI: KindProfile = KindProfile {
    programme: Programme::Etti,
    female_per_mille: 300,
    no_contract_per_mille: 60,
    contract_kinds: &[(ContractKind::Other, 800), (ContractKind::MiseADisposition, 200)],
    weekly_hours: &[(20, 150), (28, 200), (35, 650)],
    monthly_pace_percent: (55, 110),
    stay_months: (3, 18),
    first_contract_months: &[(1, 400), (2, 400), (3, 200)],
    renewal_months: 2,
    employers: LOCAL_EMPLOYERS,
    jobs: &["Préparateur de commandes", "Manutentionnaire", "Ouvrier agricole", "Cariste", "Agent de conditionnement"],
    skills: &[
        "Préparation de commandes",
        "Conduite de chariot élévateur",
        "Respect des cadences",
        "Port des équipements de protection",
        "Ponctualité",
    ],
    typical_weight: 6,
    label: "Intérim d'insertion",
    slug_prefix: "etti",
};

static PLIE: KindProfile = KindProfile {
    programme: Programme::Plie,
    female_per_mille: 560,
    no_contract_per_mille: 350,
    contract_kinds: &[
        (ContractKind::Cdd, 450),
        (ContractKind::Cui, 300),
        (ContractKind::Cddi, 200),
        (ContractKind::Cdi, 50),
    ],
    weekly_hours: &[(20, 200), (24, 200), (28, 200), (35, 400)],
    monthly_pace_percent: (85, 105),
    stay_months: (6, 24),
    first_contract_months: &[(3, 300), (6, 500), (12, 200)],
    renewal_months: 6,
    employers: LOCAL_EMPLOYERS,
    jobs: &["Agent de service", "Employé libre-service", "Aide à domicile", "Ouvrier agricole", "Agent d'accueil"],
    skills: &[
        "Rédaction d'un CV",
        "Recherche d'emploi en ligne",
        "Connaissance du marché du travail local",
        "Expression orale",
        "Ponctualité",
    ],
    typical_weight: 15,
    label: "PLIE",
    slug_prefix: "plie",
};

static CCAS: KindProfile = KindProfile {
    programme: Programme::Other,
    female_per_mille: 600,
    no_contract_per_mille: 500,
    contract_kinds: &[(ContractKind::Cui, 700), (ContractKind::Cdd, 300)],
    weekly_hours: &[(20, 500), (24, 300), (35, 200)],
    monthly_pace_percent: (90, 102),
    stay_months: (3, 12),
    first_contract_months: &[(6, 600), (12, 400)],
    renewal_months: 6,
    employers: LOCAL_EMPLOYERS,
    jobs: &["Agent d'entretien", "Agent de restauration scolaire", "Aide à domicile"],
    skills: &["Gestion d'un budget", "Démarches en ligne", "Expression orale", "Ponctualité"],
    typical_weight: 5,
    label: "CCAS",
    slug_prefix: "ccas",
};

static OTHER: KindProfile = KindProfile {
    programme: Programme::Other,
    female_per_mille: 450,
    no_contract_per_mille: 200,
    contract_kinds: &[(ContractKind::Cdd, 600), (ContractKind::Other, 400)],
    weekly_hours: &[(20, 300), (26, 400), (35, 300)],
    monthly_pace_percent: (85, 105),
    stay_months: (3, 18),
    first_contract_months: &[(4, 500), (6, 500)],
    renewal_months: 6,
    employers: LOCAL_EMPLOYERS,
    jobs: &["Agent polyvalent", "Employé administratif"],
    skills: &["Travail en équipe", "Ponctualité"],
    typical_weight: 5,
    label: "Structure d'accompagnement",
    slug_prefix: "autre",
};

/// The mix of structures in a scaled configuration.
pub const SCALED_KINDS: &[Weighted<StructureKind>] = &[
    (StructureKind::Aci, 380),
    (StructureKind::Ai, 250),
    (StructureKind::Ei, 200),
    (StructureKind::Etti, 90),
    (StructureKind::Plie, 50),
    (StructureKind::Ccas, 30),
];

/// Towns of the scaled structures (name, slug): Lot-et-Garonne and its neighbours.
pub const TOWNS: &[(&str, &str)] = &[
    ("Agen", "agen"),
    ("Villeneuve-sur-Lot", "villeneuve-sur-lot"),
    ("Marmande", "marmande"),
    ("Nérac", "nerac"),
    ("Tonneins", "tonneins"),
    ("Fumel", "fumel"),
    ("Casteljaloux", "casteljaloux"),
    ("Sainte-Livrade-sur-Lot", "sainte-livrade-sur-lot"),
    ("Boé", "boe"),
    ("Le Passage", "le-passage"),
    ("Aiguillon", "aiguillon"),
    ("Miramont-de-Guyenne", "miramont-de-guyenne"),
    ("Bergerac", "bergerac"),
    ("Montauban", "montauban"),
    ("Moissac", "moissac"),
    ("Castelsarrasin", "castelsarrasin"),
    ("Auch", "auch"),
    ("Condom", "condom"),
    ("Cahors", "cahors"),
    ("Mont-de-Marsan", "mont-de-marsan"),
    ("Langon", "langon"),
    ("La Réole", "la-reole"),
    ("Périgueux", "perigueux"),
    ("Sarlat-la-Canéda", "sarlat-la-caneda"),
];

/// Non-binary and undisclosed genders, per mille of everyone; the rest splits by structure.
pub const GENDER_OTHER: &[Weighted<Gender>] = &[(Gender::NonBinary, 7), (Gender::Undisclosed, 13)];

/// Age at the first referral (inclusive ranges): under 25, 25 to 50, over 50.
pub const AGES: &[Weighted<(u32, u32)>] = &[((18, 24), 200), ((25, 50), 600), ((51, 62), 200)];

/// Age under which the mission locale is the usual prescriber.
pub const YOUNG_UNTIL: u32 = 25;

pub const YOUNG_PRESCRIBERS: &[Weighted<PrescriberKind>] = &[
    (PrescriberKind::MissionLocale, 450),
    (PrescriberKind::FranceTravail, 250),
    (PrescriberKind::Departement, 60),
    (PrescriberKind::E2c, 50),
    (PrescriberKind::Ase, 40),
    (PrescriberKind::SelfReferred, 40),
    (PrescriberKind::Epide, 30),
    (PrescriberKind::Ccas, 30),
    (PrescriberKind::Spip, 20),
    (PrescriberKind::Other, 30),
];

pub const ADULT_PRESCRIBERS: &[Weighted<PrescriberKind>] = &[
    (PrescriberKind::FranceTravail, 420),
    (PrescriberKind::Departement, 180),
    (PrescriberKind::Plie, 80),
    (PrescriberKind::Ccas, 60),
    (PrescriberKind::SelfReferred, 50),
    (PrescriberKind::Chrs, 30),
    (PrescriberKind::CapEmploi, 30),
    (PrescriberKind::Spip, 25),
    (PrescriberKind::Caf, 15),
    (PrescriberKind::Csapa, 10),
    (PrescriberKind::Afpa, 5),
    (PrescriberKind::MissionLocale, 5),
    (PrescriberKind::Other, 15),
];

/// The named offices of each prescriber; empty for people who came by themselves.
pub fn prescriber_names(kind: PrescriberKind) -> &'static [&'static str] {
    match kind {
        PrescriberKind::FranceTravail => &[
            "France Travail Agen Pin",
            "France Travail Agen Lacépède",
            "France Travail Villeneuve-sur-Lot",
            "France Travail Marmande",
        ],
        PrescriberKind::MissionLocale => {
            &["Mission locale de l'Agenais, de l'Albret et du Confluent", "Mission locale de la Moyenne Garonne"]
        }
        PrescriberKind::CapEmploi => &["Cap emploi 47"],
        PrescriberKind::Plie => &["PLIE de l'Agglomération d'Agen"],
        PrescriberKind::Departement => {
            &["Département de Lot-et-Garonne, service insertion", "Maison départementale des solidarités d'Agen"]
        }
        PrescriberKind::Ccas => &["CCAS d'Agen", "CCAS de Boé", "CCAS du Passage"],
        PrescriberKind::Caf => &["CAF de Lot-et-Garonne"],
        PrescriberKind::Spip => &["SPIP de Lot-et-Garonne"],
        PrescriberKind::Afpa => &["AFPA Agen"],
        PrescriberKind::Chrs => &["CHRS d'Agen"],
        PrescriberKind::E2c => &["École de la deuxième chance de Lot-et-Garonne"],
        PrescriberKind::Epide => &["EPIDE de Bordeaux"],
        PrescriberKind::Ase => &["Aide sociale à l'enfance de Lot-et-Garonne"],
        PrescriberKind::Csapa => &["CSAPA d'Agen"],
        PrescriberKind::SelfReferred => &[],
        PrescriberKind::Other => &["Secours catholique", "Restos du cœur"],
    }
}

pub const SITUATIONS: &[Weighted<Situation>] = &[
    (Situation::LongTermUnemployed, 520),
    (Situation::Unemployed, 300),
    (Situation::Inactive, 140),
    (Situation::InTraining, 20),
    (Situation::Employed, 20),
];

pub const BENEFITS: &[Weighted<Option<Benefit>>] = &[
    (Some(Benefit::Rsa), 400),
    (Some(Benefit::Ass), 80),
    (Some(Benefit::Aah), 60),
    (Some(Benefit::Other), 40),
    (None, 420),
];

pub const QUALIFICATIONS: &[Weighted<Option<Qualification>>] = &[
    (Some(Qualification::None), 350),
    (Some(Qualification::CapBep), 380),
    (Some(Qualification::Bac), 170),
    (Some(Qualification::BacPlus), 60),
    (None, 40),
];

/// Referrals that carry a family quotient, per mille.
pub const FAMILY_QUOTIENT_KNOWN: u32 = 700;
/// Monthly euros (inclusive ranges), for people on minimum benefits and for the others.
pub const FAMILY_QUOTIENT_ON_RSA: (u32, u32) = (180, 690);
pub const FAMILY_QUOTIENT_OTHERWISE: (u32, u32) = (420, 1_450);

/// Days from the referral to the first contract (inclusive ranges).
pub const WAITS: &[Weighted<(u32, u32)>] = &[((5, 20), 400), ((21, 45), 350), ((46, 90), 200), ((91, 150), 50)];
/// Days an episode without any contract lasts.
pub const WITHOUT_CONTRACT_DAYS: (u32, u32) = (30, 200);
/// Of those in the "other" and "neutral" exits, per mille who leave before any contract.
pub const LEFT_BEFORE_CONTRACT: u32 = 250;

/// Where people go, close to the national IAE exit figures: about half dynamic (durable 22 %,
/// transition 17 %, positive 10 %), 9 % neutral, the rest "other".
pub const DESTINATIONS: &[Weighted<Destination>] = &[
    (Destination::Cdi, 80),
    (Destination::Cdd6MonthsPlus, 80),
    (Destination::Interim6MonthsPlus, 30),
    (Destination::CivilService, 10),
    (Destination::BusinessCreation, 20),
    (Destination::CddUnder6Months, 80),
    (Destination::InterimUnder6Months, 60),
    (Destination::SubsidisedContract, 30),
    (Destination::QualifyingTraining, 70),
    (Destination::OtherSiae, 30),
    (Destination::JobSeeking, 240),
    (Destination::Inactive, 60),
    (Destination::NoNews, 90),
    (Destination::Other, 30),
    (Destination::Health, 40),
    (Destination::Maternity, 15),
    (Destination::Moved, 20),
    (Destination::Retirement, 5),
    (Destination::Deceased, 2),
    (Destination::Incarceration, 8),
];

/// Why the last contract of an episode ended, knowing where the person went.
pub fn end_reasons(category: ExitCategory) -> &'static [Weighted<ContractEndReason>] {
    use ContractEndReason::*;
    match category {
        ExitCategory::DurableEmployment | ExitCategory::TransitionEmployment => {
            &[(HiredElsewhere, 500), (EndOfTerm, 400), (MutualAgreement, 100)]
        }
        ExitCategory::PositiveExit => &[(EndOfTerm, 600), (MutualAgreement, 250), (Other, 150)],
        ExitCategory::OtherExit => {
            &[(EndOfTerm, 600), (Resignation, 150), (Dismissal, 100), (MutualAgreement, 100), (Other, 50)]
        }
        ExitCategory::NeutralExit => &[(Other, 400), (Resignation, 300), (MutualAgreement, 200), (EndOfTerm, 100)],
    }
}

/// Days from the end of the last contract to the exit (inclusive).
pub const EXIT_AFTER_TERM_DAYS: (u32, u32) = (0, 10);
pub const EXIT_AFTER_EARLY_END_DAYS: (u32, u32) = (0, 3);

/// Exits followed up six months later, per mille.
pub const FOLLOWED_UP_AFTER_EXIT: u32 = 700;
pub const FOLLOW_UP_MONTHS: u8 = 6;
/// Days after the exit when the six-month follow-up happens (inclusive).
pub const FOLLOW_UP_AFTER_EXIT_DAYS: (u32, u32) = (182, 205);

/// Employed six months after the exit, per mille, by exit category: about 45 % overall.
pub fn employed_after_exit(category: ExitCategory) -> u32 {
    match category {
        ExitCategory::DurableEmployment => 850,
        ExitCategory::TransitionEmployment => 650,
        ExitCategory::PositiveExit => 400,
        ExitCategory::OtherExit => 250,
        ExitCategory::NeutralExit => 100,
    }
}

/// The situation six months after the exit of those not employed.
pub fn not_employed_after_exit(category: ExitCategory) -> &'static [Weighted<SituationAfterExit>] {
    use SituationAfterExit::*;
    match category {
        ExitCategory::PositiveExit => &[(Training, 700), (JobSeeking, 200), (Unknown, 100)],
        _ => &[(JobSeeking, 550), (Unknown, 200), (Inactive, 150), (Training, 100)],
    }
}

/// Exits followed by a new referral, per mille, and how long after (days, inclusive).
pub const REENROLLED: u32 = 100;
pub const REENROLLED_AFTER_DAYS: (u32, u32) = (30, 365);
/// Re-enrolments in another structure (drawn among all, by weight), per mille.
pub const REENROLLED_ELSEWHERE: u32 = 500;
pub const MAX_EPISODES: usize = 3;

/// Share of the beneficiaries already followed when the log starts (the caseload a structure
/// brings when it adopts the tracker), per mille, and the days over which they are registered.
pub const INITIAL_CASELOAD: u64 = 330;
pub const INITIAL_CASELOAD_DAYS: i64 = 20;
/// Days from the registration to the referral (inclusive), outside the initial caseload.
pub const REFERRED_AFTER_DAYS: &[Weighted<(u32, u32)>] = &[((0, 0), 800), ((1, 10), 200)];

pub const ASSESSED: u32 = 550;
pub const ASSESSED_AFTER_DAYS: (u32, u32) = (5, 60);
pub const ASSESSMENTS: &[Weighted<(&str, AssessmentKind)>] = &[
    (("AFPA Agen", AssessmentKind::BilanDeCompetences), 450),
    (("Encadrant technique", AssessmentKind::WorkSituationAssessment), 350),
    (("France Travail", AssessmentKind::Pmsmp), 200),
];
pub const ASSESSMENT_SUMMARIES: &[&str] = &[
    "Bonne dynamique, projet professionnel à confirmer",
    "Savoirs de base à consolider avant une formation qualifiante",
    "Projet de formation CACES à construire",
    "Frein de mobilité : permis de conduire à engager",
    "Autonome sur le poste, prêt pour une immersion en entreprise",
    "Difficultés de lecture : orientation vers un atelier CléA",
];

/// Episodes with a contract in which a training starts, per mille, and when (days after the first
/// contract, inclusive).
pub const TRAINED: u32 = 350;
pub const TRAINING_AFTER_DAYS: (u32, u32) = (15, 120);

pub struct Course {
    pub title: &'static str,
    pub qualifying: bool,
    pub certification: Option<&'static str>,
    pub planned_hours: u32,
}

pub const COURSES: &[Weighted<Course>] = &[
    (
        Course {
            title: "CACES R489 chariots élévateurs",
            qualifying: true,
            certification: Some("CACES R489"),
            planned_hours: 35,
        },
        200,
    ),
    (
        Course {
            title: "Sauveteur secouriste du travail",
            qualifying: true,
            certification: Some("SST"),
            planned_hours: 14,
        },
        150,
    ),
    (
        Course {
            title: "Titre professionnel agent de propreté et d'hygiène",
            qualifying: true,
            certification: Some("TP APH"),
            planned_hours: 420,
        },
        100,
    ),
    (
        Course {
            title: "Titre professionnel ouvrier du paysage",
            qualifying: true,
            certification: Some("TP ouvrier du paysage"),
            planned_hours: 500,
        },
        80,
    ),
    (
        Course {
            title: "CléA, socle de connaissances et de compétences",
            qualifying: true,
            certification: Some("CléA"),
            planned_hours: 70,
        },
        150,
    ),
    (Course { title: "Permis de conduire B", qualifying: false, certification: None, planned_hours: 30 }, 120),
    (Course { title: "Français langue étrangère", qualifying: false, certification: None, planned_hours: 120 }, 80),
    (
        Course {
            title: "Habilitation électrique B0 H0V",
            qualifying: true,
            certification: Some("H0B0"),
            planned_hours: 14,
        },
        60,
    ),
    (Course { title: "Hygiène alimentaire HACCP", qualifying: false, certification: None, planned_hours: 14 }, 60),
];

pub const CERTIFIED_RESULTS: &[Weighted<TrainingResult>] =
    &[(TrainingResult::Certified, 650), (TrainingResult::Completed, 200), (TrainingResult::Abandoned, 150)];
pub const UNCERTIFIED_RESULTS: &[Weighted<TrainingResult>] =
    &[(TrainingResult::Completed, 800), (TrainingResult::Abandoned, 200)];

/// How many support actions an episode gets.
pub const SUPPORTS_PER_EPISODE: &[Weighted<u32>] = &[(0, 200), (1, 300), (2, 250), (3, 150), (4, 100)];

/// Support domains and the partners people are oriented to, by weight.
pub const SUPPORT_DOMAINS: &[Weighted<(SupportDomain, &[&str])>] = &[
    (
        (
            SupportDomain::Mobility,
            &["Plateforme mobilité 47", "Auto-école sociale d'Agen", "Tempo, réseau de bus de l'Agglomération"],
        ),
        200,
    ),
    ((SupportDomain::Housing, &["Action Logement", "Agen Habitat", "Habitat Jeunes Agen", "SIAO 47"]), 150),
    (
        (
            SupportDomain::Health,
            &["CPAM de Lot-et-Garonne", "Centre hospitalier d'Agen-Nérac", "CSAPA d'Agen", "Médecine du travail"],
        ),
        150,
    ),
    (
        (
            SupportDomain::Budget,
            &[
                "CCAS d'Agen",
                "UDAF de Lot-et-Garonne",
                "Banque de France, commission de surendettement",
                "CAF de Lot-et-Garonne",
            ],
        ),
        150,
    ),
    ((SupportDomain::Family, &["CAF de Lot-et-Garonne", "Maison départementale des solidarités d'Agen"]), 80),
    ((SupportDomain::Childcare, &["Relais petite enfance d'Agen", "Multi-accueil municipal d'Agen"]), 60),
    ((SupportDomain::Digital, &["Emmaüs Connect", "Espace France services d'Agen"]), 100),
    ((SupportDomain::Legal, &["Point-justice d'Agen", "CIDFF de Lot-et-Garonne"]), 50),
    ((SupportDomain::Language, &["Centre social, ateliers sociolinguistiques"]), 40),
    ((SupportDomain::Other, &["Secours populaire", "Restos du cœur"]), 20),
];
/// Support actions recorded without a partner, per mille.
pub const SUPPORT_WITHOUT_PARTNER: u32 = 100;
pub const SUPPORT_ACTIONS: &[Weighted<SupportAction>] =
    &[(SupportAction::Diagnostic, 300), (SupportAction::Orientation, 400), (SupportAction::Assistance, 300)];

/// Individual follow-up: the first one (days after the referral), then every so many days.
pub const FIRST_FOLLOW_UP_DAYS: (u32, u32) = (10, 35);
pub const FOLLOW_UP_EVERY_DAYS: (u32, u32) = (24, 38);
pub const FOLLOW_UP_KINDS: &[Weighted<FollowUpKind>] =
    &[(FollowUpKind::Individual, 750), (FollowUpKind::Phone, 200), (FollowUpKind::Group, 50)];
/// Follow-ups that set the next meeting, per mille, and how far ahead (days, inclusive).
pub const NEXT_DUE_SET: u32 = 900;
pub const NEXT_DUE_DAYS: (u32, u32) = (28, 35);
/// Each structure holds a committee every three weeks; each person is reviewed at every fourth.
pub const COMMITTEE_EVERY_DAYS: i32 = 21;
pub const COMMITTEE_REVIEWS_EVERY: i32 = 4;

/// Hours of a month are recorded when the month closes; those of the current month are recorded
/// as they stand on `today` once this many days of it have passed.
pub const CURRENT_MONTH_RECORDED_FROM_DAY: u32 = 8;

/// People whose history carries one correction, per mille.
pub const CORRECTED: u32 = 30;
/// Days from the corrected event to its correction (inclusive).
pub const CORRECTED_AFTER_DAYS: (u32, u32) = (1, 30);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mistake {
    /// Hours typed with a digit too many, replaced by the payslip's figure.
    Hours,
    /// A follow-up or a support action saved twice, the copy retracted.
    DuplicateFollowUp,
    DuplicateSupport,
    /// Two digits of the birth year swapped, replaced.
    BirthYear,
    /// An exit recorded in a neighbouring destination, requalified.
    Destination,
}

pub const MISTAKES: &[Weighted<Mistake>] = &[
    (Mistake::Hours, 400),
    (Mistake::DuplicateFollowUp, 250),
    (Mistake::DuplicateSupport, 100),
    (Mistake::BirthYear, 150),
    (Mistake::Destination, 100),
];

pub const CORRECTION_REASONS: &[&str] = &[
    "Heures rectifiées d'après le relevé mensuel",
    "Doublon de saisie",
    "Année de naissance erronée",
    "Sortie requalifiée après vérification auprès de l'employeur",
];

/// The destination a hurried coordinator records instead of the true one.
pub fn mistaken_destination(destination: Destination) -> Destination {
    use Destination::*;
    match destination {
        Cdi => Cdd6MonthsPlus,
        Cdd6MonthsPlus => CddUnder6Months,
        CddUnder6Months => Cdd6MonthsPlus,
        Interim6MonthsPlus => InterimUnder6Months,
        InterimUnder6Months => Interim6MonthsPlus,
        JobSeeking => NoNews,
        NoNews => JobSeeking,
        Other => JobSeeking,
        _ => Other,
    }
}

pub const FEMALE_FIRST_NAMES: &[&str] = &[
    "Marie",
    "Nathalie",
    "Fatima",
    "Aïcha",
    "Sandrine",
    "Julie",
    "Léa",
    "Chloé",
    "Manon",
    "Inès",
    "Sophie",
    "Isabelle",
    "Céline",
    "Amandine",
    "Khadija",
    "Yasmina",
    "Émilie",
    "Laetitia",
    "Samia",
    "Océane",
    "Maria",
    "Véronique",
    "Nadia",
    "Jessica",
];
pub const MALE_FIRST_NAMES: &[&str] = &[
    "Jean",
    "Pierre",
    "Mohamed",
    "Karim",
    "Nicolas",
    "Julien",
    "Thomas",
    "Kevin",
    "David",
    "Sébastien",
    "Mehdi",
    "Yanis",
    "Lucas",
    "Hugo",
    "Mamadou",
    "Jérôme",
    "Christophe",
    "Franck",
    "Rachid",
    "Dylan",
    "José",
    "Antonio",
    "Patrick",
    "Alexandre",
];
pub const LAST_NAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Garcia",
    "Lopez",
    "Fernandez",
    "Martinez",
    "Rodriguez",
    "Sanchez",
    "Moreau",
    "Laurent",
    "Lefebvre",
    "Roux",
    "Fournier",
    "Girard",
    "Bonnet",
    "Benali",
    "Haddad",
    "Traoré",
    "Diallo",
    "Cazenave",
    "Lacoste",
    "Castaing",
    "Larrieu",
    "Dupuy",
    "Labat",
    "Barthe",
    "Lagarde",
    "Delpech",
    "Rouquette",
    "Cassagne",
    "Marty",
    "Bousquet",
    "Ducos",
    "Faure",
    "Pujol",
    "Nguyen",
    "Da Silva",
    "Pereira",
    "Ferreira",
];
/// Where people live: street names, and (town, postcode).
pub const STREETS: &[&str] = &[
    "rue des Cornières",
    "boulevard de la République",
    "avenue Jean-Jaurès",
    "rue Montesquieu",
    "cours Victor-Hugo",
    "rue Lamartine",
    "allée des Tilleuls",
    "chemin de Baudon",
    "rue du Pin",
    "avenue de Colmar",
    "rue Paul-Bert",
    "place du Marché",
];
pub const RESIDENCES: &[(&str, &str)] = &[
    ("Agen", "47000"),
    ("Boé", "47550"),
    ("Le Passage", "47520"),
    ("Bon-Encontre", "47240"),
    ("Foulayronnes", "47510"),
    ("Pont-du-Casse", "47480"),
    ("Layrac", "47390"),
    ("Astaffort", "47220"),
    ("Port-Sainte-Marie", "47130"),
    ("Villeneuve-sur-Lot", "47300"),
    ("Nérac", "47600"),
    ("Marmande", "47200"),
];
