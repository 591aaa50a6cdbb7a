//! People: the list with names and search, one pathway's state with the identity, the audit trail
//! with its time-travel questions, and one history with what proves it.

use parcours_core::store::verifiable::VerifiableHistory;
use parcours_core::vocabulary::{Date, Envelope, PersonalData, Slug, StreamId, Timestamp};
use parcours_projections::audit::{audit_trail, state_known_at, state_now, state_on, AuditEntry, AuditTrail};
use parcours_projections::{PathwayState, PeopleQuery, PersonRow, PersonStatus};

use super::streams::{readable_stream, record_access};
use super::{blocking, disclosure, AppError, Caller};
use crate::json::{current_identity, open_free_text, Identity};
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

/// A person's pathway as read by either of their records' ids (CONTRACT §10).
pub struct PersonPathway {
    /// The state of the record asked for, or of the survivor it was merged into.
    pub state: PathwayState,
    pub identity: Option<PersonalData>,
    /// Set when the record asked for was merged into another: the survivor, whose state this is.
    pub merged_into: Option<StreamId>,
    /// The records merged into this one, each with its own state (their histories stay theirs).
    pub absorbed: Vec<PathwayState>,
}

/// The current state of a person's pathway, with their identity for those allowed to see it. A
/// record merged into another answers with the survivor's (which the caller must be able to read).
pub fn pathway(state: &AppState, caller: &Caller, stream: StreamId) -> Result<PersonPathway, AppError> {
    let events = readable_stream(state, caller, stream)?;
    let merged_into = state.projections.read().merged_into(stream);
    let (shown, events) = match merged_into {
        Some(survivor) => (survivor, readable_stream(state, caller, survivor)?),
        None => (stream, events),
    };
    let (pathway, absorbed) = {
        let projections = state.projections.read();
        let absorbed: Vec<PathwayState> =
            projections.absorbed_into(shown).into_iter().filter_map(|record| projections.pathway(record)).collect();
        (projections.pathway(shown), absorbed)
    };
    let mut pathway = pathway.ok_or_else(|| AppError::not_found(format!("no beneficiary {stream}")))?;
    record_access(state, caller, shown, "state")?;
    let identity = current_identity(&state.store, &events)?;
    put_back_titles(state, &mut pathway, &events)?;
    Ok(PersonPathway { state: pathway, identity, merged_into, absorbed })
}

/// The projections fold the log without its free text: the titles of open trainings are put back
/// from the person's own events, opened for a reader who may read them (every reader of a
/// pathway), unless the identity was erased.
fn put_back_titles(state: &AppState, pathway: &mut PathwayState, events: &[Envelope]) -> Result<(), AppError> {
    if !events.iter().any(|event| event.sealed_text.is_some()) {
        return Ok(());
    }
    let mut opened = events.to_vec();
    open_free_text(&state.store, &mut opened, Identity::open_unless_erased(events))?;
    let Some(folded) = state_now(&opened) else { return Ok(()) };
    for training in &mut pathway.open_trainings {
        if let Some(told) = folded.open_trainings.iter().find(|told| told.training_id == training.training_id) {
            training.title.clone_from(&told.title);
        }
    }
    Ok(())
}

/// One event of a merged person's histories, with the record it was recorded in.
pub struct MergedEntry {
    pub stream: StreamId,
    pub entry: AuditEntry,
}

/// The audit trail and the answers to its two time-travel questions.
pub struct Audit {
    pub trail: AuditTrail,
    /// The pathway as it stood on a date (effective dates).
    pub state_on: Option<PathwayState>,
    /// The pathway as it was known at a time (recorded times).
    pub state_known_at: Option<PathwayState>,
    /// For a record merged with others: every record's events (this one's included), in date
    /// order, each with its record; empty otherwise. Each trail stays as recorded.
    pub merged_histories: Vec<MergedEntry>,
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
    let mut events = readable_stream(state, caller, stream)?;
    record_access(state, caller, stream, "audit")?;
    let identity = Identity::open_unless_erased(&events);
    open_free_text(&state.store, &mut events, identity)?;
    let trail = audit_trail(&events).ok_or_else(|| AppError::not_found(format!("no beneficiary {stream}")))?;
    let records = {
        let projections = state.projections.read();
        let survivor = projections.merged_into(stream).unwrap_or(stream);
        let absorbed = projections.absorbed_into(survivor);
        if absorbed.is_empty() {
            Vec::new()
        } else {
            std::iter::once(survivor).chain(absorbed).collect()
        }
    };
    let mut merged_histories = Vec::new();
    for record in records {
        let mut record_events = readable_stream(state, caller, record)?;
        if record != stream {
            record_access(state, caller, record, "audit")?;
        }
        let identity = Identity::open_unless_erased(&record_events);
        open_free_text(&state.store, &mut record_events, identity)?;
        let Some(record_trail) = audit_trail(&record_events) else { continue };
        merged_histories.extend(record_trail.events.into_iter().map(|entry| MergedEntry { stream: record, entry }));
    }
    merged_histories.sort_by_key(|merged| (merged.entry.occurred_on, merged.entry.position));
    Ok(Audit {
        trail,
        state_on: on.and_then(|day| state_on(&events, day)),
        state_known_at: as_of.and_then(|at| state_known_at(&events, at)),
        merged_histories,
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
