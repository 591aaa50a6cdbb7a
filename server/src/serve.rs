//! `parcours serve`: opens the store, serves the API, and stops gracefully on SIGTERM or Ctrl-C:
//! in-flight requests finish, then the store's writer drains its queue and syncs before exit.

use anyhow::Context;
use parcours_core::store::{Store, StoreOptions};

use crate::api::{self, AppState};
use crate::cli::ServeArgs;

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    let store = Store::open(&args.data.path, StoreOptions::default())?;
    if args.demo {
        anyhow::bail!("--demo is not available yet in this build");
    }
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("listening on {}", args.addr))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, data = %args.data.path.display(), "parcours is serving");
        // Tests and scripts read this line to learn the port when they asked for port 0.
        println!("listening on http://{address}");
        let app = api::router(AppState { store }, args.body_limit);
        axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("serving")?;
        tracing::info!("stopped accepting requests; closing the store");
        anyhow::Ok(())
    })?;
    // The store's last clone is gone with the runtime: its writer has drained and synced.
    drop(runtime);
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
