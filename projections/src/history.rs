//! Every beneficiary's effective history, kept in one arena.
//!
//! Why one arena rather than a vector per beneficiary: the log interleaves thousands of people, so
//! a vector per person is written at a random place for every event (a cache miss, the main cost
//! of a rebuild) and grows by reallocation (copies, and up to half of it spare). In the arena each
//! fact is written just after the previous one, whoever it belongs to, and links back to the
//! previous fact of its beneficiary. Walking a history backwards is then the only way to read it:
//! only corrections (rare) and the audit questions do.
//!
//! A retracted fact is unlinked from its history and its slot left unused: retractions are a tiny
//! share of events, and slots are never reused, so a slot number names one fact for good.

use parcours_core::vocabulary::EventId;

use crate::fact::Recorded;

/// No fact: the link before a history's first fact, and the last fact of an empty history.
const NONE: u32 = u32::MAX;

/// The facts of every beneficiary, in the order they were applied.
#[derive(Clone, Debug, Default)]
pub(crate) struct Histories {
    slots: Vec<Slot>,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    recorded: Recorded,
    /// The slot of the previous fact of the same history, or [`NONE`].
    previous: u32,
}

/// One beneficiary's history: where its last fact is in [`Histories`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct History {
    last: u32,
}

/// Where one fact is in [`Histories`], as [`Histories::find`] found it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FactSlot(u32);

impl Default for History {
    fn default() -> History {
        History { last: NONE }
    }
}

impl Histories {
    /// Room for `facts` facts at once: a log being rebuilt says how many events it holds, and the
    /// arena then never grows by copying itself.
    pub(crate) fn reserve(&mut self, facts: usize) {
        self.slots.reserve(facts);
    }

    /// Adds a fact at the end of `history`.
    pub(crate) fn push(&mut self, history: &mut History, recorded: Recorded) {
        // Projections hold fewer than 2^32 - 1 facts: at 52 bytes each, that would take 220 GB.
        let slot = self.slots.len() as u32;
        self.slots.push(Slot { recorded, previous: history.last });
        history.last = slot;
    }

    /// The facts of `history`, first to last.
    pub(crate) fn facts(&self, history: History) -> impl Iterator<Item = &Recorded> {
        let mut slots = Vec::new();
        let mut slot = history.last;
        while let Some(link) = self.slots.get(slot as usize) {
            slots.push(slot);
            slot = link.previous;
        }
        slots.into_iter().rev().map(|slot| &self.slots[slot as usize].recorded)
    }

    /// Where the fact with this id is in `history`, if it holds one.
    pub(crate) fn find(&self, history: History, id: EventId) -> Option<FactSlot> {
        let mut slot = history.last;
        while let Some(link) = self.slots.get(slot as usize) {
            if link.recorded.id == id {
                return Some(FactSlot(slot));
            }
            slot = link.previous;
        }
        None
    }

    pub(crate) fn get(&self, slot: FactSlot) -> Option<&Recorded> {
        self.slots.get(slot.0 as usize).map(|link| &link.recorded)
    }

    /// Puts `recorded` in the place of the fact at `slot`, in the same history.
    pub(crate) fn replace(&mut self, slot: FactSlot, recorded: Recorded) {
        if let Some(link) = self.slots.get_mut(slot.0 as usize) {
            link.recorded = recorded;
        }
    }

    /// Unlinks the fact with this id from `history`; returns whether it had one.
    pub(crate) fn retract(&mut self, history: &mut History, id: EventId) -> bool {
        // The slot that links to the one being looked at, if any: it takes over its link.
        let mut next: Option<u32> = None;
        let mut slot = history.last;
        while let Some(link) = self.slots.get(slot as usize).copied() {
            if link.recorded.id == id {
                match next {
                    None => history.last = link.previous,
                    Some(next) => self.slots[next as usize].previous = link.previous,
                }
                return true;
            }
            next = Some(slot);
            slot = link.previous;
        }
        false
    }

    /// Gives back spare capacity, once facts stop arriving in bulk.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.slots.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fact::Fact;
    use parcours_core::vocabulary::Date;

    fn fact(n: u128) -> Recorded {
        Recorded {
            id: EventId(uuid::Uuid::from_u128(n)),
            occurred_on: Date::from_ymd(2025, 1, (n % 28) as u32 + 1).expect("a date"),
            fact: Fact::PersonalDataErased,
        }
    }

    fn ids(histories: &Histories, history: History) -> Vec<u128> {
        histories.facts(history).map(|recorded| recorded.id.0.as_u128()).collect()
    }

    #[test]
    fn interleaved_histories_keep_their_own_order_through_corrections() {
        let mut histories = Histories::default();
        let (mut a, mut b) = (History::default(), History::default());
        for n in 1..=4 {
            histories.push(&mut a, fact(n));
            histories.push(&mut b, fact(10 + n));
        }
        assert_eq!(ids(&histories, a), [1, 2, 3, 4]);
        assert!(histories.retract(&mut a, fact(2).id));
        assert!(histories.retract(&mut a, fact(4).id));
        assert!(histories.retract(&mut b, fact(11).id));
        assert!(!histories.retract(&mut b, fact(3).id), "another history's fact");
        let replacement = Recorded { id: fact(3).id, ..fact(99) };
        let slot = histories.find(a, fact(3).id).expect("fact 3 is in a");
        assert!(histories.find(b, fact(3).id).is_none());
        histories.replace(slot, replacement);
        histories.push(&mut a, fact(5));
        assert_eq!(ids(&histories, a), [1, 3, 5]);
        assert_eq!(histories.facts(a).nth(1), Some(&replacement));
        assert_eq!(ids(&histories, b), [12, 13, 14]);
        assert!(histories.retract(&mut a, fact(1).id));
        assert!(histories.retract(&mut a, fact(3).id));
        assert!(histories.retract(&mut a, fact(5).id));
        assert_eq!(ids(&histories, a), Vec::<u128>::new());
        assert_eq!(a, History::default());
    }
}
