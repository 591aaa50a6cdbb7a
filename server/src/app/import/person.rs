//! One person of a sheet: their rows become steps (cells translated and typed, ids derived from
//! content), ordered by date, and checked by the pathway rules against their stream as stored.

use std::collections::HashSet;

use parcours_core::limits::REQUEST_EVENTS_MAX;
use parcours_core::rules::{self, followed_by_of, StreamState};
use parcours_core::store::{AppendError, Store};
use parcours_core::vocabulary::{Date, EventId, NewEvent, PersonalData, Step, StepKind, StreamId};
use serde::Serialize;
use serde_json::{Map, Value};

use super::mapping::Mapping;
use super::{Columns, ImportError, RowError};

/// The namespace of every id an import derives (UUID v5): a fixed, random UUID.
const IMPORT_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5a1e_7d0c_83b4_4f6e_9c21_0b7e_a4d3_96f2);

/// A person's rows, gathered as the sheet is read.
pub struct Rows {
    key: String,
    rows: Vec<(u32, Vec<String>)>,
}

impl Rows {
    pub fn new(key: String) -> Rows {
        Rows { key, rows: Vec::new() }
    }

    pub fn push(&mut self, number: u32, cells: Vec<String>) {
        self.rows.push((number, cells));
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn first_row(&self) -> u32 {
        self.rows.first().map_or(0, |(number, _)| *number)
    }
}

/// What importing a person will append.
pub struct Planned {
    pub stream: StreamId,
    /// Set when the person is already in the store: the stream's version when it was read.
    pub existing: Option<u32>,
    /// The new steps, in the order they are appended (registration first, then by date).
    pub events: Vec<NewEvent>,
    pub already_there: u64,
    pub errors: Vec<RowError>,
    pub first_row: u32,
}

/// A person of the preview: their new steps as envelopes would read (without positions, which
/// only the writer gives).
#[derive(Clone, Debug, Serialize)]
pub struct PreviewPerson {
    pub beneficiary: StreamId,
    pub existing: bool,
    pub events: Vec<PreviewEvent>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PreviewEvent {
    pub id: EventId,
    pub beneficiary: StreamId,
    #[serde(rename = "type")]
    pub kind: StepKind,
    pub occurred_on: Date,
    pub data: Step,
}

impl PreviewPerson {
    /// The name the sheet gives a new person (an existing one is registered already: `None`).
    pub fn name(&self) -> Option<String> {
        self.events.iter().find_map(|event| match event.data.registration()?.identity.as_ref()? {
            parcours_core::vocabulary::IdentityField::Clear(identity) => identity.display_name(),
            parcours_core::vocabulary::IdentityField::Sealed(_) => None,
        })
    }
}

impl Planned {
    pub fn append(&self) -> (StreamId, Option<u32>, Vec<NewEvent>) {
        (self.stream, Some(self.existing.unwrap_or(0)), self.events.clone())
    }

    pub fn preview(&self) -> PreviewPerson {
        PreviewPerson {
            beneficiary: self.stream,
            existing: self.existing.is_some(),
            events: self
                .events
                .iter()
                .map(|event| PreviewEvent {
                    id: event.id.unwrap_or(EventId(uuid::Uuid::nil())),
                    beneficiary: self.stream,
                    kind: event.step.kind(),
                    occurred_on: event.occurred_on,
                    data: event.step.clone(),
                })
                .collect(),
        }
    }
}

/// A step built from a row, before the rules.
struct Candidate {
    row: u32,
    /// The column of its date: where a broken rule is reported.
    column: String,
    date_text: String,
    /// Position of its step in the mapping: the order of steps of one day.
    order: usize,
    event: NewEvent,
}

/// Plans a person's import. Bad cells and broken rules are listed in `errors`; with
/// `skip_bad_rows`, the steps of a bad row are left out and the rest checked again without them.
pub fn plan(
    store: &Store,
    mapping: &Mapping,
    columns: &Columns,
    rows: Rows,
    today: Date,
    skip_bad_rows: bool,
) -> Result<Planned, ImportError> {
    let first_row = rows.first_row();
    let mut errors = Vec::new();
    let (identity, identity_errors) = identity_of(mapping, columns, &rows);
    errors.extend(identity_errors);
    let derived = StreamId(uuid::Uuid::new_v5(
        &IMPORT_NAMESPACE,
        format!("person\u{1f}{}\u{1f}{}", mapping.structure, rows.key).as_bytes(),
    ));
    let (stream, stored) = match existing(store, mapping, &identity)? {
        Some(found) => found,
        None => (derived, store.read_stream(derived, None)?),
    };
    let mut candidates = Vec::new();
    let mut bad_rows = HashSet::new();
    for (number, cells) in &rows.rows {
        let mut row_errors = Vec::new();
        for (order, step) in mapping.steps.iter().enumerate() {
            if step.when_present.as_deref().is_some_and(|column| columns.cell(cells, column).is_empty()) {
                continue;
            }
            match build_step(mapping, columns, &rows.key, *number, cells, order) {
                Ok(candidate) => candidates.push(candidate),
                Err(error) => row_errors.push(error),
            }
        }
        if !row_errors.is_empty() {
            bad_rows.insert(*number);
            errors.extend(row_errors);
        }
    }
    candidates.retain(|candidate| !bad_rows.contains(&candidate.row));
    candidates.sort_by_key(|candidate| (candidate.event.occurred_on, candidate.order, candidate.row));
    // One row per contract repeats the referral on every row: the same content, the same id, one step.
    let mut seen = HashSet::new();
    candidates.retain(|candidate| seen.insert(candidate.event.id));
    let stored_ids: HashSet<EventId> = stored.iter().map(|event| event.id).collect();
    let mut already_there = 0;
    let mut fresh = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let id = candidate.event.id.unwrap_or(EventId(uuid::Uuid::nil()));
        if stored_ids.contains(&id) || store.read_event(id)?.is_some() {
            already_there += 1;
        } else {
            fresh.push(candidate);
        }
    }
    // The registration an earlier import of this person made is there too.
    if stored_ids.contains(&event_id(mapping, &rows.key, StepKind::Registered, None, &Value::Null)) {
        already_there += 1;
    }
    let mut registration = None;
    if stored.is_empty() {
        match registration_of(
            mapping,
            columns,
            &rows,
            &identity,
            fresh.first().map_or(today, |first| first.event.occurred_on),
        ) {
            Ok(event) => registration = Some(event),
            Err(error) => {
                errors.push(error);
                fresh.clear();
            }
        }
    }
    // The rules, against the stream as stored; with `skip_bad_rows`, a row whose step breaks one
    // is left out whole and the rest checked again.
    let (events, rule_errors) = loop {
        let mut state = StreamState::from_events(stored.iter().map(|event| (event.id, event.occurred_on, &event.step)));
        let mut events = Vec::with_capacity(fresh.len() + 1);
        let mut rule_errors = Vec::new();
        let mut broken_row = None;
        for event in registration.iter() {
            if let Err(violation) = rules::check(&state, event.occurred_on, &event.step, today) {
                rule_errors.push(RowError {
                    row: first_row,
                    column: None,
                    value: None,
                    message: violation.to_string(),
                });
            }
            apply(&mut state, event);
            events.push(event.clone());
        }
        for candidate in &fresh {
            match rules::check(&state, candidate.event.occurred_on, &candidate.event.step, today) {
                Ok(()) => {
                    apply(&mut state, &candidate.event);
                    events.push(candidate.event.clone());
                }
                Err(violation) => {
                    rule_errors.push(RowError {
                        row: candidate.row,
                        column: Some(candidate.column.clone()),
                        value: Some(candidate.date_text.clone()),
                        message: format!("étape « {} » refusée : {violation}", candidate.event.step.kind().code()),
                    });
                    if skip_bad_rows {
                        broken_row = Some(candidate.row);
                        break;
                    }
                }
            }
        }
        match broken_row {
            Some(row) => {
                errors.extend(rule_errors.into_iter().filter(|error| error.row == row));
                fresh.retain(|candidate| candidate.row != row);
            }
            None => break (events, rule_errors),
        }
    };
    errors.extend(rule_errors);
    // A new person none of whose steps could be kept is left out altogether.
    let events = if stored.is_empty() && events.len() <= usize::from(registration.is_some()) && !errors.is_empty() {
        Vec::new()
    } else {
        events
    };
    if events.len() > REQUEST_EVENTS_MAX {
        errors.push(RowError {
            row: first_row,
            column: None,
            value: None,
            message: format!("cette personne aurait {} étapes nouvelles ; un import en ajoute au plus {REQUEST_EVENTS_MAX} par personne", events.len()),
        });
    }
    errors.sort_by_key(|error| error.row);
    let existing = (!stored.is_empty()).then_some(stored.len() as u32);
    Ok(Planned { stream, existing, events, already_there, errors, first_row })
}

fn apply(state: &mut StreamState, event: &NewEvent) {
    state.apply(event.id.unwrap_or(EventId(uuid::Uuid::nil())), event.occurred_on, &event.step);
}

/// A person already followed by the mapping's structure with the same names and birth date (their
/// blind key), with their stream; the first by id when there are several.
fn existing(
    store: &Store,
    mapping: &Mapping,
    identity: &PersonalData,
) -> Result<Option<(StreamId, Vec<parcours_core::vocabulary::Envelope>)>, ImportError> {
    let mut candidates = store.blind_keys().same_name_and_birth_date(identity)?;
    candidates.sort_unstable();
    for candidate in candidates {
        let events = store.read_stream(candidate, None)?;
        let is_person = events.first().is_some_and(|event| event.step.kind() == StepKind::Registered);
        // The structure's own people: not one a proposal names while it waits (as for duplicates).
        let structures = followed_by_of(events.iter().map(|event| (event.id, event.occurred_on, &event.step)));
        if is_person && structures.contains(&mapping.structure) {
            return Ok(Some((candidate, events)));
        }
    }
    Ok(None)
}

fn nonempty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// The identity of a person, from the first of their rows that holds each part.
fn identity_of(mapping: &Mapping, columns: &Columns, rows: &Rows) -> (PersonalData, Vec<RowError>) {
    let mut identity = PersonalData::default();
    let mut errors = Vec::new();
    let person = &mapping.person;
    for (number, cells) in &rows.rows {
        if identity.last_name.is_none() {
            identity.last_name = person.last_name.as_deref().and_then(|column| nonempty(columns.cell(cells, column)));
        }
        if identity.first_name.is_none() {
            identity.first_name = person.first_name.as_deref().and_then(|column| nonempty(columns.cell(cells, column)));
        }
        if let (None, Some(column)) = (identity.birth_date, person.birth_date.as_deref()) {
            let text = columns.cell(cells, column);
            if !text.is_empty() {
                match parse_date(text, &mapping.date_format) {
                    Some(date) => identity.birth_date = Some(date),
                    None => errors.push(RowError {
                        row: *number,
                        column: Some(column.into()),
                        value: Some(text.into()),
                        message: format!("date de naissance attendue au format {}", mapping.date_format_in_words()),
                    }),
                }
            }
        }
    }
    (identity, errors)
}

/// The registration of a new person, dated by their first step.
fn registration_of(
    mapping: &Mapping,
    columns: &Columns,
    rows: &Rows,
    identity: &PersonalData,
    occurred_on: Date,
) -> Result<NewEvent, RowError> {
    let (number, cells) = rows.rows.first().map(|(number, cells)| (*number, cells.as_slice())).unwrap_or((0, &[]));
    let person = &mapping.person;
    let mut data = Map::new();
    if let Some(constants) = mapping.constants.get(&StepKind::Registered) {
        for (field, value) in constants {
            set_dotted(&mut data, field, value.clone());
        }
    }
    data.insert("structure".into(), Value::from(mapping.structure.to_string()));
    if let Some(column) = &person.gender {
        let text = columns.cell(cells, column);
        let value = cell_value(mapping, column, "gender", text).map_err(|message| RowError {
            row: number,
            column: Some(column.clone()),
            value: Some(text.into()),
            message,
        })?;
        data.insert("gender".into(), value.unwrap_or_else(|| Value::from("undisclosed")));
    } else if !data.contains_key("gender") {
        data.insert("gender".into(), Value::from("undisclosed"));
    }
    let birth_year = match (&person.birth_year, identity.birth_date) {
        (_, Some(date)) => Some(Value::from(date.year())),
        (Some(column), None) => {
            let text = columns.cell(cells, column);
            cell_value(mapping, column, "birth_year", text).map_err(|message| RowError {
                row: number,
                column: Some(column.clone()),
                value: Some(text.into()),
                message,
            })?
        }
        (None, None) => None,
    };
    let birth_column = person.birth_date.clone().or_else(|| person.birth_year.clone());
    let birth_year = birth_year.ok_or_else(|| RowError {
        row: number,
        column: birth_column,
        value: None,
        message: "l'année de naissance est obligatoire pour inscrire la personne (date ou année de naissance vide)"
            .into(),
    })?;
    data.insert("birth_year".into(), birth_year);
    if identity != &PersonalData::default() {
        let identity = serde_json::to_value(identity).unwrap_or(Value::Null);
        data.insert("identity".into(), identity);
    }
    let data = Value::Object(data);
    let id = event_id(mapping, &rows.key, StepKind::Registered, None, &Value::Null);
    let step = crate::json::step_from_value("data", StepKind::Registered, data).map_err(|error| RowError {
        row: number,
        column: None,
        value: None,
        message: format!("inscription impossible : {}", in_french(&error.message, "")),
    })?;
    Ok(NewEvent { id: Some(id), occurred_on, step })
}

fn build_step(
    mapping: &Mapping,
    columns: &Columns,
    key: &str,
    number: u32,
    cells: &[String],
    order: usize,
) -> Result<Candidate, RowError> {
    let step = &mapping.steps[order];
    let error = |column: &str, text: &str, message: String| RowError {
        row: number,
        column: Some(column.to_owned()),
        value: Some(text.to_owned()),
        message,
    };
    let date_text = columns.cell(cells, &step.occurred_on);
    let occurred_on = parse_date(date_text, &mapping.date_format).ok_or_else(|| {
        let expected = mapping.date_format_in_words();
        let message = if date_text.is_empty() {
            format!("date de l'étape « {} » manquante : attendu une date au format {expected}", step.kind.code())
        } else {
            format!("date attendue au format {expected}")
        };
        error(&step.occurred_on, date_text, message)
    })?;
    let mut data = Map::new();
    if let Some(constants) = mapping.constants.get(&step.kind) {
        for (field, value) in constants {
            set_dotted(&mut data, field, value.clone());
        }
    }
    for (field, column) in &step.data {
        let text = columns.cell(cells, column);
        let value = cell_value(mapping, column, field, text).map_err(|message| error(column, text, message))?;
        if let Some(value) = value {
            set_dotted(&mut data, field, value);
        }
    }
    // A referral is to the mapping's structure unless a column or a constant says otherwise.
    if step.kind == StepKind::Referred && !data.contains_key("structure") {
        data.insert("structure".into(), Value::from(mapping.structure.to_string()));
    }
    let data = Value::Object(data);
    let id = event_id(mapping, key, step.kind, Some(occurred_on), &data);
    let parsed = crate::json::step_from_value("data", step.kind, data);
    let step_kind = step.kind;
    let parsed = parsed.map_err(|problem| {
        // `data.prescriber.kind: …`: the field, hence the column that filled it.
        let field = problem.message.strip_prefix("data.").and_then(|rest| rest.split(':').next()).unwrap_or("");
        let column = step.data.get(field).cloned();
        let text = column.as_deref().map(|column| columns.cell(cells, column).to_owned());
        RowError {
            row: number,
            column,
            value: text,
            message: format!("étape « {} » : {}", step_kind.code(), in_french(&problem.message, field)),
        }
    })?;
    Ok(Candidate {
        row: number,
        column: step.occurred_on.clone(),
        date_text: date_text.to_owned(),
        order,
        event: NewEvent { id: Some(id), occurred_on, step: parsed },
    })
}

/// The id of an imported step: the structure, the person's key and the step's own values, so the
/// same row imported again gives the same id (see the module's doc of `import`).
fn event_id(mapping: &Mapping, key: &str, kind: StepKind, occurred_on: Option<Date>, data: &Value) -> EventId {
    let mut name = format!("{}\u{1f}{key}\u{1f}{}\u{1f}", mapping.structure, kind.code());
    if let Some(date) = occurred_on {
        name.push_str(&date.to_string());
    }
    name.push('\u{1f}');
    canonical(data, &mut name);
    EventId(uuid::Uuid::new_v5(&IMPORT_NAMESPACE, name.as_bytes()))
}

/// JSON with object keys sorted, whatever map serde_json was built with: ids must not depend on a
/// feature flag of a dependency.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn set_dotted(data: &mut Map<String, Value>, field: &str, value: Value) {
    match field.split_once('.') {
        Some((head, rest)) => {
            let slot = data.entry(head.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                set_dotted(inner, rest, value);
            }
        }
        None => {
            data.insert(field.to_owned(), value);
        }
    }
}

/// A date as the mapping's format writes it, or in ISO form.
pub fn parse_date(text: &str, format: &str) -> Option<Date> {
    chrono::NaiveDate::parse_from_str(text, format)
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()
        .map(Date)
}

#[derive(Clone, Copy)]
enum FieldType {
    Text,
    Number,
    Bool,
    Date,
    Month,
    List,
}

/// The type of a field of the contract's steps, by its name (the last part of a dotted key).
fn field_type(field: &str) -> FieldType {
    match field.rsplit('.').next().unwrap_or(field) {
        "weekly_hours" | "hours" | "planned_hours" | "family_quotient" | "months_after_exit" | "birth_year" => {
            FieldType::Number
        }
        "qualifying" => FieldType::Bool,
        "planned_end" | "next_due" => FieldType::Date,
        "month" => FieldType::Month,
        "benefits" | "skills" => FieldType::List,
        _ => FieldType::Text,
    }
}

/// A cell as the value of `field`: translated by the column's `values`, then typed. `None` for
/// an empty cell; a French message naming what was expected otherwise.
fn cell_value(mapping: &Mapping, column: &str, field: &str, text: &str) -> Result<Option<Value>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let kind = field_type(field);
    if let FieldType::List = kind {
        let items = text
            .split([',', ';', '+', '/'])
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| translate(mapping, column, item).map(|value| value.unwrap_or_else(|| Value::from(item))))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Some(Value::Array(items)));
    }
    if let Some(value) = translate(mapping, column, text)? {
        return Ok(Some(value));
    }
    let value = match kind {
        FieldType::Text | FieldType::List => Value::from(text),
        FieldType::Number => {
            let cleaned: String = text.chars().filter(|character| !character.is_whitespace()).collect();
            let number: f64 =
                cleaned.replace(',', ".").parse().map_err(|_| "nombre attendu (par exemple 26 ou 26,5)".to_owned())?;
            if number.fract() == 0.0 && number.abs() < 1e15 {
                Value::from(number as i64)
            } else {
                Value::from(number)
            }
        }
        FieldType::Bool => match parcours_core::store::blind_keys::normalise(text).as_str() {
            "oui" | "o" | "vrai" | "true" | "yes" | "1" | "x" => Value::from(true),
            "non" | "n" | "faux" | "false" | "no" | "0" => Value::from(false),
            _ => return Err("oui ou non attendu".into()),
        },
        FieldType::Date => match parse_date(text, &mapping.date_format) {
            Some(date) => Value::from(date.to_string()),
            None => return Err(format!("date attendue au format {}", mapping.date_format_in_words())),
        },
        FieldType::Month => {
            let month = parse_date(text, &mapping.date_format)
                .or_else(|| parse_date(&format!("{text}-01"), "%Y-%m-%d"))
                .or_else(|| parse_date(&format!("01/{text}"), "%d/%m/%Y"));
            match month {
                Some(date) => Value::from(format!("{:04}-{:02}", date.year(), date.0.format("%m"))),
                None => return Err("mois attendu (aaaa-mm ou mm/aaaa)".into()),
            }
        }
    };
    Ok(Some(value))
}

/// A cell through its column's `values`: `Ok(None)` when the column has none; an error listing
/// the expected cells when it has one and the cell is not in it. Case, accents and spaces aside.
fn translate(mapping: &Mapping, column: &str, text: &str) -> Result<Option<Value>, String> {
    let Some(table) = mapping.values.get(column) else { return Ok(None) };
    if let Some(value) = table.get(text) {
        return Ok(Some(value.clone()));
    }
    let normalised = parcours_core::store::blind_keys::normalise(text);
    for (cell, value) in table {
        if parcours_core::store::blind_keys::normalise(cell) == normalised {
            return Ok(Some(value.clone()));
        }
    }
    let expected: Vec<String> = table.keys().map(|cell| format!("« {cell} »")).collect();
    Err(format!("valeur non prévue par la correspondance ; attendu : {}", expected.join(", ")))
}

/// serde's English message about a field, in French.
fn in_french(message: &str, field: &str) -> String {
    let detail = message.split_once(": ").map_or(message, |(_, detail)| detail);
    if let Some(rest) = detail.strip_prefix("unknown variant ") {
        let expected = rest.split_once("expected ").map_or("", |(_, expected)| expected);
        let expected = expected.trim_start_matches("one of ").replace('`', "");
        return format!("valeur inconnue pour « {field} » ; attendu : {expected}");
    }
    if let Some(rest) = detail.strip_prefix("missing field ") {
        let name = rest.trim().trim_matches('`');
        return format!("le champ obligatoire « {name} » n'est rempli par aucune colonne ni constante");
    }
    if detail.starts_with("invalid type") {
        return format!("type de valeur inattendu pour « {field} » ({detail})");
    }
    if let Some(rest) = detail.strip_prefix("unknown field ") {
        let name = rest.split(',').next().unwrap_or(rest).replace('`', "");
        return format!("le champ « {name} » n'existe pas pour cette étape");
    }
    format!("valeur refusée pour « {field} » : {detail}")
}

/// Why an append was refused, for the person's row.
pub fn append_error_in_french(error: &AppendError) -> String {
    match error {
        AppendError::VersionConflict { expected, actual } => format!(
            "la fiche a changé pendant l'import (version {expected} attendue, {actual} trouvée) ; \
             relancez l'import, qui n'ajoutera que ce qui manque"
        ),
        AppendError::Rule { violation, .. } => violation.to_string(),
        AppendError::Forbidden => "vous ne pouvez pas écrire dans le parcours de cette personne".into(),
        AppendError::DuplicateId(id) => format!("l'évènement {id} existe déjà avec un autre contenu"),
        other => format!("erreur d'enregistrement ({other})"),
    }
}
