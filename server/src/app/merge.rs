//! One person recorded twice (CONTRACT §10): merge two records and undo a merge, each recorded in
//! both streams at once (`Store::append_together`: both or neither, whatever fails or crashes).
//! Nothing is rewritten: both histories stay readable and verifiable as they were; reads of the
//! absorbed record follow the survivor, and counts of people count the pair once
//! (`parcours_projections`' merges), until an unmerge parts them again.

use parcours_core::rules::{StreamState, Violation};
use parcours_core::store::{AppendError, Appended, PartRefused};
use parcours_core::vocabulary::{Absorbed, MergedInto, NewEvent, Step, StreamId, Unmerged};

use super::streams::readable_stream;
use super::{blocking, AppError, Caller};
use crate::state::AppState;

/// A merge or an unmerge as recorded: which record was absorbed, which survives, and the
/// appends to each.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub absorbed: StreamId,
    pub survivor: StreamId,
    pub absorbed_append: Appended,
    pub survivor_append: Appended,
}

/// Merges `absorbed` into `into`: `merged_into` in the first, `absorbed` in the second. A caller
/// must be able to append to both (the writer checks each, so a coordinator without rights on
/// either side gets the same 403 as for an id that does not exist).
pub async fn merge(
    state: &AppState,
    caller: &Caller,
    absorbed: StreamId,
    into: StreamId,
    reason: String,
) -> Result<Recorded, AppError> {
    let reason = required_reason(reason)?;
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        readable_stream(&state, &caller, absorbed)?;
        readable_stream(&state, &caller, into)?;
        if absorbed == into {
            return Err(AppendError::Rule { index: 0, violation: Violation::MergeIntoItself }.into());
        }
        let today = state.today();
        let absorbed_side = Step::MergedInto(MergedInto { into, reason: reason.clone() });
        let survivor_side = Step::Absorbed(Absorbed { from: absorbed, reason });
        record(&state, &caller, (absorbed, absorbed_side), (into, survivor_side), today)
    })
    .await
}

/// Undoes a merge, named by either record: `unmerged` in both. A survivor that absorbed several
/// records needs `other`, the one to part from it.
pub async fn unmerge(
    state: &AppState,
    caller: &Caller,
    record_id: StreamId,
    other: Option<StreamId>,
    reason: String,
) -> Result<Recorded, AppError> {
    let reason = required_reason(reason)?;
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        let events = readable_stream(&state, &caller, record_id)?;
        let pathway = StreamState::from_events(events.iter().map(|e| (e.id, e.occurred_on, &e.step))).pathway;
        let (absorbed, survivor) = match (pathway.merged_into, other) {
            (Some(survivor), None) => (record_id, survivor),
            (Some(survivor), Some(other)) if other == survivor => (record_id, survivor),
            (None, Some(other)) if pathway.absorbed.contains(&other) => (other, record_id),
            (None, None) if pathway.absorbed.len() > 1 => {
                return Err(AppError::InvalidRequest(
                    "other: several records were merged into this one; name the one to separate".into(),
                ))
            }
            (None, None) if pathway.absorbed.len() == 1 => {
                (pathway.absorbed.first().copied().unwrap_or(record_id), record_id)
            }
            _ => return Err(AppendError::Rule { index: 0, violation: Violation::NotMerged }.into()),
        };
        let other_side = if absorbed == record_id { survivor } else { absorbed };
        readable_stream(&state, &caller, other_side)?;
        let today = state.today();
        let absorbed_side = Step::Unmerged(Unmerged { other: survivor, reason: reason.clone() });
        let survivor_side = Step::Unmerged(Unmerged { other: absorbed, reason });
        record(&state, &caller, (absorbed, absorbed_side), (survivor, survivor_side), today)
    })
    .await
}

fn required_reason(reason: String) -> Result<String, AppError> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(AppError::InvalidRequest("reason: say why (it stays in both histories)".into()));
    }
    Ok(reason)
}

/// Appends both sides together, as the caller.
fn record(
    state: &AppState,
    caller: &Caller,
    (absorbed, absorbed_side): (StreamId, Step),
    (survivor, survivor_side): (StreamId, Step),
    today: parcours_core::vocabulary::Date,
) -> Result<Recorded, AppError> {
    let event = |step| vec![NewEvent { id: None, occurred_on: today, step }];
    let parts = vec![(absorbed, None, event(absorbed_side)), (survivor, None, event(survivor_side))];
    let mut appended = state
        .store
        .append_together(parts, caller.author())
        .map_err(|PartRefused { error, .. }| AppError::Append(error))?
        .into_iter();
    let (Some(absorbed_append), Some(survivor_append)) = (appended.next(), appended.next()) else {
        return Err(AppError::Unavailable("the store answered a merge without its two appends".into()));
    };
    Ok(Recorded { absorbed, survivor, absorbed_append, survivor_append })
}
