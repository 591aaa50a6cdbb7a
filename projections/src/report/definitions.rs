//! The definitions of the activity report's figures, versioned.
//!
//! A funder compares this year's report with last year's: a figure must keep meaning what it
//! meant. So definitions are versioned, the report states the version it used, and the caller may
//! ask for any version ever shipped (`definitions=v1`). Changing what a figure counts adds a
//! variant to [`DefinitionsVersion`] (never removes one), its texts here, and a branch where its
//! computation differs (`report::gather` receives the version); the old variant stays computable
//! and tested.
//!
//! Each text is short French shown under its figure: what is counted, which date decides, what is
//! left out. Keys are figure families (`profile.by_gender` covers every gender's cell).
//!
//! Version 2 (CONTRACT §11) adds figures and changes none: its texts are version 1's and those of
//! [`V2_ADDED`]. A report computed under version 1 has none of the figures version 2 adds, so a
//! report published under version 1 reproduces byte for byte.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A version of the definitions.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub enum DefinitionsVersion {
    V1,
    /// Adds the figures funders ask for beyond CONTRACT §8 (§11): exits to a CDI, pathway
    /// lengths, trainings, skills assessments, entries by prescriber, group sessions, phone
    /// contacts, full-time equivalents worked and agreed.
    #[default]
    V2,
}

impl DefinitionsVersion {
    /// Every version ever shipped, oldest first; the last is the default.
    pub const ALL: &'static [DefinitionsVersion] = &[DefinitionsVersion::V1, DefinitionsVersion::V2];

    pub fn code(self) -> &'static str {
        match self {
            DefinitionsVersion::V1 => "v1",
            DefinitionsVersion::V2 => "v2",
        }
    }

    /// Whether this version has the figures of CONTRACT §11 (version 2 and later).
    pub fn has_funders_figures(self) -> bool {
        self >= DefinitionsVersion::V2
    }

    /// The definition of a figure family, in French; `None` for a key this version does not define.
    pub fn text(self, key: &str) -> Option<&'static str> {
        self.texts().find(|(k, _)| *k == key).map(|(_, text)| text)
    }

    /// Every definition of this version, by key (each part sorted; the serialised map sorts them all).
    pub fn texts(self) -> impl Iterator<Item = (&'static str, &'static str)> {
        let added: &'static [(&'static str, &'static str)] = match self {
            DefinitionsVersion::V1 => &[],
            DefinitionsVersion::V2 => V2_ADDED,
        };
        V1.iter().chain(added).copied()
    }
}

impl fmt::Display for DefinitionsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for DefinitionsVersion {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DefinitionsVersion::ALL.iter().copied().find(|version| version.code() == text).ok_or_else(|| {
            let known: Vec<&str> = DefinitionsVersion::ALL.iter().map(|version| version.code()).collect();
            format!("unknown definitions `{text}`: expected one of {}", known.join(", "))
        })
    }
}

impl Serialize for DefinitionsVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// Version 1, sorted by key.
#[rustfmt::skip]
const V1: &[(&str, &str)] = &[
    ("contracts.by_kind", "Contrats ouverts au dernier jour de la période, par nature de contrat, et leur équivalent temps plein (heures hebdomadaires ÷ 35, arrondi au centième)."),
    ("contracts.contracts_at_end", "Contrats commencés au plus tard le dernier jour de la période et non terminés ce jour-là (un contrat terminé le dernier jour n'est plus compté ; une sortie termine tous les contrats)."),
    ("contracts.fte_at_end", "Équivalent temps plein au dernier jour : somme des heures hebdomadaires des contrats ouverts ce jour-là, divisée par 35, arrondie au centième."),
    ("contracts.on_contract_at_end", "Personnes ayant au moins un contrat ouvert au dernier jour de la période, dans un parcours de la structure."),
    ("follow_up.committees_held", "Comités de suivi tenus : dates distinctes (par structure) auxquelles au moins un suivi de type « comité » est enregistré dans la période."),
    ("follow_up.individual_meetings", "Entretiens individuels datés dans la période (suivis de type « individuel » ; les appels téléphoniques et les réunions collectives n'en sont pas)."),
    ("follow_up.overdue_at_end", "Personnes présentes au dernier jour dont le dernier contact (dernier suivi du parcours, quel qu'il soit, ou à défaut l'orientation) date de plus de 21 jours à ce jour-là."),
    ("hours.agreed", "Heures conventionnées pour la période : pour chaque mois compté, un douzième des heures conventionnées de son année (douzièmes arrondis au centième de sorte que l'année entière fasse le total exact) ; une année partielle compte donc au prorata de ses mois. Vide si aucune convention ne couvre la période ; une année sans convention compte pour zéro."),
    ("hours.by_gender", "Heures travaillées dans la période selon le genre déclaré à l'inscription ; part en pourcentage des heures travaillées, arrondie au dixième."),
    ("hours.by_month", "Heures travaillées déclarées pour chaque mois compté (les mois dont le premier jour est dans la période), face au douzième des heures conventionnées de l'année (le rythme convenu)."),
    ("hours.people", "Personnes ayant des heures travaillées déclarées pour un mois compté."),
    ("hours.worked", "Heures travaillées déclarées pour les mois dont le premier jour est dans la période, dans les parcours de la structure (elles restent à la structure où elles ont été déclarées)."),
    ("hours.worked_share_of_agreed", "Heures travaillées en pourcentage des heures conventionnées de la période, arrondi au dixième."),
    ("outcomes.categories", "Sorties de la période par catégorie officielle de l'IAE : emploi durable, emploi de transition, sortie positive, autre sortie, sortie neutre."),
    ("outcomes.dynamic_exit_rate", "Sorties dynamiques ÷ (sorties − sorties neutres), en pourcentage arrondi au dixième. Les sorties neutres (santé, maternité, déménagement, retraite, décès, incarcération) sont comptées dans les sorties mais pas dans le dénominateur du taux ; vide si le dénominateur est nul."),
    ("outcomes.dynamic_exits", "Sorties vers l'emploi durable, l'emploi de transition ou une sortie positive."),
    ("outcomes.employed_at_six_months", "Parmi les sorties suivies à six mois, celles où la personne était en emploi."),
    ("outcomes.employed_at_six_months_share", "Part des sorties suivies à six mois où la personne était en emploi, en pourcentage arrondi au dixième."),
    ("outcomes.exits", "Sorties dont la date est dans la période, pour les parcours de la structure (une personne sortie deux fois compte deux fois)."),
    ("outcomes.followed_up_at_six_months", "Sorties de la période ayant un suivi à six mois enregistré (le dernier enregistré compte), quelle que soit sa date."),
    ("outcomes.reenrolled", "Sorties de la période suivies d'une nouvelle orientation de la personne, à n'importe quelle date et vers n'importe quelle structure."),
    ("outcomes.six_months_after_exit", "Situation constatée au suivi à six mois des sorties de la période."),
    ("people.distinct_since_start", "Personnes différentes orientées vers la structure depuis le début de l'historique jusqu'au dernier jour de la période ; chacune compte une fois, quel que soit le nombre de ses parcours."),
    ("people.entered", "Orientations (entrées en parcours) datées dans la période : une personne orientée deux fois compte deux fois."),
    ("people.exited", "Sorties datées dans la période (les mêmes que dans « Sorties »)."),
    ("people.followed", "Personnes différentes ayant un parcours ouvert dans la structure à un moment de la période : orientées au plus tard le dernier jour et non sorties avant le premier."),
    ("people.present_at_end", "Personnes dont le parcours est ouvert au dernier jour de la période (une sortie ce jour-là n'est plus une présence)."),
    ("profile.by_age_band_and_gender", "Entrées de la période par tranche d'âge à l'orientation (année d'orientation − année de naissance ; 25 à 50 ans inclus) et genre ; part en pourcentage des entrées."),
    ("profile.by_benefit", "Entrées de la période par minimum social déclaré à l'orientation ; une personne peut en déclarer plusieurs, les parts (en pourcentage des entrées) ne s'additionnent donc pas ; « aucun » : aucune allocation déclarée."),
    ("profile.by_family_quotient", "Entrées de la période par tranche de quotient familial mensuel déclaré à l'orientation (un quotient égal à un seuil est dans la tranche supérieure) ; « inconnu » : non renseigné."),
    ("profile.by_gender", "Entrées de la période par genre déclaré à l'inscription ; part en pourcentage des entrées, arrondie au dixième."),
    ("profile.by_situation_and_gender", "Entrées de la période par situation à l'orientation et genre ; part en pourcentage des entrées."),
    ("profile.entries", "Orientations datées dans la période : le profil décrit les entrées, pas les personnes présentes."),
    ("support.actions", "Actions d'accompagnement social datées dans la période, dans les parcours de la structure."),
    ("support.by_domain_and_action", "Actions d'accompagnement de la période par domaine et par nature (diagnostic, orientation, aide ; « non précisée » quand la nature n'est pas renseignée)."),
    ("support.oriented", "Orientations vers un partenaire : actions d'accompagnement de nature « orientation » de la période qui nomment un partenaire."),
    ("support.partners", "Partenaires vers lesquels les personnes ont été orientées dans la période, avec le nombre d'orientations vers chacun (le nom tel que saisi, sans les espaces autour)."),
];

/// What version 2 adds to version 1, sorted by key.
#[rustfmt::skip]
const V2_ADDED: &[(&str, &str)] = &[
    ("contracts.agreed_fte", "Équivalents temps plein conventionnés pour la période : pour chaque mois compté, les ETP conventionnés de son année, en moyenne sur les mois comptés (un mois sans convention compte pour zéro) ; vide si aucune convention en ETP ne couvre la période."),
    ("contracts.fte_worked", "Équivalents temps plein travaillés : heures travaillées déclarées pour les mois comptés, divisées par 1 607 heures (un ETP sur une année) au prorata des mois comptés (heures × 12 ÷ (1 607 × nombre de mois)), arrondi au centième."),
    ("entries.by_prescriber", "Entrées de la période par type de prescripteur de l'orientation ; part en pourcentage des entrées, arrondie au dixième."),
    ("follow_up.group_sessions", "Séances collectives tenues : dates distinctes (par structure) auxquelles au moins un suivi de type « réunion collective » est enregistré dans la période."),
    ("follow_up.phone_contacts", "Entretiens téléphoniques datés dans la période (suivis de type « téléphone »)."),
    ("outcomes.cdi", "Sorties de la période vers un CDI, seules (les autres sorties en emploi durable n'en sont pas)."),
    ("people.pathway_days", "Durée des parcours sortis dans la période : jours entre l'orientation et la sortie de chaque sortie de la période ; médiane et moyenne, arrondies au dixième de jour."),
    ("skills_assessments", "Évaluations de compétences (bilans de compétences, évaluations en situation de travail, PMSMP, autres) datées dans la période, dans les parcours de la structure."),
    ("trainings.certified", "Formations terminées dans la période avec une certification (résultat « certifiée »)."),
    ("trainings.completed", "Formations terminées dans la période et menées à leur terme, certifiées ou non (les abandons n'en sont pas)."),
    ("trainings.started", "Formations commencées dans la période, dans les parcours de la structure."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_is_sorted_and_parses_back() {
        for part in [V1, V2_ADDED] {
            let keys: Vec<&str> = part.iter().map(|(key, _)| *key).collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(keys, sorted, "keys sorted and unique");
        }
        for version in DefinitionsVersion::ALL {
            let mut keys: Vec<&str> = version.texts().map(|(key, _)| key).collect();
            let all = keys.len();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), all, "{version}: a key defined once");
            assert_eq!(version.code().parse::<DefinitionsVersion>(), Ok(*version));
        }
        assert_eq!(DefinitionsVersion::default(), *DefinitionsVersion::ALL.last().unwrap(), "the latest by default");
        assert_eq!(DefinitionsVersion::V1.texts().count() + V2_ADDED.len(), DefinitionsVersion::V2.texts().count());
        assert!("v0".parse::<DefinitionsVersion>().unwrap_err().contains("v1, v2"));
    }
}
