//! What a rule says when an event would break a pathway, in words a coordinator understands.

use thiserror::Error;

use crate::vocabulary::{Date, EventId, Month, StepKind, StreamId};

/// A broken rule of CONTRACT §4 (or of the structure streams). [`Violation::rule`] is the stable
/// code the API returns; the message is the French sentence shown to the person who recorded it.
#[derive(Clone, PartialEq, Eq, Debug, Error)]
pub enum Violation {
    #[error("le premier évènement d'un parcours doit être l'inscription (registered), pas « {0} »")]
    FirstEventMustBeRegistration(StepKind),
    #[error("cette personne est déjà inscrite : l'inscription n'a lieu qu'une fois")]
    AlreadyRegistered,
    #[error("le flux d'une structure ne contient que ses mises à jour (structure_updated), pas « {0} »")]
    NotAStructureStep(StepKind),
    #[error("une mise à jour de structure ne peut pas être enregistrée dans le parcours d'une personne")]
    StructureStepInPathway,
    #[error("le flux des rapports publiés ne contient que des publications (report_published), pas « {0} »")]
    NotAReportStep(StepKind),
    #[error("une publication de rapport ne peut pas être enregistrée dans le parcours d'une personne")]
    ReportStepInPathway,
    #[error("le flux de la structure « {existing} » ne peut pas recevoir la structure « {proposed} »")]
    StructureSlugMismatch { existing: String, proposed: String },
    #[error("la date {occurred_on} est dans le futur (nous sommes le {today})")]
    DateInFuture { occurred_on: Date, today: Date },
    #[error("le mois {month} est dans le futur")]
    MonthInFuture { month: Month },
    #[error("un parcours est déjà ouvert depuis l'orientation du {referred_on} : enregistrez d'abord la sortie")]
    EpisodeAlreadyOpen { referred_on: Date },
    #[error("aucun parcours n'est ouvert : enregistrez d'abord une orientation (referred) avant « {0} »")]
    NoOpenEpisode(StepKind),
    #[error("la date {occurred_on} est antérieure à l'orientation du {referred_on} qui ouvre ce parcours")]
    DateBeforeReferral { occurred_on: Date, referred_on: Date },
    #[error("la date {occurred_on} est antérieure à l'inscription du {registered_on}")]
    DateBeforeRegistration { occurred_on: Date, registered_on: Date },
    #[error("la date {occurred_on} est antérieure à la sortie du {exited_on}")]
    DateBeforeExit { occurred_on: Date, exited_on: Date },
    #[error("le contrat « {0} » a déjà commencé dans ce parcours")]
    ContractAlreadyStarted(String),
    #[error("le contrat « {0} » n'a pas commencé dans ce parcours")]
    UnknownContract(String),
    #[error("le contrat « {0} » est déjà terminé")]
    ContractAlreadyEnded(String),
    #[error("la date {occurred_on} est antérieure au début du contrat « {contract_id} » le {started_on}")]
    DateBeforeContractStart { contract_id: String, occurred_on: Date, started_on: Date },
    #[error("des heures pour {month} ne peuvent précéder le début du contrat « {contract_id} » le {started_on}")]
    HoursBeforeContract { contract_id: String, month: Month, started_on: Date },
    #[error("le nombre d'heures travaillées doit être supérieur à zéro")]
    ZeroHours,
    #[error("la formation « {0} » a déjà commencé dans ce parcours")]
    TrainingAlreadyStarted(String),
    #[error("la formation « {0} » n'a pas commencé dans ce parcours")]
    UnknownTraining(String),
    #[error("la formation « {0} » est déjà terminée")]
    TrainingAlreadyCompleted(String),
    #[error("un suivi après sortie suppose une sortie enregistrée auparavant")]
    NoEarlierExit,
    #[error("l'évènement corrigé {0} n'existe pas dans ce parcours")]
    UnknownCorrectedEvent(EventId),
    #[error("l'évènement {0} a déjà été annulé : il ne peut plus être corrigé")]
    CorrectedEventRetracted(EventId),
    #[error("un évènement « {0} » ne se corrige pas")]
    CannotBeCorrected(StepKind),
    #[error("le remplacement doit être du même type que l'évènement corrigé (« {expected} »), pas « {proposed} »")]
    ReplacementTypeMismatch { expected: StepKind, proposed: StepKind },
    #[error("après cette correction, le parcours ne serait plus cohérent : {0}")]
    CorrectionBreaksPathway(Box<Violation>),
    #[error("les données personnelles de cette personne sont déjà effacées")]
    AlreadyErased,
    #[error("cet identifiant est réservé (rapports publiés ou flux d'une structure) : il ne peut pas être celui d'une personne")]
    ReservedStream,
    #[error("ce dossier a été fusionné dans le dossier {into} : enregistrez la suite dans celui-ci")]
    Merged { into: StreamId },
    #[error("ces deux dossiers sont déjà fusionnés")]
    AlreadyMerged,
    #[error("ces deux dossiers ne sont pas fusionnés : il n'y a rien à séparer")]
    NotMerged,
    #[error("une orientation vers « {structure} » attend la réponse de cette structure")]
    ReferralPending { structure: String },
    #[error("aucune orientation {0} n'attend de réponse dans ce parcours")]
    NoPendingReferral(EventId),
}

impl Violation {
    /// The stable rule code returned by the API as `rule`.
    pub fn rule(&self) -> &'static str {
        use Violation::*;
        match self {
            FirstEventMustBeRegistration(_) => "first_event_must_be_registration",
            AlreadyRegistered => "already_registered",
            NotAStructureStep(_) => "structure_stream_holds_structure_updates_only",
            StructureStepInPathway => "structure_update_in_pathway",
            StructureSlugMismatch { .. } => "structure_slug_mismatch",
            NotAReportStep(_) => "report_stream_holds_publications_only",
            ReportStepInPathway => "report_publication_in_pathway",
            DateInFuture { .. } => "date_in_future",
            MonthInFuture { .. } => "month_in_future",
            EpisodeAlreadyOpen { .. } => "episode_already_open",
            NoOpenEpisode(_) => "no_open_episode",
            DateBeforeReferral { .. } => "date_before_referral",
            DateBeforeRegistration { .. } => "date_before_registration",
            DateBeforeExit { .. } => "date_before_exit",
            ContractAlreadyStarted(_) => "contract_already_started",
            UnknownContract(_) => "unknown_contract",
            ContractAlreadyEnded(_) => "contract_already_ended",
            DateBeforeContractStart { .. } => "date_before_contract_start",
            HoursBeforeContract { .. } => "hours_before_contract",
            ZeroHours => "hours_must_be_positive",
            TrainingAlreadyStarted(_) => "training_already_started",
            UnknownTraining(_) => "unknown_training",
            TrainingAlreadyCompleted(_) => "training_already_completed",
            NoEarlierExit => "no_earlier_exit",
            UnknownCorrectedEvent(_) => "unknown_corrected_event",
            CorrectedEventRetracted(_) => "corrected_event_retracted",
            CannotBeCorrected(_) => "cannot_be_corrected",
            ReplacementTypeMismatch { .. } => "replacement_type_mismatch",
            CorrectionBreaksPathway(_) => "correction_breaks_pathway",
            AlreadyErased => "already_erased",
            ReservedStream => "reserved_stream",
            Merged { .. } => "merged",
            AlreadyMerged => "already_merged",
            NotMerged => "not_merged",
            ReferralPending { .. } => "referral_pending",
            NoPendingReferral(_) => "no_pending_referral",
        }
    }
}
