//! Proposed referrals (CONTRACT §7): a referral recorded by someone without rights on the structure
//! it names waits for that structure's answer. Its coordinators (or an admin) see the proposals
//! waiting for them and accept one, which makes the person theirs from the day of the referral,
//! or decline it with a reason, which leaves no trace in their figures.
//!
//! The answers are ordinary steps (`referral_accepted`, `referral_declined`) appended as the
//! caller: the store's writer admits them only from the structure asked, the rules only for the
//! proposal pending. The generic append route takes them too; these use cases name the intent.

use parcours_core::store::Appended;
use parcours_core::vocabulary::{Date, EventId, NewEvent, ReferralAccepted, ReferralDeclined, Slug, Step, StreamId};
use parcours_projections::PendingReferral;

use super::people::name_of;
use super::streams::append;
use super::{blocking, disclosure, AppError, Caller};
use crate::json::TEXT_CHARS_MAX;
use crate::state::AppState;

/// A proposal waiting for the caller's answer, with the person's name for a reader allowed to
/// see it (the structure asked may read the person's stream to answer).
pub struct Waiting {
    pub proposal: PendingReferral,
    pub name: Option<String>,
}

/// The proposals waiting for the structures the caller answers for: the one asked, which a
/// coordinator must follow, else all of a coordinator's, else (an admin) every structure's.
pub async fn pending(state: &AppState, caller: &Caller, structure: Option<Slug>) -> Result<Vec<Waiting>, AppError> {
    let structures = disclosure::proposals_scope(caller, structure)?;
    state.caught_up().await?;
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        let proposals = state.projections.read().pending_referrals(structures.as_deref());
        proposals
            .into_iter()
            .map(|proposal| {
                let name = name_of(&state, &caller, proposal.beneficiary)?;
                Ok(Waiting { proposal, name })
            })
            .collect()
    })
    .await
}

/// The answer of the structure asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Decline { reason: String },
}

/// Records the answer to the proposal `referral` of a person's stream, dated `on` (today when
/// not given). Refused (403) to anyone but the coordinators of the structure asked and admins;
/// a referral that is no proposal waiting is a rule violation (422 `no_pending_referral`).
pub async fn answer(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
    referral: EventId,
    answer: Answer,
    on: Option<Date>,
) -> Result<Appended, AppError> {
    let step = match answer {
        Answer::Accept => Step::ReferralAccepted(ReferralAccepted { referral }),
        Answer::Decline { reason } => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(AppError::InvalidRequest("reason: say why the referral is declined".into()));
            }
            if reason.chars().count() > TEXT_CHARS_MAX {
                return Err(AppError::InvalidRequest(format!("reason: longer than {TEXT_CHARS_MAX} characters")));
            }
            Step::ReferralDeclined(ReferralDeclined { referral, reason: reason.to_owned() })
        }
    };
    let event = NewEvent { id: None, occurred_on: on.unwrap_or_else(|| state.today()), step };
    append(state, caller, stream, None, vec![event]).await
}
