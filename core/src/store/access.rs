//! Credentials (CONTRACT §7), in trees of their own beside the log, and the access log's entry
//! (written by `access_log`).
//!
//! Append-only: a token is issued once and revoked by a second record, never edited. Only a
//! token's SHA-256 is stored; the token itself is shown once.
//!
//! Durability: issuing and revoking a token are synced before they return (a revocation that a
//! crash could undo would be no revocation).

use std::sync::PoisonError;

use bincode::{Decode, Encode};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{StoreError, Trees};
use crate::vocabulary::{Actor, Slug, StreamId, Timestamp};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Coordinator,
    Auditor,
    Evaluator,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Auditor => "auditor",
            Role::Evaluator => "evaluator",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        [Role::Admin, Role::Coordinator, Role::Auditor, Role::Evaluator].into_iter().find(|role| role.code() == code)
    }
}

/// A token as stored: never the token itself.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct TokenRecord {
    /// The actor id of everything done with this token (`recorded_by`, the access log).
    pub id: String,
    pub role: Role,
    /// The structures of a coordinator; empty for other roles.
    pub structures: Vec<Slug>,
    pub label: Option<String>,
    pub hash: [u8; 32],
    pub created_at: Timestamp,
    pub created_by: Actor,
}

#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct Revocation {
    pub at: Timestamp,
    pub by: Actor,
}

/// One read of a beneficiary's history or identity.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct AccessEntry {
    pub at: Timestamp,
    pub actor: Actor,
    pub beneficiary: StreamId,
    /// What was read, e.g. `history`, `identity`, `export`, `state`.
    pub what: String,
}

/// What tokens look like: a prefix that makes them recognisable in a leaked file, then 256 bits.
const TOKEN_PREFIX: &str = "prc_";

pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

fn encode<T: Encode>(value: &T) -> Result<Vec<u8>, StoreError> {
    bincode::encode_to_vec(value, config()).map_err(|error| StoreError::Encode(error.to_string()))
}

fn decode<T: Decode<()>>(bytes: &[u8]) -> Result<T, StoreError> {
    bincode::decode_from_slice(bytes, config())
        .map(|(value, _)| value)
        .map_err(|error| StoreError::Damaged { page: 0, detail: format!("access tree: {error}") })
}

impl Trees {
    pub(crate) fn issue_token(
        &self,
        role: Role,
        structures: Vec<Slug>,
        label: Option<String>,
        by: Actor,
    ) -> Result<(TokenRecord, String), StoreError> {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let token = format!("{TOKEN_PREFIX}{}", hex_encode(&secret));
        let mut id_bytes = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut id_bytes);
        let record = TokenRecord {
            id: format!("tok_{}", hex_encode(&id_bytes)),
            role,
            structures,
            label,
            hash: token_hash(&token),
            created_at: Timestamp::now(),
            created_by: by,
        };
        self.tokens.insert(record.id.as_bytes(), encode(&record)?)?;
        self.token_hashes.insert(record.hash, record.id.as_bytes())?;
        Ok((record, token))
    }

    pub(crate) fn revoke_token(&self, id: &str, by: Actor) -> Result<bool, StoreError> {
        if self.tokens.get(id.as_bytes())?.is_none() {
            return Ok(false);
        }
        let revocation = Revocation { at: Timestamp::now(), by };
        // Held while the revocation is written: no check can put the token back in the cache
        // between the write and the clearing (see `authenticate`).
        let mut cache = self.token_cache.write().unwrap_or_else(PoisonError::into_inner);
        // compare_and_swap from nothing: a revocation is recorded once and never rewritten.
        let _ = self.revocations.compare_and_swap(id.as_bytes(), None as Option<&[u8]>, Some(encode(&revocation)?))?;
        cache.clear();
        Ok(true)
    }

    pub(crate) fn tokens(&self) -> Result<Vec<(TokenRecord, Option<Revocation>)>, StoreError> {
        self.tokens
            .iter()
            .values()
            .map(|value| {
                let record: TokenRecord = decode(&value?)?;
                let revocation = self.revocations.get(record.id.as_bytes())?.map(|v| decode(&v)).transpose()?;
                Ok((record, revocation))
            })
            .collect()
    }

    pub(crate) fn authenticate(&self, token: &str) -> Result<Option<TokenRecord>, StoreError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = token_hash(token);
        if let Some(record) = self.token_cache.read().unwrap_or_else(PoisonError::into_inner).get(&hash) {
            return Ok(Some(record.clone()));
        }
        // A miss reads sled under the write lock, so that a revocation (which takes it too) is
        // either seen here or clears what this puts in the cache.
        let mut cache = self.token_cache.write().unwrap_or_else(PoisonError::into_inner);
        let Some(id) = self.token_hashes.get(hash)? else { return Ok(None) };
        if self.revocations.get(&id)?.is_some() {
            return Ok(None);
        }
        let record: Option<TokenRecord> = self.tokens.get(&id)?.map(|value| decode(&value)).transpose()?;
        if let Some(record) = &record {
            cache.insert(hash, record.clone());
        }
        Ok(record)
    }

    /// The live (not revoked) token with this id: a session made with a token ends with it.
    pub(crate) fn live_token(&self, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        if self.revocations.get(id.as_bytes())?.is_some() {
            return Ok(None);
        }
        self.tokens.get(id.as_bytes())?.map(|value| decode(&value)).transpose()
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
