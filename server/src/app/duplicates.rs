//! One person, one record (CONTRACT §10): the candidates a registration may repeat, and the
//! likely duplicates already recorded, both found by blind keys without opening identities.

use std::collections::BTreeSet;

use parcours_core::rules::followed_by_of;
use parcours_core::store::blind_keys::{normalise, LikelyPair};
use parcours_core::vocabulary::{Date, Envelope, PersonalData, Slug, StepKind, StreamId};
use serde::Serialize;

use super::streams::record_access;
use super::{AppError, Caller};
use crate::json::current_identity;
use crate::state::AppState;

/// A person a new registration may repeat, as the caller may see them.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    pub id: StreamId,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birth_date: Option<Date>,
    pub structures: BTreeSet<Slug>,
}

/// A person's stream and the structures that follow them.
type Person = (Vec<Envelope>, BTreeSet<Slug>);

/// A person's stream and the structures that follow them, when it is someone's pathway. A
/// structure a proposal waits on is not one of them: it may read the person to answer, not find
/// them among its own duplicates (`Pathway::followed_by`).
fn person(state: &AppState, stream: StreamId) -> Result<Option<Person>, AppError> {
    let events = state.store.read_stream(stream, None)?;
    if events.first().map(|event| event.step.kind()) != Some(StepKind::Registered) {
        return Ok(None);
    }
    let structures = followed_by_of(events.iter().map(|event| (event.id, event.occurred_on, &event.step)));
    Ok(Some((events, structures)))
}

/// The people the caller may read whose names and birth date are those of `identity` (CONTRACT
/// §10), leaving out `except` (the stream being registered, for an idempotent retry). People the
/// caller may not read are left out before anything of them is opened; the identities shown are
/// read again and compared, and their reading is in the access log.
pub fn candidates(
    state: &AppState,
    caller: &Caller,
    identity: &PersonalData,
    except: StreamId,
) -> Result<Vec<Candidate>, AppError> {
    let mut found = Vec::new();
    for stream in state.store.blind_keys().same_name_and_birth_date(identity)? {
        if stream == except {
            continue;
        }
        let Some((events, structures)) = person(state, stream)? else { continue };
        if !caller.may_read(&structures) {
            continue;
        }
        let Some(current) = current_identity(&state.store, &events)? else { continue };
        let same = |a: &Option<String>, b: &Option<String>| a.as_deref().map(normalise) == b.as_deref().map(normalise);
        if !(same(&current.last_name, &identity.last_name)
            && same(&current.first_name, &identity.first_name)
            && current.birth_date == identity.birth_date)
        {
            continue;
        }
        record_access(state, caller, stream, "duplicate_check")?;
        found.push(Candidate {
            id: stream,
            first_name: current.first_name,
            last_name: current.last_name,
            birth_date: current.birth_date,
            structures,
        });
    }
    found.sort_by_key(|candidate| candidate.id);
    Ok(found)
}

/// The likely duplicates the caller may read entirely (both people), strongest reason per pair.
pub fn pairs_for(state: &AppState, caller: &Caller) -> Result<Vec<LikelyPair>, AppError> {
    let mut pairs = Vec::new();
    let mut readable = std::collections::HashMap::new();
    let mut may_read = |stream: StreamId| -> Result<bool, AppError> {
        if let Some(known) = readable.get(&stream) {
            return Ok(*known);
        }
        let allowed = match person(state, stream)? {
            Some((_, structures)) => caller.may_read(&structures),
            None => false,
        };
        readable.insert(stream, allowed);
        Ok(allowed)
    };
    for pair in state.store.blind_keys().likely_pairs()? {
        if may_read(pair.a)? && may_read(pair.b)? {
            pairs.push(pair);
        }
    }
    Ok(pairs)
}
