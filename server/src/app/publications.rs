//! Published activity reports (see `crate::publication`): publish one, list those a caller may
//! read, get one back byte for byte, and see what changed since.
//!
//! Who: `disclosure::may_read_publication`; publishing needs the right to the report's every
//! structure (`disclosure::report_structures`), and the route's rule keeps auditors and
//! evaluators from publishing. A coordinator gets 403 for a publication about another structure
//! and for an id that exists nowhere alike.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use parcours_core::store::access::Role;
use parcours_core::store::{Store, StoreError};
use parcours_core::vocabulary::{Actor, Date, Envelope, EventId, ReportPublished};
use parcours_projections::report::{ActivityQuery, ActivityReport};
use parcours_projections::Projections;

use super::reports::ReportQuestion;
use super::{blocking, disclosure, AppError, Caller};
use crate::publication::{self, Changes, Publication, Reproduced};
use crate::report_snapshot::{self, Unused};
use crate::state::{AppState, COSTLY_WAIT};
use tokio::sync::{OnceCell, Semaphore};

/// Publishes the report of `query` as computed from `projections`, dated `today`: records the
/// position counted and the SHA-256 of each format's bytes, then keeps what the report read of
/// `projections` as its snapshot (`report_snapshot`), so that reproducing it after a restart need
/// not fold the log. The caller has checked the actor's right to publish for these structures.
///
/// A snapshot that cannot be written is logged and the publication stands: the first reproduction
/// folds the log then, and keeps the snapshot.
pub fn publish_in(
    store: &Store,
    projections: &Projections,
    query: &ActivityQuery,
    today: Date,
    actor: Actor,
) -> Result<(Envelope, ReportPublished), AppError> {
    let (report, position) = publication::report_now(projections, query)?;
    let inputs = projections.report_inputs(query)?;
    let Publication { step, .. } = Publication::of(report, query, position)?;
    let (envelope, published) = publication::record(store, step, today, actor)?;
    if let Err(error) = report_snapshot::keep(store, envelope.id, &inputs) {
        tracing::warn!(publication = %envelope.id, %error, "the publication's snapshot was not written: its first reproduction will fold the log");
    }
    Ok((envelope, published))
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
    let _permit = state.costly().await?;
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

/// How many reproduced publications the server keeps (each with its lists): publications are a few
/// a year per structure, and the ones asked again are the recent ones.
pub const REPRODUCTIONS_KEPT: usize = 16;

/// How many events after a publication's position are read to see whether the live projections
/// still give its figures (every later event another publication): beyond it, folding is cheaper
/// to reason about than reading on.
pub const LATER_EVENTS_READ_MAX: u64 = 256;

/// Reproduced publications, kept by id (issues 16 and 19): a publication's bytes never change (they
/// are checked against the digests it recorded), so the fold that reproduces one is done once,
/// concurrent askers of the same publication wait for that one fold, and no two reproductions from
/// disk run at once, whatever the publications: a fold from position 0 holds a core and the memory
/// of a whole fold, and a snapshot's inputs (`report_snapshot`) the people of a report.
pub struct Reproductions {
    kept: Mutex<Kept>,
    folding: Semaphore,
}

/// A publication, and whether its reproduction holds the lists behind its figures: the bytes need
/// none, and the lists of a report on every structure cost several times its figures (BENCHMARKS.md),
/// so only what changed since a publication asks for them.
type KeptId = (EventId, bool);

#[derive(Default)]
struct Kept {
    cells: BTreeMap<KeptId, Arc<OnceCell<Arc<Reproduced>>>>,
    /// Ids in the order they were first asked: the oldest goes first past [`REPRODUCTIONS_KEPT`].
    order: VecDeque<KeptId>,
}

impl Default for Reproductions {
    fn default() -> Self {
        Reproductions { kept: Mutex::default(), folding: Semaphore::new(1) }
    }
}

impl Reproductions {
    /// The cell of publication `id` (with its lists or not), made if it is not kept.
    fn cell(&self, id: KeptId) -> Arc<OnceCell<Arc<Reproduced>>> {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cell) = kept.cells.get(&id) {
            return cell.clone();
        }
        if kept.order.len() >= REPRODUCTIONS_KEPT {
            if let Some(oldest) = kept.order.pop_front() {
                kept.cells.remove(&oldest);
            }
        }
        let cell = Arc::new(OnceCell::new());
        kept.cells.insert(id, cell.clone());
        kept.order.push_back(id);
        cell
    }
}

/// A publication recomputed as of the position it counted, each digest checked, for a caller who
/// may read it: kept once reproduced, read off the live projections when nothing since counts in
/// a report, else computed from the snapshot kept when it was published, else folded from the log
/// (and its snapshot kept then), one at a time.
pub async fn reproduce(state: &AppState, caller: &Caller, id: String) -> Result<Arc<Reproduced>, AppError> {
    let (envelope, published) = readable_now(state, caller, id).await?;
    kept_or_reproduced(state, &envelope, published, false).await
}

/// [`readable`] off the async workers.
async fn readable_now(state: &AppState, caller: &Caller, id: String) -> Result<(Envelope, ReportPublished), AppError> {
    let (state, caller) = (state.clone(), caller.clone());
    blocking(move || readable(&state.store, &caller, &id)).await
}

/// The publication recorded by `envelope` (with its lists when `listed`), as kept, or reproduced
/// now (and kept).
async fn kept_or_reproduced(
    state: &AppState,
    envelope: &Envelope,
    published: ReportPublished,
    listed: bool,
) -> Result<Arc<Reproduced>, AppError> {
    let cell = state.reproductions.cell((envelope.id, listed));
    let reproduced = cell.get_or_try_init(|| reproduce_now(state, envelope.id, published, listed)).await?;
    Ok(reproduced.clone())
}

/// Reproduces a publication not kept yet: from the live projections if they still give its
/// figures, else from its snapshot, else by a fold of the log up to its position.
async fn reproduce_now(
    state: &AppState,
    id: EventId,
    published: ReportPublished,
    listed: bool,
) -> Result<Arc<Reproduced>, AppError> {
    let _permit = state.costly().await?;
    let shared = state.clone();
    let from_live = {
        let published = published.clone();
        blocking(move || {
            let projections = shared.projections.read();
            let at = projections.applied_position();
            if at < published.position || at - published.position > LATER_EVENTS_READ_MAX {
                return Ok(None);
            }
            let later = shared.store.read_log(published.position, (at - published.position) as usize)?;
            // A mismatch here is not the last word: the fold below is.
            Ok(publication::reproduce_from(&projections, &later, &published, listed).ok().flatten())
        })
        .await?
    };
    if let Some(reproduced) = from_live {
        return Ok(Arc::new(reproduced));
    }
    let _folding = match tokio::time::timeout(COSTLY_WAIT, state.reproductions.folding.acquire()).await {
        Ok(Ok(permit)) => permit,
        _ => {
            return Err(AppError::Unavailable(
                "another published report is being reproduced from the log: retry in a moment".into(),
            ))
        }
    };
    let store = state.store.clone();
    let snapshot_published = published.clone();
    let from_snapshot =
        blocking(move || Ok(report_snapshot::reproduce(&store, id, &snapshot_published, listed))).await?;
    match from_snapshot {
        Ok(reproduced) => {
            state.metrics.count_publication_snapshot();
            return Ok(Arc::new(reproduced));
        }
        Err(Unused::Missing) => tracing::info!(publication = %id, "no snapshot of the publication: folding the log"),
        // Never the last word either: the fold below is.
        Err(unused) => {
            tracing::warn!(publication = %id, reason = %unused, "the publication's snapshot is not used: folding the log")
        }
    }
    state.metrics.count_publication_fold();
    let store = state.store.clone();
    let reproduced = blocking(move || {
        let projections = publication::fold_until(&store, &published)?;
        let reproduced = publication::reproduce_at(&projections, &published, listed)?;
        // Only a reproduction that matched its digests keeps a snapshot: a mismatch is refused
        // above, and so never kept.
        let kept = report_snapshot::inputs_of(&projections, &published)
            .map_err(|error| error.to_string())
            .and_then(|inputs| report_snapshot::keep(&store, id, &inputs).map_err(|error| error.to_string()));
        if let Err(error) = kept {
            tracing::warn!(publication = %id, %error, "the publication's snapshot was not written");
        }
        Ok(reproduced)
    })
    .await?;
    Ok(Arc::new(reproduced))
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
    let (envelope, published) = readable_now(state, caller, id).await?;
    let then = kept_or_reproduced(state, &envelope, published.clone(), true).await?.report.clone();
    state.caught_up().await?;
    let _permit = state.costly().await?;
    let state = state.clone();
    blocking(move || {
        let question = publication::question(&published)?;
        let (now, now_at) = publication::report_now_with_lists(&state.projections.read(), &question)?;
        let changes = publication::changes_since(&state.store, &published, then, &now, now_at)?;
        Ok(ChangesSince { envelope, published, changes, now })
    })
    .await
}
