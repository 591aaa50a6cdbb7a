//! Blind keys: finding the same person twice without opening anyone's identity (CONTRACT §10).
//!
//! A blind key is a keyed HMAC-SHA-256 of a normalised identity (lower case, accents and
//! punctuation removed, spaces collapsed) under a secret of the store. The secret lives beside the
//! beneficiaries' keys, outside sled (`keys/blind-keys.secret`), so the index in sled is noise to
//! whoever copies the log without the keys. Three kinds of entries are kept in the `blind_keys`
//! tree, each `kind ‖ hmac ‖ stream → ()`, so that a lookup is one prefix scan:
//! - last name, first name and birth date (a registration that repeats a person, an import that
//!   finds someone already recorded);
//! - last name, first name and birth year (likely duplicates with a mistyped day or month);
//! - each word of the names alone (the search of `GET /api/beneficiaries?q=`: "helene" finds
//!   "Hélène" without decrypting every identity in reach).
//!
//! Each stream also has `OWNED ‖ stream → its entries`, so that an erasure removes them all. sled
//! may keep old segments for a while, but what they hold is an HMAC whose secret is not in sled.
//!
//! Entries are written when an identity is sealed, before the append that carries it is durable:
//! a refused append may leave entries for a stream that does not exist, so readers check that the
//! streams they are given exist (and, for a candidate shown to a user, that the identity still
//! matches) rather than trusting the index. A store that holds people without entries (one
//! restored from an export or a backup, one filled by `seed`, one older than this index) is indexed
//! once from the log when opened; the `INDEXED` mark says it was done.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use super::error::StoreError;
use super::keys::KeyError;
use crate::vocabulary::{PersonalData, StreamId};

/// The sled tree of the index.
pub(crate) const TREE: &str = "blind_keys";
/// The secret's file, in the keys' directory (not in a shard of it, so backups of the keys skip it).
const SECRET_FILE: &str = "blind-keys.secret";
const SECRET_BYTES: usize = 32;
const MAC_BYTES: usize = 32;
const STREAM_BYTES: usize = 16;
/// `kind ‖ hmac`: what an entry is found by.
const ENTRY_BYTES: usize = 1 + MAC_BYTES;

const NAME_AND_DATE: u8 = 1;
const NAME_AND_YEAR: u8 = 2;
const WORD: u8 = 3;
const OWNED: u8 = 0xFF;
/// Set once every person of the log has their entries (see the module's doc).
const INDEXED: &[u8] = b"indexed";

/// Why two people are likely the same (CONTRACT §10), the stronger reason first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Likeness {
    SameNameAndBirthDate,
    SameNameAndBirthYear,
}

impl Likeness {
    /// The contract's code.
    pub fn code(self) -> &'static str {
        match self {
            Likeness::SameNameAndBirthDate => "same_name_and_birth_date",
            Likeness::SameNameAndBirthYear => "same_name_and_birth_year",
        }
    }
}

/// Two streams that are likely one person, `a < b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LikelyPair {
    pub a: StreamId,
    pub b: StreamId,
    pub likeness: Likeness,
}

pub struct BlindKeys {
    secret: Zeroizing<[u8; SECRET_BYTES]>,
    tree: sled::Tree,
}

impl std::fmt::Debug for BlindKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlindKeys").finish_non_exhaustive()
    }
}

/// Lower case, accents and punctuation removed, spaces collapsed: "  Hélène-Marie D'Arc " and
/// "helene marie d arc" are the same text.
pub fn normalise(text: &str) -> String {
    let mut normalised = String::with_capacity(text.len());
    let mut space = false;
    for character in text.nfd().filter(|character| !is_combining_mark(*character)) {
        if character.is_alphanumeric() {
            if space && !normalised.is_empty() {
                normalised.push(' ');
            }
            space = false;
            normalised.extend(character.to_lowercase());
        } else {
            space = true;
        }
    }
    normalised
}

impl BlindKeys {
    /// Opens the index, with the store's secret from `keys_dir` (created, durably, on first use).
    pub(crate) fn open(keys_dir: &Path, tree: sled::Tree) -> Result<BlindKeys, KeyError> {
        Ok(BlindKeys { secret: secret(keys_dir)?, tree })
    }

    fn mac(&self, kind: u8, parts: &[&str]) -> [u8; ENTRY_BYTES] {
        let mut entry = [0u8; ENTRY_BYTES];
        entry[0] = kind;
        // `new_from_slice` fails only for key lengths HMAC does not take; SHA-256's takes any.
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.secret.as_ref()) {
            mac.update(&[kind]);
            for part in parts {
                // A separator no normalised text holds, so ("ab", "c") and ("a", "bc") differ.
                mac.update(part.as_bytes());
                mac.update(&[0x1f]);
            }
            entry[1..].copy_from_slice(&mac.finalize().into_bytes());
        }
        entry
    }

    /// The full blind key of an identity (last name, first name, birth date), when all three are known.
    fn name_and_date(&self, identity: &PersonalData) -> Option<[u8; ENTRY_BYTES]> {
        let (last, first, birth) = names_and_birth(identity)?;
        Some(self.mac(NAME_AND_DATE, &[&last, &first, &birth.to_string()]))
    }

    /// Every entry an identity has in the index.
    fn entries(&self, identity: &PersonalData) -> Vec<[u8; ENTRY_BYTES]> {
        let mut entries = Vec::new();
        if let Some((last, first, birth)) = names_and_birth(identity) {
            entries.push(self.mac(NAME_AND_DATE, &[&last, &first, &birth.to_string()]));
            entries.push(self.mac(NAME_AND_YEAR, &[&last, &first, &birth.year().to_string()]));
        }
        let words: BTreeSet<String> = [&identity.last_name, &identity.first_name]
            .into_iter()
            .flatten()
            .flat_map(|name| normalise(name).split(' ').map(str::to_owned).collect::<Vec<_>>())
            .filter(|word| !word.is_empty())
            .collect();
        entries.extend(words.iter().map(|word| self.mac(WORD, &[word])));
        entries
    }

    /// Records the entries of an identity sealed for `stream` (a registration or its correction).
    pub fn index(&self, stream: StreamId, identity: &PersonalData) -> Result<(), StoreError> {
        let entries = self.entries(identity);
        if entries.is_empty() {
            return Ok(());
        }
        let owned_key = owned_key(stream);
        let mut owned = self.tree.get(owned_key)?.map(|value| value.to_vec()).unwrap_or_default();
        for entry in entries {
            if !owned.chunks_exact(ENTRY_BYTES).any(|known| known == entry) {
                owned.extend_from_slice(&entry);
            }
            self.tree.insert(entry_key(&entry, stream), &[])?;
        }
        self.tree.insert(owned_key, owned)?;
        Ok(())
    }

    /// Removes every entry of a stream (erasure).
    pub(crate) fn remove(&self, stream: StreamId) -> Result<(), StoreError> {
        let owned_key = owned_key(stream);
        if let Some(owned) = self.tree.get(owned_key)? {
            for entry in owned.chunks_exact(ENTRY_BYTES) {
                self.tree.remove(entry_key(entry, stream))?;
            }
            self.tree.remove(owned_key)?;
        }
        Ok(())
    }

    fn streams_under(&self, entry: &[u8]) -> Result<Vec<StreamId>, StoreError> {
        let mut streams = Vec::new();
        for item in self.tree.scan_prefix(entry) {
            let (key, _) = item?;
            if let Some(stream) = stream_of_key(&key) {
                streams.push(stream);
            }
        }
        Ok(streams)
    }

    /// The streams whose identity has the same last name, first name and birth date (normalised);
    /// empty when the identity lacks one of the three. Streams may not exist (see the module's doc).
    pub fn same_name_and_birth_date(&self, identity: &PersonalData) -> Result<Vec<StreamId>, StoreError> {
        match self.name_and_date(identity) {
            Some(entry) => self.streams_under(&entry),
            None => Ok(Vec::new()),
        }
    }

    /// The streams with every word of `query` in their names (normalised), in stream order; `None`
    /// when the query holds no word.
    pub fn search(&self, query: &str) -> Result<Option<Vec<StreamId>>, StoreError> {
        let words: BTreeSet<String> =
            normalise(query).split(' ').filter(|word| !word.is_empty()).map(str::to_owned).collect();
        let mut found: Option<BTreeSet<StreamId>> = None;
        for word in &words {
            let streams: BTreeSet<StreamId> = self.streams_under(&self.mac(WORD, &[word]))?.into_iter().collect();
            found = Some(match found {
                Some(found) => found.intersection(&streams).copied().collect(),
                None => streams,
            });
        }
        Ok(found.map(|found| found.into_iter().collect()))
    }

    /// Every pair of streams that share a blind key, with the strongest reason, in order.
    pub fn likely_pairs(&self) -> Result<Vec<LikelyPair>, StoreError> {
        let mut pairs = std::collections::BTreeMap::new();
        for (kind, likeness) in
            [(NAME_AND_DATE, Likeness::SameNameAndBirthDate), (NAME_AND_YEAR, Likeness::SameNameAndBirthYear)]
        {
            let mut group: Vec<StreamId> = Vec::new();
            let mut group_entry: Option<sled::IVec> = None;
            let mut close = |group: &mut Vec<StreamId>| {
                for (index, a) in group.iter().enumerate() {
                    for b in &group[index + 1..] {
                        pairs.entry((*a.min(b), *a.max(b))).or_insert(likeness);
                    }
                }
                group.clear();
            };
            for item in self.tree.scan_prefix([kind]) {
                let (key, _) = item?;
                let Some(stream) = stream_of_key(&key) else { continue };
                if group_entry.as_deref() != Some(&key[..ENTRY_BYTES]) {
                    close(&mut group);
                    group_entry = Some(sled::IVec::from(&key[..ENTRY_BYTES]));
                }
                group.push(stream);
            }
            close(&mut group);
        }
        Ok(pairs.into_iter().map(|((a, b), likeness)| LikelyPair { a, b, likeness }).collect())
    }

    /// Whether every person of the log has their entries already.
    pub(crate) fn is_complete(&self) -> Result<bool, StoreError> {
        Ok(self.tree.contains_key(INDEXED)?)
    }

    pub(crate) fn mark_complete(&self) -> Result<(), StoreError> {
        self.tree.insert(INDEXED, &[])?;
        Ok(())
    }
}

/// Forgets that the index is complete: the log was filled by another path (restore, seed).
pub(crate) fn mark_incomplete(db: &sled::Db) -> Result<(), StoreError> {
    db.open_tree(TREE)?.remove(INDEXED)?;
    Ok(())
}

fn names_and_birth(identity: &PersonalData) -> Option<(String, String, crate::vocabulary::Date)> {
    let last = normalise(identity.last_name.as_deref()?);
    let first = normalise(identity.first_name.as_deref()?);
    let birth = identity.birth_date?;
    (!last.is_empty() && !first.is_empty()).then_some((last, first, birth))
}

fn owned_key(stream: StreamId) -> [u8; 1 + STREAM_BYTES] {
    let mut key = [0u8; 1 + STREAM_BYTES];
    key[0] = OWNED;
    key[1..].copy_from_slice(stream.as_bytes());
    key
}

fn entry_key(entry: &[u8], stream: StreamId) -> [u8; ENTRY_BYTES + STREAM_BYTES] {
    let mut key = [0u8; ENTRY_BYTES + STREAM_BYTES];
    key[..ENTRY_BYTES].copy_from_slice(entry);
    key[ENTRY_BYTES..].copy_from_slice(stream.as_bytes());
    key
}

fn stream_of_key(key: &[u8]) -> Option<StreamId> {
    let bytes: [u8; STREAM_BYTES] = key.get(ENTRY_BYTES..)?.try_into().ok()?;
    Some(StreamId(uuid::Uuid::from_bytes(bytes)))
}

/// Reads the store's secret, or creates it (written and synced under a temporary name, then
/// linked, so that two processes never end up with two secrets).
fn secret(keys_dir: &Path) -> Result<Zeroizing<[u8; SECRET_BYTES]>, KeyError> {
    let io_error = |path: &Path| {
        let path: PathBuf = path.to_owned();
        move |source: io::Error| KeyError::Io { path, source }
    };
    std::fs::create_dir_all(keys_dir).map_err(io_error(keys_dir))?;
    let path = keys_dir.join(SECRET_FILE);
    let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
    match File::open(&path) {
        Ok(mut file) => {
            file.read_exact(secret.as_mut()).map_err(|_| KeyError::Damaged(path.clone()))?;
            return Ok(secret);
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(KeyError::Io { path, source: error }),
    }
    rand::rngs::OsRng.fill_bytes(secret.as_mut());
    let temporary = keys_dir.join(format!("{SECRET_FILE}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary)?;
        file.write_all(secret.as_ref())?;
        file.sync_all()
    })();
    written.map_err(io_error(&temporary))?;
    let linked = std::fs::hard_link(&temporary, &path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            File::open(keys_dir).and_then(|dir| dir.sync_all()).map_err(io_error(keys_dir))?;
            Ok(secret)
        }
        // Another process published first: use its secret.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => secret_from_file(&path),
        Err(error) => Err(KeyError::Io { path, source: error }),
    }
}

fn secret_from_file(path: &Path) -> Result<Zeroizing<[u8; SECRET_BYTES]>, KeyError> {
    let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
    let mut file = File::open(path).map_err(|source| KeyError::Io { path: path.to_owned(), source })?;
    file.read_exact(secret.as_mut()).map_err(|_| KeyError::Damaged(path.to_owned()))?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(first: &str, last: &str, birth: &str) -> PersonalData {
        PersonalData {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            birth_date: Some(birth.parse().expect("a date")),
            ..PersonalData::default()
        }
    }

    fn open(dir: &Path) -> BlindKeys {
        let db = sled::Config::new().temporary(true).open().expect("sled");
        BlindKeys::open(dir, db.open_tree(TREE).expect("tree")).expect("blind keys")
    }

    #[test]
    fn normalising_drops_case_accents_and_punctuation() {
        assert_eq!(normalise("  Hélène-Marie  D'Arc "), "helene marie d arc");
        assert_eq!(normalise("ÉLODIE"), "elodie");
        assert_eq!(normalise("--"), "");
    }

    #[test]
    fn the_same_person_written_differently_is_found_and_erasure_forgets_them() {
        let dir = tempfile::tempdir().expect("dir");
        let blind = open(dir.path());
        let helene = StreamId(uuid::Uuid::from_u128(1));
        let other = StreamId(uuid::Uuid::from_u128(2));
        blind.index(helene, &identity("Hélène", "Dupont-Martin", "1990-04-02")).expect("index");
        blind.index(other, &identity("Hélène", "Dupont Martin", "1990-05-02")).expect("index");
        let found = blind.same_name_and_birth_date(&identity("helene", "DUPONT MARTIN", "1990-04-02")).expect("find");
        assert_eq!(found, vec![helene]);
        assert_eq!(blind.search("helene").expect("search"), Some(vec![helene, other]));
        assert_eq!(blind.search("martin HELENE").expect("search"), Some(vec![helene, other]));
        assert_eq!(blind.search("helen").expect("search"), Some(vec![]));
        assert_eq!(blind.search(" - ").expect("search"), None);
        let pairs = blind.likely_pairs().expect("pairs");
        assert_eq!(pairs, vec![LikelyPair { a: helene, b: other, likeness: Likeness::SameNameAndBirthYear }]);
        blind.remove(helene).expect("remove");
        assert!(blind
            .same_name_and_birth_date(&identity("Hélène", "Dupont-Martin", "1990-04-02"))
            .expect("find")
            .is_empty());
        assert_eq!(blind.search("helene").expect("search"), Some(vec![other]));
        assert!(blind.likely_pairs().expect("pairs").is_empty());
    }

    #[test]
    fn the_secret_is_kept_across_openings_and_changes_every_key() {
        let dir = tempfile::tempdir().expect("dir");
        let person = identity("Anne", "Roy", "1980-01-01");
        let first = open(dir.path()).name_and_date(&person);
        assert_eq!(open(dir.path()).name_and_date(&person), first);
        let elsewhere = tempfile::tempdir().expect("dir");
        assert_ne!(open(elsewhere.path()).name_and_date(&person), first);
    }
}
