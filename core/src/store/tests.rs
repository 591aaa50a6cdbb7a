//! The store as its callers see it, plus the crash-repair path seen from inside.

use std::collections::HashMap;
use std::path::Path;

use serde_json::json;

use super::*;
use crate::vocabulary::{Answer, Date, StepKind};

fn step(kind: &str, data: serde_json::Value) -> Step {
    Step::deserialize_data(kind.parse::<StepKind>().unwrap(), data).unwrap()
}

fn event(on: &str, kind: &str, data: serde_json::Value) -> NewEvent {
    NewEvent { id: None, occurred_on: on.parse::<Date>().unwrap(), step: step(kind, data) }
}

pub(super) fn registration(name: &str) -> NewEvent {
    event(
        "2024-01-02",
        "registered",
        json!({"structure": "aci-agen", "gender": "female", "birth_year": 1990,
               "identity": {"first_name": name, "email": format!("{name}@example.org")}}),
    )
}

pub(super) fn referral(on: &str) -> NewEvent {
    event(
        on,
        "referred",
        json!({"structure": "aci-agen", "prescriber": {"kind": "france_travail"}, "situation": "unemployed"}),
    )
}

fn open(dir: &Path) -> Store {
    open_with(dir, StoreOptions::default())
}

/// Opens the store, waiting a little while sled's lock is still held by the store just dropped in
/// this process: sled 0.34 writes its buffers on threads of its own pool, each holding the data
/// file until its write is done, so the file (and its lock) can outlive the `Db` by a moment
/// (seen once, under load, in a test that closes and reopens). Between processes the lock goes
/// with the process.
fn open_with(dir: &Path, options: StoreOptions) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(dir, options.clone()) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            opened => return opened.unwrap(),
        }
    }
}

pub(super) fn actor() -> Actor {
    Actor("test".into())
}

#[test]
fn appends_read_back_in_order_with_gap_free_versions_and_positions() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (a, b) = (StreamId::generate(), StreamId::generate());
    let first = store.append(a, Some(0), vec![registration("Alice"), referral("2024-01-03")], actor()).unwrap();
    assert_eq!((first.version, first.position, first.replayed), (2, 2, false));
    let second = store.append(b, None, vec![registration("Bob")], actor()).unwrap();
    assert_eq!((second.version, second.position), (1, 3));
    let third = store.append(a, Some(2), vec![referral("2024-01-04")], actor());
    assert!(
        matches!(third, Err(AppendError::Rule { index: 0, ref violation }) if violation.rule() == "episode_already_open")
    );

    let stream = store.read_stream(a, None).unwrap();
    assert_eq!(stream.iter().map(|e| (e.version, e.position)).collect::<Vec<_>>(), vec![(1, 1), (2, 2)]);
    assert_eq!(stream[0].recorded_by, actor());
    let log = store.read_log(0, 10).unwrap();
    assert_eq!(log.iter().map(|e| e.position).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(store.read_log(1, 1).unwrap()[0].position, 2);
    // `after` comes from a query string: the largest one reads nothing, rather than overflow.
    assert!(store.read_log(3, 10).unwrap().is_empty());
    assert!(store.read_log(u64::MAX, 10).unwrap().is_empty());
    assert_eq!(store.last_position(), 3);
    let report = store.verify().unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!((report.events, report.streams), (3, 2));
    assert_eq!(report.head_hash, store.head().unwrap().hash);
}

#[test]
fn appends_of_many_new_people_are_answered_in_order_and_their_identities_open_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let taken = StreamId::generate();
    store.append(taken, None, vec![registration("Zoé")], actor()).unwrap();
    let people: Vec<StreamId> = (0..40).map(|_| StreamId::generate()).collect();
    let mut appends: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(at, stream)| (*stream, Some(0), vec![registration(&format!("P{at}")), referral("2024-01-03")]))
        .collect();
    // Refused, each for its own reason, without stopping the others.
    appends.insert(3, (taken, Some(0), vec![registration("Zoé")]));
    appends.insert(7, (StreamId::generate(), Some(0), vec![]));
    let answers = store.append_many(appends, &Author::from(actor()));
    assert_eq!(answers.len(), people.len() + 2);
    assert!(matches!(answers[3], Err(AppendError::VersionConflict { expected: 0, actual: 1 })));
    assert!(matches!(answers[7], Err(AppendError::NoEvents)));
    assert!(answers.iter().enumerate().filter(|(at, _)| ![3, 7].contains(at)).all(|(_, answer)| answer.is_ok()));
    drop(store);

    let store = open(dir.path());
    for (at, stream) in people.iter().enumerate() {
        let events = store.read_stream(*stream, None).unwrap();
        assert_eq!(events.len(), 2);
        let Some(IdentityField::Sealed(sealed)) = &events[0].step.registration().unwrap().identity else {
            panic!("the identity is sealed in the store");
        };
        let identity = store.unseal(*stream, events[0].id, sealed).unwrap().expect("the key is there");
        assert_eq!(identity.first_name.as_deref(), Some(format!("P{at}").as_str()));
    }
}

/// `append_many` makes the keys of a batch durable together before its events: every step that
/// will be sealed asks for one, free text included (a person known by no name may have an employer).
#[test]
fn a_step_needs_its_persons_key_for_an_identity_sensitive_answers_or_free_text() {
    let anonymous =
        event("2024-01-02", "registered", json!({"structure": "aci-agen", "gender": "male", "birth_year": 1980}));
    let contract = |employer: Option<&str>| {
        event(
            "2024-01-04",
            "contract_started",
            json!({"contract_id": "c1", "kind": "cddi", "weekly_hours": 26, "employer": employer}),
        )
    };
    assert!(needs_key(&registration("Zoé").step));
    assert!(!needs_key(&anonymous.step));
    assert!(!needs_key(&referral("2024-01-03").step));
    assert!(!needs_key(&contract(None).step));
    assert!(needs_key(&contract(Some("Jardins du Gravier")).step), "free text is sealed with the key");
}

#[test]
fn a_stale_expected_version_is_a_conflict_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    store.append(stream, None, vec![registration("Alice")], actor()).unwrap();
    let conflict = store.append(stream, Some(0), vec![referral("2024-01-03")], actor());
    assert!(matches!(conflict, Err(AppendError::VersionConflict { expected: 0, actual: 1 })));
    assert_eq!(store.last_position(), 1);
}

#[test]
fn a_retry_with_the_same_ids_is_idempotent_and_other_content_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    let mut events = vec![registration("Alice"), referral("2024-01-03")];
    for (n, event) in events.iter_mut().enumerate() {
        event.id = Some(EventId(uuid::Uuid::from_u128(n as u128 + 100)));
    }
    let original = store.append(stream, Some(0), events.clone(), actor()).unwrap();
    let retry = store.append(stream, Some(0), events.clone(), actor()).unwrap();
    assert!(retry.replayed);
    assert_eq!((retry.version, retry.position, &retry.ids), (original.version, original.position, &original.ids));
    assert_eq!(store.last_position(), 2, "a retry stores nothing");

    let mut changed = events.clone();
    changed[1].occurred_on = "2024-01-05".parse().unwrap();
    assert!(matches!(store.append(stream, None, changed, actor()), Err(AppendError::DuplicateId(_))));
    let mut twice = vec![referral("2024-01-03"), referral("2024-01-03")];
    twice[0].id = Some(EventId(uuid::Uuid::from_u128(7)));
    twice[1].id = twice[0].id;
    assert!(matches!(store.append(StreamId::generate(), None, twice, actor()), Err(AppendError::DuplicateId(_))));
    assert_eq!(store.last_position(), 2);
}

#[test]
fn a_refused_event_in_a_request_refuses_the_whole_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    let refused = store.append(stream, None, vec![registration("Alice"), referral("2023-01-01")], actor());
    assert!(matches!(refused, Err(AppendError::Rule { index: 1, .. })), "{refused:?}");
    assert_eq!(store.last_position(), 0);
    assert!(store.read_stream(stream, None).unwrap().is_empty());
    assert!(matches!(store.append(stream, None, vec![], actor()), Err(AppendError::NoEvents)));
}

#[test]
fn a_refused_request_leaves_a_known_stream_as_it_was() {
    // The writer keeps each stream's rule state between appends and hands it to the request it
    // checks: a refusal, wherever it happens in the request, must not leave its events behind.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    store.append(stream, Some(0), vec![registration("Alice"), referral("2024-01-03")], actor()).unwrap();
    let contract = |on: &str, employer: String| {
        event(
            on,
            "contract_started",
            json!({"contract_id": "c1", "kind": "cddi", "weekly_hours": 26, "employer": employer}),
        )
    };
    // The first event passes, the second breaks a rule (a second referral in an open episode).
    let refused = store.append(stream, None, vec![contract("2024-01-08", "A".into()), referral("2024-01-09")], actor());
    assert!(matches!(refused, Err(AppendError::Rule { index: 1, .. })), "{refused:?}");
    // One event that passes the rules but is too large to store.
    let refused = store.append(stream, None, vec![contract("2024-01-08", "B".repeat(20_000))], actor());
    assert!(matches!(refused, Err(AppendError::EventTooLarge { index: 0, .. })), "{refused:?}");

    let accepted = store.append(stream, Some(2), vec![contract("2024-01-08", "C".into())], actor()).unwrap();
    assert_eq!((accepted.version, accepted.position), (3, 3));
    let versions: Vec<u32> = store.read_stream(stream, None).unwrap().iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![1, 2, 3]);
    assert!(store.verify().unwrap().is_intact());
}

#[test]
fn concurrent_writers_get_a_gap_free_log_that_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let acknowledged: Vec<Appended> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                scope.spawn(move || {
                    let stream = StreamId::generate();
                    let mut acks = vec![store.append(stream, Some(0), vec![registration("W")], actor()).unwrap()];
                    for month in 1..=9 {
                        let on = format!("2024-0{month}-10");
                        let ack = if month % 2 == 1 {
                            store.append(stream, None, vec![referral(&on)], actor())
                        } else {
                            store.append(
                                stream,
                                None,
                                vec![event(&on, "exited", json!({"destination": "cdi"}))],
                                actor(),
                            )
                        };
                        acks.push(ack.unwrap());
                    }
                    acks
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(acknowledged.len(), 160);
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.last_position(), 160);
    let positions: Vec<u64> = store.read_log(0, 1000).unwrap().iter().map(|e| e.position).collect();
    assert_eq!(positions, (1..=160).collect::<Vec<_>>());
    for ack in &acknowledged {
        let stored = store.read_event(ack.ids[0]).unwrap().unwrap();
        assert_eq!((stored.position, stored.version), (ack.position, ack.version));
    }
    assert!(store.verify().unwrap().is_intact());
    // The chain continues across the reopen.
    store.append(StreamId::generate(), None, vec![registration("After")], actor()).unwrap();
    assert!(store.verify().unwrap().is_intact());
}

#[test]
fn as_of_keeps_what_was_recorded_by_then() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    store.append(stream, None, vec![registration("Alice")], actor()).unwrap();
    let first = store.read_stream(stream, None).unwrap()[0].recorded_at;
    std::thread::sleep(std::time::Duration::from_millis(5));
    store.append(stream, None, vec![referral("2024-01-03")], actor()).unwrap();
    assert_eq!(store.read_stream(stream, Some(first)).unwrap().len(), 1);
    assert_eq!(store.read_stream(stream, None).unwrap().len(), 2);
}

#[test]
fn personal_data_is_sealed_on_disk_and_gone_once_its_key_is_destroyed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    store.append(stream, None, vec![registration("Canarybird")], actor()).unwrap();
    let registered = &store.read_stream(stream, None).unwrap()[0];
    let Step::Registered(data) = &registered.step else { panic!("not a registration") };
    let Some(IdentityField::Sealed(sealed)) = &data.identity else { panic!("identity not sealed") };
    let opened = store.unseal(stream, registered.id, sealed).unwrap().unwrap();
    assert_eq!(opened.first_name.as_deref(), Some("Canarybird"));
    drop(store);
    assert!(!contains(dir.path(), b"Canarybird"), "the name is in clear on disk");

    let store = open(dir.path());
    assert!(store.destroy_key(stream).unwrap());
    assert_eq!(store.unseal(stream, registered.id, sealed).unwrap(), None);
    assert!(store.verify().unwrap().is_intact(), "erasure leaves the chain intact");
}

#[test]
fn sensitive_esf_answers_are_sealed_on_disk_and_gone_with_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    let answered = event(
        "2024-01-03",
        "referred",
        json!({"structure": "aci-agen", "prescriber": {"kind": "france_travail"}, "situation": "unemployed",
               "education_level": "isced_0_2", "rural_area": false, "disability": true,
               "third_country_national": "refused", "homeless_or_housing_exclusion": true}),
    );
    store.append(stream, None, vec![registration("Canarybird"), answered], actor()).unwrap();
    let referral = &store.read_stream(stream, None).unwrap()[1];
    let Step::Referred(stored) = &referral.step else { panic!("not a referral") };
    // As stored: the clear answers only, the sensitive ones in one ciphertext.
    assert_eq!(
        (stored.education_level.map(|level| level.code()), stored.rural_area),
        (Some("isced_0_2"), Some(Answer::No))
    );
    assert!(stored.sensitive_answers().is_empty(), "no sensitive answer is stored clear");
    let sealed = stored.sealed_answers.clone().expect("sealed answers");
    let opened = store.unseal_answers(stream, referral.id, &sealed).unwrap().unwrap();
    let expected = SensitiveAnswers {
        disability: Some(Answer::Yes),
        third_country_national: Some(Answer::Refused),
        homeless_or_housing_exclusion: Some(Answer::Yes),
        ..SensitiveAnswers::default()
    };
    assert_eq!(opened, expected);
    // Bound to its event: the same bytes do not open as another event's.
    assert!(store.unseal_answers(stream, EventId::generate(), &sealed).is_err());
    assert!(store.verify().unwrap().is_intact());

    assert!(store.destroy_key(stream).unwrap());
    assert_eq!(store.unseal_answers(stream, referral.id, &sealed).unwrap(), None, "erased with the identity");
    assert!(store.verify().unwrap().is_intact(), "erasure leaves the chain intact");
}

#[test]
fn free_text_is_sealed_on_disk_read_back_by_the_key_and_gone_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    let assessed = event(
        "2024-01-05",
        "skills_assessed",
        json!({"assessor": "AFPA Agen", "kind": "pmsmp", "skills": ["soudure"],
               "summary": "Canarysummary: angoisses, suivi au CMP"}),
    );
    let support = event("2024-01-06", "support_provided", json!({"domain": "housing", "partner": "SIAO 47"}));
    let steps = vec![registration("Canarybird"), referral("2024-01-03"), assessed.clone(), support];
    store.append(stream, None, steps, actor()).unwrap();
    let mut events = store.read_stream(stream, None).unwrap();
    events.remove(1);
    // As stored: the closed list in clear, the text out of the step and sealed beside it.
    let Step::SkillsAssessed(stored) = &events[1].step else { panic!("not an assessment") };
    assert_eq!((stored.kind.code(), stored.assessor.as_str(), stored.summary.as_ref()), ("pmsmp", "", None));
    assert!(events[1].sealed_text.is_some());
    assert_eq!(store.unseal_text(&events[1]).unwrap(), Some(assessed.step.clone()), "read back whole");
    let Step::SupportProvided(support) = &events[2].step else { panic!("not a support action") };
    assert_eq!((support.partner.as_deref(), &events[2].sealed_text), (Some("SIAO 47"), &None), "a partner stays");
    // Bound to its event: moved to another, it opens nothing.
    let mut moved = events[1].clone();
    moved.id = EventId::generate();
    assert!(store.unseal_text(&moved).is_err());
    // A retry of the same request is the same bytes, so an idempotent success.
    let mut retried = assessed.clone();
    retried.id = Some(events[1].id);
    let replay = store.append(stream, None, vec![retried], actor()).unwrap();
    assert!(replay.replayed, "a retry with the same text is recognised");
    drop(store);
    assert!(!contains(dir.path(), b"Canarysummary"), "the summary is in clear on disk");
    assert!(!contains(dir.path(), b"AFPA Agen"), "the assessor is in clear on disk");

    let store = open(dir.path());
    assert!(store.destroy_key(stream).unwrap());
    assert_eq!(store.unseal_text(&events[1]).unwrap(), None, "gone with the key");
    assert!(store.verify().unwrap().is_intact(), "erasure leaves the chain intact");
}

/// A log written before record format 5 holds free text in clear; a client retrying one of its
/// appends after the upgrade sends the same step, which the store now seals: still the same event.
#[test]
fn a_retry_of_a_step_stored_before_free_text_was_sealed_is_still_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let stream = StreamId::generate();
    let registered =
        event("2024-01-02", "registered", json!({"structure": "aci-agen", "gender": "female", "birth_year": 1990}));
    let assessed = |summary: &str| {
        let mut assessed =
            event("2024-01-05", "skills_assessed", json!({"assessor": "AFPA", "kind": "pmsmp", "summary": summary}));
        assessed.id = Some(EventId(uuid::Uuid::from_u128(3)));
        assessed
    };
    let mut chain = ([0u8; 32], Vec::new());
    for (n, new) in [registered, referral("2024-01-03"), assessed("Synthèse d'avant")].into_iter().enumerate() {
        let envelope = Envelope {
            id: new.id.unwrap_or_else(|| EventId(uuid::Uuid::from_u128(n as u128 + 1))),
            stream,
            version: n as u32 + 1,
            position: n as u64 + 1,
            occurred_on: new.occurred_on,
            recorded_at: Timestamp::from_millis(1_704_189_600_000 + n as i64).unwrap(),
            recorded_by: actor(),
            step: new.step,
            sealed_text: None,
            prev_hash: chain.0,
            stream_prev_hash: chain.0,
        };
        chain.0 = page::hash(&page::encode_record(&envelope).unwrap());
        chain.1.push(Ok(envelope));
    }
    Store::import(dir.path(), StoreOptions::default(), chain.1.into_iter()).unwrap();
    let store = open(dir.path());
    let stored = &store.read_stream(stream, None).unwrap()[2];
    assert_eq!(stored.sealed_text, None, "stored as before format 5");

    let retried = store.append(stream, None, vec![assessed("Synthèse d'avant")], actor()).unwrap();
    assert!(retried.replayed, "the same step, text included");
    let other = store.append(stream, None, vec![assessed("Une autre synthèse")], actor());
    assert!(matches!(other, Err(AppendError::DuplicateId(_))), "another text under that id: {other:?}");
}

fn contains(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        if path.is_dir() {
            contains(&path, needle)
        } else {
            std::fs::read(&path).unwrap().windows(needle.len()).any(|w| w == needle)
        }
    })
}

/// What a crash after the page write and before the index writes leaves behind: the stream's
/// events from `lost[0]` on written but not indexed.
fn lose_index_from(store: &Store, stream: StreamId, lost: &[EventId]) {
    let first = store.read_event(lost[0]).unwrap().unwrap().version;
    for id in lost {
        store.inner.trees.ids.remove(id.as_bytes()).unwrap();
    }
    stream_index::forget_from(&store.inner.trees.streams, stream, first);
}

#[test]
fn opening_repairs_indexes_lost_in_a_crash_between_log_and_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    let ack = store.append(stream, None, vec![registration("Alice"), referral("2024-01-03")], actor()).unwrap();
    lose_index_from(&store, stream, &ack.ids[1..]);
    assert!(!store.verify().unwrap().is_intact());
    drop(store);
    let store = open(dir.path());
    assert!(store.verify().unwrap().is_intact());
    assert_eq!(store.read_stream(stream, None).unwrap().len(), 2);
    // The rule state is folded from the repaired index: the episode is open.
    let again = store.append(stream, None, vec![referral("2024-01-04")], actor());
    assert!(matches!(again, Err(AppendError::Rule { .. })));
}

#[test]
fn verify_names_the_first_damaged_position() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for name in ["A", "B", "C"] {
        store.append(StreamId::generate(), None, vec![registration(name)], actor()).unwrap();
    }
    let log = &store.inner.trees.log;
    let (key, page) = log.iter().next().unwrap().unwrap();
    let mut bytes = page.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55; // inside the last frame of the first page
    log.insert(key, bytes).unwrap();
    let report = store.verify().unwrap();
    assert!(!report.is_intact());
    assert!(report.problems[0].what.contains("checksum"), "{:?}", report.problems);
}

#[test]
fn a_damaged_id_index_entry_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ack = store.append(StreamId::generate(), None, vec![registration("A")], actor()).unwrap();
    store.inner.trees.ids.insert(ack.ids[0].as_bytes(), &[0u8, 0, 1][..]).unwrap();
    assert!(matches!(store.read_event(ack.ids[0]), Err(StoreError::Damaged { .. })));
}

#[test]
fn a_second_open_of_the_same_directory_says_it_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let _store = open(dir.path());
    match Store::open(dir.path(), StoreOptions::default()) {
        Err(StoreError::Locked(path)) => assert_eq!(path, dir.path()),
        Err(other) => panic!("unclear error: {other}"),
        Ok(_) => panic!("opened twice"),
    }
}

#[test]
fn an_export_imports_into_an_empty_store_with_the_same_head() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for name in ["A", "B"] {
        let stream = StreamId::generate();
        store.append(stream, None, vec![registration(name), referral("2024-02-01")], actor()).unwrap();
    }
    let exported = store.read_log(0, 100).unwrap();
    let head = store.head().unwrap();
    let copy = tempfile::tempdir().unwrap();
    let report = Store::import(copy.path(), StoreOptions::default(), exported.clone().into_iter().map(Ok)).unwrap();
    assert_eq!((report.events, report.head_hash), (4, head.hash));
    let restored = open(copy.path());
    assert_eq!(restored.read_log(0, 100).unwrap(), exported);
    assert!(restored.verify().unwrap().is_intact());

    let mut tampered = exported.clone();
    tampered.swap(1, 2);
    let elsewhere = tempfile::tempdir().unwrap();
    let refused = Store::import(elsewhere.path(), StoreOptions::default(), tampered.into_iter().map(Ok));
    assert!(matches!(refused, Err(StoreError::Import { position: 2, .. })), "{refused:?}");
    let reopened = Store::open(elsewhere.path(), StoreOptions::default());
    assert!(matches!(reopened, Err(StoreError::Unfinished(_))), "half a restore is not served: {:?}", reopened.err());
}

/// Links events into both hash chains, as an export of a store would have them.
pub(super) fn chained(mut envelopes: Vec<Envelope>) -> Vec<Envelope> {
    let mut head = [0u8; 32];
    let mut streams = std::collections::HashMap::new();
    for envelope in &mut envelopes {
        envelope.prev_hash = head;
        envelope.stream_prev_hash = streams.get(&envelope.stream).copied().unwrap_or([0u8; 32]);
        head = page::hash(&page::encode_record(envelope).unwrap());
        streams.insert(envelope.stream, head);
    }
    envelopes
}

#[test]
fn a_restore_with_an_event_id_twice_is_refused_at_the_second() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for name in ["A", "B"] {
        let stream = StreamId::generate();
        store.append(stream, None, vec![registration(name), referral("2024-02-01")], actor()).unwrap();
    }
    let mut exported = store.read_log(0, 100).unwrap();
    exported[3].id = exported[1].id;
    let copy = tempfile::tempdir().unwrap();
    let refused = Store::import(copy.path(), StoreOptions::default(), chained(exported).into_iter().map(Ok));
    assert!(
        matches!(refused, Err(StoreError::Import { position: 4, ref problem }) if problem.contains("twice")),
        "{refused:?}"
    );
}

#[test]
fn tokens_authenticate_until_revoked_and_only_their_hash_is_stored() {
    use access::{AccessEntry, Role};
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let structures = vec![crate::vocabulary::Slug::new("aci-agen").unwrap()];
    let (record, token) =
        store.issue_token(Role::Coordinator, structures.clone(), Some("Agnès".into()), actor()).unwrap();
    assert!(token.starts_with("prc_") && token.len() == 4 + 64);
    assert_eq!(store.authenticate(&token).unwrap().unwrap().structures, structures);
    assert!(store.authenticate("prc_0000").unwrap().is_none());
    assert!(store.authenticate(&token.replace("prc_", "xyz_")).unwrap().is_none());

    let stream = StreamId::generate();
    let entry = AccessEntry {
        at: Timestamp::now(),
        actor: Actor(record.id.clone()),
        beneficiary: stream,
        what: "history".into(),
    };
    store.record_access(entry.clone()).unwrap();
    store.record_access(AccessEntry { beneficiary: StreamId::generate(), ..entry.clone() }).unwrap();
    assert_eq!(store.access_log(stream).unwrap(), vec![entry.clone()]);
    let later = AccessEntry { what: "identity".into(), ..entry.clone() };
    store.record_access(later.clone()).unwrap();
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.access_log(stream).unwrap(), vec![entry, later], "a read recorded just before closing is kept");

    let (other, other_token) = store.issue_token(Role::Auditor, Vec::new(), None, actor()).unwrap();
    assert_eq!(store.authenticate(&other_token).unwrap(), Some(other.clone()));
    assert!(store.revoke_token(&record.id, actor()).unwrap());
    assert!(store.authenticate(&token).unwrap().is_none(), "a revoked token no longer opens anything");
    assert_eq!(store.authenticate(&other_token).unwrap(), Some(other), "the other token still does");
    assert!(!store.revoke_token("tok_unknown", actor()).unwrap());
    let listed = store.tokens().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().filter(|(_, revocation)| revocation.is_some()).count(), 1);
    drop(store);
    assert!(!contains(dir.path(), token.as_bytes()), "the token itself is never stored");
}

#[test]
fn a_scoped_author_appends_only_to_the_streams_its_structures_hold() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let scoped = |slug: &str| Author {
        actor: Actor("coordinator".into()),
        scope: WriteScope::Structures(vec![crate::vocabulary::Slug::new(slug).unwrap()]),
    };
    let stream = StreamId::generate();
    let refused = store.append(stream, None, vec![registration("Ines")], scoped("ei-agen"));
    assert!(matches!(refused, Err(AppendError::Forbidden)), "a registration in another structure: {refused:?}");
    let refused = store.append(StreamId::generate(), None, vec![referral("2024-01-03")], scoped("aci-agen"));
    assert!(matches!(refused, Err(AppendError::Forbidden)), "an unknown stream is no one's: {refused:?}");
    store.append(stream, None, vec![registration("Ines")], scoped("aci-agen")).unwrap();

    // Exit from aci-agen and referral onward to ei-agen, by aci-agen, in one request: a proposal
    // (CONTRACT §7), whatever the caller says, until ei-agen accepts it.
    let onward = event(
        "2024-02-01",
        "referred",
        json!({"structure": "ei-agen", "prescriber": {"kind": "plie"}, "situation": "unemployed", "proposed": false}),
    );
    let exit = event("2024-01-31", "exited", json!({"destination": "other_siae"}));
    store.append(stream, None, vec![referral("2024-01-03"), exit, onward], scoped("aci-agen")).unwrap();
    let events = store.read_stream(stream, None).unwrap();
    let Step::Referred(proposal) = &events[3].step else { panic!("the onward referral: {:?}", events[3].step) };
    assert!(proposal.proposed, "a referral to a structure its author has no rights on is a proposal");
    let follow_up = || event("2024-02-02", "follow_up_held", json!({"kind": "individual"}));
    assert!(matches!(store.append(stream, None, vec![follow_up()], scoped("ei-agen")), Err(AppendError::Forbidden)));
    let refused = store.append(stream, None, vec![follow_up()], scoped("aci-agen"));
    assert!(matches!(refused, Err(AppendError::Rule { .. })), "no episode is open before the answer: {refused:?}");
    let accepted = || event("2024-02-02", "referral_accepted", json!({"referral": events[3].id.to_string()}));
    assert!(matches!(store.append(stream, None, vec![accepted()], scoped("aci-agen")), Err(AppendError::Forbidden)));
    store.append(stream, None, vec![accepted()], scoped("ei-agen")).unwrap();
    assert!(matches!(store.append(stream, None, vec![follow_up()], scoped("aci-agen")), Err(AppendError::Forbidden)));
    store.append(stream, None, vec![follow_up()], scoped("ei-agen")).unwrap();
    assert_eq!(store.read_stream(stream, None).unwrap().len(), 6, "refused appends wrote nothing");
}

/// A stream as the `streams` index alone gives it: what every read returned before locations
/// were kept in memory.
fn read_through_index(store: &Store, stream: StreamId) -> Vec<Envelope> {
    let (locations, gap_free) = store.inner.trees.indexed_locations(stream).unwrap();
    assert!(gap_free, "the index of {stream} has a gap");
    locations.into_iter().map(|location| store.inner.trees.envelope_at(location).unwrap()).collect()
}

fn follow_up(day: u32) -> NewEvent {
    let on = Date(chrono::NaiveDate::from_ymd_opt(2024, 2, 1).unwrap() + chrono::Days::new(day.into()));
    NewEvent { occurred_on: on, ..event("2024-02-01", "follow_up_held", json!({"kind": "individual"})) }
}

#[test]
fn stream_reads_from_memory_equal_the_index_after_appends_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (a, b) = (StreamId::generate(), StreamId::generate());
    store.append(a, None, vec![registration("Alice"), referral("2024-01-03")], actor()).unwrap();
    // Read once, so that `a`'s list is in memory before it grows.
    assert_eq!(store.read_stream(a, None).unwrap(), read_through_index(&store, a));
    store.append(b, None, vec![registration("Bob"), referral("2024-01-03")], actor()).unwrap();
    for day in 0..5 {
        store.append(a, None, vec![follow_up(day)], actor()).unwrap();
        store.append(b, None, vec![follow_up(day)], actor()).unwrap();
    }
    store.append(a, None, (5..40).map(follow_up).collect(), actor()).unwrap();
    let read = store.read_stream(a, None).unwrap();
    assert_eq!(read.len(), 42);
    assert_eq!(read.iter().map(|e| e.version).collect::<Vec<_>>(), (1..=42).collect::<Vec<_>>());
    assert_eq!(read, read_through_index(&store, a));
    assert_eq!(store.inner.trees.locations.cached(a).map(|l| l.len()), Some(42));
    assert_eq!(store.read_stream(b, None).unwrap(), read_through_index(&store, b));
    assert!(store.read_stream(StreamId::generate(), None).unwrap().is_empty());

    drop(store);
    let store = open(dir.path());
    assert_eq!(store.inner.trees.locations.cached(a), None, "a reopened store starts from the index");
    assert_eq!(store.read_stream(a, None).unwrap(), read);
    store.append(a, Some(42), vec![follow_up(40)], actor()).unwrap();
    assert_eq!(store.read_stream(a, None).unwrap(), read_through_index(&store, a));
    assert_eq!(store.read_stream(a, None).unwrap().len(), 43);
}

#[test]
fn stream_reads_after_a_crash_repair_see_the_repaired_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    let ack = store.append(stream, None, vec![registration("Alice"), referral("2024-01-03")], actor()).unwrap();
    assert_eq!(store.read_stream(stream, None).unwrap().len(), 2);
    lose_index_from(&store, stream, &ack.ids[1..]);
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.read_stream(stream, None).unwrap(), read_through_index(&store, stream));
    assert_eq!(store.read_stream(stream, None).unwrap().len(), 2);
}

#[test]
fn stream_reads_under_concurrent_appends_are_gap_free_and_see_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let streams: Vec<StreamId> = (0..4).map(|_| StreamId::generate()).collect();
    for stream in &streams {
        store.append(*stream, None, vec![registration("W"), referral("2024-01-03")], actor()).unwrap();
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for stream in &streams {
            let (store, stream) = (&store, *stream);
            scope.spawn(move || {
                for day in 0..60 {
                    let ack = store.append(stream, None, vec![follow_up(day)], actor()).unwrap();
                    // An acknowledged event is in the next read of its stream.
                    let read = store.read_stream(stream, None).unwrap();
                    assert!(read.len() as u32 >= ack.version, "{stream}: {} < {}", read.len(), ack.version);
                }
            });
        }
        let readers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut reads = 0;
                    while !done.load(std::sync::atomic::Ordering::Acquire) {
                        for stream in &streams {
                            let read = store.read_stream(*stream, None).unwrap();
                            let versions: Vec<u32> = read.iter().map(|e| e.version).collect();
                            assert_eq!(versions, (1..=read.len() as u32).collect::<Vec<_>>());
                            assert!(read.iter().all(|e| e.stream == *stream));
                            reads += 1;
                        }
                    }
                    reads
                })
            })
            .collect();
        // The writers are the scope's other threads: wait for them by polling the log's length (a
        // writer that panics stops it growing; the scope then reports the panic).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while store.last_position() < (streams.len() * 62) as u64 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        done.store(true, std::sync::atomic::Ordering::Release);
        for reader in readers {
            assert!(reader.join().unwrap() > 0);
        }
    });
    for stream in &streams {
        let read = store.read_stream(*stream, None).unwrap();
        assert_eq!(read.len(), 62);
        assert_eq!(read, read_through_index(&store, *stream));
    }
}

mod verifiable_histories {
    use super::*;
    use crate::store::verifiable::{check_history, HistoryProblem};

    fn history() -> (tempfile::TempDir, Store, StreamId) {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let stream = StreamId::generate();
        store.append(StreamId::generate(), None, vec![registration("Other")], actor()).unwrap();
        store.append(stream, None, vec![registration("Lou")], actor()).unwrap();
        for month in 1..=4 {
            store.append(stream, None, vec![referral(&format!("2024-0{month}-10"))], actor()).ok();
            let exit = event(&format!("2024-0{month}-20"), "exited", json!({"destination": "cdi"}));
            store.append(stream, None, vec![exit], actor()).unwrap();
        }
        (dir, store, stream)
    }

    #[test]
    fn an_intact_history_verifies_and_each_kind_of_tampering_is_named() {
        let (_dir, store, stream) = history();
        let history = store.verifiable_history(stream, actor()).unwrap().unwrap();
        assert_eq!(history.events.len(), 9);
        assert_eq!(check_history(&history, None), Ok(()));
        assert_eq!(check_history(&history, Some(&store.history_key().unwrap())), Ok(()));
        assert_eq!(store.confirm_history(&history).unwrap(), Ok(()));

        let mut changed = history.clone();
        changed.events[3].occurred_on = "2024-02-11".parse().unwrap();
        assert_eq!(
            check_history(&changed, None),
            Err(HistoryProblem::Changed { version: 4, position: changed.events[3].position })
        );
        assert!(store.confirm_history(&changed).unwrap().is_err(), "the store disagrees too");

        let mut last = history.clone();
        last.events[8].recorded_by = Actor("someone else".into());
        assert!(matches!(check_history(&last, None), Err(HistoryProblem::Changed { version: 9, .. })));

        let mut removed = history.clone();
        removed.events.remove(5);
        assert_eq!(check_history(&removed, None), Err(HistoryProblem::Missing { expected: 6, found: 7 }));

        let mut truncated = history.clone();
        truncated.events.pop();
        assert_eq!(check_history(&truncated, None), Err(HistoryProblem::Truncated { version: 8 }));

        let mut reordered = history.clone();
        reordered.events.swap(2, 3);
        assert_eq!(check_history(&reordered, None), Err(HistoryProblem::Reordered { expected: 3, found: 4 }));

        let mut resigned = history.clone();
        resigned.exported_at = Timestamp::from_millis(0).unwrap();
        assert_eq!(check_history(&resigned, None), Err(HistoryProblem::Signature));
        assert!(matches!(check_history(&history, Some(&[7; 32])), Err(HistoryProblem::UnexpectedKey { .. })));
    }

    /// Tampering with the stored log itself, done as a forger would: re-encoding valid frames.
    #[test]
    fn verify_finds_changed_removed_and_reordered_events_in_the_store() {
        let rewrite = |store: &Store, edit: &dyn Fn(&mut Vec<Envelope>)| {
            let log = &store.inner.trees.log;
            let (key, bytes) = log.iter().next().unwrap().unwrap();
            let first = page::position_from_key(&key).unwrap();
            let mut events: Vec<Envelope> = decode_page(first, &bytes).unwrap().into_iter().map(|(e, _)| e).collect();
            edit(&mut events);
            let mut builder = page::PageBuilder::new();
            for event in &events {
                builder.push(page::record_format(event), &page::encode_record(event).unwrap());
            }
            log.insert(key, builder.finish()).unwrap();
        };
        #[allow(clippy::type_complexity)] // cases as a table: name, damage, position, message
        let cases: [(&str, &dyn Fn(&mut Vec<Envelope>), u64, &str); 3] = [
            ("changed", &|events| events[2].occurred_on = "2023-12-31".parse().unwrap(), 3, "was changed"),
            ("removed", &|events| drop(events.remove(2)), 3, "says it is at position 4"),
            ("reordered", &|events| events.swap(1, 2), 2, "says it is at position 3"),
        ];
        for (what, edit, position, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let store = open(dir.path());
            let stream = StreamId::generate();
            let events: Vec<NewEvent> = vec![registration("Noa"), referral("2024-01-03")]
                .into_iter()
                .chain(
                    (4..=6)
                        .map(|day| event(&format!("2024-01-0{day}"), "follow_up_held", json!({"kind": "individual"}))),
                )
                .collect();
            store.append(stream, None, events, actor()).unwrap();
            rewrite(&store, edit);
            let report = store.verify().unwrap();
            assert!(!report.is_intact(), "{what}");
            assert_eq!(report.problems[0].position, position, "{what}: {:?}", report.problems);
            assert!(report.problems[0].what.contains(expected), "{what}: {:?}", report.problems);
        }
    }
}

#[test]
fn a_store_indexed_one_key_per_event_is_indexed_again_in_chunks_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (anna, bruno) = (StreamId::generate(), StreamId::generate());
    store.append(anna, None, vec![registration("Anna"), referral("2024-01-03")], actor()).unwrap();
    store.append(bruno, None, vec![registration("Bruno")], actor()).unwrap();
    let before = (store.read_stream(anna, None).unwrap(), store.read_stream(bruno, None).unwrap());
    // What an older version left: the index of one key per (stream, version), no chunks.
    let trees = &store.inner.trees;
    let old = trees.db.open_tree(stream_index::OLD_TREE).unwrap();
    for (stream, version) in [(anna, 1u32), (anna, 2), (bruno, 1)] {
        let mut key = [0u8; 20];
        key[..16].copy_from_slice(stream.as_bytes());
        key[16..].copy_from_slice(&version.to_be_bytes());
        old.insert(key, &[0u8; 10]).unwrap();
    }
    trees.streams.clear().unwrap();
    drop((old, store));

    let store = open(dir.path());
    assert!(store.verify().unwrap().is_intact());
    assert_eq!((store.read_stream(anna, None).unwrap(), store.read_stream(bruno, None).unwrap()), before);
    let names = store.inner.trees.db.tree_names();
    assert!(!names.iter().any(|name| name.as_ref() == stream_index::OLD_TREE.as_bytes()), "the old index is dropped");
}

/// A coordinator learns nothing of a person outside its structures: not whether the person exists,
/// nor whether a guessed body matches what is stored. Every such request is refused as an append
/// to an id that does not exist is refused.
#[test]
fn a_scoped_author_gets_the_same_refusal_for_a_person_of_another_structure_and_for_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let scoped = |slug: &str| Author {
        actor: Actor("coordinator".into()),
        scope: WriteScope::Structures(vec![crate::vocabulary::Slug::new(slug).unwrap()]),
    };
    // A person of aci-agen, registered with a client-chosen event id, then erased.
    let person = StreamId::generate();
    let mut registered = registration("Ines");
    registered.id = Some(EventId::generate());
    let follow_up = NewEvent {
        id: Some(EventId::generate()),
        ..event("2024-01-05", "follow_up_held", json!({"kind": "individual"}))
    };
    store.append(person, None, vec![registered.clone(), referral("2024-01-03"), follow_up.clone()], actor()).unwrap();
    let unknown = StreamId::generate();
    let outsider = scoped("ei-agen");

    // The same events again, by a coordinator of another structure: an exact retry would be a
    // 200, the same id with other content a 409; both must be the answer for no one.
    let retried = store.append(person, None, vec![follow_up.clone()], outsider.clone());
    assert!(matches!(retried, Err(AppendError::Forbidden)), "a guessed retry of another structure's step: {retried:?}");
    let nowhere = store.append(unknown, None, vec![follow_up.clone()], outsider.clone());
    assert!(matches!(nowhere, Err(AppendError::Forbidden)), "the same body at an id that does not exist: {nowhere:?}");
    let other_content =
        NewEvent { id: follow_up.id, ..event("2024-01-06", "follow_up_held", json!({"kind": "phone"})) };
    let refused = store.append(person, None, vec![other_content], outsider.clone());
    assert!(matches!(refused, Err(AppendError::Forbidden)), "a guessed id with other content: {refused:?}");
    let again = store.append(person, None, vec![registered.clone()], outsider.clone());
    assert!(matches!(again, Err(AppendError::Forbidden)), "a guessed registration of another structure: {again:?}");
    let mut own = registration("Ines");
    own.step = step(
        "registered",
        json!({"structure": "ei-agen", "gender": "female", "birth_year": 1990, "identity": {"first_name": "Ines"}}),
    );
    own.id = registered.id;
    let own_structure = store.append(person, None, vec![own.clone()], outsider.clone());
    assert!(
        matches!(own_structure, Err(AppendError::Forbidden)),
        "a registration over an existing id: {own_structure:?}"
    );

    // Once erased, a registration with an identity at that id must not say "erased" to an outsider.
    store
        .erase_identity(person, crate::vocabulary::ErasureReason::Request, "2024-01-07".parse().unwrap(), actor())
        .unwrap();
    own.id = None;
    let erased = store.append(person, None, vec![own], outsider);
    assert!(matches!(erased, Err(AppendError::Forbidden)), "an erased person of another structure: {erased:?}");
    assert_eq!(store.read_stream(person, None).unwrap().len(), 4, "nothing was written");
}

/// Reserved streams are no one's pathway, whoever asks: a registration never takes the id of the
/// published reports or of the structure it names, and a pathway step in a structure's stream is
/// refused by the rule that names it, for a coordinator as for an admin.
#[test]
fn registrations_and_pathway_steps_never_reach_reserved_streams() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let coordinator = Author {
        actor: Actor("coordinator".into()),
        scope: WriteScope::Structures(vec![crate::vocabulary::Slug::new("aci-agen").unwrap()]),
    };
    let structure = event("2024-01-01", "structure_updated", json!({"slug": "ei-agen", "name": "EI", "kind": "ei"}));
    store.append(StreamId::of_structure("ei-agen"), None, vec![structure], actor()).unwrap();
    let rule_of = |result: Result<Appended, AppendError>| match result {
        Err(AppendError::Rule { violation, .. }) => violation.rule(),
        other => panic!("expected a rule violation, got {other:?}"),
    };
    for author in [Author::from(actor()), coordinator.clone()] {
        let reports = store.append(StreamId::published_reports(), None, vec![registration("Ines")], author.clone());
        assert_eq!(rule_of(reports), "reserved_stream");
        let own = store.append(StreamId::of_structure("aci-agen"), None, vec![registration("Ines")], author.clone());
        assert_eq!(rule_of(own), "reserved_stream");
        let existing = store.append(StreamId::of_structure("ei-agen"), None, vec![referral("2024-01-03")], author);
        assert_eq!(rule_of(existing), "structure_stream_holds_structure_updates_only");
    }
    let update = event("2024-01-02", "structure_updated", json!({"slug": "ei-agen", "name": "EI 2", "kind": "ei"}));
    let refused = store.append(StreamId::of_structure("ei-agen"), None, vec![update], coordinator);
    assert!(matches!(refused, Err(AppendError::Forbidden)), "a coordinator changes no structure: {refused:?}");
    assert_eq!(store.last_position(), 1);
}

/// A person's key file, where the key store keeps it.
fn key_file(dir: &Path, stream: StreamId) -> std::path::PathBuf {
    let name = stream.0.simple().to_string();
    dir.join("keys").join(&name[..2]).join(format!("{name}.key"))
}

/// The identity of the registration of `stream`, opened if its key still opens it.
fn identity_of(store: &Store, stream: StreamId) -> Option<crate::vocabulary::PersonalData> {
    let registered = &store.read_stream(stream, None).unwrap()[0];
    let Step::Registered(data) = &registered.step else { panic!("not a registration") };
    let Some(IdentityField::Sealed(sealed)) = &data.identity else { panic!("identity not sealed") };
    store.unseal(stream, registered.id, sealed).unwrap()
}

fn erasure() -> NewEvent {
    event("2024-01-08", "personal_data_erased", json!({"reason": "request"}))
}

/// Erasure holds whatever fails: recorded by any path, it destroys the key; a crash between the
/// event and the key's destruction is finished when the store opens; a begun erasure that was
/// never recorded is given up, and the identity opens again.
#[test]
fn an_erasure_destroys_the_key_whatever_path_records_it_and_a_crash_between_is_finished_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (direct, crashed, abandoned) = (StreamId::generate(), StreamId::generate(), StreamId::generate());
    for stream in [direct, crashed, abandoned] {
        store.append(stream, None, vec![registration("Canarybird")], actor()).unwrap();
    }
    // Recorded as any other step (the log route lets an admin do so): the key goes with it.
    store.append(direct, None, vec![erasure()], actor()).unwrap();
    assert_eq!(identity_of(&store, direct), None, "the identity still opens after its erasure was recorded");
    assert!(!key_file(dir.path(), direct).exists(), "the key file outlived the erasure");

    // A crash between the event and the key's destruction: the event, the key file, the mark.
    let bytes = std::fs::read(key_file(dir.path(), crashed)).unwrap();
    store
        .erase_identity(crashed, crate::vocabulary::ErasureReason::Request, "2024-01-08".parse().unwrap(), actor())
        .unwrap();
    store.inner.keys.begin_erasure(abandoned).unwrap();
    assert_eq!(identity_of(&store, abandoned), None, "a begun erasure opens nothing");
    drop(store);
    std::fs::write(key_file(dir.path(), crashed), &bytes).unwrap();
    let mark = dir.path().join("keys").join("erasing").join(crashed.0.simple().to_string());
    std::fs::write(&mark, b"").unwrap();

    let store = open(dir.path());
    assert!(!key_file(dir.path(), crashed).exists(), "opening the store did not destroy the key left behind");
    assert!(!mark.exists());
    assert_eq!(identity_of(&store, crashed), None);
    assert_eq!(identity_of(&store, abandoned).and_then(|data| data.first_name).as_deref(), Some("Canarybird"));
    assert!(store.inner.keys.pending_erasures().unwrap().is_empty());
}

/// The people of an import have their keys in one batch file: erasing one of them leaves their
/// key's bytes in no file of the key directory, and the others' identities open, after reopening too.
#[test]
fn erasing_a_person_whose_key_an_import_batch_holds_removes_the_key_from_disk_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let people: Vec<StreamId> = (0..20).map(|_| StreamId::generate()).collect();
    let appends = people.iter().map(|stream| (*stream, Some(0), vec![registration("Canarybird")])).collect();
    assert!(store.append_many(appends, &Author::from(actor())).iter().all(Result::is_ok));
    let keys = store.keys_for_backup().unwrap();
    let erased = people[5];
    let key = *keys.iter().find(|(stream, _)| *stream == erased).unwrap().1.bytes();
    assert!(!key_file(dir.path(), erased).exists(), "the key is not in a file of its own");
    let in_a_key_file = |needle: &[u8]| {
        let mut dirs = vec![dir.path().join("keys")];
        let mut found = false;
        while let Some(at) = dirs.pop() {
            for entry in std::fs::read_dir(at).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    found |= std::fs::read(&path).unwrap().windows(needle.len()).any(|window| window == needle);
                }
            }
        }
        found
    };
    assert!(in_a_key_file(&key), "the key is on disk before the erasure (the search can fail)");

    store
        .erase_identity(erased, crate::vocabulary::ErasureReason::Request, "2024-01-08".parse().unwrap(), actor())
        .unwrap();
    assert!(!in_a_key_file(&key), "the erased person's key is still in a file of the key directory");
    assert!(!store.has_key_file(erased));
    assert_eq!(identity_of(&store, erased), None);
    drop(store);
    let store = open(dir.path());
    assert_eq!(identity_of(&store, erased), None);
    for stream in people.iter().filter(|stream| **stream != erased) {
        assert_eq!(identity_of(&store, *stream).and_then(|data| data.first_name).as_deref(), Some("Canarybird"));
    }
}

/// The keys are the owner's only: directories 0700, files 0600, and a key directory others can
/// enter is refused by name.
#[cfg(unix)]
#[test]
fn keys_are_private_to_their_owner_and_an_exposed_key_directory_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let stream = StreamId::generate();
    store.append(stream, None, vec![registration("Canarybird")], actor()).unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let file = key_file(dir.path(), stream);
    assert_eq!(mode(&dir.path().join("keys")), 0o700, "keys/");
    assert_eq!(mode(file.parent().unwrap()), 0o700, "a shard of keys/");
    assert_eq!(mode(&file), 0o600, "a key file");
    store.check_key_permissions().unwrap();
    std::fs::set_permissions(file.parent().unwrap(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let refused = store.check_key_permissions().unwrap_err().to_string();
    assert!(refused.contains(&file.parent().unwrap().display().to_string()), "{refused}");
}

fn merged_into(into: StreamId) -> NewEvent {
    event("2024-03-01", "merged_into", json!({"into": into.to_string(), "reason": "doublon"}))
}

fn absorbed(from: StreamId) -> NewEvent {
    event("2024-03-01", "absorbed", json!({"from": from.to_string(), "reason": "doublon"}))
}

#[test]
fn appends_made_together_are_all_stored_in_one_page_or_none_is() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let (absorbed_one, survivor) = (StreamId::generate(), StreamId::generate());
    for stream in [absorbed_one, survivor] {
        store.append(stream, None, vec![registration("Lea"), referral("2024-01-03")], actor()).unwrap();
    }
    // The second part breaks a rule (it names a stream this one never absorbed): the first, which
    // passes on its own, is not stored either.
    let bad_unmerge = event("2024-03-01", "unmerged", json!({"other": absorbed_one.to_string(), "reason": "x"}));
    let refused = store
        .append_together(
            vec![(absorbed_one, None, vec![merged_into(survivor)]), (survivor, None, vec![bad_unmerge])],
            actor(),
        )
        .unwrap_err();
    assert_eq!(refused.part, 1);
    assert!(matches!(refused.error, AppendError::Rule { .. }), "{refused:?}");
    assert_eq!(store.read_stream(absorbed_one, None).unwrap().len(), 2, "the accepted part was dropped");
    assert_eq!(store.last_position(), 4);

    let done = store
        .append_together(
            vec![(absorbed_one, None, vec![merged_into(survivor)]), (survivor, None, vec![absorbed(absorbed_one)])],
            actor(),
        )
        .unwrap();
    assert_eq!((done[0].version, done[0].position, done[1].version, done[1].position), (3, 5, 3, 6));
    let pages: Vec<u64> =
        done.iter().map(|appended| store.inner.trees.location_of_id(appended.ids[0]).unwrap().unwrap().page).collect();
    assert_eq!(pages[0], pages[1], "one page is one sled insert: a crash keeps both or neither");
    // The batch's view of each stream moved on: the absorbed stream now refuses a referral.
    let refused = store.append(absorbed_one, None, vec![referral("2024-03-02")], actor());
    assert!(matches!(refused, Err(AppendError::Rule { .. })), "{refused:?}");
    drop(store);
    let store = open(dir.path());
    assert!(store.verify().unwrap().is_intact());
    assert_eq!(store.read_stream(survivor, None).unwrap().len(), 3);
}

#[test]
fn a_scoped_author_appends_together_only_where_it_may_append_to_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let scoped = Author {
        actor: Actor("coordinator".into()),
        scope: WriteScope::Structures(vec![crate::vocabulary::Slug::new("ei-agen").unwrap()]),
    };
    let (ours, theirs) = (StreamId::generate(), StreamId::generate());
    store.append(theirs, None, vec![registration("Lea"), referral("2024-01-03")], actor()).unwrap();
    let mut ei = registration("Lea");
    let Step::Registered(registered) = &mut ei.step else { unreachable!() };
    registered.structure = crate::vocabulary::Slug::new("ei-agen").unwrap();
    store.append(ours, None, vec![ei], actor()).unwrap();
    let refused = store
        .append_together(vec![(ours, None, vec![merged_into(theirs)]), (theirs, None, vec![absorbed(ours)])], scoped)
        .unwrap_err();
    assert_eq!(refused.part, 1);
    assert!(matches!(refused.error, AppendError::Forbidden), "{refused:?}");
    assert_eq!(store.read_stream(ours, None).unwrap().len(), 1);
}

/// CONTRACT §7: a structure's past is its own. aci-agen (A) and ei-agen (B) hand a person to each
/// other by proposals; neither corrects what was recorded while the other held the person, nor
/// turns a referral into one to the other structure that would count without its answer.
#[test]
fn a_coordinator_cannot_record_or_correct_anything_in_another_structures_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let scoped = |slug: &str| Author {
        actor: Actor(format!("coordinator-{slug}")),
        scope: WriteScope::Structures(vec![crate::vocabulary::Slug::new(slug).unwrap()]),
    };
    let (a, b) = (scoped("aci-agen"), scoped("ei-agen"));
    let to_b = |on: &str| {
        event(
            on,
            "referred",
            json!({"structure": "ei-agen", "prescriber": {"kind": "plie"}, "situation": "unemployed"}),
        )
    };
    let contract = |on: &str, id: &str| {
        event(on, "contract_started", json!({"contract_id": id, "kind": "cddi", "weekly_hours": 26}))
    };
    let exit = |on: &str| event(on, "exited", json!({"destination": "other_siae"}));
    let correct = |target: EventId, replacement: Option<NewEvent>| {
        let replacement = replacement
            .map(|new| crate::vocabulary::Replacement { occurred_on: new.occurred_on, step: Box::new(new.step) });
        let correction = crate::vocabulary::Corrected { corrects: target, reason: "erreur".into(), replacement };
        NewEvent { id: None, occurred_on: "2024-06-01".parse().unwrap(), step: Step::Corrected(correction) }
    };
    let stream = StreamId::generate();
    store.append(stream, None, vec![registration("Ines"), referral("2024-01-03")], a.clone()).unwrap();
    let a_contract = store.append(stream, None, vec![contract("2024-01-04", "c1")], a.clone()).unwrap().ids[0];

    // Before B answers: A holds the person, but no step of A reaches B's pathway, and A cannot
    // turn its own referral into one to B.
    let proposal = store.append(stream, None, vec![exit("2024-01-31"), to_b("2024-02-01")], a.clone()).unwrap().ids[1];
    let refused = store.append(stream, None, vec![contract("2024-02-02", "c2")], a.clone());
    assert!(matches!(refused, Err(AppendError::Rule { .. })), "no episode of B is open for A: {refused:?}");
    let events = store.read_stream(stream, None).unwrap();
    let refused = store.append(stream, None, vec![correct(events[1].id, Some(to_b("2024-01-03")))], a.clone());
    assert!(matches!(refused, Err(AppendError::Forbidden)), "A's referral made one to B: {refused:?}");
    // A may still fix the date of its own proposal: it stays a proposal.
    let proposal = store
        .append(stream, None, vec![correct(proposal, Some(to_b("2024-02-02")))], a.clone())
        .map(|_| proposal)
        .unwrap();
    let events = store.read_stream(stream, None).unwrap();
    let Step::Corrected(fixed) = &events.last().unwrap().step else { panic!("a correction") };
    assert!(matches!(fixed.replacement.as_ref().map(|r| &*r.step), Some(Step::Referred(r)) if r.proposed));

    // B accepts: from then on A appends nothing and corrects nothing, not even the proposal.
    let accepted = event("2024-02-03", "referral_accepted", json!({"referral": proposal}));
    let refused = store.append(stream, None, vec![accepted.clone()], a.clone());
    assert!(matches!(refused, Err(AppendError::Forbidden)), "A answers for B: {refused:?}");
    store.append(stream, None, vec![accepted], b.clone()).unwrap();
    let b_contract = store.append(stream, None, vec![contract("2024-02-04", "c2")], b.clone()).unwrap().ids[0];
    for refused in [
        vec![event("2024-02-05", "follow_up_held", json!({"kind": "individual"}))],
        vec![correct(b_contract, None)],
        vec![correct(proposal, Some(to_b("2024-02-02")))],
    ] {
        let refused = store.append(stream, None, refused, a.clone());
        assert!(matches!(refused, Err(AppendError::Forbidden)), "A in B's episode: {refused:?}");
    }

    // B corrects its accepted referral (the situation at entry): it stays accepted.
    let mut fixed = to_b("2024-02-01");
    if let Step::Referred(referred) = &mut fixed.step {
        referred.situation = crate::vocabulary::Situation::Inactive;
    }
    store.append(stream, None, vec![correct(proposal, Some(fixed))], b.clone()).unwrap();
    let state = crate::rules::StreamState::from_events(
        store.read_stream(stream, None).unwrap().iter().map(|event| (event.id, event.occurred_on, &event.step)),
    );
    let episode = state.pathway.open_episode.as_ref().expect("B's episode is still open");
    assert_eq!(episode.structure.as_str(), "ei-agen");

    // B exits and proposes the person back to A, which accepts: A holds the person again, and
    // still corrects only its own time, never B's contract; B no longer corrects A's.
    let to_a = event(
        "2024-03-02",
        "referred",
        json!({"structure": "aci-agen", "prescriber": {"kind": "plie"}, "situation": "unemployed"}),
    );
    let back = store.append(stream, None, vec![exit("2024-03-01"), to_a], b.clone()).unwrap().ids[1];
    store
        .append(stream, None, vec![event("2024-03-03", "referral_accepted", json!({"referral": back}))], a.clone())
        .unwrap();
    let refused = store.append(stream, None, vec![correct(b_contract, None)], a.clone());
    assert!(matches!(refused, Err(AppendError::Forbidden)), "A corrects B's contract: {refused:?}");
    let refused = store.append(stream, None, vec![correct(a_contract, None)], b.clone());
    assert!(matches!(refused, Err(AppendError::Forbidden)), "B no longer holds the person: {refused:?}");
    store.append(stream, None, vec![correct(a_contract, None)], a.clone()).unwrap();
}

#[test]
fn a_seeded_event_for_a_stream_said_to_have_ended_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stream = StreamId::generate();
    let at = |millis: i64| Timestamp::from_millis(1_706_778_000_000 + millis).unwrap();
    let seeded = [(registration("A"), false), (referral("2024-02-01"), true), (referral("2024-02-01"), false)]
        .into_iter()
        .enumerate()
        .map(|(n, (event, ends_stream))| Seeded {
            stream,
            event,
            recorded_at: at(n as i64),
            recorded_by: actor(),
            ends_stream,
        });
    let refused = Store::seed(dir.path(), StoreOptions::default(), seeded);
    assert!(
        matches!(refused, Err(StoreError::Import { position: 3, ref problem }) if problem.contains("end")),
        "{refused:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The journal (`journal`): the durability point of a commit, replayed into sled on open.

/// What a power cut between a commit's journal sync and the next checkpoint leaves: the journal
/// holds the commits, sled lost them (its pages and index entries were never made durable).
fn lose_from_sled(store: &Store, from: u64) {
    let trees = &store.inner.trees;
    let lost: Vec<Envelope> = store.read_log(from - 1, usize::MAX).unwrap();
    let keys: Vec<sled::IVec> = trees.log.range(page::position_key(from)..).map(|entry| entry.unwrap().0).collect();
    for key in keys {
        trees.log.remove(key).unwrap();
    }
    for envelope in &lost {
        trees.ids.remove(envelope.id.as_bytes()).unwrap();
    }
    let mut firsts: HashMap<StreamId, u32> = HashMap::new();
    for envelope in &lost {
        let first = firsts.entry(envelope.stream).or_insert(envelope.version);
        *first = (*first).min(envelope.version);
    }
    for (stream, first) in firsts {
        stream_index::forget_from(&trees.streams, stream, first);
    }
}

/// The journal's entries as a reader of the file finds them (first and last positions).
fn journal_entries(dir: &Path) -> Vec<(u64, u64)> {
    let journal = journal::Journal::open(dir, 0).unwrap();
    journal.entries().unwrap().iter().map(|entry| (entry.first, entry.last)).collect()
}

/// One event per append, each its own commit: `count` people registered.
fn register_people(store: &Store, count: usize) -> Vec<Appended> {
    (0..count)
        .map(|n| store.append(StreamId::generate(), None, vec![registration(&format!("J{n}"))], actor()).unwrap())
        .collect()
}

#[test]
fn an_acknowledged_append_is_in_the_journal_before_sled_is_synced() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let acks = register_people(&store, 3);
    let stream = StreamId::generate();
    let two = store.append(stream, None, vec![registration("K"), referral("2024-01-03")], actor()).unwrap();
    // The store is still open: no checkpoint ran since it opened; the file holds every commit.
    let entries = journal_entries(dir.path());
    let mut expected: Vec<(u64, u64)> = acks.iter().map(|ack| (ack.position, ack.position)).collect();
    expected.push((two.position - 1, two.position));
    assert_eq!(entries, expected);
}

#[test]
fn journal_replay_after_a_crash_before_the_checkpoint_restores_acknowledged_events_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    register_people(&store, 3);
    let stream = StreamId::generate();
    let kept = store.append(stream, None, vec![registration("L"), referral("2024-01-03")], actor()).unwrap();
    register_people(&store, 2);
    let log = store.read_log(0, usize::MAX).unwrap();
    let head = store.head().unwrap();
    assert_eq!(log.len(), 7);
    // sled loses everything after the third registration: the stream's two events included.
    lose_from_sled(&store, 4);
    assert_eq!(store.head().unwrap().position, 3, "the crash is simulated");
    drop(store);

    let store = open(dir.path());
    assert_eq!(store.read_log(0, usize::MAX).unwrap(), log, "the same events at the same positions");
    assert_eq!(store.head().unwrap(), head, "the same hash chain");
    assert_eq!(store.last_position(), 7);
    assert_eq!(store.read_stream(stream, None).unwrap(), log[3..5].to_vec());
    assert_eq!(store.read_event(kept.ids[1]).unwrap().as_ref(), Some(&log[4]));
    let report = store.verify().unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    // The writer goes on from the replayed head, rules folded from the replayed stream.
    let refused = store.append(stream, None, vec![referral("2024-01-04")], actor());
    assert!(matches!(refused, Err(AppendError::Rule { .. })), "the replayed referral opened the episode");
    assert_eq!(register_people(&store, 1)[0].position, 8);
    assert!(store.verify().unwrap().is_intact());
}

#[test]
fn journal_replay_is_idempotent_when_sled_already_holds_part_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    register_people(&store, 6);
    let log = store.read_log(0, usize::MAX).unwrap();
    // sled kept the first four commits (a background flush), lost the last two.
    lose_from_sled(&store, 5);
    drop(store);
    let journal = std::fs::read(dir.path().join(journal::JOURNAL_FILE)).unwrap();
    let store = open(dir.path());
    assert_eq!(store.read_log(0, usize::MAX).unwrap(), log);
    drop(store);
    // The same journal once more, over a sled that holds all of it now: nothing changes.
    std::fs::write(dir.path().join(journal::JOURNAL_FILE), &journal).unwrap();
    assert_eq!(journal_entries(dir.path()).len(), 6, "the journal still holds the six commits");
    let store = open(dir.path());
    assert_eq!(store.read_log(0, usize::MAX).unwrap(), log);
    assert!(store.verify().unwrap().is_intact());
    assert_eq!(register_people(&store, 1)[0].position, 7);
}

#[test]
fn a_torn_journal_tail_is_ignored_and_positions_go_on_from_the_last_whole_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let acks = register_people(&store, 4);
    let log = store.read_log(0, usize::MAX).unwrap();
    lose_from_sled(&store, 3);
    drop(store);
    // The power cut tore the last entry (position 4; one block per single-event commit): the
    // second half of its block never reached the disk.
    let path = dir.path().join(journal::JOURNAL_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let block = journal::BLOCK as usize;
    let start = 3 * block;
    assert_eq!(&bytes[start..start + 4], b"PJN1");
    assert_eq!(u64::from_le_bytes(bytes[start + 8..start + 16].try_into().unwrap()), acks[3].position);
    bytes[start + 40..start + block].fill(0);
    std::fs::write(&path, &bytes).unwrap();

    let store = open(dir.path());
    assert_eq!(store.read_log(0, usize::MAX).unwrap(), log[..3].to_vec(), "nothing half-written appears");
    assert_eq!(store.read_event(acks[3].ids[0]).unwrap(), None);
    assert!(store.verify().unwrap().is_intact());
    let next = register_people(&store, 1);
    assert_eq!(next[0].position, 4, "the torn commit's position is taken by the next one");
    assert!(store.verify().unwrap().is_intact());
}

#[test]
fn a_journal_that_disagrees_with_the_log_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    register_people(&store, 2);
    drop(store);
    // Another event at position 2, whole and checksummed, but not the one the log holds.
    let other = tempfile::tempdir().unwrap();
    let store = open(other.path());
    register_people(&store, 2);
    drop(store);
    std::fs::copy(other.path().join(journal::JOURNAL_FILE), dir.path().join(journal::JOURNAL_FILE)).unwrap();
    // As `open_with`: the store dropped just before may hold sled's lock for a moment.
    let mut tries = 0;
    let opened = loop {
        match Store::open(dir.path(), StoreOptions::default()) {
            Err(StoreError::Locked(_)) if tries < 500 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            opened => break opened,
        }
    };
    assert!(matches!(opened, Err(StoreError::Damaged { .. })), "{:?}", opened.err());
}

#[test]
fn a_store_without_a_journal_opens_unchanged_and_gets_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    register_people(&store, 3);
    let log = store.read_log(0, usize::MAX).unwrap();
    drop(store);
    std::fs::remove_file(dir.path().join(journal::JOURNAL_FILE)).unwrap();
    let store = open(dir.path());
    assert_eq!(store.read_log(0, usize::MAX).unwrap(), log);
    let length = std::fs::metadata(dir.path().join(journal::JOURNAL_FILE)).unwrap().len();
    assert_eq!(length, journal::JOURNAL_BYTES_DEFAULT, "a journal of zeros, written whole");
    assert_eq!(register_people(&store, 1)[0].position, 4);
}

#[test]
fn a_small_journal_checkpoints_and_a_commit_larger_than_it_bypasses_it() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions { journal_bytes: 2 * journal::BLOCK, ..StoreOptions::default() };
    let store = open_with(dir.path(), options.clone());
    // Two blocks: every third single-event commit checkpoints first.
    register_people(&store, 7);
    // Larger than the whole journal: written to sled and synced, as before the journal.
    let stream = StreamId::generate();
    let mut events = vec![registration("Big"), referral("2024-01-03")];
    let hours = |n: usize| {
        let month = 1 + n % 12;
        let declared = if month == 12 { "2025-01-03".to_owned() } else { format!("2024-{:02}-03", month + 1) };
        event(
            &declared,
            "hours_worked",
            json!({"contract_id": "c1", "month": format!("2024-{month:02}"), "hours": 7.5}),
        )
    };
    events.push(event(
        "2024-01-04",
        "contract_started",
        json!({"contract_id": "c1", "kind": "cddi", "weekly_hours": 24}),
    ));
    events.extend((0..60).map(hours));
    let big = store.append(stream, None, events, actor());
    let big = big.unwrap();
    assert_eq!(big.position, 7 + 63);
    register_people(&store, 2);
    let log = store.read_log(0, usize::MAX).unwrap();
    assert_eq!(log.len(), 72);
    lose_from_sled(&store, 71);
    drop(store);
    let store = open_with(dir.path(), options);
    assert_eq!(store.read_log(0, usize::MAX).unwrap(), log);
    assert!(store.verify().unwrap().is_intact());
}
