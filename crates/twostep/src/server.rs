//! The portal's accept loop: `axum::serve` has no header-read timeout and no
//! limit on open connections, so a few slow or idle clients could hold
//! connections (and their memory) without end. Here each connection is served
//! by hyper's HTTP/1 server with a header-read timeout, and takes one of a fixed
//! number of places before it is accepted. (A body that trickles in is cut off
//! by the web layer, `web::hygiene`, which reads each body against a deadline.)

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_service::Service;

/// How long and how many clients may hold a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// A request's header must arrive whole within this time. hyper starts the
    /// timer as soon as it waits for a request, so it is also how long an idle
    /// keep-alive connection stays open.
    pub header_read_timeout: Duration,
    /// A request's body must arrive whole within this time after its header,
    /// or the request is answered 408 and the connection closed: hyper has no
    /// such timer, so the web layer's hygiene reads each body against it.
    pub body_read_timeout: Duration,
    /// Connections open at once; beyond, new ones wait in the listen backlog.
    pub max_connections: u32,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (idle connections are closed at once). Each
/// request carries the client's address (`ConnectInfo<SocketAddr>`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut make_service: IntoMakeServiceWithConnectInfo<Router, SocketAddr> =
        router.into_make_service_with_connect_info::<SocketAddr>();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    // The places double as the count of open connections: shutdown waits
    // until every one is given back.
    let places = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop, stopped) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        // A place first: over the limit, the connection is not accepted yet.
        let place = tokio::select! {
            place = places.clone().acquire_owned() => place.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let tower = match make_service.call(remote).await {
            Ok(service) => service,
            Err(infallible) => match infallible {},
        };
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(tower));
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _place = place;
            tokio::pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                _ = stopped.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = served {
                // A timed-out or broken client: nothing an operator must act on.
                tracing::debug!(%error, %remote, "connection ended with an error");
            }
        });
    }
    drop(stop);
    // Every place back: every connection has ended.
    let _all = places.acquire_many(limits.max_connections).await;
    Ok(())
}
