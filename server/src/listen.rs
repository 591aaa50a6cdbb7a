//! The connection loop: HTTP/1.1 and HTTP/2 connections served by hyper, with a header-read
//! timeout, and a graceful stop.
//!
//! Why not `axum::serve`: it sets no timer, so hyper's header-read timeout never fires and a client
//! that sends its headers one byte a minute (slow loris) holds a connection forever. Here a client
//! must send a request's headers within [`Listening::header_timeout`], else its connection is closed.
//!
//! Stopping: the listener closes, every connection finishes the request in flight (so acknowledged
//! appends are answered) and closes; live feeds are told to end; connections still open after
//! [`STOP_GRACE`] are dropped.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::access::throttle::{client_address, ClientAddress, X_FORWARDED_FOR};

/// How long in-flight requests get to finish once the server is told to stop.
pub const STOP_GRACE: Duration = Duration::from_secs(20);

pub struct Listening {
    pub header_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Arc<[IpAddr]>,
}

impl Listening {
    /// Serves `app` until `stop` completes, then stops gracefully.
    pub async fn serve(&self, listener: TcpListener, app: Router, stop: impl std::future::Future<Output = ()>) {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(self.header_timeout);
        builder.http2().timer(TokioTimer::new());
        let graceful = GracefulShutdown::new();
        let mut stop = std::pin::pin!(stop);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait a little rather than spin.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut stop => break,
            };
            // Each request carries its client's address (the sign-in limit is per client).
            let trusted = self.trusted_proxies.clone();
            let service = TowerToHyperService::new(app.clone().map_request(move |mut request: Request<Incoming>| {
                let forwarded = request.headers().get_all(X_FORWARDED_FOR);
                let client = client_address(peer.ip(), forwarded.iter(), &trusted);
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(ClientAddress(Some(client)));
                request
            }));
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "connection closed with an error");
                }
            });
        }
        drop(listener);
        if tokio::time::timeout(STOP_GRACE, graceful.shutdown()).await.is_err() {
            tracing::warn!("connections still open after {} s: dropped", STOP_GRACE.as_secs());
        }
    }
}
