//! Structure-aware variant of `request_bodies`: the fuzzer's bytes choose a JSON body shaped like
//! the real ones (the routes' fields, the event types with their own fields, the contract's codes,
//! dates, the ids of the fixed history) with arbitrary values mixed in, so that the search spends
//! its time past the JSON syntax, in the reading of each field and in the rules. The body then goes
//! through the same checks as the byte-level target.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Number, Value};

/// Each event type with the fields of its `data` (CONTRACT §3).
const KINDS: &[(&str, &[&str])] = &[
    ("registered", &["structure", "gender", "birth_year", "identity"]),
    (
        "referred",
        &["structure", "prescriber", "programme", "situation", "benefits", "qualification", "family_quotient"],
    ),
    ("contract_started", &["contract_id", "kind", "employer", "weekly_hours", "planned_end", "job"]),
    ("contract_ended", &["contract_id", "reason"]),
    ("hours_worked", &["contract_id", "month", "hours"]),
    ("skills_assessed", &["assessor", "kind", "skills", "summary"]),
    ("training_started", &["training_id", "title", "qualifying", "certification", "planned_hours"]),
    ("training_completed", &["training_id", "result"]),
    ("support_provided", &["domain", "action", "partner"]),
    ("follow_up_held", &["kind", "next_due"]),
    ("exited", &["destination"]),
    ("followed_up_after_exit", &["months_after_exit", "situation"]),
    ("corrected", &["corrects", "reason", "replacement"]),
    ("personal_data_erased", &["reason"]),
    ("structure_updated", &["slug", "name", "kind", "agreed_hours"]),
];

/// Field names that are not in `KINDS`: nested objects and the bodies themselves.
const OTHER_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "birth_date",
    "phone",
    "email",
    "address",
    "name",
    "occurred_on",
    "data",
    "id",
    "type",
    "events",
    "expected_version",
    "role",
    "structures",
    "label",
];

/// Strings a field may hold: every code of the contract's closed lists, slugs, dates, months, the
/// ids of the fixed history (`parcours_server::fuzzing`), and a few near misses.
const WORDS: &[&str] = &[
    "female",
    "male",
    "non_binary",
    "undisclosed",
    "france_travail",
    "mission_locale",
    "cap_emploi",
    "plie",
    "departement",
    "ccas",
    "caf",
    "spip",
    "afpa",
    "chrs",
    "e2c",
    "epide",
    "ase",
    "csapa",
    "self",
    "other",
    "ai",
    "aci",
    "ei",
    "etti",
    "unemployed",
    "long_term_unemployed",
    "inactive",
    "employed",
    "in_training",
    "rsa",
    "ass",
    "aah",
    "none",
    "cap_bep",
    "bac",
    "bac_plus",
    "cddi",
    "cdd",
    "cdi",
    "mise_a_disposition",
    "cui",
    "end_of_term",
    "resignation",
    "dismissal",
    "mutual_agreement",
    "hired_elsewhere",
    "bilan_de_competences",
    "work_situation_assessment",
    "pmsmp",
    "certified",
    "completed",
    "abandoned",
    "budget",
    "health",
    "housing",
    "mobility",
    "family",
    "childcare",
    "digital",
    "legal",
    "language",
    "diagnostic",
    "orientation",
    "assistance",
    "individual",
    "committee",
    "phone",
    "group",
    "cdd_6_months_plus",
    "interim_6_months_plus",
    "civil_service",
    "business_creation",
    "cdd_under_6_months",
    "interim_under_6_months",
    "subsidised_contract",
    "qualifying_training",
    "other_siae",
    "job_seeking",
    "no_news",
    "maternity",
    "moved",
    "retirement",
    "deceased",
    "incarceration",
    "training",
    "unknown",
    "request",
    "retention",
    "admin",
    "coordinator",
    "auditor",
    "evaluator",
    "aci-agen",
    "ei-agen",
    "-bad",
    "Aci",
    "c-1",
    "c-2",
    "t-1",
    "t-2",
    "2024-01-10",
    "2024-02-29",
    "2025-06-30",
    "2025-07-01",
    "2023-02-29",
    "0000-01-01",
    "+10000-01-01",
    "2024-03",
    "2024-13",
    "9999-12",
    "2024-3",
    "00000000-0000-0000-0000-000000000001",
    "00000000-0000-0000-0000-000000000002",
    "00000000-0000-0000-0000-000000000003",
    "00000000-0000-0000-0000-000000000004",
    "0193c9a2-0000-7000-8000-000000000001",
    "",
    " ",
    "é",
    "\u{0}",
];

/// Deep enough for every real body (an append's `events[i].data.replacement.data.identity`).
const DEPTH_MAX: u32 = 6;

fn pick<'a>(u: &mut Unstructured, list: &[&'a str]) -> Result<&'a str> {
    Ok(list[u.choose_index(list.len())?])
}

fn key(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=9)? {
        0 => u.arbitrary()?,
        1..=3 => pick(u, OTHER_KEYS)?.to_owned(),
        _ => {
            let (_, fields) = KINDS[u.choose_index(KINDS.len())?];
            pick(u, fields)?.to_owned()
        }
    })
}

fn number(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=5)? {
        0 => Value::from(u.int_in_range(0u32..=200)?),
        1 => Value::from(u.int_in_range(1900u32..=2100)?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<u64>()?),
        4 => Number::from_f64(f64::from(u.int_in_range(0u32..=100_000)?) / 100.0).map_or(Value::Null, Value::Number),
        _ => Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
    })
}

fn value(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let choices = if depth >= DEPTH_MAX { 5 } else { 8 };
    Ok(match u.choose_index(choices)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => number(u)?,
        3 => Value::String(pick(u, WORDS)?.to_owned()),
        4 => Value::String(u.arbitrary()?),
        5 => Value::Array((0..u.int_in_range(0..=4)?).map(|_| value(u, depth + 1)).collect::<Result<_>>()?),
        6 => object(u, depth + 1, None)?,
        _ => data(u, depth + 1)?,
    })
}

/// An object with keys from `fields` when given (each kept or left out), plus random ones.
fn object(u: &mut Unstructured, depth: u32, fields: Option<&[&str]>) -> Result<Value> {
    let mut map = Map::new();
    for field in fields.unwrap_or_default() {
        if u.ratio(4, 5)? {
            map.insert((*field).to_owned(), value(u, depth + 1)?);
        }
    }
    for _ in 0..u.int_in_range(0..=if fields.is_some() { 1 } else { 4 })? {
        map.insert(key(u)?, value(u, depth + 1)?);
    }
    Ok(Value::Object(map))
}

/// The `data` of some event type.
fn data(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let (_, fields) = KINDS[u.choose_index(KINDS.len())?];
    object(u, depth, Some(fields))
}

fn event(u: &mut Unstructured) -> Result<Value> {
    let index = u.choose_index(KINDS.len())?;
    let (kind, fields) = KINDS[index];
    let mut event = Map::new();
    if u.ratio(1, 3)? {
        event.insert("id".into(), Value::String(pick(u, WORDS)?.to_owned()));
    }
    event.insert("type".into(), if u.ratio(15, 16)? { kind.into() } else { value(u, 1)? });
    event.insert("occurred_on".into(), Value::String(pick(u, WORDS)?.to_owned()));
    event.insert("data".into(), object(u, 1, Some(fields))?);
    if u.ratio(1, 16)? {
        event.insert(key(u)?, value(u, 1)?);
    }
    Ok(Value::Object(event))
}

fn body(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=5)? {
        0 => json!({ "occurred_on": pick(u, WORDS)?, "data": object(u, 1, Some(KINDS[0].1))? }),
        1 => json!({ "name": pick(u, WORDS)?, "kind": pick(u, WORDS)?, "agreed_hours": object(u, 1, None)? }),
        2 => json!({ "role": pick(u, WORDS)?, "structures": [pick(u, WORDS)?], "label": value(u, 1)? }),
        3 => object(u, 0, None)?,
        _ => {
            let events = (0..u.int_in_range(0..=4)?).map(|_| event(u)).collect::<Result<Vec<_>>>()?;
            let mut body = json!({ "events": events });
            if u.ratio(1, 3)? {
                body["expected_version"] = number(u)?;
            }
            body
        }
    })
}

fuzz_target!(|bytes: &[u8]| {
    let mut u = Unstructured::new(bytes);
    if let Ok(body) = body(&mut u) {
        let text = serde_json::to_vec(&body).expect("a JSON value renders");
        parcours_server::fuzzing::request_bodies(&text);
    }
});
