//! The report's figures flattened into cells, in the order of the sections: the one list that the
//! CSV and the printable page walk, so both show the same figures under the same ids. A cell's id
//! is also the id of the list behind it, where it has one (`people.followed`).

use std::fmt::{self, Write as _};

use parcours_core::vocabulary::SupportAction;
use serde::{Serialize, Serializer};

use super::activity::ActivityReport;
use super::figure::PATHWAY_DAYS;
use super::sections::{Days, Figures, Fte, Shown};
use crate::disclosed::Disclosed;
use crate::exits::OutcomeField;
use crate::hours::TotalHours;

/// A figure's value as its reader gets it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Value {
    Count(Disclosed),
    Rate(Disclosed),
    Hours(Shown<TotalHours>),
    Fte(Shown<Fte>),
    /// Agreed hours: `None` when no agreement covers the period (not withheld: agreements are public).
    Agreed(Option<TotalHours>),
    /// Agreed full-time equivalents (version 2), public as agreed hours are.
    AgreedFte(Option<Fte>),
    /// A length in days (version 2: pathways); `None` without any.
    Days(Shown<Option<Days>>),
}

impl fmt::Display for Value {
    /// As a CSV cell: withheld and missing values are empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Count(disclosed) | Value::Rate(disclosed) => disclosed.fmt(f),
            Value::Hours(hours) => hours.fmt(f),
            Value::Fte(fte) => fte.fmt(f),
            Value::Agreed(Some(hours)) => hours.fmt(f),
            Value::AgreedFte(Some(fte)) => fte.fmt(f),
            Value::Days(Shown::Value(Some(days))) => days.fmt(f),
            Value::Agreed(None) | Value::AgreedFte(None) | Value::Days(_) => Ok(()),
        }
    }
}

impl Serialize for Value {
    /// As the report's JSON gives the figure.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Count(disclosed) | Value::Rate(disclosed) => disclosed.serialize(serializer),
            Value::Hours(hours) => hours.serialize(serializer),
            Value::Fte(fte) => fte.serialize(serializer),
            Value::Agreed(agreed) => agreed.serialize(serializer),
            Value::AgreedFte(agreed) => agreed.serialize(serializer),
            Value::Days(days) => days.serialize(serializer),
        }
    }
}

impl Value {
    pub fn is_withheld(&self) -> bool {
        matches!(
            self,
            Value::Count(Disclosed::Withheld)
                | Value::Rate(Disclosed::Withheld)
                | Value::Hours(Shown::Withheld)
                | Value::Fte(Shown::Withheld)
                | Value::Days(Shown::Withheld)
        )
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FigureCell {
    /// `people.followed`, `profile.by_gender.female`, `hours.by_month.2024-03.people`...
    pub id: String,
    /// The figure family whose definition applies (`profile.by_gender`).
    pub definition: &'static str,
    pub value: Value,
    /// The share of its total, for the cells of tables that have one.
    pub share: Option<Disclosed>,
    /// The list behind the cell: its rows are what a count counts and an amount sums.
    pub list: Option<String>,
}

struct Cells(Vec<FigureCell>);

impl Cells {
    fn add(&mut self, id: String, definition: &'static str, value: Value, list: Option<String>) -> &mut FigureCell {
        self.0.push(FigureCell { id, definition, value, share: None, list });
        let last = self.0.len() - 1;
        &mut self.0[last]
    }

    /// A count whose list has the same id.
    fn count(&mut self, id: String, definition: &'static str, count: Disclosed) -> &mut FigureCell {
        let list = Some(id.clone());
        self.add(id, definition, Value::Count(count), list)
    }
}

impl Figures {
    /// Every cell, section by section.
    pub fn cells(&self) -> Vec<FigureCell> {
        let mut cells = Cells(Vec::new());
        let c = &mut cells;
        let people = &self.people;
        for (id, count) in [
            ("people.followed", people.followed),
            ("people.entered", people.entered),
            ("people.exited", people.exited),
            ("people.present_at_end", people.present_at_end),
            ("people.distinct_since_start", people.distinct_since_start),
        ] {
            c.count(id.into(), id, count);
        }
        if let Some(pathway) = &people.pathway_days {
            let list = || Some(PATHWAY_DAYS.to_owned());
            c.add(format!("{PATHWAY_DAYS}.median"), PATHWAY_DAYS, Value::Days(pathway.median), list());
            c.add(format!("{PATHWAY_DAYS}.mean"), PATHWAY_DAYS, Value::Days(pathway.mean), list());
        }

        let contracts = &self.contracts;
        c.count("contracts.on_contract_at_end".into(), "contracts.on_contract_at_end", contracts.on_contract_at_end);
        c.count("contracts.contracts_at_end".into(), "contracts.contracts_at_end", contracts.contracts_at_end);
        let at_end = Some("contracts.contracts_at_end".to_owned());
        c.add("contracts.fte_at_end".into(), "contracts.fte_at_end", Value::Fte(contracts.fte_at_end), at_end);
        for row in &contracts.by_kind {
            let id = format!("contracts.by_kind.{}", row.kind);
            c.count(id.clone(), "contracts.by_kind", row.contracts);
            c.add(format!("{id}.fte"), "contracts.by_kind", Value::Fte(row.fte), Some(id));
        }
        if let Some(fte_worked) = contracts.fte_worked {
            // Computed from the hours worked, whose list it has no own rows beside.
            c.add("contracts.fte_worked".into(), "contracts.fte_worked", Value::Fte(fte_worked), None);
        }
        if let Some(agreed_fte) = contracts.agreed_fte {
            c.add("contracts.agreed_fte".into(), "contracts.agreed_fte", Value::AgreedFte(agreed_fte), None);
        }

        let hours = &self.hours;
        let worked = Some("hours.worked".to_owned());
        c.add("hours.worked".into(), "hours.worked", Value::Hours(hours.worked), worked.clone());
        c.add("hours.agreed".into(), "hours.agreed", Value::Agreed(hours.agreed), None);
        let share = Value::Rate(hours.worked_share_of_agreed);
        c.add("hours.worked_share_of_agreed".into(), "hours.worked_share_of_agreed", share, None);
        c.add("hours.people".into(), "hours.people", Value::Count(hours.people), worked);
        for row in &hours.by_month {
            let id = format!("hours.by_month.{}", row.month);
            c.add(id.clone(), "hours.by_month", Value::Hours(row.worked), Some(id.clone()));
            c.add(format!("{id}.people"), "hours.by_month", Value::Count(row.people), Some(id.clone()));
            c.add(format!("{id}.agreed"), "hours.by_month", Value::Agreed(row.agreed), None);
        }
        for row in &hours.by_gender {
            let id = format!("hours.by_gender.{}", row.gender);
            c.add(id.clone(), "hours.by_gender", Value::Hours(row.hours), Some(id.clone())).share = Some(row.share);
            c.add(format!("{id}.people"), "hours.by_gender", Value::Count(row.people), Some(id));
        }

        let follow_up = &self.follow_up;
        for (id, count) in [
            ("follow_up.committees_held", follow_up.committees_held),
            ("follow_up.individual_meetings", follow_up.individual_meetings),
            ("follow_up.overdue_at_end", follow_up.overdue_at_end),
        ] {
            c.count(id.into(), id, count);
        }
        for (id, count) in [
            ("follow_up.group_sessions", follow_up.group_sessions),
            ("follow_up.phone_contacts", follow_up.phone_contacts),
        ] {
            if let Some(count) = count {
                c.count(id.into(), id, count);
            }
        }
        if let Some(entries) = &self.entries {
            for row in &entries.by_prescriber {
                let id = format!("entries.by_prescriber.{}", row.prescriber);
                c.count(id, "entries.by_prescriber", row.cell.count).share = Some(row.cell.share);
            }
        }

        let profile = &self.profile;
        c.count("profile.entries".into(), "profile.entries", profile.entries);
        for row in &profile.by_gender {
            let id = format!("profile.by_gender.{}", row.gender);
            c.count(id, "profile.by_gender", row.cell.count).share = Some(row.cell.share);
        }
        for row in &profile.by_situation_and_gender {
            let id = format!("profile.by_situation_and_gender.{}.{}", row.situation, row.gender);
            c.count(id, "profile.by_situation_and_gender", row.cell.count).share = Some(row.cell.share);
        }
        for row in &profile.by_age_band_and_gender {
            let id = format!("profile.by_age_band_and_gender.{}.{}", row.age_band, row.gender);
            c.count(id, "profile.by_age_band_and_gender", row.cell.count).share = Some(row.cell.share);
        }
        for row in &profile.by_benefit {
            let id = format!("profile.by_benefit.{}", row.benefit);
            c.count(id, "profile.by_benefit", row.cell.count).share = Some(row.cell.share);
        }
        for row in &profile.by_family_quotient {
            let id = format!("profile.by_family_quotient.{}", row.band);
            c.count(id, "profile.by_family_quotient", row.cell.count).share = Some(row.cell.share);
        }

        if let Some(trainings) = &self.trainings {
            for (id, count) in [
                ("trainings.started", trainings.started),
                ("trainings.completed", trainings.completed),
                ("trainings.certified", trainings.certified),
            ] {
                c.count(id.into(), id, count);
            }
        }
        if let Some(skills) = &self.skills_assessments {
            c.count("skills_assessments.count".into(), "skills_assessments", skills.count);
            for row in &skills.by_kind {
                c.count(format!("skills_assessments.by_kind.{}", row.kind), "skills_assessments", row.count);
            }
        }

        let support = &self.support;
        c.count("support.actions".into(), "support.actions", support.actions);
        for row in &support.by_domain_and_action {
            let action = row.action.map_or("unspecified", SupportAction::code);
            c.count(
                format!("support.by_domain_and_action.{}.{action}", row.domain),
                "support.by_domain_and_action",
                row.count,
            );
        }
        c.count("support.oriented".into(), "support.oriented", support.oriented);
        for row in &support.partners {
            c.count(format!("support.partners.{}", row.partner), "support.partners", row.count);
        }

        let outcomes = &self.outcomes;
        for field in OutcomeField::ALL {
            let id = format!("outcomes.{}", field.code());
            let definition = outcome_definition(field);
            let disclosed = outcomes.counts.get(field);
            if matches!(field, OutcomeField::DynamicExitRate | OutcomeField::EmployedAtSixMonthsShare) {
                c.add(id, definition, Value::Rate(disclosed), None);
            } else {
                c.count(id, definition, disclosed);
            }
        }
        if let Some(cdi) = outcomes.cdi {
            c.count("outcomes.cdi".into(), "outcomes.cdi", cdi);
        }
        for row in &outcomes.six_months_after_exit {
            let id = format!("outcomes.six_months_after_exit.{}", row.situation);
            c.count(id, "outcomes.six_months_after_exit", row.count);
        }
        cells.0
    }
}

/// The definition of an outcome cell: the exit categories share one.
fn outcome_definition(field: OutcomeField) -> &'static str {
    match field {
        OutcomeField::Exits => "outcomes.exits",
        OutcomeField::DurableEmployment
        | OutcomeField::TransitionEmployment
        | OutcomeField::PositiveExits
        | OutcomeField::OtherExits
        | OutcomeField::NeutralExits => "outcomes.categories",
        OutcomeField::DynamicExits => "outcomes.dynamic_exits",
        OutcomeField::DynamicExitRate => "outcomes.dynamic_exit_rate",
        OutcomeField::Reenrolled => "outcomes.reenrolled",
        OutcomeField::FollowedUpAtSixMonths => "outcomes.followed_up_at_six_months",
        OutcomeField::EmployedAtSixMonths => "outcomes.employed_at_six_months",
        OutcomeField::EmployedAtSixMonthsShare => "outcomes.employed_at_six_months_share",
    }
}

/// Quotes a CSV field when it holds a separator, a quote or a line break (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

impl ActivityReport {
    /// CSV with a header row: one row per cell, the whole report's first (empty `structure`), then
    /// each structure's own when there are. The first lines say what the report is.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("structure,figure,value,share\n");
        let slugs: Vec<&str> = self.structures.iter().map(|name| name.slug.as_str()).collect();
        let _ = writeln!(csv, ",report.structures,{},", csv_field(&slugs.join(" ")));
        let _ = writeln!(csv, ",report.from,{},", self.from);
        let _ = writeln!(csv, ",report.to,{},", self.to);
        let _ = writeln!(csv, ",report.definitions,{},", self.definitions.0);
        let _ = writeln!(csv, ",report.family_quotient_bands,{},", csv_field(&self.family_quotient_bands_text()));
        let parts = std::iter::once(("", &self.figures))
            .chain(self.by_structure.iter().map(|part| (part.structure.slug.as_str(), &part.figures)));
        for (structure, figures) in parts {
            for cell in figures.cells() {
                let share = cell.share.map(|share| share.to_string()).unwrap_or_default();
                let _ = writeln!(csv, "{structure},{},{},{share}", csv_field(&cell.id), cell.value);
            }
        }
        csv
    }

    /// The thresholds as the query parameter takes them (`700`, `500,1000`).
    pub fn family_quotient_bands_text(&self) -> String {
        let cuts: Vec<String> = self.family_quotient_bands.iter().map(u32::to_string).collect();
        cuts.join(",")
    }
}
