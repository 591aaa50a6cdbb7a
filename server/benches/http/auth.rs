//! The cost of authorisation (issue 7: under 5 % of append throughput).
//!
//! One process, one store, two listeners served by the product's connection loop:
//! - the product: `router::router`, where `access::enforce` finds the route's rule, authenticates the
//!   bearer token (`Store::authenticate`: SHA-256 and sled look-ups) and checks the role;
//! - a benchmark-only router that mounts the same handler (`api::log::append_events`) under the same
//!   layers (metrics, body limit, headers, trace), with `enforce` replaced by a layer that hands the
//!   handler the token's caller, resolved once at start, without looking at the request.
//!
//! Both answer the same wrk load (coordinator's token sent to both; the second ignores it), taking
//! turns. What remains of the access control in both is the same: the writer checks the
//! coordinator's scope against the stream, so only the per-request credential check differs.
//! The token check is also timed alone, in process, against the CPU time of an append.

use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use parcours_core::store::access::Role;
use parcours_core::store::{Store, StoreOptions};
use parcours_core::vocabulary::{Actor, Slug};
use parcours_server::access::{self, Caller};
use parcours_server::api::log as api_log;
use parcours_server::listen::Listening;
use parcours_server::metrics::{self, Metrics};
use parcours_server::router;
use parcours_server::state::{AppState, Settings};
use parcours_tests::{Client, ADMIN_TOKEN};
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::common::{self, log, Requests, Result, WrkRun};
use crate::stats::{median, rate};
use crate::Args;

/// Token checks timed in process, per sample.
const CHECKS: usize = 100_000;

struct AbRun {
    with_check: WrkRun,
    with_cpu_us: f64,
    without_check: WrkRun,
    without_cpu_us: f64,
}

pub fn run(args: &Args, runtime: &tokio::runtime::Runtime) -> Result<()> {
    let dir = args.scratch("auth")?;
    let metrics = Metrics::new();
    let options = StoreOptions { on_commit: Some(metrics.observer()), ..StoreOptions::default() };
    let store = Store::open(dir.path(), options)?;
    let structure = Slug::new(common::STRUCTURE)?;
    let (record, token) = store.issue_token(Role::Coordinator, vec![structure], None, Actor("bench".into()))?;
    let settings =
        Settings { admin_token_hash: Some(Sha256::digest(ADMIN_TOKEN.as_bytes()).into()), ..Settings::default() };
    let state = runtime.block_on(async { AppState::new(store, settings, metrics) })?;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut urls = Vec::new();
    for app in [router::router(state.clone()), without_check(state.clone(), Caller::from_token(&record))] {
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        urls.push(format!("http://{}", listener.local_addr()?));
        let mut stopped = stopped.clone();
        runtime.spawn(async move {
            let stop = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            Listening { header_timeout: Duration::from_secs(30), trusted_proxies: Vec::new().into() }
                .serve(listener, app, stop)
                .await;
        });
    }
    let (product, bypass) = (&urls[0], &urls[1]);

    let ids = runtime.block_on(common::people(&Client::new(product).with_token(ADMIN_TOKEN), args.people, 0, 64))?;
    let body = common::follow_up_body().to_string();
    let requests = Requests::PostEach { ids: &ids, before: "/api/beneficiaries/", after: "/events", body: &body };
    let me = std::process::id();
    let load = |url: &str| -> Result<(WrkRun, f64)> {
        common::settle(4.0, Duration::from_secs(20));
        let cpu = common::cpu_time(me)?;
        let run =
            common::wrk(url, &requests, Some(&token), args.connections, args.wrk_threads, args.duration, dir.path())?;
        let cpu = common::cpu_time(me)?.saturating_sub(cpu);
        if run.status_errors > 0 || run.socket_errors > 0 {
            return Err(format!("{url}: {} refused and {} socket errors", run.status_errors, run.socket_errors).into());
        }
        Ok((run, cpu.as_secs_f64() * 1e6 / run.requests as f64))
    };
    let mut runs = Vec::new();
    for run in 0..args.runs {
        let (with, without) = if run % 2 == 0 {
            let with = load(product)?;
            (with, load(bypass)?)
        } else {
            let without = load(bypass)?;
            (load(product)?, without)
        };
        log(
            "auth",
            format!(
                "run {}: with the check {} ({:.0} µs CPU each), without {} ({:.0} µs), load {}",
                run + 1,
                rate(with.0.per_second()),
                with.1,
                rate(without.0.per_second()),
                without.1,
                common::load_average()
            ),
        );
        runs.push(AbRun {
            with_check: with.0,
            with_cpu_us: with.1,
            without_check: without.0,
            without_cpu_us: without.1,
        });
    }
    let checks = time_checks(&state, &token, args.runs)?;
    stop.send_replace(true);
    report(args, &runs, &checks);
    Ok(())
}

/// The benchmark-only router: the append route of `router::router` with its layers, and instead of
/// `access::enforce` a layer that inserts a fixed caller. Never part of the product.
fn without_check(state: AppState, caller: Caller) -> Router {
    let body_limit = state.settings.body_limit;
    Router::new()
        .route("/api/beneficiaries/{id}/events", post(api_log::append_events))
        .route_layer(from_fn_with_state(caller, hand_over))
        .route_layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn hand_over(State(caller): State<Caller>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The token check alone, in process, one thread: what `access::enforce` does for a bearer token
/// (`access::token_caller`), and the store's part of it (`Store::authenticate`). Microseconds per
/// check, one sample per run.
struct Checks {
    token_caller_us: Vec<f64>,
    authenticate_us: Vec<f64>,
}

fn time_checks(state: &AppState, token: &str, samples: usize) -> Result<Checks> {
    let mut checks = Checks { token_caller_us: Vec::new(), authenticate_us: Vec::new() };
    for _ in 0..samples {
        let started = Instant::now();
        for _ in 0..CHECKS {
            let caller = access::token_caller(state, token).map_err(|error| format!("{error:?}"))?;
            std::hint::black_box(caller.ok_or("the token was refused")?);
        }
        checks.token_caller_us.push(started.elapsed().as_secs_f64() * 1e6 / CHECKS as f64);
        let started = Instant::now();
        for _ in 0..CHECKS {
            std::hint::black_box(state.store.authenticate(token)?.ok_or("the token was refused")?);
        }
        checks.authenticate_us.push(started.elapsed().as_secs_f64() * 1e6 / CHECKS as f64);
    }
    Ok(checks)
}

fn report(args: &Args, runs: &[AbRun], checks: &Checks) {
    println!("## The cost of authorisation (issue 7)\n");
    println!(
        "Appends as in the append section ({} connections, {} people, one `follow_up_held` per request), served \
         from one process and one store by the product's router (`access::enforce`: rule, bearer token through \
         `Store::authenticate`, role) and by a benchmark-only router with the same handler and layers and no \
         credential check, taking turns. CPU is the serving process's user + system time per append.\n",
        args.connections, args.people
    );
    println!(
        "| run | with the check | p50 / p99 | CPU per append | without | p50 / p99 | CPU per append | cost in rate |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (n, r) in runs.iter().enumerate() {
        println!(
            "| {} | {} | {:.2} / {:.2} ms | {:.1} µs | {} | {:.2} / {:.2} ms | {:.1} µs | {:+.1} % |",
            n + 1,
            rate(r.with_check.per_second()),
            r.with_check.p50_ms,
            r.with_check.p99_ms,
            r.with_cpu_us,
            rate(r.without_check.per_second()),
            r.without_check.p50_ms,
            r.without_check.p99_ms,
            r.without_cpu_us,
            cost(r.with_check.per_second(), r.without_check.per_second())
        );
    }
    let m = |f: fn(&AbRun) -> f64| median(runs.iter().map(f).collect());
    let (with, without) = (m(|r| r.with_check.per_second()), m(|r| r.without_check.per_second()));
    println!(
        "| **median** | **{}** | {:.2} / {:.2} ms | {:.1} µs | **{}** | {:.2} / {:.2} ms | {:.1} µs | **{:+.1} %** |\n",
        rate(with),
        m(|r| r.with_check.p50_ms),
        m(|r| r.with_check.p99_ms),
        m(|r| r.with_cpu_us),
        rate(without),
        m(|r| r.without_check.p50_ms),
        m(|r| r.without_check.p99_ms),
        m(|r| r.without_cpu_us),
        cost(with, without)
    );
    let per_run_costs =
        median(runs.iter().map(|r| cost(r.with_check.per_second(), r.without_check.per_second())).collect());
    let token_caller = median(checks.token_caller_us.clone());
    let authenticate = median(checks.authenticate_us.clone());
    let cpu = m(|r| r.with_cpu_us);
    println!(
        "Median of the per-run costs: {per_run_costs:+.1} %. The token check alone, in process (one thread, {CHECKS} \
         checks per sample, {} samples): `access::token_caller` {token_caller:.2} µs (of which `Store::authenticate` \
         {authenticate:.2} µs), {:.1} % of the {cpu:.1} µs of CPU that one append costs the serving process.\n",
        checks.token_caller_us.len(),
        100.0 * token_caller / cpu
    );
}

/// How much slower with the check than without, in per cent of the rate without it.
fn cost(with: f64, without: f64) -> f64 {
    100.0 * (without - with) / without
}
