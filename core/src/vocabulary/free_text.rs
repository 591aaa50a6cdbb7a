//! Free text is personal data (CONTRACT §7): what a coordinator types in a step's text fields
//! (a skills assessment's summary, a correction's reason, an employer's or a prescriber's name, a
//! job title) says things about the person that no closed list does, and a case note outlives the
//! reason it was written. So the store takes the text out of the step ([`Step::take_free_text`])
//! and seals it with the person's key in the envelope's `sealed_text`: the step in clear, which
//! figures, dashboards, the raw log feed and every export fold, has its text fields empty; readers
//! allowed the identity get the text put back; and it goes with the key when the identity is erased.
//!
//! Closed-list values stay in clear, so figures are unchanged. So do the ids that the rules match
//! (`contract_id`, `training_id`) and a support action's `partner`: the activity report counts
//! orientations per partner (`support.partners.*`), a figure funders ask for and that published
//! reports must reproduce after any erasure; a partner names an organisation, and says no more of
//! the person than the action's domain, which is a closed list in clear.

use bincode::{Decode, Encode};

use super::steps::*;

/// A step's free text, as sealed: each field's text in the order [`Step::free_text_fields`]
/// visits them (none, one or several strings per field). Only the text: the step in clear stays
/// the one account of everything else, so the two cannot disagree.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct FreeText(Vec<Vec<String>>);

/// The sealed text does not fit the step it was opened for (damage, or a ciphertext moved).
#[derive(Debug, thiserror::Error)]
#[error("the sealed free text does not fit its step")]
pub struct FreeTextMismatch;

/// A free-text field, whatever its shape.
enum Field<'a> {
    One(&'a mut String),
    Maybe(&'a mut Option<String>),
    Many(&'a mut Vec<String>),
}

impl Step {
    /// Whether the step holds free text, which the store seals with the person's key.
    pub fn has_free_text(&self) -> bool {
        self.clone().take_free_text().is_some()
    }

    /// Takes the free text out of the step, leaving its fields empty; `None` when there was none.
    pub fn take_free_text(&mut self) -> Option<FreeText> {
        let texts: Vec<Vec<String>> = self
            .free_text_fields()
            .into_iter()
            .map(|field| match field {
                Field::One(text) => Some(std::mem::take(text)).filter(|text| !text.is_empty()).into_iter().collect(),
                Field::Maybe(text) => text.take().into_iter().collect(),
                Field::Many(texts) => std::mem::take(texts),
            })
            .collect();
        texts.iter().any(|texts| !texts.is_empty()).then_some(FreeText(texts))
    }

    /// Puts back what [`Step::take_free_text`] took.
    pub fn put_free_text(&mut self, text: FreeText) -> Result<(), FreeTextMismatch> {
        let fields = self.free_text_fields();
        if fields.len() != text.0.len() {
            return Err(FreeTextMismatch);
        }
        for (field, mut texts) in fields.into_iter().zip(text.0) {
            match field {
                Field::Many(slot) => *slot = texts,
                Field::One(slot) if texts.len() <= 1 => *slot = texts.pop().unwrap_or_default(),
                Field::Maybe(slot) if texts.len() <= 1 => *slot = texts.pop(),
                Field::One(_) | Field::Maybe(_) => return Err(FreeTextMismatch),
            }
        }
        Ok(())
    }

    /// The free-text fields, in a fixed order per step (the order of the sealed [`FreeText`]:
    /// append only).
    fn free_text_fields(&mut self) -> Vec<Field<'_>> {
        match self {
            Step::Referred(referred) => vec![Field::Maybe(&mut referred.prescriber.name)],
            Step::ContractStarted(contract) => {
                vec![Field::Maybe(&mut contract.employer), Field::Maybe(&mut contract.job)]
            }
            Step::SkillsAssessed(assessed) => vec![
                Field::One(&mut assessed.assessor),
                Field::Many(&mut assessed.skills),
                Field::Maybe(&mut assessed.summary),
            ],
            Step::TrainingStarted(training) => {
                vec![Field::One(&mut training.title), Field::Maybe(&mut training.certification)]
            }
            Step::Corrected(correction) => {
                let mut fields = vec![Field::One(&mut correction.reason)];
                if let Some(replacement) = &mut correction.replacement {
                    fields.extend(replacement.step.free_text_fields());
                }
                fields
            }
            Step::ReferralDeclined(declined) => vec![Field::One(&mut declined.reason)],
            Step::MergedInto(merged) => vec![Field::One(&mut merged.reason)],
            Step::Absorbed(absorbed) => vec![Field::One(&mut absorbed.reason)],
            Step::Unmerged(unmerged) => vec![Field::One(&mut unmerged.reason)],
            Step::Registered(_)
            | Step::ContractEnded(_)
            | Step::HoursWorked(_)
            | Step::SupportProvided(_)
            | Step::TrainingCompleted(_)
            | Step::FollowUpHeld(_)
            | Step::Exited(_)
            | Step::FollowedUpAfterExit(_)
            | Step::PersonalDataErased(_)
            | Step::StructureUpdated(_)
            | Step::ReportPublished(_)
            | Step::ReferralAccepted(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::{AssessmentKind, Date, EventId, Hours, SupportDomain};

    fn assessed(summary: Option<&str>) -> Step {
        Step::SkillsAssessed(SkillsAssessed {
            assessor: "AFPA".into(),
            kind: AssessmentKind::Pmsmp,
            skills: vec!["soudure".into(), "caces".into()],
            summary: summary.map(Into::into),
        })
    }

    #[test]
    fn every_free_text_field_is_taken_out_and_put_back_and_closed_lists_and_ids_stay() {
        let whole = assessed(Some("Angoissé, suivi au CMP"));
        let mut step = whole.clone();
        let text = step.take_free_text().expect("text to take");
        assert_eq!(
            step,
            Step::SkillsAssessed(SkillsAssessed {
                assessor: String::new(),
                kind: AssessmentKind::Pmsmp,
                skills: Vec::new(),
                summary: None
            })
        );
        assert!(!step.has_free_text(), "nothing left to take");
        step.put_free_text(text).unwrap();
        assert_eq!(step, whole);

        let mut training = Step::TrainingStarted(TrainingStarted {
            training_id: "formation-1".into(),
            title: "CACES R489".into(),
            qualifying: true,
            certification: None,
            planned_hours: Some(Hours { hundredths: 3500 }),
        });
        assert!(training.take_free_text().is_some());
        let Step::TrainingStarted(blank) = training else { unreachable!() };
        assert_eq!((blank.training_id.as_str(), blank.title.as_str(), blank.qualifying), ("formation-1", "", true));
    }

    #[test]
    fn a_correction_gives_its_reason_and_its_replacements_text() {
        let whole = Step::Corrected(Corrected {
            corrects: EventId::generate(),
            reason: "erreur de saisie".into(),
            replacement: Some(Replacement {
                occurred_on: Date::from_ymd(2026, 3, 2).unwrap(),
                step: Box::new(assessed(Some("x"))),
            }),
        });
        let mut step = whole.clone();
        let text = step.take_free_text().unwrap();
        let Step::Corrected(blank) = &step else { unreachable!() };
        assert!(blank.reason.is_empty());
        assert_eq!(blank.replacement.as_ref().unwrap().step.clone().take_free_text(), None);
        step.put_free_text(text).unwrap();
        assert_eq!(step, whole);
    }

    #[test]
    fn text_that_does_not_fit_its_step_is_refused() {
        let mut text = assessed(Some("x")).take_free_text().unwrap();
        let mut training = Step::TrainingStarted(TrainingStarted {
            training_id: "f".into(),
            title: String::new(),
            qualifying: false,
            certification: None,
            planned_hours: None,
        });
        assert!(training.put_free_text(text.clone()).is_err(), "three fields for two");
        text.0[0] = vec!["a".into(), "b".into()];
        assert!(assessed(None).put_free_text(text).is_err(), "two texts for one");
    }

    #[test]
    fn a_partner_stays_in_clear_as_the_report_counts_orientations_by_partner() {
        let mut support = Step::SupportProvided(SupportProvided {
            domain: SupportDomain::Housing,
            action: None,
            partner: Some("SIAO 47".into()),
        });
        assert_eq!(support.take_free_text(), None);
    }
}
