//! Published activity reports (see `crate::publication`): publish one, list those a caller may
//! read, get one back byte for byte, and see what changed since.
//!
//! Who: `disclosure::may_read_publication`; publishing needs the right to the report's every
//! structure (`disclosure::report_structures`), and the route's rule keeps auditors and
//! evaluators from publishing. A coordinator gets 403 for a publication about another structure
//! and for an id that exists nowhere alike.

use parcours_core::store::access::Role;
use parcours_core::store::{Store, StoreError};
use parcours_core::vocabulary::{Actor, Date, Envelope, EventId, ReportPublished};
use parcours_projections::report::{ActivityQuery, ActivityReport};
use parcours_projections::Projections;

use super::reports::ReportQuestion;
use super::{blocking, disclosure, AppError, Caller};
use crate::publication::{self, Changes, Publication, Reproduced};
use crate::state::AppState;

/// Publishes the report of `query` as computed from `projections`, dated `today`: records the
/// position counted and the SHA-256 of each format's bytes. The caller has checked the actor's
/// right to publish for these structures.
pub fn publish_in(
    store: &Store,
    projections: &Projections,
    query: &ActivityQuery,
    today: Date,
    actor: Actor,
) -> Result<(Envelope, ReportPublished), AppError> {
    let (report, position) = publication::report_now(projections, query)?;
    let Publication { step, .. } = Publication::of(report, query, position)?;
    Ok(publication::record(store, step, today, actor)?)
}

/// Publishes a report as of the log's current position, for a caller who may.
pub async fn publish(
    state: &AppState,
    caller: &Caller,
    question: ReportQuestion,
) -> Result<(Envelope, ReportPublished), AppError> {
    let today = state.today();
    let query = question.for_publication(caller, today)?;
    state.caught_up().await?;
    let (state, actor) = (state.clone(), caller.actor.clone());
    blocking(move || publish_in(&state.store, &state.projections.read(), &query, today, actor)).await
}

/// The publications the caller may read, oldest first.
pub fn readable_list(store: &Store, caller: &Caller) -> Result<Vec<(Envelope, ReportPublished)>, StoreError> {
    let mut all = publication::published(store)?;
    all.retain(|(_, published)| disclosure::may_read_publication(caller, published));
    Ok(all)
}

/// The publication `id`, if the caller may read it.
pub fn readable(store: &Store, caller: &Caller, id: &str) -> Result<(Envelope, ReportPublished), AppError> {
    let Ok(id) = id.parse::<EventId>() else {
        return Err(AppError::InvalidRequest(format!("`{id}` is not a publication id (a UUID)")));
    };
    match publication::find(store, id)? {
        Some((envelope, published)) if disclosure::may_read_publication(caller, &published) => {
            Ok((envelope, published))
        }
        Some(_) => Err(AppError::Forbidden),
        None if caller.role == Role::Coordinator => Err(AppError::Forbidden),
        None => Err(AppError::not_found(format!("no published report {id}"))),
    }
}

/// A publication recomputed from the log as of the position it counted, each digest checked.
pub fn reproduce(store: &Store, caller: &Caller, id: &str) -> Result<Reproduced, AppError> {
    let (_, published) = readable(store, caller, id)?;
    Ok(publication::reproduce(store, &published)?)
}

/// What changed since a publication, with the publication and the report as it stands now.
pub struct ChangesSince {
    pub envelope: Envelope,
    pub published: ReportPublished,
    pub changes: Changes,
    pub now: ActivityReport,
}

/// What changed since the publication `id`: figure by figure, the values then and now, the rows
/// that went or came, and the events recorded since that made each difference.
pub async fn changes(state: &AppState, caller: &Caller, id: String) -> Result<ChangesSince, AppError> {
    let (shared, caller) = (state.clone(), caller.clone());
    let (envelope, published) = blocking(move || readable(&shared.store, &caller, &id)).await?;
    state.caught_up().await?;
    let state = state.clone();
    blocking(move || {
        let question = publication::question(&published)?;
        let (now, now_at) = publication::report_now_with_lists(&state.projections.read(), &question)?;
        let changes = publication::changes_since(&state.store, &published, &now, now_at)?;
        Ok(ChangesSince { envelope, published, changes, now })
    })
    .await
}
