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

/// A retention period: `24months`, `2years`, `730days` (French `mois`, `ans`, `jours` too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Days(u32),
    Months(u32),
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(text: &str) -> Result<Period, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u32 =
            number.parse().map_err(|_| format!("`{text}`: expected a number then a unit, e.g. 24months"))?;
        match unit.trim() {
            "d" | "day" | "days" | "jour" | "jours" => Ok(Period::Days(number)),
            "m" | "month" | "months" | "mois" => Ok(Period::Months(number)),
            "y" | "year" | "years" | "an" | "ans" => Ok(Period::Months(number.saturating_mul(12))),
            other => Err(format!("`{other}` is not a unit: days, months or years")),
        }
    }
}

impl Period {
    /// The first day that still counts as recent, `today` minus the period.
    fn cut_off(self, today: Date) -> Date {
        let day = match self {
            Period::Days(days) => today.0.checked_sub_days(chrono::Days::new(days.into())),
            Period::Months(months) => today.0.checked_sub_months(Months::new(months)),
        };
        Date(day.unwrap_or(chrono::NaiveDate::MIN))
    }
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

pub fn retention(data: &std::path::Path, inactive_for: Period, apply: bool) -> anyhow::Result<ExitCode> {
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
        assert_eq!("24months".parse(), Ok(Period::Months(24)));
        assert_eq!("2 ans".parse(), Ok(Period::Months(24)));
        assert_eq!("730days".parse(), Ok(Period::Days(730)));
        assert!("24".parse::<Period>().is_err());
        assert!("months".parse::<Period>().is_err());
        let today: Date = "2026-11-30".parse().unwrap();
        assert_eq!(Period::Months(24).cut_off(today).to_string(), "2024-11-30");
    }
}
