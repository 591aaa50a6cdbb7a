//! `parcours retention`: the people with no event for a while, whose identities the CNIL's
//! reference for social support says not to keep (two years after the last contact by default);
//! listed, then erased with `--apply`.
//!
//! "No event" means nothing recorded about the person since the cut-off: the latest `recorded_at`
//! of their stream, which is never before any of its effective dates. Erasure is the same as an
//! admin's (`Store::erase_identity`): the log keeps every step, every figure stays the same, only
//! the identity becomes unreadable.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Months;
use parcours_core::store::{Store, StoreOptions};
use parcours_core::vocabulary::{Actor, Date, ErasureReason, Step, StreamId, Timestamp};

/// Who the retention job records as `recorded_by`.
const RETENTION_ACTOR: &str = "system:retention";

/// A retention period in whole months: `24months`, `2y` (French `mois`, `ans` too). No day
/// counts: "730" or "730days" is too easily a typo for an irreversible erasure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    months: u32,
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(text: &str) -> Result<Period, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u32 =
            number.parse().map_err(|_| format!("`{text}`: expected a number then a unit, e.g. 24months or 2y"))?;
        let months = match unit.trim() {
            "m" | "month" | "months" | "mois" => number,
            "y" | "year" | "years" | "an" | "ans" => number.saturating_mul(12),
            "" => return Err(format!("`{text}`: say the unit, months or years (24months, 2y)")),
            other => return Err(format!("`{other}` is not a unit: months or years (24months, 2y)")),
        };
        if months == 0 {
            return Err(format!("`{text}`: a retention period of zero would erase everyone"));
        }
        Ok(Period { months })
    }
}

impl Period {
    /// The first day that still counts as recent, `today` minus the period.
    fn cut_off(self, today: Date) -> Date {
        Date(today.0.checked_sub_months(Months::new(self.months)).unwrap_or(chrono::NaiveDate::MIN))
    }
}

/// Asks on the terminal before an erasure that cannot be undone; anything but yes (or oui) is no.
fn confirmed(count: usize) -> anyhow::Result<bool> {
    use std::io::Write;
    print!("erase the identities of these {count} people for good? type yes to confirm: ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "yes" | "oui"))
}

/// One person whose identity is due for erasure.
struct Due {
    stream: StreamId,
    last_recorded: Timestamp,
}

/// Scans the log once: per person, the last time anything was recorded, and whether their
/// identity is already erased. In stream-id order, so the listing is the same every time. Returns
/// those due, and those whose erasure is recorded.
fn due(store: &Store, cut_off: Date, timezone: chrono_tz::Tz) -> anyhow::Result<(Vec<Due>, Vec<StreamId>)> {
    let mut people: BTreeMap<StreamId, (Timestamp, bool)> = BTreeMap::new();
    for page in store.pages_from(1) {
        for event in page?.1 {
            let registered = matches!(event.step, Step::Registered(_));
            let erased = matches!(event.step, Step::PersonalDataErased(_));
            if let Some(person) = people.get_mut(&event.stream) {
                person.0 = event.recorded_at;
                person.1 |= erased;
            } else if registered {
                people.insert(event.stream, (event.recorded_at, false));
            }
        }
    }
    let erased = people.iter().filter(|(_, (_, erased))| *erased).map(|(stream, _)| *stream).collect();
    let due = people
        .into_iter()
        .filter(|(_, (last, erased))| !erased && Date(last.0.with_timezone(&timezone).date_naive()) < cut_off)
        .map(|(stream, (last_recorded, _))| Due { stream, last_recorded })
        .collect();
    Ok((due, erased))
}

/// Destroys the keys still on disk of people whose erasure is recorded: what a crash between the
/// event and the key's destruction left, in a store older than the marks that let opening finish
/// it, or keys put back from a backup. Not a new erasure: the one recorded, finished.
fn destroy_leftover_keys(store: &Store, erased: &[StreamId]) -> anyhow::Result<usize> {
    let mut destroyed = 0;
    for stream in erased.iter().filter(|stream| store.has_key_file(**stream)) {
        destroyed +=
            usize::from(store.destroy_key(*stream).with_context(|| format!("destroying the key of {stream}"))?);
    }
    Ok(destroyed)
}

pub fn retention(data: &std::path::Path, inactive_for: Period, apply: bool, yes: bool) -> anyhow::Result<ExitCode> {
    let options = StoreOptions::default();
    let store = Store::open(data, options.clone())?;
    let today = Date(chrono::Utc::now().with_timezone(&options.timezone).date_naive());
    let cut_off = inactive_for.cut_off(today);
    let (due, erased) = due(&store, cut_off, options.timezone)?;
    let leftovers = destroy_leftover_keys(&store, &erased)?;
    if leftovers > 0 {
        println!("destroyed {leftovers} keys left behind by erasures already recorded");
    }
    println!("{} people with nothing recorded since before {cut_off}:", due.len());
    for person in &due {
        println!("  {}\tlast recorded {}", person.stream, person.last_recorded);
    }
    if !apply {
        if !due.is_empty() {
            println!("nothing erased: run again with --apply to erase these identities");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !due.is_empty() && !yes && !confirmed(due.len())? {
        println!();
        println!("nothing erased: not confirmed (--yes erases without asking)");
        return Ok(ExitCode::FAILURE);
    }
    for person in &due {
        store
            .erase_identity(person.stream, ErasureReason::Retention, today, Actor(RETENTION_ACTOR.into()))
            .with_context(|| format!("erasing {}", person.stream))?;
    }
    println!("erased {} identities", due.len());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_as_people_write_them() {
        assert_eq!("24months".parse(), Ok(Period { months: 24 }));
        assert_eq!("2 ans".parse(), Ok(Period { months: 24 }));
        assert_eq!("2y".parse(), Ok(Period { months: 24 }));
        for refused in ["730days", "730", "24", "months", "0months", "2 jours"] {
            assert!(refused.parse::<Period>().is_err(), "{refused}");
        }
        let today: Date = "2026-11-30".parse().unwrap();
        assert_eq!(Period { months: 24 }.cut_off(today).to_string(), "2024-11-30");
    }
}
