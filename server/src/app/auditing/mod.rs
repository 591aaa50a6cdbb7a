//! The auditor's bench as use cases (issue 21): one person's history read at a date or as it was
//! known at a time, who read it, the signed history to take away, and the journal of what was
//! corrected, erased, published or given access across people.
//!
//! Inputs and outputs are typed and free of HTTP and HTML: the web pages (`web::person`,
//! `web::access_log`, `web::export`, `web::audit`) render them, and an API route could serialise
//! them. This module reads the store and calls the projections' pure folds directly; every read of
//! a person's history goes through `app::streams::readable_stream` and is recorded in the access log
//! (CONTRACT §7) as the API's reads are; the signed history is `app::people::verifiable_history`.

pub mod access_log;
pub mod journal;
pub mod time_travel;

use std::collections::BTreeMap;

use parcours_core::store::access::Role;
use parcours_core::store::{Store, StoreError};
use parcours_core::vocabulary::Actor;

use crate::access::ENV_ADMIN_ACTOR;

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

/// The public key that signs exported histories, in hex: what an auditor pins with
/// `parcours verify-export --public-key`.
pub fn history_key(store: &Store) -> Result<String, StoreError> {
    Ok(hex::encode(store.history_key()?))
}
