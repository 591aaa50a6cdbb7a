//! The steps of a pathway (CONTRACT §3): one struct per event type, gathered in [`Step`].
//!
//! JSON comes in through [`Step::deserialize_data`], which picks the struct from the `type` field so
//! that an error names the field inside `data` (`prescriber.kind: unknown variant ...`). Every struct
//! refuses unknown fields. On disk a step is its bincode encoding; variants and fields are only
//! ever appended, with a format version bump (see `store::page`).

use std::collections::BTreeMap;

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{AllowedEnumVariants, DecodeError, EncodeError};
use bincode::{Decode, Encode};
use serde::{Deserialize, Deserializer, Serialize};

use super::esf::{Answer, EducationLevel, SensitiveAnswers};
use super::lists::*;
use super::personal_data::{IdentityField, Sealed};
use super::values::{Date, EventId, FullTimeEquivalents, Hours, Month, Sha256Digest, StreamId};
use super::Slug;

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Registered {
    pub structure: Slug,
    pub gender: Gender,
    pub birth_year: u16,
    /// Personal data. Clear when it comes in, sealed (encrypted with the beneficiary's own key) in
    /// the store; see `personal_data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityField>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Prescriber {
    pub kind: PrescriberKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Stored with three layouts (see [`Step`]'s encoding): the fields below up to `family_quotient`,
/// under the tag of `referred`; the same under [`PROPOSED_REFERRAL_TAG`] when `proposed` is set;
/// and, when it holds ESF+ answers, every field under [`ESF_REFERRAL_TAG`] (record format 4).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referred {
    pub structure: Slug,
    pub prescriber: Prescriber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<Programme>,
    pub situation: Situation,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub benefits: Vec<Benefit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<Qualification>,
    /// Monthly euros (quotient familial), used for the profile bands of the activity report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_quotient: Option<u32>,
    /// A referral by someone without rights on `structure` (CONTRACT §7): a proposal that enters the
    /// structure's pathway only once it answers `referral_accepted`. Set by the store's writer from
    /// its author's scope, never taken from the caller.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub proposed: bool,
    /// ESF+ participant data (CONTRACT §11, `esf`): each optional, each may be `refused`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub education_level: Option<EducationLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rural_area: Option<Answer>,
    /// The five sensitive answers: clear on the way in and on the way out to readers allowed the
    /// identity, never stored clear (the writer seals them into `sealed_answers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disability: Option<Answer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_country_national: Option<Answer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_background: Option<Answer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minority: Option<Answer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homeless_or_housing_exclusion: Option<Answer>,
    /// The sensitive answers as stored: sealed with the person's key, bound to the stream and the
    /// event. Never in JSON (fail closed: a reader that forgets to open them shows nothing).
    #[serde(skip)]
    pub sealed_answers: Option<Sealed>,
}

impl Referred {
    /// A referral with no ESF+ answer, as every referral before record format 4.
    pub fn new(structure: Slug, prescriber: Prescriber, situation: Situation) -> Referred {
        Referred {
            structure,
            prescriber,
            programme: None,
            situation,
            benefits: Vec::new(),
            qualification: None,
            family_quotient: None,
            proposed: false,
            education_level: None,
            rural_area: None,
            disability: None,
            third_country_national: None,
            foreign_background: None,
            minority: None,
            homeless_or_housing_exclusion: None,
            sealed_answers: None,
        }
    }

    /// The sensitive answers held clear.
    pub fn sensitive_answers(&self) -> SensitiveAnswers {
        SensitiveAnswers {
            disability: self.disability,
            third_country_national: self.third_country_national,
            foreign_background: self.foreign_background,
            minority: self.minority,
            homeless_or_housing_exclusion: self.homeless_or_housing_exclusion,
        }
    }

    /// Puts opened (or cleared) sensitive answers in their fields.
    pub fn set_sensitive_answers(&mut self, answers: SensitiveAnswers) {
        self.disability = answers.disability;
        self.third_country_national = answers.third_country_national;
        self.foreign_background = answers.foreign_background;
        self.minority = answers.minority;
        self.homeless_or_housing_exclusion = answers.homeless_or_housing_exclusion;
    }

    /// Whether it holds an ESF+ answer, clear or sealed: then it is stored with [`ESF_REFERRAL_TAG`].
    pub fn has_esf_answers(&self) -> bool {
        self.education_level.is_some()
            || self.rural_area.is_some()
            || self.sealed_answers.is_some()
            || !self.sensitive_answers().is_empty()
    }

    /// The ESF+ fields of the longer layout, after the older ones and `proposed`.
    fn encode_esf<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        if !self.sensitive_answers().is_empty() {
            return Err(EncodeError::Other("sensitive ESF+ answers must be sealed before they are stored"));
        }
        self.proposed.encode(encoder)?;
        self.education_level.encode(encoder)?;
        self.rural_area.encode(encoder)?;
        self.sealed_answers.encode(encoder)
    }

    fn decode_esf<Context, D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let mut referred = Referred::decode_fields(decoder, false)?;
        referred.proposed = Decode::decode(decoder)?;
        referred.education_level = Decode::decode(decoder)?;
        referred.rural_area = Decode::decode(decoder)?;
        referred.sealed_answers = Decode::decode(decoder)?;
        Ok(referred)
    }

    fn encode_fields<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        self.structure.encode(encoder)?;
        self.prescriber.encode(encoder)?;
        self.programme.encode(encoder)?;
        self.situation.encode(encoder)?;
        self.benefits.encode(encoder)?;
        self.qualification.encode(encoder)?;
        self.family_quotient.encode(encoder)
    }

    fn decode_fields<Context, D: Decoder<Context = Context>>(
        decoder: &mut D,
        proposed: bool,
    ) -> Result<Self, DecodeError> {
        Ok(Referred {
            structure: Decode::decode(decoder)?,
            prescriber: Decode::decode(decoder)?,
            programme: Decode::decode(decoder)?,
            situation: Decode::decode(decoder)?,
            benefits: Decode::decode(decoder)?,
            qualification: Decode::decode(decoder)?,
            family_quotient: Decode::decode(decoder)?,
            proposed,
            education_level: None,
            rural_area: None,
            disability: None,
            third_country_national: None,
            foreign_background: None,
            minority: None,
            homeless_or_housing_exclusion: None,
            sealed_answers: None,
        })
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct ContractStarted {
    pub contract_id: String,
    pub kind: ContractKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employer: Option<String>,
    pub weekly_hours: Hours,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_end: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct ContractEnded {
    pub contract_id: String,
    pub reason: ContractEndReason,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct HoursWorked {
    pub contract_id: String,
    pub month: Month,
    pub hours: Hours,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct SkillsAssessed {
    pub assessor: String,
    pub kind: AssessmentKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct TrainingStarted {
    pub training_id: String,
    pub title: String,
    pub qualifying: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_hours: Option<Hours>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct TrainingCompleted {
    pub training_id: String,
    pub result: TrainingResult,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct SupportProvided {
    pub domain: SupportDomain,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<SupportAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct FollowUpHeld {
    pub kind: FollowUpKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due: Option<Date>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Exited {
    pub destination: Destination,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct FollowedUpAfterExit {
    pub months_after_exit: u8,
    pub situation: SituationAfterExit,
}

/// A correction: without `replacement` the corrected event is retracted; with it, the corrected
/// event counts as if it had been recorded with the replacement's date and data.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Encode, Decode)]
pub struct Corrected {
    pub corrects: EventId,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Replacement>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Encode)]
pub struct Replacement {
    pub occurred_on: Date,
    #[serde(rename = "data")]
    pub step: Box<Step>,
}

/// How a correction arrives: the replacement's data can only be read once the type of the corrected
/// event is known, which takes a look at the stream. `V` is the caller's raw value type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectedInput<V> {
    pub corrects: EventId,
    pub reason: String,
    #[serde(default)]
    pub replacement: Option<ReplacementInput<V>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplacementInput<V> {
    pub occurred_on: Date,
    pub data: V,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct PersonalDataErased {
    pub reason: ErasureReason,
}

/// A structure's own record (CONTRACT §5 `PUT /api/structures/{slug}`), in the structure's stream.
/// Each update states the whole structure; the latest one counts.
///
/// Stored with two layouts (see [`Step`]'s encoding): up to `agreed_hours` under the tag of
/// `structure_updated`; with agreed full-time equivalents or funders, every field under
/// [`FUNDED_STRUCTURE_TAG`] (record format 4).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructureUpdated {
    pub slug: Slug,
    pub name: String,
    pub kind: StructureKind,
    /// Yearly hours agreed with the funder, by calendar year.
    #[serde(default)]
    pub agreed_hours: BTreeMap<u16, Hours>,
    /// Full-time equivalents agreed (CONTRACT §11), by calendar year.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub agreed_fte: BTreeMap<u16, FullTimeEquivalents>,
    /// Who funds the structure (CONTRACT §11).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funders: Vec<Funder>,
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Funder {
    pub name: String,
    pub kind: FunderKind,
}

impl StructureUpdated {
    /// Whether it needs the longer layout of [`FUNDED_STRUCTURE_TAG`].
    pub fn has_funding(&self) -> bool {
        !self.agreed_fte.is_empty() || !self.funders.is_empty()
    }

    fn encode_fields<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        self.slug.encode(encoder)?;
        self.name.encode(encoder)?;
        self.kind.encode(encoder)?;
        self.agreed_hours.encode(encoder)?;
        if self.has_funding() {
            self.agreed_fte.encode(encoder)?;
            self.funders.encode(encoder)?;
        }
        Ok(())
    }

    fn decode_fields<Context, D: Decoder<Context = Context>>(
        decoder: &mut D,
        funded: bool,
    ) -> Result<Self, DecodeError> {
        let mut update = StructureUpdated {
            slug: Decode::decode(decoder)?,
            name: Decode::decode(decoder)?,
            kind: Decode::decode(decoder)?,
            agreed_hours: Decode::decode(decoder)?,
            agreed_fte: BTreeMap::new(),
            funders: Vec::new(),
        };
        if funded {
            update.agreed_fte = Decode::decode(decoder)?;
            update.funders = Decode::decode(decoder)?;
        }
        Ok(update)
    }
}

/// A report sent to funders, recorded so that it stays reproducible: the question, the last log
/// position the report counted, and the SHA-256 of its bytes in each format. It lives in the stream
/// of published reports ([`super::StreamId::published_reports`]), dated the day it was sent; a
/// report is never corrected (send a new one).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct ReportPublished {
    pub report: ReportKind,
    /// The structures the report covers, by slug, sorted.
    pub structures: Vec<Slug>,
    pub from: Date,
    pub to: Date,
    /// The version of the definitions the figures follow (`v1`).
    pub definitions: String,
    /// The family-quotient thresholds of the profile, in euros.
    pub family_quotient_bands: Vec<u32>,
    /// The last position of the log the report counted: it is reproduced from the events up to it.
    pub position: u64,
    pub sha256: ReportDigests,
}

/// The SHA-256 of a published report's bytes, in each format the API gives.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct ReportDigests {
    pub json: Sha256Digest,
    pub csv: Sha256Digest,
    pub html: Sha256Digest,
}

/// B's answer to a referral proposed by another structure (CONTRACT §7): the referral enters B's
/// figures, dashboards and lists from the day it is accepted.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct ReferralAccepted {
    pub referral: EventId,
}

/// B's refusal of a referral proposed by another structure: the referral leaves no trace in B's
/// figures and reopens nothing.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct ReferralDeclined {
    pub referral: EventId,
    pub reason: String,
}

/// Recorded in the stream of a person recorded twice, the one that is absorbed (CONTRACT §10):
/// from then on reads follow `into`, and the rules refuse appends here. Nothing is rewritten.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct MergedInto {
    pub into: StreamId,
    pub reason: String,
}

/// The surviving stream's side of a merge: its pathway now holds both histories.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Absorbed {
    pub from: StreamId,
    pub reason: String,
}

/// Undoes the latest merge between this stream and `other`, recorded in both streams: every figure
/// is again what it was before the merge.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct Unmerged {
    pub other: StreamId,
    pub reason: String,
}

/// One step of a pathway (or of a structure's stream): the `type` and `data` of an event.
///
/// Stored as a tag then the fields of the step's struct. The tag is the index of the variant:
/// append variants only, in the same order in `steps!`, which encodes and decodes them. A struct
/// that gains a field keeps its old layout under its old tag and stores the longer one under a
/// tag of its own from 200 up ([`PROPOSED_REFERRAL_TAG`]), so every stored byte keeps its meaning.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(untagged)]
pub enum Step {
    Registered(Registered),
    Referred(Referred),
    ContractStarted(ContractStarted),
    ContractEnded(ContractEnded),
    HoursWorked(HoursWorked),
    SkillsAssessed(SkillsAssessed),
    TrainingStarted(TrainingStarted),
    TrainingCompleted(TrainingCompleted),
    SupportProvided(SupportProvided),
    FollowUpHeld(FollowUpHeld),
    Exited(Exited),
    FollowedUpAfterExit(FollowedUpAfterExit),
    Corrected(Corrected),
    PersonalDataErased(PersonalDataErased),
    StructureUpdated(StructureUpdated),
    ReportPublished(ReportPublished),
    ReferralAccepted(ReferralAccepted),
    ReferralDeclined(ReferralDeclined),
    MergedInto(MergedInto),
    Absorbed(Absorbed),
    Unmerged(Unmerged),
}

macro_rules! steps {
    ($($variant:ident($data:ident) = $code:literal),+ $(,)?) => {
        /// The `type` of an event.
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize, Encode, Decode)]
        pub enum StepKind {
            $(#[serde(rename = $code)] $variant),+
        }

        impl StepKind {
            pub const ALL: &'static [StepKind] = &[$(StepKind::$variant),+];

            pub fn code(self) -> &'static str {
                match self {
                    $(StepKind::$variant => $code),+
                }
            }
        }

        impl Step {
            pub fn kind(&self) -> StepKind {
                match self {
                    $(Step::$variant(_) => StepKind::$variant),+
                }
            }

            /// The stored tag and fields of the step.
            fn encode_tagged<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
                match self {
                    $(Step::$variant(data) => steps!(@encode $variant data encoder),)+
                }
            }

            /// Decodes the fields of the step whose stored tag is `tag`.
            pub(crate) fn decode_tagged<Context, D: Decoder<Context = Context>>(tag: u32, decoder: &mut D) -> Result<Step, DecodeError> {
                match tag {
                    PROPOSED_REFERRAL_TAG => return Referred::decode_fields(decoder, true).map(Step::Referred),
                    ESF_REFERRAL_TAG => return Referred::decode_esf(decoder).map(Step::Referred),
                    FUNDED_STRUCTURE_TAG => {
                        return StructureUpdated::decode_fields(decoder, true).map(Step::StructureUpdated)
                    }
                    _ => {}
                }
                let kind = usize::try_from(tag).ok().and_then(|index| StepKind::ALL.get(index));
                match kind {
                    $(Some(StepKind::$variant) => steps!(@decode $variant $data decoder),)+
                    None => Err(DecodeError::UnexpectedVariant {
                        type_name: "Step",
                        allowed: &STEP_TAGS,
                        found: tag,
                    }),
                }
            }

            /// Reads the `data` of an event whose `type` is `kind`.
            ///
            /// A correction is read with [`CorrectedInput`] instead, because its replacement's type
            /// is that of the corrected event.
            pub fn deserialize_data<'de, D: Deserializer<'de>>(kind: StepKind, data: D) -> Result<Step, D::Error> {
                match kind {
                    $(StepKind::$variant => steps!(@read $variant $data data)),+
                }
            }
        }
    };
    (@read Corrected $data:ident $d:ident) => {{
        let _ = $d;
        Err(serde::de::Error::custom("a correction's data is read with CorrectedInput"))
    }};
    (@read $variant:ident $data:ident $d:ident) => { $data::deserialize($d).map(Step::$variant) };
    // `Referred` and `StructureUpdated` are stored by hand: several layouts.
    (@encode Referred $d:ident $e:ident) => {{
        if $d.has_esf_answers() {
            ESF_REFERRAL_TAG.encode($e)?;
            $d.encode_fields($e)?;
            return $d.encode_esf($e);
        }
        let tag = if $d.proposed { PROPOSED_REFERRAL_TAG } else { StepKind::Referred as u32 };
        tag.encode($e)?;
        $d.encode_fields($e)
    }};
    (@encode StructureUpdated $d:ident $e:ident) => {{
        let tag = if $d.has_funding() { FUNDED_STRUCTURE_TAG } else { StepKind::StructureUpdated as u32 };
        tag.encode($e)?;
        $d.encode_fields($e)
    }};
    (@encode $variant:ident $d:ident $e:ident) => {{
        (StepKind::$variant as u32).encode($e)?;
        $d.encode($e)
    }};
    (@decode Referred $data:ident $decoder:ident) => { Referred::decode_fields($decoder, false).map(Step::Referred) };
    (@decode StructureUpdated $data:ident $decoder:ident) => {
        StructureUpdated::decode_fields($decoder, false).map(Step::StructureUpdated)
    };
    (@decode $variant:ident $data:ident $decoder:ident) => { $data::decode($decoder).map(Step::$variant) };
}

/// The stored tag of a proposed referral (record format 3): the layout of `referred`, proposed.
pub const PROPOSED_REFERRAL_TAG: u32 = 200;
/// The stored tag of a referral with ESF+ answers (record format 4): every field of `referred`,
/// `proposed` and the ESF+ answers (the sensitive ones sealed) after the older ones.
pub const ESF_REFERRAL_TAG: u32 = 201;
/// The stored tag of a structure's record with agreed full-time equivalents or funders (record
/// format 4): the older fields, then those two.
pub const FUNDED_STRUCTURE_TAG: u32 = 202;
/// The tag an envelope writes before a step whose free text is sealed (record format 5): the
/// sealed whole, then the step without its free text (see `free_text`). Never a step's own tag.
pub const SEALED_TEXT_TAG: u32 = 210;
const _: () = assert!((StepKind::ALL.len() as u32) < PROPOSED_REFERRAL_TAG, "step tags run into the layout tags");

steps! {
    Registered(Registered) = "registered",
    Referred(Referred) = "referred",
    ContractStarted(ContractStarted) = "contract_started",
    ContractEnded(ContractEnded) = "contract_ended",
    HoursWorked(HoursWorked) = "hours_worked",
    SkillsAssessed(SkillsAssessed) = "skills_assessed",
    TrainingStarted(TrainingStarted) = "training_started",
    TrainingCompleted(TrainingCompleted) = "training_completed",
    SupportProvided(SupportProvided) = "support_provided",
    FollowUpHeld(FollowUpHeld) = "follow_up_held",
    Exited(Exited) = "exited",
    FollowedUpAfterExit(FollowedUpAfterExit) = "followed_up_after_exit",
    Corrected(Corrected) = "corrected",
    PersonalDataErased(PersonalDataErased) = "personal_data_erased",
    StructureUpdated(StructureUpdated) = "structure_updated",
    ReportPublished(ReportPublished) = "report_published",
    ReferralAccepted(ReferralAccepted) = "referral_accepted",
    ReferralDeclined(ReferralDeclined) = "referral_declined",
    MergedInto(MergedInto) = "merged_into",
    Absorbed(Absorbed) = "absorbed",
    Unmerged(Unmerged) = "unmerged",
}

/// The tags a stored step may have: one per variant.
static STEP_TAGS: AllowedEnumVariants = AllowedEnumVariants::Range { min: 0, max: StepKind::ALL.len() as u32 - 1 };

impl Encode for Step {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        self.encode_tagged(encoder)
    }
}

impl<Context> Decode<Context> for Step {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let tag = u32::decode(decoder)?;
        Step::decode_tagged(tag, decoder)
    }
}
bincode::impl_borrow_decode!(Step);

/// Decoded by hand to refuse a correction as a replacement before reading it: the rules refuse to
/// store one (`CannotBeCorrected`), and reading them nested would let a damaged or crafted record
/// recurse until the stack overflows, a few bytes per level.
impl<Context> Decode<Context> for Replacement {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let occurred_on = Date::decode(decoder)?;
        let tag = u32::decode(decoder)?;
        if tag == StepKind::Corrected as u32 {
            return Err(DecodeError::Other("a correction cannot replace an event"));
        }
        Ok(Replacement { occurred_on, step: Box::new(Step::decode_tagged(tag, decoder)?) })
    }
}
bincode::impl_borrow_decode!(Replacement);

impl Step {
    /// The registration this step states, directly or as the replacement of a corrected one: the
    /// steps that may carry personal data.
    pub fn registration(&self) -> Option<&Registered> {
        match self {
            Step::Registered(registered) => Some(registered),
            Step::Corrected(Corrected { replacement: Some(replacement), .. }) => match replacement.step.as_ref() {
                Step::Registered(registered) => Some(registered),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn registration_mut(&mut self) -> Option<&mut Registered> {
        match self {
            Step::Registered(registered) => Some(registered),
            Step::Corrected(Corrected { replacement: Some(replacement), .. }) => match replacement.step.as_mut() {
                Step::Registered(registered) => Some(registered),
                _ => None,
            },
            _ => None,
        }
    }

    /// The referral this step states, directly or as the replacement of a corrected one: the
    /// steps that may carry sensitive ESF+ answers.
    pub fn referral(&self) -> Option<&Referred> {
        match self {
            Step::Referred(referred) => Some(referred),
            Step::Corrected(Corrected { replacement: Some(replacement), .. }) => match replacement.step.as_ref() {
                Step::Referred(referred) => Some(referred),
                _ => None,
            },
            _ => None,
        }
    }

    /// As [`Step::referral`], to seal its sensitive answers.
    pub fn referral_mut(&mut self) -> Option<&mut Referred> {
        match self {
            Step::Referred(referred) => Some(referred),
            Step::Corrected(Corrected { replacement: Some(replacement), .. }) => match replacement.step.as_mut() {
                Step::Referred(referred) => Some(referred),
                _ => None,
            },
            _ => None,
        }
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for StepKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepKind::ALL.iter().copied().find(|kind| kind.code() == s).ok_or(())
    }
}
