//! Verifiable histories: one beneficiary's history exported for an auditor, checkable offline.
//!
//! Each stored event carries the hash of the previous event of its stream, so a history is a hash
//! chain of its own: recomputing each event's hash from its content and comparing it with the
//! next event's `stream_prev_hash` finds a changed event; versions 1..n find a missing or
//! reordered one. What anchors the chain is the server's signature (Ed25519, key in
//! `keys/signing.ed25519`, created on first use) over the hash of the history's last event, the
//! log's head at export time and who and when: a forger who rewrites the whole chain cannot sign
//! it. With the store at hand, [`Store::confirm_history`] also checks that the log holds these
//! very events at these positions.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::page::{self, Hash};
use super::{Store, StoreError};
use crate::vocabulary::{Actor, Envelope, StreamId, Timestamp};

pub const HISTORY_FORMAT: &str = "parcours-history-1";

/// A point of a hash chain: the event at this position (and version, for a stream) has this hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub position: u64,
    pub version: u32,
    pub hash: Hash,
}

/// One history as exported: its events as stored, and what proves them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiableHistory {
    pub beneficiary: StreamId,
    pub exported_at: Timestamp,
    pub exported_by: Actor,
    pub events: Vec<Envelope>,
    /// The stream's last event.
    pub stream_head: Anchor,
    /// The log's last event when the history was exported (`version` is 0: it is no stream's).
    pub chain_head: Anchor,
    pub public_key: [u8; 32],
    pub signature: [u8; 64],
}

impl VerifiableHistory {
    /// What the signature covers. The last event's hash covers every event before it through the
    /// stream's chain.
    pub fn digest(&self) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(HISTORY_FORMAT.as_bytes());
        hasher.update(self.beneficiary.as_bytes());
        hasher.update(self.exported_at.millis().to_be_bytes());
        hasher.update((self.exported_by.0.len() as u64).to_be_bytes());
        hasher.update(self.exported_by.0.as_bytes());
        for anchor in [self.stream_head, self.chain_head] {
            hasher.update(anchor.position.to_be_bytes());
            hasher.update(anchor.version.to_be_bytes());
            hasher.update(anchor.hash);
        }
        hasher.finalize().into()
    }
}

/// What is wrong with an exported history, naming the event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryProblem {
    #[error("the history holds no event")]
    Empty,
    #[error("event {index} belongs to another beneficiary ({stream})")]
    OtherStream { index: usize, stream: StreamId },
    #[error("the event at version {expected} is missing (the next one in the file is version {found})")]
    Missing { expected: u32, found: u32 },
    #[error("the events are out of order: version {found} comes where version {expected} should")]
    Reordered { expected: u32, found: u32 },
    #[error(
        "the event at version {version} (position {position}) was changed: its content no longer matches the chain"
    )]
    Changed { version: u32, position: u64 },
    #[error("the first event does not start the chain (version 1 with no previous hash)")]
    BadStart,
    #[error("the events after version {version} were removed, or the last event was changed")]
    Truncated { version: u32 },
    #[error("the signature does not match: the file was changed after export, or not signed by this server")]
    Signature,
    #[error("the history was signed by key {found}, not by the expected key {expected}")]
    UnexpectedKey { expected: String, found: String },
    #[error("the event at version {version} does not encode: {detail}")]
    Encode { version: u32, detail: String },
}

/// Checks a history on its own: chain, versions, anchor and signature; `pinned` is the public key
/// the auditor expects, if they know it.
pub fn check_history(history: &VerifiableHistory, pinned: Option<&[u8; 32]>) -> Result<(), HistoryProblem> {
    let first = history.events.first().ok_or(HistoryProblem::Empty)?;
    if first.version != 1 || first.stream_prev_hash != [0; 32] {
        return Err(if first.version > 1 {
            HistoryProblem::Missing { expected: 1, found: first.version }
        } else {
            HistoryProblem::BadStart
        });
    }
    let mut previous: Option<(u32, u64, Hash)> = None;
    for (index, event) in history.events.iter().enumerate() {
        if event.stream != history.beneficiary {
            return Err(HistoryProblem::OtherStream { index, stream: event.stream });
        }
        let expected = index as u32 + 1;
        if event.version != expected {
            return Err(
                if event.version > expected && history.events[index..].windows(2).all(|w| w[0].version < w[1].version) {
                    HistoryProblem::Missing { expected, found: event.version }
                } else {
                    HistoryProblem::Reordered { expected, found: event.version }
                },
            );
        }
        if let Some((version, position, hash)) = previous {
            if event.stream_prev_hash != hash {
                return Err(HistoryProblem::Changed { version, position });
            }
        }
        let record = page::encode_record(event)
            .map_err(|error| HistoryProblem::Encode { version: event.version, detail: error.to_string() })?;
        previous = Some((event.version, event.position, page::hash(&record)));
    }
    let (version, position, hash) = previous.ok_or(HistoryProblem::Empty)?;
    if version != history.stream_head.version || hash != history.stream_head.hash {
        return Err(if version < history.stream_head.version {
            HistoryProblem::Truncated { version }
        } else {
            HistoryProblem::Changed { version, position }
        });
    }
    if let Some(pinned) = pinned {
        if pinned != &history.public_key {
            return Err(HistoryProblem::UnexpectedKey { expected: hex(pinned), found: hex(&history.public_key) });
        }
    }
    let key = VerifyingKey::from_bytes(&history.public_key).map_err(|_| HistoryProblem::Signature)?;
    key.verify(&history.digest(), &Signature::from_bytes(&history.signature)).map_err(|_| HistoryProblem::Signature)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The server's signing key, created on first use beside the beneficiaries' keys.
fn signing_key(dir: &std::path::Path) -> Result<SigningKey, StoreError> {
    let path: PathBuf = dir.join("keys").join("signing.ed25519");
    let io = |path: &PathBuf| {
        let path = path.clone();
        move |source| StoreError::Io { path, source }
    };
    let mut seed = Zeroizing::new([0u8; 32]);
    match File::open(&path) {
        Ok(mut file) => {
            file.read_exact(seed.as_mut()).map_err(io(&path))?;
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, seed.as_mut());
            let parent = path.parent().unwrap_or(dir).to_owned();
            fs::create_dir_all(&parent).map_err(io(&parent))?;
            // create_new: two processes cannot race to two keys (only one holds the store anyway).
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).map_err(io(&path))?;
            file.write_all(seed.as_ref()).and_then(|()| file.sync_all()).map_err(io(&path))?;
            File::open(&parent).and_then(|dir| dir.sync_all()).map_err(io(&parent))?;
        }
        Err(error) => return Err(StoreError::Io { path, source: error }),
    }
    Ok(SigningKey::from_bytes(&seed))
}

impl Store {
    /// The public key that signs exported histories: what auditors pin.
    pub fn history_key(&self) -> Result<[u8; 32], StoreError> {
        Ok(signing_key(self.dir())?.verifying_key().to_bytes())
    }

    /// One stream with what proves it, signed; `None` for an empty stream.
    pub fn verifiable_history(&self, stream: StreamId, by: Actor) -> Result<Option<VerifiableHistory>, StoreError> {
        let head = self.head()?;
        let events = self.read_stream(stream, None)?;
        let Some(last) = events.last() else { return Ok(None) };
        let stream_head =
            Anchor { position: last.position, version: last.version, hash: page::hash(&page::encode_record(last)?) };
        let key = signing_key(self.dir())?;
        let mut history = VerifiableHistory {
            beneficiary: stream,
            exported_at: Timestamp::now(),
            exported_by: by,
            stream_head,
            chain_head: Anchor { position: head.position.max(last.position), version: 0, hash: head.hash },
            public_key: key.verifying_key().to_bytes(),
            signature: [0; 64],
            events,
        };
        history.signature = key.sign(&history.digest()).to_bytes();
        Ok(Some(history))
    }

    /// Checks that the log holds every event of a history at its position, byte for byte.
    pub fn confirm_history(&self, history: &VerifiableHistory) -> Result<Result<(), HistoryProblem>, StoreError> {
        for event in &history.events {
            match self.read_event(event.id)? {
                Some(stored) if stored == *event => {}
                _ => return Ok(Err(HistoryProblem::Changed { version: event.version, position: event.position })),
            }
        }
        Ok(Ok(()))
    }
}
