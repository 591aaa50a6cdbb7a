//! Sheets previewed in the web page and waiting for their confirmation.
//!
//! A browser cannot send the same file twice without asking the user to choose it again, so the
//! dry run keeps the sheet here, under a random ticket, for the one who uploaded it: confirming
//! imports exactly what was previewed. Bounded, because sheets are large: at most
//! [`PREVIEWS_BYTES_MAX`] in all (the oldest go first) and [`PREVIEW_LIFETIME`] each.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use parcours_core::vocabulary::Actor;
use rand::RngCore;

use super::Mapping;

/// Sheets kept for confirmation, in all.
pub const PREVIEWS_BYTES_MAX: usize = 256 * 1024 * 1024;
/// How long a preview can be confirmed.
pub const PREVIEW_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// What a confirmation imports.
#[derive(Clone)]
pub struct Previewed {
    pub file: Vec<u8>,
    pub mapping_name: String,
    pub mapping: Mapping,
    pub skip_bad_rows: bool,
}

struct Kept {
    ticket: String,
    owner: Actor,
    kept_at: Instant,
    previewed: Previewed,
}

#[derive(Default)]
pub struct Previews {
    kept: Mutex<Vec<Kept>>,
}

impl Previews {
    /// Keeps a previewed sheet for `owner`; returns the ticket that confirms it.
    pub fn keep(&self, owner: Actor, previewed: Previewed) -> String {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        let ticket: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        let mut kept = self.lock();
        kept.retain(|entry| entry.kept_at.elapsed() < PREVIEW_LIFETIME);
        kept.push(Kept { ticket: ticket.clone(), owner, kept_at: Instant::now(), previewed });
        while kept.iter().map(|entry| entry.previewed.file.len()).sum::<usize>() > PREVIEWS_BYTES_MAX && kept.len() > 1
        {
            kept.remove(0);
        }
        ticket
    }

    /// Takes the sheet of `ticket` if `owner` kept it and it has not expired: once only.
    pub fn take(&self, owner: &Actor, ticket: &str) -> Option<Previewed> {
        let mut kept = self.lock();
        let at = kept.iter().position(|entry| entry.ticket == ticket && &entry.owner == owner)?;
        let entry = kept.remove(at);
        (entry.kept_at.elapsed() < PREVIEW_LIFETIME).then_some(entry.previewed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Kept>> {
        // A panic while holding the lock leaves a list that is still consistent.
        self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn previewed(bytes: usize) -> Previewed {
        let mapping = Mapping::from_json(include_bytes!("../../../../examples/import/aci-mapping.json"))
            .expect("the example mapping reads");
        Previewed { file: vec![0; bytes], mapping_name: "aci".into(), mapping, skip_bad_rows: false }
    }

    #[test]
    fn a_preview_is_confirmed_once_and_by_whoever_uploaded_it() {
        let previews = Previews::default();
        let (alice, bob) = (Actor("tok_alice".into()), Actor("tok_bob".into()));
        let ticket = previews.keep(alice.clone(), previewed(10));
        assert!(previews.take(&bob, &ticket).is_none(), "someone else's ticket opens nothing");
        assert!(previews.take(&alice, "0000").is_none());
        assert_eq!(previews.take(&alice, &ticket).map(|previewed| previewed.file.len()), Some(10));
        assert!(previews.take(&alice, &ticket).is_none(), "a preview is imported once");
    }

    #[test]
    fn the_oldest_previews_make_room_for_new_ones() {
        let previews = Previews::default();
        let owner = Actor("tok_alice".into());
        let first = previews.keep(owner.clone(), previewed(PREVIEWS_BYTES_MAX / 2 + 1));
        let second = previews.keep(owner.clone(), previewed(PREVIEWS_BYTES_MAX / 2 + 1));
        assert!(previews.take(&owner, &first).is_none(), "over the bound, the oldest went");
        assert!(previews.take(&owner, &second).is_some());
    }
}
