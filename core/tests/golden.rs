//! Format stability: a page of events encoded with each format is kept in the repo and must decode
//! forever, to the same events. Today's encoder must also produce the same bytes; if it does not,
//! the stored format changed: bump `PAGE_FORMAT`/`RECORD_FORMAT`, keep a decoder for the old
//! version and add a golden file for the new one. A new event type is such a change (a new tag):
//! record format 2 added `report_published`, with `page-v2.bin` beside the untouched `page-v1.bin`.
//! `UPDATE_GOLDEN=1` writes the newest format's file (only when that format is new, never to make
//! this test pass); older files are never rewritten.

use std::collections::BTreeMap;
use std::path::PathBuf;

use parcours_core::store::page::{
    decode_record, encode_record, frames, hash, record_format, PageBuilder, PAGE_FORMAT, RECORD_FORMAT,
};
use parcours_core::vocabulary::*;
use uuid::Uuid;

fn golden_path(format: u8) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/page-v{format}.bin"))
}

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

/// One step of every type of record format 1, with every optional field set somewhere.
fn steps_v1() -> Vec<Step> {
    let structure = Slug::new("menage-service-agen").unwrap();
    vec![
        Step::Registered(Registered {
            structure: structure.clone(),
            gender: Gender::Female,
            birth_year: 1987,
            identity: Some(IdentityField::Sealed(Sealed { nonce: [7; 24], ciphertext: vec![1, 2, 3, 250] })),
        }),
        Step::Referred(Referred {
            programme: Some(Programme::Ai),
            benefits: vec![Benefit::Rsa, Benefit::Other],
            qualification: Some(Qualification::CapBep),
            family_quotient: Some(540),
            ..Referred::new(
                structure.clone(),
                Prescriber { kind: PrescriberKind::FranceTravail, name: Some("France Travail Agen".into()) },
                Situation::LongTermUnemployed,
            )
        }),
        Step::ContractStarted(ContractStarted {
            contract_id: "c-1".into(),
            kind: ContractKind::Cddi,
            employer: Some("Ménage Service".into()),
            weekly_hours: Hours::from_hundredths(2650),
            planned_end: Some(date("2024-09-03")),
            job: Some("agent d'entretien".into()),
        }),
        Step::HoursWorked(HoursWorked {
            contract_id: "c-1".into(),
            month: Month::new(2024, 3).unwrap(),
            hours: Hours::from_hundredths(11475),
        }),
        Step::SkillsAssessed(SkillsAssessed {
            assessor: "AFPA".into(),
            kind: AssessmentKind::BilanDeCompetences,
            skills: vec!["entretien".into(), "autonomie".into()],
            summary: Some("projet: aide à domicile".into()),
        }),
        Step::TrainingStarted(TrainingStarted {
            training_id: "t-1".into(),
            title: "Titre ADVF".into(),
            qualifying: true,
            certification: Some("RNCP".into()),
            planned_hours: Some(Hours::whole(400)),
        }),
        Step::TrainingCompleted(TrainingCompleted { training_id: "t-1".into(), result: TrainingResult::Certified }),
        Step::SupportProvided(SupportProvided {
            domain: SupportDomain::Housing,
            action: Some(SupportAction::Orientation),
            partner: Some("Action Logement".into()),
        }),
        Step::FollowUpHeld(FollowUpHeld { kind: FollowUpKind::Committee, next_due: Some(date("2024-05-02")) }),
        Step::ContractEnded(ContractEnded { contract_id: "c-1".into(), reason: ContractEndReason::EndOfTerm }),
        Step::Corrected(Corrected {
            corrects: EventId(Uuid::from_u128(9)),
            reason: "mauvaise date".into(),
            replacement: Some(Replacement {
                occurred_on: date("2024-04-01"),
                step: Box::new(Step::FollowUpHeld(FollowUpHeld { kind: FollowUpKind::Individual, next_due: None })),
            }),
        }),
        Step::Exited(Exited { destination: Destination::Cdd6MonthsPlus }),
        Step::FollowedUpAfterExit(FollowedUpAfterExit {
            months_after_exit: 6,
            situation: SituationAfterExit::Employed,
        }),
        Step::PersonalDataErased(PersonalDataErased { reason: ErasureReason::Retention }),
        Step::StructureUpdated(StructureUpdated {
            slug: structure,
            name: "Ménage Service Agen".into(),
            kind: StructureKind::Ai,
            agreed_hours: BTreeMap::from([(2024, Hours::whole(4200))]),
            agreed_fte: BTreeMap::new(),
            funders: Vec::new(),
        }),
    ]
}

/// Format 2: format 1's steps, then the step it added.
fn steps_v2() -> Vec<Step> {
    let mut steps = steps_v1();
    steps.push(Step::ReportPublished(ReportPublished {
        report: ReportKind::Activity,
        structures: vec![Slug::new("aci-agen").unwrap(), Slug::new("menage-service-agen").unwrap()],
        from: date("2023-01-01"),
        to: date("2023-12-31"),
        definitions: "v1".into(),
        family_quotient_bands: vec![500, 1000],
        position: 1_234_567,
        sha256: ReportDigests {
            json: Sha256Digest([0x11; 32]),
            csv: Sha256Digest([0x22; 32]),
            html: Sha256Digest([0x33; 32]),
        },
    }));
    steps
}

/// Format 3: format 2's steps, then a proposed referral (a new tag), its answers and the merge steps.
fn steps_v3() -> Vec<Step> {
    let mut steps = steps_v2();
    let other = StreamId(Uuid::from_u128(0x0193_c9a2_0000_7000_8000_0000_0000_0002));
    let Step::Referred(referred) = &steps[1] else { unreachable!("the second step is a referral") };
    let proposal = Referred { structure: Slug::new("aci-agen").unwrap(), proposed: true, ..referred.clone() };
    steps.extend([
        Step::Referred(proposal),
        Step::ReferralAccepted(ReferralAccepted { referral: EventId(Uuid::from_u128(2)) }),
        Step::ReferralDeclined(ReferralDeclined {
            referral: EventId(Uuid::from_u128(2)),
            reason: "pas de place avant septembre".into(),
        }),
        Step::MergedInto(MergedInto { into: other, reason: "doublon: même personne".into() }),
        Step::Absorbed(Absorbed { from: other, reason: "doublon: même personne".into() }),
        Step::Unmerged(Unmerged { other, reason: "homonymes, personnes distinctes".into() }),
    ]);
    steps
}

/// Format 4: format 3's steps, then a referral with ESF+ answers (its sensitive ones sealed), the
/// same proposed, and a structure's record with agreed full-time equivalents and funders.
fn steps_v4() -> Vec<Step> {
    let mut steps = steps_v3();
    let Step::Referred(referred) = &steps[1] else { unreachable!("the second step is a referral") };
    let with_answers = Referred {
        education_level: Some(EducationLevel::Isced34),
        rural_area: Some(Answer::Refused),
        sealed_answers: Some(Sealed { nonce: [9; 24], ciphertext: vec![4, 5, 6, 251] }),
        ..referred.clone()
    };
    let proposed = Referred {
        proposed: true,
        education_level: Some(EducationLevel::Isced02),
        rural_area: None,
        sealed_answers: None,
        ..with_answers.clone()
    };
    let Step::StructureUpdated(update) = &steps[14] else { unreachable!("the 15th step is a structure's record") };
    let funded = StructureUpdated {
        agreed_fte: BTreeMap::from([(2025, FullTimeEquivalents(Hours::from_hundredths(1250)))]),
        funders: vec![
            Funder { name: "DREETS Nouvelle-Aquitaine".into(), kind: FunderKind::State },
            Funder { name: "FSE+".into(), kind: FunderKind::Esf },
        ],
        ..update.clone()
    };
    steps.extend([Step::Referred(with_answers), Step::Referred(proposed), Step::StructureUpdated(funded)]);
    steps
}

/// Format 5: format 4's steps with their free text sealed, as the store keeps them now (the text
/// out of the step, a stand-in ciphertext beside it).
fn sealed_v5() -> Vec<(Step, Option<Sealed>)> {
    steps_v4()
        .into_iter()
        .enumerate()
        .map(|(index, mut step)| {
            let sealed = step.take_free_text().map(|text| {
                let ciphertext = bincode::encode_to_vec(&text, bincode::config::standard()).unwrap();
                Sealed { nonce: [index as u8; 24], ciphertext }
            });
            (step, sealed)
        })
        .collect()
}

/// The steps as the events of one stream, chained.
fn events(steps: Vec<Step>) -> Vec<Envelope> {
    sealed_events(steps.into_iter().map(|step| (step, None)).collect())
}

/// The steps and their sealed free text as the events of one stream, chained.
fn sealed_events(steps: Vec<(Step, Option<Sealed>)>) -> Vec<Envelope> {
    let stream = StreamId(Uuid::from_u128(0x0193_c9a2_0000_7000_8000_0000_0000_0001));
    let mut prev_hash = [0u8; 32];
    steps
        .into_iter()
        .enumerate()
        .map(|(index, (step, sealed_text))| {
            let n = index as u64 + 1;
            let envelope = Envelope {
                id: EventId(Uuid::from_u128(u128::from(n))),
                stream,
                version: n as u32,
                position: n,
                occurred_on: date("2024-03-04"),
                recorded_at: Timestamp::from_millis(1_709_630_000_123 + n as i64).unwrap(),
                recorded_by: Actor("tok_0193c9a2".into()),
                step,
                sealed_text,
                prev_hash,
                stream_prev_hash: prev_hash,
            };
            prev_hash = hash(&encode_record(&envelope).unwrap());
            envelope
        })
        .collect()
}

fn encode_page(events: &[Envelope]) -> Vec<u8> {
    let mut page = PageBuilder::new();
    for event in events {
        page.push(record_format(event), &encode_record(event).unwrap());
    }
    page.finish()
}

/// The golden page of record format `format` decodes to `expected`, and today's encoder writes
/// the same bytes for those events.
fn check_golden(format: u8, expected: &[Envelope]) {
    if format == RECORD_FORMAT && std::env::var_os("UPDATE_GOLDEN").is_some() && !golden_path(format).exists() {
        std::fs::write(golden_path(format), encode_page(expected)).unwrap();
    }
    let stored = std::fs::read(golden_path(format)).unwrap_or_else(|_| panic!("golden file page-v{format}.bin"));
    let decoded: Vec<Envelope> =
        frames(&stored).unwrap().map(|record| decode_record(record.unwrap()).unwrap()).collect();
    assert_eq!(decoded, expected);
    assert_eq!(encode_page(expected), stored, "today's encoder changed the stored bytes without a version bump");
}

#[test]
fn format_1_pages_still_decode_to_the_same_events() {
    let expected = events(steps_v1());
    assert!(expected.iter().all(|event| record_format(event) == 1), "format 1's events are still framed as format 1");
    check_golden(1, &expected);
}

#[test]
fn format_2_pages_still_decode_to_the_same_events() {
    let expected = events(steps_v2());
    assert!(expected.iter().all(|event| record_format(event) <= 2), "format 2's events are still framed as before");
    check_golden(2, &expected);
}

#[test]
fn format_3_pages_still_decode_to_the_same_events() {
    let expected = events(steps_v3());
    assert!(expected.iter().all(|event| record_format(event) <= 3), "format 3's events are still framed as before");
    check_golden(3, &expected);
}

#[test]
fn format_4_pages_still_decode_to_the_same_events() {
    let expected = events(steps_v4());
    let formats: Vec<u8> = expected.iter().rev().take(3).map(record_format).collect();
    assert_eq!(formats, [4, 4, 4], "the layouts of format 4 are framed as format 4");
    check_golden(4, &expected);
}

#[test]
fn format_5_pages_decode_to_the_same_events() {
    assert_eq!((PAGE_FORMAT, RECORD_FORMAT), (1, 5), "new format: add a golden file for it, keep these");
    let expected = sealed_events(sealed_v5());
    let kinds: std::collections::BTreeSet<StepKind> = expected.iter().map(|event| event.step.kind()).collect();
    assert_eq!(kinds.len(), StepKind::ALL.len(), "the newest golden page holds an event of every type");
    let sealed = expected.iter().filter(|event| event.sealed_text.is_some()).count();
    assert!(sealed >= 8, "the steps with free text keep it sealed ({sealed})");
    assert!(expected.iter().all(|event| (record_format(event) == 5) == event.sealed_text.is_some()));
    check_golden(5, &expected);
}

#[test]
fn sensitive_esf_answers_are_never_stored_clear() {
    let Step::Referred(referred) = &steps_v1()[1] else { unreachable!("the second step is a referral") };
    let mut event = events(vec![Step::Referred(referred.clone())]).remove(0);
    event.step = Step::Referred(Referred { disability: Some(Answer::Yes), ..referred.clone() });
    assert!(encode_record(&event).is_err(), "encoding a clear sensitive answer is an error");
}
