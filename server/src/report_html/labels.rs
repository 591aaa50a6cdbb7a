//! French words for the codes of the contract, as the printed report shows them.

//! The report's own words are here: headings of groups (« Femmes ») and bands; each value of a
//! closed list reads as everywhere else in the application ([`Labelled`]).

use parcours_core::vocabulary::{Benefit, Gender, SupportAction};
use parcours_projections::report::Band;
use parcours_projections::OutcomeField;

use crate::french;
use crate::labels::Labelled;

pub fn gender(gender: Gender) -> &'static str {
    match gender {
        Gender::Female => "Femmes",
        Gender::Male => "Hommes",
        Gender::NonBinary => "Personnes non binaires",
        Gender::Undisclosed => "Genre non déclaré",
    }
}

/// A benefit's code from the report (`rsa`, …, `none`).
pub fn benefit(code: &str) -> &'static str {
    Benefit::from_code(code).map_or("Aucune allocation", |benefit| benefit.label())
}

pub fn band(band: Band) -> String {
    match band {
        Band::Under(cut) => format!("Moins de {} €", french::integer(u64::from(cut))),
        Band::Between(low, high) => {
            format!("De {} à {} €", french::integer(u64::from(low)), french::integer(u64::from(high.saturating_sub(1))))
        }
        Band::AndOver(cut) => format!("{} € et plus", french::integer(u64::from(cut))),
        Band::Unknown => "Non renseigné".to_owned(),
    }
}

/// An action of support, which the log may leave unsaid.
pub fn action(action: Option<SupportAction>) -> &'static str {
    action.map_or("Non précisée", |action| action.label())
}

/// The official exit categories, in the contract's order, with their counts.
pub const CATEGORIES: [(OutcomeField, &str); 5] = [
    (OutcomeField::DurableEmployment, "Emploi durable"),
    (OutcomeField::TransitionEmployment, "Emploi de transition"),
    (OutcomeField::PositiveExits, "Sortie positive"),
    (OutcomeField::OtherExits, "Autre sortie"),
    (OutcomeField::NeutralExits, "Sortie neutre"),
];
