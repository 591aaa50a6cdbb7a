//! People: the list with names and search, one pathway's state with the identity, the audit trail
//! with its time-travel questions, and one history with what proves it.

use parcours_core::store::verifiable::VerifiableHistory;
use parcours_core::vocabulary::{Date, PersonalData, Slug, StreamId, Timestamp};
use parcours_projections::audit::{audit_trail, state_known_at, state_on, AuditTrail};
use parcours_projections::{PathwayState, PeopleQuery, PersonRow, PersonStatus};

use super::streams::{readable_stream, record_access};
use super::{blocking, disclosure, AppError, Caller};
use crate::json::current_identity;
use crate::state::AppState;

/// One person in a list: their row and, for a reader allowed to see it, their name.
pub struct Listed {
    pub row: PersonRow,
    pub name: Option<String>,
}

/// Which people a list asks for, and which of them it shows.
#[derive(Clone, Debug, Default)]
pub struct PeopleAsked {
    /// Only people whose current structure is this one.
    pub structure: Option<Slug>,
    pub status: Option<PersonStatus>,
    /// Whole words of a name, case and accents aside.
    pub search: Option<String>,
    /// The rows shown: `limit` of them after the first `offset`.
    pub offset: usize,
    pub limit: usize,
}

/// A list of people: how many match, and the rows shown.
pub struct PeopleList {
    pub total: usize,
    pub people: Vec<Listed>,
}

/// The people a caller may see, filtered by current structure, status and whole words of a name,
/// case and accents aside (through the blind name index), with the names of the rows shown only:
/// an identity is opened (and its reading logged) only when it is returned, never for every
/// person in reach. A costly request (it walks everyone in reach).
pub async fn people(state: &AppState, caller: &Caller, asked: PeopleAsked) -> Result<PeopleList, AppError> {
    state.caught_up().await?;
    let _permit = state.costly().await?;
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || {
        let PeopleAsked { structure, status, search, offset, limit } = asked;
        let reach = disclosure::people_reach(&caller);
        let mut rows = state.projections.read().people(&PeopleQuery { reach, current_structure: structure, status });
        // A search goes through the name index (blind keys), not through the identities.
        let found = match search.as_deref() {
            Some(text) => state.store.blind_keys().search(text)?,
            None => None,
        };
        if let Some(found) = found {
            rows.retain(|row| found.binary_search(&row.beneficiary).is_ok());
        }
        let total = rows.len();
        let mut people = Vec::with_capacity(limit.min(total));
        for row in rows.into_iter().skip(offset).take(limit) {
            let name = name_of(&state, &caller, row.beneficiary)?;
            people.push(Listed { row, name });
        }
        Ok(PeopleList { total, people })
    })
    .await
}

/// A person's name as recorded now, for a reader allowed to see it; the reading is recorded in
/// the access log (CONTRACT §7: every read of an identity), as `name`.
pub fn name_of(state: &AppState, caller: &Caller, stream: StreamId) -> Result<Option<String>, AppError> {
    let events = state.store.read_stream(stream, None)?;
    let name = current_identity(&state.store, &events)?.and_then(|identity| identity.display_name());
    if name.is_some() {
        record_access(state, caller, stream, "name")?;
    }
    Ok(name)
}

/// The current state of a person's pathway, with their identity for those allowed to see it.
pub fn pathway(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
) -> Result<(PathwayState, Option<PersonalData>), AppError> {
    let events = readable_stream(state, caller, stream)?;
    let pathway = state.projections.read().pathway(stream);
    let pathway = pathway.ok_or_else(|| AppError::not_found(format!("no beneficiary {stream}")))?;
    record_access(state, caller, stream, "state")?;
    let identity = current_identity(&state.store, &events)?;
    Ok((pathway, identity))
}

/// The audit trail and the answers to its two time-travel questions.
pub struct Audit {
    pub trail: AuditTrail,
    /// The pathway as it stood on a date (effective dates).
    pub state_on: Option<PathwayState>,
    /// The pathway as it was known at a time (recorded times).
    pub state_known_at: Option<PathwayState>,
}

/// The audit trail: every event as recorded, who recorded it and when, corrections linked; with
/// `on` the pathway as it stood on that day, with `as_of` as it was known then.
pub fn audit(
    state: &AppState,
    caller: &Caller,
    stream: StreamId,
    on: Option<Date>,
    as_of: Option<Timestamp>,
) -> Result<Audit, AppError> {
    let events = readable_stream(state, caller, stream)?;
    record_access(state, caller, stream, "audit")?;
    let trail = audit_trail(&events).ok_or_else(|| AppError::not_found(format!("no beneficiary {stream}")))?;
    Ok(Audit {
        trail,
        state_on: on.and_then(|day| state_on(&events, day)),
        state_known_at: as_of.and_then(|at| state_known_at(&events, at)),
    })
}

/// One history with what proves it, signed for the caller, for `parcours verify-export` offline.
pub fn verifiable_history(state: &AppState, caller: &Caller, stream: StreamId) -> Result<VerifiableHistory, AppError> {
    readable_stream(state, caller, stream)?;
    record_access(state, caller, stream, "export")?;
    state
        .store
        .verifiable_history(stream, caller.actor.clone())?
        .ok_or_else(|| AppError::not_found(format!("no beneficiary {stream}")))
}
