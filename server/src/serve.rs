//! `parcours serve`: opens the store, serves the API, and stops gracefully on SIGTERM or Ctrl-C:
//! in-flight requests finish, then the store's writer drains its queue and syncs before exit.

use std::time::Duration;

use anyhow::Context;
use parcours_core::demo::demo_config;
use parcours_core::store::access::Role;
use parcours_core::store::{Store, StoreOptions};
use parcours_core::vocabulary::{Actor, Date, Slug, Timestamp};
use sha2::{Digest, Sha256};

use crate::cli::ServeArgs;
use crate::listen::Listening;
use crate::metrics::Metrics;
use crate::router;
use crate::state::{AppState, Settings};

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let metrics = Metrics::new();
    let options = StoreOptions { on_commit: Some(metrics.observer()), ..StoreOptions::default() };
    if args.demo {
        seed_demo(&args, &options)?;
    }
    let store = Store::open(&args.data.path, options.clone())?;
    // The keys open every identity: never serve from a key directory others may read.
    store.check_key_permissions().context("refusing to start")?;
    let admin_token = std::env::var("PARCOURS_ADMIN_TOKEN").ok().filter(|token| !token.trim().is_empty());
    let settings = Settings {
        timezone: options.timezone,
        admin_token_hash: admin_token.map(|token| Sha256::digest(token.trim().as_bytes()).into()),
        small_cells: args.small_cells,
        body_limit: args.body_limit,
        costly_requests: usize::try_from(args.costly_requests).unwrap_or(usize::MAX),
        ..Settings::default()
    };
    if args.demo {
        print_demo_tokens(&store, &args)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("listening on {}", args.addr))?;
        let address = listener.local_addr()?;
        let state = AppState::new(store, settings, metrics).context("starting the projections")?;
        tracing::info!(%address, data = %args.data.path.display(), "parcours is serving");
        // Tests and scripts read this line to learn the port when they asked for port 0.
        println!("listening on http://{address}");
        let app = router::router(state.clone());
        let stop = async move {
            shutdown_signal().await;
            // Streamed answers (live feeds, dashboards) never end on their own: tell them to.
            state.begin_stopping();
        };
        Listening {
            header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
            trusted_proxies: args.trusted_proxies.into(),
        }
        .serve(listener, app, stop)
        .await;
        tracing::info!("stopped accepting requests; closing the store");
        anyhow::Ok(())
    })?;
    // The store's last clone is gone with the runtime: its writer has drained and synced.
    drop(runtime);
    Ok(())
}

/// Fills an empty store with the demo of `core::demo`, recorded as if over the last three years.
fn seed_demo(args: &ServeArgs, options: &StoreOptions) -> anyhow::Result<()> {
    let today = Date(chrono::Utc::now().with_timezone(&options.timezone).date_naive());
    let has_log = args.data.path.join("log").exists();
    if has_log {
        let store = Store::open(&args.data.path, options.clone())?;
        if store.last_position() > 0 {
            // `--demo` prints an admin token at every start: only ever for a store the demo made
            // (its first event is the demo's), never for real people's data.
            let first = store.read_log(0, 1)?;
            if first.first().is_none_or(|event| event.recorded_by.0 != parcours_core::demo::DEMO_ACTOR) {
                anyhow::bail!(
                    "{} holds a log that is not the demo's: --demo would print an admin token for it; serve it without --demo",
                    args.data.path.display()
                );
            }
            tracing::info!("the store holds the demo already: the demo is not added again");
            return Ok(());
        }
    }
    let report = Store::seed(&args.data.path, options.clone(), demo_config(today).seeded(Timestamp::now()))
        .context("filling the store with the demo")?;
    tracing::info!(events = report.events, "demo recorded");
    Ok(())
}

/// A token for each role, printed at every start of a demo (only their hashes are stored).
fn print_demo_tokens(store: &Store, args: &ServeArgs) -> anyhow::Result<()> {
    let structure = Slug::new("jardins-du-gravier").map_err(|message| anyhow::anyhow!(message))?;
    let roles = [
        (Role::Admin, vec![], "administration"),
        (Role::Coordinator, vec![structure], "coordination, Les Jardins du Gravier"),
        (Role::Auditor, vec![], "audit"),
        (Role::Evaluator, vec![], "évaluation"),
    ];
    println!("Demo: sign in at http://{}/connexion with one of these tokens:", args.addr);
    for (role, structures, label) in roles {
        let (_, token) =
            store.issue_token(role, structures, Some(format!("démo : {label}")), Actor("system:demo".into()))?;
        println!("  {:<12} {token}", role.code());
    }
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
