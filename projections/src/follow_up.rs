//! When a follow-up is overdue: one definition, read by the dashboard (on today) and by the
//! activity report (at the end of its period), so that the two never disagree about a person.

use chrono::Days;
use parcours_core::vocabulary::Date;

/// How long without contact before a follow-up is overdue.
pub const FOLLOW_UP_OVERDUE_AFTER_DAYS: u64 = 21;

/// An episode whose last contact is before this date is overdue on `day`. Computed once per
/// question rather than per person; `None` near the start of the calendar, where nothing is overdue.
pub(crate) fn overdue_before(day: Date) -> Option<Date> {
    day.0.checked_sub_days(Days::new(FOLLOW_UP_OVERDUE_AFTER_DAYS)).map(Date)
}

/// The last contact of an episode: its latest follow-up, or its referral when none was held since
/// (a person referred a week ago is not overdue, one referred a month ago and never met is).
pub(crate) fn last_contact(referred_on: Date, last_follow_up: Option<Date>) -> Date {
    last_follow_up.map_or(referred_on, |held_on| held_on.max(referred_on))
}
