//! The one disclosure policy (CONTRACT §7): which role gets exact figures, which structures'
//! figures, names and lists. Every output asks here, whether the API, the web pages or the
//! command line gives it; no other module compares roles to decide what to show.
//!
//! - admins: every structure, exact figures, each structure's own figures when several are
//!   asked, the lists behind every count, names included;
//! - coordinators: the same, for their own structures only (every structure asked must be theirs;
//!   none asked means all of theirs); names in a list only for people their structures reach;
//! - auditors: exact statistics and reports with their lists (they may read every history and
//!   identity already, and checking a published figure person by person is their work), every
//!   publication; no dashboard (they follow no structure);
//! - evaluators: statistics and reports only, summed over the structures asked, small cells
//!   withheld, sensitive prescribers counted as `other`, no structure's own figures, no lists, no
//!   links, no names, no publication (a publication holds exact figures).

use parcours_core::store::access::Role;
use parcours_core::vocabulary::{ReportPublished, Slug};

use super::{AppError, Caller};

/// Whether the caller's figures have their small cells withheld (with complementary suppression).
pub fn withholds_small_cells(caller: &Caller) -> bool {
    caller.role == Role::Evaluator
}

/// Whether prescribers that could point at a person (a prison service, child welfare…) are
/// counted as `other` in the caller's statistics.
pub fn sensitive_prescribers_as_other(caller: &Caller) -> bool {
    caller.role == Role::Evaluator
}

/// Checks that the caller may see statistics about `structure` (all structures when `None`).
pub fn statistics_scope(caller: &Caller, structure: Option<&Slug>) -> Result<(), AppError> {
    match (caller.role, structure) {
        (Role::Coordinator, Some(structure)) if caller.may_follow(structure) => Ok(()),
        (Role::Coordinator, _) => Err(AppError::Forbidden),
        (Role::Admin | Role::Auditor | Role::Evaluator, _) => Ok(()),
    }
}

/// The structure whose dashboard (figures and the people behind them) the caller gets: the one
/// asked for, which the caller must follow, or their only one.
pub fn dashboard_structure(caller: &Caller, asked: Option<Slug>) -> Result<Slug, AppError> {
    match asked {
        Some(structure) if caller.may_follow(&structure) => Ok(structure),
        Some(_) => Err(AppError::Forbidden),
        None => match caller.structures.as_slice() {
            [only] => Ok(only.clone()),
            _ => Err(AppError::InvalidRequest("structure: which structure? (structure=slug)".into())),
        },
    }
}

/// The structures a report is about, checked against the caller's rights; a coordinator who
/// names none gets all of theirs.
pub fn report_structures(caller: &Caller, mut asked: Vec<Slug>) -> Result<Vec<Slug>, AppError> {
    if caller.role == Role::Coordinator {
        if asked.is_empty() {
            asked = caller.structures.clone();
        }
        if !asked.iter().all(|structure| caller.may_follow(structure)) {
            return Err(AppError::Forbidden);
        }
    }
    Ok(asked)
}

/// Whether the caller's reports show each structure's own figures beside their sum.
pub fn report_by_structure(caller: &Caller) -> bool {
    caller.role != Role::Evaluator
}

/// Whether the caller's printable reports link each count to its list.
pub fn report_links(caller: &Caller) -> bool {
    caller.role != Role::Evaluator
}

/// Whether the caller sees a person's name in a list of people; `reached` says whether one of a
/// coordinator's structures reaches the person, asked only for coordinators.
pub fn name_in_list(caller: &Caller, reached: impl FnOnce() -> bool) -> bool {
    match caller.role {
        Role::Admin | Role::Auditor => true,
        Role::Coordinator => reached(),
        Role::Evaluator => false,
    }
}

/// Whether the caller may publish reports (of their own structures, for a coordinator): the
/// publish route's rule, asked by pages that offer it.
pub fn may_publish(caller: &Caller) -> bool {
    matches!(caller.role, Role::Admin | Role::Coordinator)
}

/// Whether the caller may read a publication: every structure it covers must be theirs.
pub fn may_read_publication(caller: &Caller, publication: &ReportPublished) -> bool {
    match caller.role {
        Role::Admin | Role::Auditor => true,
        Role::Coordinator => publication.structures.iter().all(|structure| caller.may_follow(structure)),
        Role::Evaluator => false,
    }
}

/// The structures whose people a caller's lists are limited to: a coordinator's own; `None` for
/// everyone (the route's rule keeps evaluators out of lists altogether).
pub fn people_reach(caller: &Caller) -> Option<Vec<Slug>> {
    (caller.role == Role::Coordinator).then(|| caller.structures.clone())
}

/// The structures whose waiting proposals (CONTRACT §7) the caller sees and answers: the one
/// asked, which a coordinator must follow; none asked, all of a coordinator's, every structure's
/// for an admin (`None`). Auditors and evaluators answer for no structure.
pub fn proposals_scope(caller: &Caller, asked: Option<Slug>) -> Result<Option<Vec<Slug>>, AppError> {
    match (caller.role, asked) {
        (Role::Admin | Role::Coordinator, Some(structure)) if caller.may_follow(&structure) => {
            Ok(Some(vec![structure]))
        }
        (Role::Coordinator, None) => Ok(Some(caller.structures.clone())),
        (Role::Admin, None) => Ok(None),
        _ => Err(AppError::Forbidden),
    }
}

/// The structures a caller chooses figures among, when the caller is tied to some: a
/// coordinator's; `None` for the roles that see every structure.
pub fn own_structures(caller: &Caller) -> Option<&[Slug]> {
    (caller.role == Role::Coordinator).then_some(caller.structures.as_slice())
}

#[cfg(test)]
mod tests {
    use parcours_core::store::access::Role;
    use parcours_core::vocabulary::{Actor, Date, ReportDigests, ReportKind, ReportPublished, Sha256Digest, Slug};

    use super::*;

    fn caller(role: Role, structures: &[&str]) -> Caller {
        let structures = structures.iter().map(|slug| Slug::new(slug).expect("a slug")).collect();
        Caller { actor: Actor("tok_test".into()), role, structures, csrf: None }
    }

    fn slug(text: &str) -> Slug {
        Slug::new(text).expect("a slug")
    }

    /// What each role is shown, as CONTRACT §7 words it: one row per role.
    #[test]
    fn each_role_sees_what_the_contract_gives_it() {
        // role, small cells withheld, structures' own figures and links, names (reached / not).
        let table = [
            (Role::Admin, false, true, (true, true)),
            (Role::Coordinator, false, true, (true, false)),
            (Role::Auditor, false, true, (true, true)),
            (Role::Evaluator, true, false, (false, false)),
        ];
        for (role, withheld, by_structure, names) in table {
            let who = caller(role, if role == Role::Coordinator { &["aci-agen"] } else { &[] });
            assert_eq!(withholds_small_cells(&who), withheld, "{role:?}");
            assert_eq!(sensitive_prescribers_as_other(&who), withheld, "{role:?}");
            assert_eq!(report_by_structure(&who), by_structure, "{role:?}");
            assert_eq!(report_links(&who), by_structure, "{role:?}");
            assert_eq!((name_in_list(&who, || true), name_in_list(&who, || false)), names, "{role:?}");
        }
    }

    #[test]
    fn a_coordinator_sees_the_figures_of_their_own_structures_only() {
        let coordinator = caller(Role::Coordinator, &["aci-agen", "ei-nerac"]);
        assert!(statistics_scope(&coordinator, Some(&slug("aci-agen"))).is_ok());
        assert!(matches!(statistics_scope(&coordinator, Some(&slug("ai-auch"))), Err(AppError::Forbidden)));
        assert!(matches!(statistics_scope(&coordinator, None), Err(AppError::Forbidden)));
        assert_eq!(report_structures(&coordinator, Vec::new()).ok(), Some(coordinator.structures.clone()));
        assert!(matches!(report_structures(&coordinator, vec![slug("ai-auch")]), Err(AppError::Forbidden)));
        assert!(matches!(dashboard_structure(&coordinator, None), Err(AppError::InvalidRequest(_))));
        assert!(matches!(dashboard_structure(&coordinator, Some(slug("ai-auch"))), Err(AppError::Forbidden)));
        assert_eq!(people_reach(&coordinator), Some(coordinator.structures.clone()));
        assert_eq!(proposals_scope(&coordinator, None).ok(), Some(Some(coordinator.structures.clone())));
        assert_eq!(proposals_scope(&coordinator, Some(slug("aci-agen"))).ok(), Some(Some(vec![slug("aci-agen")])));
        assert!(matches!(proposals_scope(&coordinator, Some(slug("ai-auch"))), Err(AppError::Forbidden)));
        assert_eq!(proposals_scope(&caller(Role::Admin, &[]), None).ok(), Some(None));
        assert!(matches!(proposals_scope(&caller(Role::Auditor, &[]), None), Err(AppError::Forbidden)));

        let evaluator = caller(Role::Evaluator, &[]);
        assert!(statistics_scope(&evaluator, None).is_ok());
        assert!(matches!(dashboard_structure(&evaluator, Some(slug("aci-agen"))), Err(AppError::Forbidden)));
        assert_eq!(people_reach(&evaluator), None);
    }

    #[test]
    fn a_publication_is_read_by_those_who_may_see_its_every_structure() {
        let nothing = Sha256Digest::of(b"");
        let publication = ReportPublished {
            report: ReportKind::Activity,
            structures: vec![slug("aci-agen"), slug("ei-nerac")],
            from: Date::from_ymd(2025, 1, 1).expect("a date"),
            to: Date::from_ymd(2025, 12, 31).expect("a date"),
            definitions: "v1".into(),
            family_quotient_bands: vec![700],
            position: 1,
            sha256: ReportDigests { json: nothing, csv: nothing, html: nothing },
        };
        assert!(may_read_publication(&caller(Role::Admin, &[]), &publication));
        assert!(may_read_publication(&caller(Role::Auditor, &[]), &publication));
        assert!(may_read_publication(&caller(Role::Coordinator, &["aci-agen", "ei-nerac"]), &publication));
        assert!(!may_read_publication(&caller(Role::Coordinator, &["aci-agen"]), &publication));
        assert!(!may_read_publication(&caller(Role::Evaluator, &[]), &publication));
    }
}
