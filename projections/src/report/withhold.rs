//! Small cells of the activity report, withheld for evaluators (CONTRACT §7), with complementary
//! suppression over the report's own equations (`disclosure::Table`):
//! - the exits of `people` are the outcomes' exits; the outcome counts bring their own equations;
//! - profile: entries = Σ genders = Σ family-quotient bands; each gender = Σ its situations = Σ
//!   its age bands (benefits overlap and enter no equation);
//! - contracts open at the end = Σ kinds, and the same for their full-time equivalents;
//! - hours worked = Σ months = Σ genders; people with hours = Σ genders;
//! - support actions = Σ domain × action cells; orientations to partners = Σ partners;
//! - six-month follow-ups = Σ situations found, of which `employed` is the outcomes' count;
//! - version 2: entries = Σ prescribers; skills assessments = Σ kinds; trainings, group sessions,
//!   phone contacts and exits to a CDI are counts of their own (a CDI is one durable job among
//!   others, a certification one completion among others: no equation gives one from the rest).
//!   Full-time equivalents worked go with the hours worked; the length of pathways with the exits
//!   it is taken over (a median of three people is theirs). Agreed full-time equivalents are
//!   public, as agreed hours are. Sensitive prescribers (justice, health, child protection) are
//!   read as `other`, as in the outcome statistics.
//!
//! Amounts (hours, full-time equivalents) are not counts of people, so they are never small on
//! their own; they are withheld with the count of people behind them (a person's hours are theirs),
//! and may be withheld as complements. Shares and rates go with their numerator or denominator.
//! Committees count meeting dates, not people: always shown.

use parcours_core::vocabulary::PrescriberKind;

use super::sections::{Figures, PrescriberRow, Shown};
use crate::disclosed::Disclosed;
use crate::disclosure::Table;
use crate::entries::Cell;
use crate::exits::OutcomeField;
use crate::ratio::Ratio;

fn count_cell(table: &mut Table, disclosed: &Disclosed) -> Option<usize> {
    match disclosed {
        Disclosed::Count(count) => Some(table.cell(*count)),
        Disclosed::Rate(_) | Disclosed::Withheld => None,
    }
}

fn amount_cell(table: &mut Table, hundredths: Option<u64>, count: Option<usize>) -> Option<usize> {
    let amount = table.amount(hundredths?);
    if let Some(count) = count {
        table.tie(count, amount);
    }
    Some(amount)
}

fn sum(table: &mut Table, total: Option<usize>, parts: &[Option<usize>]) {
    if let (Some(total), Some(parts)) = (total, parts.iter().copied().collect::<Option<Vec<usize>>>()) {
        table.sum(total, &parts);
    }
}

/// Withholds a count if its cell is withheld; says whether it did.
fn hide(disclosed: &mut Disclosed, cell: Option<usize>, withheld: &[bool]) -> bool {
    let hidden = cell.is_some_and(|cell| withheld[cell]);
    if hidden {
        *disclosed = Disclosed::Withheld;
    }
    hidden
}

fn hide_amount<T>(shown: &mut Shown<T>, cell: Option<usize>, withheld: &[bool]) -> bool {
    let hidden = cell.is_some_and(|cell| withheld[cell]);
    if hidden {
        *shown = Shown::Withheld;
    }
    hidden
}

fn hide_cell(row: &mut Cell, cell: Option<usize>, total_hidden: bool, withheld: &[bool]) {
    if cell.is_some_and(|cell| withheld[cell]) {
        *row = Cell { count: Disclosed::Withheld, share: Disclosed::Withheld, suppressed: true };
    } else if total_hidden {
        // A share over a withheld total would give the total back.
        row.share = Disclosed::Withheld;
        row.suppressed = true;
    }
}

fn hours_value<T: Copy>(shown: &Shown<T>, hundredths: impl Fn(T) -> u64) -> Option<u64> {
    match shown {
        Shown::Value(value) => Some(hundredths(*value)),
        Shown::Withheld => None,
    }
}

impl Figures {
    pub(crate) fn withhold_small_cells(&mut self, threshold: u64) {
        let mut table = Table::default();
        let t = &mut table;

        let outcome_cells = self.outcomes.counts.cells(t);
        let outcome = |field: OutcomeField| outcome_cells[field as usize];
        let people = &self.people;
        let followed = count_cell(t, &people.followed);
        let entered = count_cell(t, &people.entered);
        let exited = count_cell(t, &people.exited);
        let present = count_cell(t, &people.present_at_end);
        let distinct = count_cell(t, &people.distinct_since_start);
        sum(t, exited, &[outcome(OutcomeField::Exits)]);

        if let (Some(entries), Disclosed::Count(total)) = (&mut self.entries, self.profile.entries) {
            merge_sensitive_prescribers(&mut entries.by_prescriber, total);
        }
        // A mean or a median is not small on its own, but over few exits it is theirs.
        let pathway = people.pathway_days.map(|_| {
            let (median, mean) = (t.amount(1), t.amount(1));
            if let Some(exited) = exited {
                t.tie(exited, median);
                t.tie(exited, mean);
            }
            (median, mean)
        });

        let contracts = &self.contracts;
        let on_contract = count_cell(t, &contracts.on_contract_at_end);
        let contracts_at_end = count_cell(t, &contracts.contracts_at_end);
        let fte_at_end = amount_cell(t, hours_value(&contracts.fte_at_end, |fte| fte.hundredths), contracts_at_end);
        let kinds: Vec<(Option<usize>, Option<usize>)> = contracts
            .by_kind
            .iter()
            .map(|row| {
                let count = count_cell(t, &row.contracts);
                (count, amount_cell(t, hours_value(&row.fte, |fte| fte.hundredths), count))
            })
            .collect();
        sum(t, contracts_at_end, &kinds.iter().map(|(count, _)| *count).collect::<Vec<_>>());
        sum(t, fte_at_end, &kinds.iter().map(|(_, fte)| *fte).collect::<Vec<_>>());

        let hours = &self.hours;
        let hours_people = count_cell(t, &hours.people);
        let worked = amount_cell(t, hours_value(&hours.worked, |h| h.hundredths), hours_people);
        let months: Vec<(Option<usize>, Option<usize>)> = hours
            .by_month
            .iter()
            .map(|row| {
                let people = count_cell(t, &row.people);
                (people, amount_cell(t, hours_value(&row.worked, |h| h.hundredths), people))
            })
            .collect();
        let genders: Vec<(Option<usize>, Option<usize>)> = hours
            .by_gender
            .iter()
            .map(|row| {
                let people = count_cell(t, &row.people);
                (people, amount_cell(t, hours_value(&row.hours, |h| h.hundredths), people))
            })
            .collect();
        sum(t, worked, &months.iter().map(|(_, hours)| *hours).collect::<Vec<_>>());
        sum(t, worked, &genders.iter().map(|(_, hours)| *hours).collect::<Vec<_>>());
        sum(t, hours_people, &genders.iter().map(|(people, _)| *people).collect::<Vec<_>>());

        let follow_up = &self.follow_up;
        let meetings = count_cell(t, &follow_up.individual_meetings);
        let overdue = count_cell(t, &follow_up.overdue_at_end);
        let group_sessions = follow_up.group_sessions.and_then(|count| count_cell(t, &count));
        let phone_contacts = follow_up.phone_contacts.and_then(|count| count_cell(t, &count));

        let profile = &self.profile;
        let entries = count_cell(t, &profile.entries);
        sum(t, entered, &[entries]);
        let by_gender: Vec<Option<usize>> =
            profile.by_gender.iter().map(|row| count_cell(t, &row.cell.count)).collect();
        let by_situation: Vec<Option<usize>> =
            profile.by_situation_and_gender.iter().map(|row| count_cell(t, &row.cell.count)).collect();
        let by_band: Vec<Option<usize>> =
            profile.by_age_band_and_gender.iter().map(|row| count_cell(t, &row.cell.count)).collect();
        let by_benefit: Vec<Option<usize>> =
            profile.by_benefit.iter().map(|row| count_cell(t, &row.cell.count)).collect();
        let by_quotient: Vec<Option<usize>> =
            profile.by_family_quotient.iter().map(|row| count_cell(t, &row.cell.count)).collect();
        sum(t, entries, &by_gender);
        sum(t, entries, &by_quotient);
        let by_prescriber: Vec<Option<usize>> = self
            .entries
            .iter()
            .flat_map(|entries| &entries.by_prescriber)
            .map(|row| count_cell(t, &row.cell.count))
            .collect();
        if self.entries.is_some() {
            sum(t, entries, &by_prescriber);
        }
        let trainings = self.trainings.as_ref().map(|trainings| {
            [&trainings.started, &trainings.completed, &trainings.certified].map(|count| count_cell(t, count))
        });
        let skills = self.skills_assessments.as_ref().map(|skills| {
            let total = count_cell(t, &skills.count);
            let kinds: Vec<Option<usize>> = skills.by_kind.iter().map(|row| count_cell(t, &row.count)).collect();
            sum(t, total, &kinds);
            (total, kinds)
        });
        let cdi = self.outcomes.cdi.and_then(|count| count_cell(t, &count));
        for (row, gender) in profile.by_gender.iter().zip(&by_gender) {
            let situations: Vec<Option<usize>> = profile
                .by_situation_and_gender
                .iter()
                .zip(&by_situation)
                .filter(|(cell, _)| cell.gender == row.gender)
                .map(|(_, cell)| *cell)
                .collect();
            sum(t, *gender, &situations);
            let bands: Vec<Option<usize>> = profile
                .by_age_band_and_gender
                .iter()
                .zip(&by_band)
                .filter(|(cell, _)| cell.gender == row.gender)
                .map(|(_, cell)| *cell)
                .collect();
            sum(t, *gender, &bands);
        }

        let support = &self.support;
        let actions = count_cell(t, &support.actions);
        let support_cells: Vec<Option<usize>> =
            support.by_domain_and_action.iter().map(|row| count_cell(t, &row.count)).collect();
        sum(t, actions, &support_cells);
        let oriented = count_cell(t, &support.oriented);
        let partners: Vec<Option<usize>> = support.partners.iter().map(|row| count_cell(t, &row.count)).collect();
        sum(t, oriented, &partners);

        let six_months: Vec<Option<usize>> =
            self.outcomes.six_months_after_exit.iter().map(|row| count_cell(t, &row.count)).collect();
        sum(t, outcome(OutcomeField::FollowedUpAtSixMonths), &six_months);
        if let Some(employed) = self
            .outcomes
            .six_months_after_exit
            .iter()
            .position(|row| row.situation == parcours_core::vocabulary::SituationAfterExit::Employed)
        {
            sum(t, outcome(OutcomeField::EmployedAtSixMonths), &[six_months[employed]]);
        }

        let withheld = table.suppress(threshold);
        let w = withheld.as_slice();

        for (field, cell) in OutcomeField::ALL.into_iter().zip(outcome_cells) {
            if cell.is_some_and(|cell| w[cell]) {
                self.outcomes.counts.withhold(field);
            }
        }
        let people = &mut self.people;
        let mut hidden = false;
        for (disclosed, cell) in [
            (&mut people.followed, followed),
            (&mut people.entered, entered),
            (&mut people.exited, exited),
            (&mut people.present_at_end, present),
            (&mut people.distinct_since_start, distinct),
        ] {
            hidden |= hide(disclosed, cell, w);
        }
        if let (Some(pathway), Some((median, mean))) = (&mut people.pathway_days, pathway) {
            hidden |= hide_amount(&mut pathway.median, Some(median), w);
            hidden |= hide_amount(&mut pathway.mean, Some(mean), w);
        }
        people.suppressed = hidden;

        let contracts = &mut self.contracts;
        let mut hidden = hide(&mut contracts.on_contract_at_end, on_contract, w);
        hidden |= hide(&mut contracts.contracts_at_end, contracts_at_end, w);
        hidden |= hide_amount(&mut contracts.fte_at_end, fte_at_end, w);
        contracts.suppressed = hidden;
        for (row, (count, fte)) in contracts.by_kind.iter_mut().zip(kinds) {
            row.suppressed = hide(&mut row.contracts, count, w) | hide_amount(&mut row.fte, fte, w);
        }

        let hours = &mut self.hours;
        let worked_hidden = hide_amount(&mut hours.worked, worked, w);
        if worked_hidden {
            hours.worked_share_of_agreed = Disclosed::Withheld;
        }
        hours.suppressed = worked_hidden | hide(&mut hours.people, hours_people, w);
        // Full-time equivalents worked are the hours worked, divided.
        if let Some(fte_worked) = &mut self.contracts.fte_worked {
            if worked_hidden {
                *fte_worked = Shown::Withheld;
                self.contracts.suppressed = true;
            }
        }
        for (row, (people, worked)) in hours.by_month.iter_mut().zip(months) {
            row.suppressed = hide(&mut row.people, people, w) | hide_amount(&mut row.worked, worked, w);
        }
        for (row, (people, amount)) in hours.by_gender.iter_mut().zip(genders) {
            row.suppressed = hide(&mut row.people, people, w) | hide_amount(&mut row.hours, amount, w);
            if matches!(row.hours, Shown::Withheld) || worked_hidden {
                row.share = Disclosed::Withheld;
                row.suppressed = true;
            }
        }

        let follow_up = &mut self.follow_up;
        follow_up.suppressed =
            hide(&mut follow_up.individual_meetings, meetings, w) | hide(&mut follow_up.overdue_at_end, overdue, w);
        for (count, cell) in
            [(&mut follow_up.group_sessions, group_sessions), (&mut follow_up.phone_contacts, phone_contacts)]
        {
            if let Some(count) = count {
                follow_up.suppressed |= hide(count, cell, w);
            }
        }

        let profile = &mut self.profile;
        let entries_hidden = hide(&mut profile.entries, entries, w);
        profile.suppressed = entries_hidden;
        for (row, cell) in profile.by_gender.iter_mut().zip(by_gender) {
            hide_cell(&mut row.cell, cell, entries_hidden, w);
        }
        for (row, cell) in profile.by_situation_and_gender.iter_mut().zip(by_situation) {
            hide_cell(&mut row.cell, cell, entries_hidden, w);
        }
        for (row, cell) in profile.by_age_band_and_gender.iter_mut().zip(by_band) {
            hide_cell(&mut row.cell, cell, entries_hidden, w);
        }
        for (row, cell) in profile.by_benefit.iter_mut().zip(by_benefit) {
            hide_cell(&mut row.cell, cell, entries_hidden, w);
        }
        for (row, cell) in profile.by_family_quotient.iter_mut().zip(by_quotient) {
            hide_cell(&mut row.cell, cell, entries_hidden, w);
        }
        if let Some(entries) = &mut self.entries {
            for (row, cell) in entries.by_prescriber.iter_mut().zip(by_prescriber) {
                hide_cell(&mut row.cell, cell, entries_hidden, w);
                entries.suppressed |= row.cell.suppressed;
            }
        }
        if let (Some(figures), Some(cells)) = (&mut self.trainings, trainings) {
            let counts = [&mut figures.started, &mut figures.completed, &mut figures.certified];
            for (count, cell) in counts.into_iter().zip(cells) {
                figures.suppressed |= hide(count, cell, w);
            }
        }
        if let (Some(figures), Some((total, kinds))) = (&mut self.skills_assessments, skills) {
            figures.suppressed = hide(&mut figures.count, total, w);
            for (row, cell) in figures.by_kind.iter_mut().zip(kinds) {
                row.suppressed = hide(&mut row.count, cell, w);
            }
        }
        if let Some(count) = &mut self.outcomes.cdi {
            hide(count, cdi, w);
        }

        let support = &mut self.support;
        support.suppressed = hide(&mut support.actions, actions, w) | hide(&mut support.oriented, oriented, w);
        for (row, cell) in support.by_domain_and_action.iter_mut().zip(support_cells) {
            row.suppressed = hide(&mut row.count, cell, w);
        }
        for (row, cell) in support.partners.iter_mut().zip(partners) {
            row.suppressed = hide(&mut row.count, cell, w);
        }
        for (row, cell) in self.outcomes.six_months_after_exit.iter_mut().zip(six_months) {
            row.suppressed = hide(&mut row.count, cell, w);
        }
    }
}

/// Folds the rows of the prescribers that reveal a justice, health or child-protection follow-up
/// into `other`, as evaluators read them everywhere ([`PrescriberKind::is_sensitive`]); `entries`
/// is the total the shares are of.
fn merge_sensitive_prescribers(rows: &mut Vec<PrescriberRow>, entries: u64) {
    let count = |row: &PrescriberRow| match row.cell.count {
        Disclosed::Count(count) => count,
        Disclosed::Rate(_) | Disclosed::Withheld => 0,
    };
    let folded: u64 = rows.iter().filter(|row| row.prescriber.is_sensitive()).map(count).sum();
    if folded == 0 {
        return;
    }
    let other = folded + rows.iter().filter(|row| row.prescriber == PrescriberKind::Other).map(count).sum::<u64>();
    rows.retain(|row| !row.prescriber.is_sensitive() && row.prescriber != PrescriberKind::Other);
    // `other` is the last kind of the list: the rows keep the contract's order.
    let share = Disclosed::Rate(Ratio::new(other, entries).percent());
    rows.push(PrescriberRow {
        prescriber: PrescriberKind::Other,
        cell: Cell { count: Disclosed::Count(other), share, suppressed: false },
    });
}
