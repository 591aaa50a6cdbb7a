//! The auditor's bench as use cases (issue 21): one person's history read at a date or as it was
//! known at a time, who read it, the signed history to take away, and the journal of what was
//! corrected, erased, published or given access across people.
//!
//! Inputs and outputs are typed and free of HTTP and HTML: the web pages (`web::person`,
//! `web::access_log`, `web::export`, `web::audit`) render them, and an API route could serialise
//! them. This module reads the store and calls the projections' pure folds directly; every read of
//! a person's history goes through [`readable_history`], which records it in the access log
//! (CONTRACT §7) as the API's reads are recorded.

pub mod access_log;
pub mod journal;
pub mod time_travel;

use std::collections::BTreeMap;

use parcours_core::rules::structures_of;
use parcours_core::store::access::{AccessEntry, Role};
use parcours_core::store::verifiable::VerifiableHistory;
use parcours_core::store::{Store, StoreError};
use parcours_core::vocabulary::{Actor, Envelope, StepKind, StreamId, Timestamp};
use thiserror::Error;

use crate::access::{Caller, ENV_ADMIN_ACTOR};

#[derive(Debug, Error)]
pub enum AuditingError {
    /// Outside the caller's rights; also for a person who does not exist, for a coordinator.
    #[error("outside the caller's rights")]
    Forbidden,
    #[error("no beneficiary {0}")]
    NotFound(StreamId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a reader is known as: the role and label of their token, when it is one we issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    pub actor: Actor,
    pub role: Option<Role>,
    pub label: Option<String>,
}

/// Every actor the store knows, by id: the tokens issued, and the server's own admin token.
pub fn readers(store: &Store) -> Result<BTreeMap<String, Reader>, StoreError> {
    let mut readers: BTreeMap<String, Reader> = store
        .tokens()?
        .into_iter()
        .map(|(record, _)| {
            let reader = Reader { actor: Actor(record.id.clone()), role: Some(record.role), label: record.label };
            (record.id, reader)
        })
        .collect();
    let env = Reader { actor: Actor(ENV_ADMIN_ACTOR.into()), role: Some(Role::Admin), label: None };
    readers.insert(ENV_ADMIN_ACTOR.into(), env);
    Ok(readers)
}

/// The reader an actor id names; an actor no token names any more is shown by its id alone.
pub fn reader(readers: &BTreeMap<String, Reader>, actor: &Actor) -> Reader {
    readers.get(&actor.0).cloned().unwrap_or_else(|| Reader { actor: actor.clone(), role: None, label: None })
}

/// One person's stream if the caller may read it (CONTRACT §7, as the API answers: a coordinator
/// gets `Forbidden` for a person outside its structures and for one that does not exist alike),
/// with the read recorded in the access log as `what`.
pub fn readable_history(
    store: &Store,
    caller: &Caller,
    stream: StreamId,
    what: &str,
) -> Result<Vec<Envelope>, AuditingError> {
    let events = store.read_stream(stream, None)?;
    let structures = structures_of(events.iter().map(|event| (event.id, event.occurred_on, &event.step)));
    if !caller.may_read(&structures) {
        return Err(AuditingError::Forbidden);
    }
    if !matches!(events.first().map(|event| event.step.kind()), Some(StepKind::Registered)) {
        return Err(AuditingError::NotFound(stream));
    }
    let entry =
        AccessEntry { at: Timestamp::now(), actor: caller.actor.clone(), beneficiary: stream, what: what.into() };
    store.record_access(entry)?;
    Ok(events)
}

/// The person's history signed by the server, for `parcours verify-export` offline; the read is
/// recorded as `export`, as the API's.
pub fn signed_history(store: &Store, caller: &Caller, stream: StreamId) -> Result<VerifiableHistory, AuditingError> {
    readable_history(store, caller, stream, "export")?;
    store.verifiable_history(stream, caller.actor.clone())?.ok_or(AuditingError::NotFound(stream))
}

/// The public key that signs exported histories, in hex: what an auditor pins with
/// `parcours verify-export --public-key`.
pub fn history_key(store: &Store) -> Result<String, StoreError> {
    Ok(hex::encode(store.history_key()?))
}
