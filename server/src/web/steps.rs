//! The form of each step of CONTRACT §3: which fields, with which French labels, go into the step's
//! `data`. A field's name is its path in the data, so a submitted form reads into the very JSON a
//! client of the API would send.

use parcours_core::vocabulary::{
    AssessmentKind, Benefit, ContractEndReason, ContractKind, Destination, EducationLevel, FollowUpKind, Gender,
    PrescriberKind, Programme, Qualification, Situation, SituationAfterExit, StepKind, SupportAction, SupportDomain,
    TrainingResult,
};

use super::forms::{Choice, Field, Input};
use crate::labels::Labelled;

/// The steps a coordinator records on a person's page, in the order of a pathway.
pub const RECORDED: [StepKind; 11] = [
    StepKind::Referred,
    StepKind::ContractStarted,
    StepKind::ContractEnded,
    StepKind::HoursWorked,
    StepKind::SkillsAssessed,
    StepKind::TrainingStarted,
    StepKind::TrainingCompleted,
    StepKind::SupportProvided,
    StepKind::FollowUpHeld,
    StepKind::Exited,
    StepKind::FollowedUpAfterExit,
];

/// What the forms of one person can suggest: known structures, and the contracts and trainings
/// that a step may name.
#[derive(Default)]
pub struct Suggestions {
    pub structures: Vec<String>,
    pub open_contracts: Vec<String>,
    pub open_trainings: Vec<String>,
}

/// The date every step has (`occurred_on`), outside its data.
pub fn date_field(kind: StepKind) -> Field {
    let label = match kind {
        StepKind::Registered => "Date d'inscription",
        _ => "Date de l'étape",
    };
    Field::new("occurred_on", label, Input::Date).required().hint("Le jour où c'est arrivé, pas celui de la saisie.")
}

/// The fields of a step's data. `Corrected` has its own form (`person::correction`); the steps no
/// form records (erasure, structures) have none.
pub fn fields(kind: StepKind, suggestions: &Suggestions) -> Vec<Field> {
    let structure = || {
        Field::new("structure", "Structure", Input::Structure(suggestions.structures.clone()))
            .required()
            .hint("Son identifiant court, par exemple jardins-du-gravier.")
    };
    match kind {
        StepKind::Registered => vec![
            structure(),
            Field::new("identity.first_name", "Prénom", Input::text()),
            Field::new("identity.last_name", "Nom", Input::text()),
            Field::new("gender", "Genre", Input::choice::<Gender>()).required(),
            Field::new("birth_year", "Année de naissance", Input::Whole { min: 1900, max: 2100 }).required(),
            Field::new("identity.birth_date", "Date de naissance", Input::Date),
            Field::new("identity.phone", "Téléphone", Input::Text { kind: "tel", suggestions: Vec::new() }),
            Field::new("identity.email", "Courriel", Input::Text { kind: "email", suggestions: Vec::new() }),
            Field::new("identity.address", "Adresse", Input::Paragraph),
        ],
        StepKind::Referred => vec![
            structure().hint("La structure qui accueille la personne, par exemple jardins-du-gravier."),
            Field::new("prescriber.kind", "Prescripteur", Input::choice::<PrescriberKind>()).required(),
            Field::new("prescriber.name", "Nom du prescripteur", Input::text())
                .hint("Par exemple l'agence ou la personne qui oriente."),
            Field::new("situation", "Situation à l'entrée", Input::choice::<Situation>()).required(),
            Field::new("programme", "Dispositif", Input::choice::<Programme>()),
            Field::new("benefits", "Minima sociaux perçus", Input::several::<Benefit>()),
            Field::new("qualification", "Niveau de diplôme", Input::choice::<Qualification>()),
            Field::new("family_quotient", "Quotient familial", Input::Whole { min: 0, max: 100_000 })
                .hint("En euros par mois."),
            // The ESF+ questions (Regulation (EU) 2021/1057, Annex I), with its wording: each optional.
            Field::new(
                "education_level",
                "Niveau d'éducation le plus élevé atteint (CITE)",
                Input::choice::<EducationLevel>(),
            )
            .hint("Question du FSE+, facultative : la personne peut ne pas souhaiter répondre."),
            Field::new("disability", "Personne handicapée", Input::Answer)
                .hint("Donnée sensible : chiffrée, et effacée avec l'identité."),
            Field::new("third_country_national", "Ressortissant de pays tiers", Input::Answer)
                .hint("Donnée sensible : chiffrée, et effacée avec l'identité."),
            Field::new("foreign_background", "Participant d'origine étrangère", Input::Answer)
                .hint("Donnée sensible : chiffrée, et effacée avec l'identité."),
            Field::new(
                "minority",
                "Minorité (y compris les communautés marginalisées telles que les Roms)",
                Input::Answer,
            )
            .hint("Donnée sensible : chiffrée, et effacée avec l'identité."),
            Field::new("homeless_or_housing_exclusion", "Sans domicile ou exclu du logement", Input::Answer)
                .hint("Donnée sensible : chiffrée, et effacée avec l'identité."),
            Field::new("rural_area", "Participant vivant en zone rurale", Input::Answer),
        ],
        StepKind::ContractStarted => vec![
            Field::new("contract_id", "Référence du contrat", Input::text())
                .required()
                .hint("Une référence propre à ce contrat, reprise pour les heures et la fin du contrat."),
            Field::new("kind", "Type de contrat", Input::choice::<ContractKind>()).required(),
            Field::new("weekly_hours", "Heures par semaine", Input::Hours).required().hint("Par exemple 26 ou 24,5."),
            Field::new("employer", "Employeur", Input::text()),
            Field::new("job", "Poste", Input::text()),
            Field::new("planned_end", "Fin prévue", Input::Date),
        ],
        StepKind::ContractEnded => vec![
            Field::new("contract_id", "Contrat", Input::suggested(suggestions.open_contracts.clone()))
                .required()
                .hint("La référence d'un contrat en cours."),
            Field::new("reason", "Motif de fin", Input::choice::<ContractEndReason>()).required(),
        ],
        StepKind::HoursWorked => vec![
            Field::new("contract_id", "Contrat", Input::suggested(suggestions.open_contracts.clone())).required(),
            Field::new("month", "Mois", Input::Month).required(),
            Field::new("hours", "Heures travaillées", Input::Hours).required().hint("Par exemple 151,67."),
        ],
        StepKind::SkillsAssessed => vec![
            Field::new("assessor", "Évaluateur", Input::text()).required().hint("Par exemple AFPA."),
            Field::new("kind", "Type d'évaluation", Input::choice::<AssessmentKind>()).required(),
            Field::new("skills", "Compétences", Input::Lines).hint("Une par ligne."),
            Field::new("summary", "Synthèse", Input::Paragraph),
        ],
        StepKind::TrainingStarted => vec![
            Field::new("training_id", "Référence de la formation", Input::text())
                .required()
                .hint("Une référence propre à cette formation, reprise à sa fin."),
            Field::new("title", "Intitulé", Input::text()).required(),
            Field::new("qualifying", "Formation qualifiante", Input::YesNo).required(),
            Field::new("certification", "Certification visée", Input::text()),
            Field::new("planned_hours", "Durée prévue (heures)", Input::Hours),
        ],
        StepKind::TrainingCompleted => vec![
            Field::new("training_id", "Formation", Input::suggested(suggestions.open_trainings.clone()))
                .required()
                .hint("La référence d'une formation en cours."),
            Field::new("result", "Résultat", Input::choice::<TrainingResult>()).required(),
        ],
        StepKind::SupportProvided => vec![
            Field::new("domain", "Domaine", Input::choice::<SupportDomain>()).required(),
            Field::new("action", "Action", Input::choice::<SupportAction>()),
            Field::new("partner", "Partenaire", Input::text()),
        ],
        StepKind::FollowUpHeld => vec![
            Field::new("kind", "Type de suivi", Input::choice::<FollowUpKind>()).required(),
            Field::new("next_due", "Prochain suivi prévu", Input::Date),
        ],
        StepKind::Exited => vec![Field::new("destination", "Situation à la sortie", destinations()).required()],
        StepKind::FollowedUpAfterExit => vec![
            Field::new("months_after_exit", "Mois après la sortie", Input::Whole { min: 1, max: 120 }).required(),
            Field::new("situation", "Situation", Input::choice::<SituationAfterExit>()).required(),
        ],
        // Recorded through their own actions (answering a proposal, merging two records).
        StepKind::Corrected
        | StepKind::PersonalDataErased
        | StepKind::StructureUpdated
        | StepKind::ReportPublished
        | StepKind::ReferralAccepted
        | StepKind::ReferralDeclined
        | StepKind::MergedInto
        | StepKind::Absorbed
        | StepKind::Unmerged => Vec::new(),
    }
}

/// Destinations under the heading of their official category.
fn destinations() -> Input {
    Input::Choice(
        Destination::ALL
            .iter()
            .map(|destination| Choice {
                code: destination.code(),
                label: Labelled::label(*destination),
                group: Some(destination.category().label()),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::web::forms::{read, Errors, Values};

    /// A plausible answer to a field, whatever its kind.
    fn answer(field: &Field) -> String {
        match &field.input {
            Input::Text { .. } | Input::Paragraph | Input::Lines => "Agen".into(),
            Input::Structure(_) => "aci-agen".into(),
            Input::Date => "2024-01-02".into(),
            Input::Month => "2024-01".into(),
            Input::Whole { min, .. } => min.to_string(),
            Input::Hours => "1,5".into(),
            Input::Choice(choices) | Input::Several(choices) => choices[0].code.into(),
            Input::YesNo | Input::Answer => "oui".into(),
        }
    }

    /// Every form, filled in whole or in its required fields only, gives data that the API's own
    /// parser takes as that step: no form misses a member the API requires, nor sends a wrong one.
    #[test]
    fn every_form_reads_into_its_step() {
        for kind in RECORDED.into_iter().chain([StepKind::Registered]) {
            let fields = fields(kind, &Suggestions::default());
            for only_required in [false, true] {
                let mut values = Values::default();
                for field in fields.iter().filter(|field| field.required || !only_required) {
                    values.add(field.name, answer(field));
                }
                let mut errors = Errors::default();
                let data = read(&fields, &values, &mut errors);
                assert!(errors.is_empty(), "{kind}: {errors:?}");
                let step = crate::json::step_from_value("data", kind, data.clone());
                assert!(matches!(step, Ok(ref step) if step.kind() == kind), "{kind}: {data} gave {step:?}");
            }
        }
    }

    #[test]
    fn lists_and_nested_members_read_as_the_api_expects_them() {
        let mut values = Values::default();
        for (name, value) in [("assessor", "AFPA"), ("kind", "pmsmp"), ("skills", "soudure\r\n\r\ncaces ")] {
            values.add(name, value);
        }
        let data = read(&fields(StepKind::SkillsAssessed, &Suggestions::default()), &values, &mut Errors::default());
        assert_eq!(data, json!({"assessor": "AFPA", "kind": "pmsmp", "skills": ["soudure", "caces"]}));
    }
}
