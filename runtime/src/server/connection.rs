//! One served connection: hyper's HTTP/1.1 with upgrades, driven under the timeouts of a
//! [`ConnectionConfig`](super::serve::ConnectionConfig), closed early when the server needs
//! its slot while it is idle, and counted against the connection cap for as long as its
//! socket is open, upgraded (attach, exec) or not.
//!
//! hyper has one timer for a connection waiting for a request head, started when the last
//! answer ended; it cannot tell a client that is typing a head slowly from one that keeps
//! an idle connection for its next request. So the state is tracked here instead: the
//! service counts the requests in progress (from the complete head until the answer's body
//! is dropped), the socket notes the first byte of the next head, and the driver that polls
//! the connection reads both after every poll to set its one deadline. All of that happens
//! in the connection's task, so nothing here is contended.

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit};
use tokio::time::Instant;
use tower_service::Service;

use super::serve::{ConnectionConfig, Peer};

/// The open connections that are still speaking HTTP (not upgraded), so that the accept
/// loop can close the one idle the longest when it needs a slot.
pub(super) struct Registry {
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Activity>>>,
}

impl Registry {
    pub(super) fn new() -> Registry {
        Registry { epoch: Instant::now(), next_id: AtomicU64::new(0), open: Mutex::new(HashMap::new()) }
    }

    fn now(&self) -> u64 {
        // Milliseconds since the server started; 0 means "not set", so count from 1.
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    fn instant(&self, millis: u64) -> Instant {
        self.epoch + Duration::from_millis(millis.saturating_sub(1))
    }

    fn register(self: &Arc<Registry>) -> (u64, Arc<Activity>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let now = self.now();
        let activity = Arc::new(Activity {
            registry: Arc::clone(self),
            busy: AtomicU32::new(0),
            idle_since: AtomicU64::new(now),
            // A new connection is expected to send a head at once: the head timeout runs.
            head_since: AtomicU64::new(now),
            evicting: AtomicBool::new(false),
            evict: Notify::new(),
        });
        self.lock().insert(id, Arc::clone(&activity));
        (id, activity)
    }

    fn deregister(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the connection idle the longest (no request in progress; a head not yet complete
    /// counts as idle) to close. Returns whether there was one.
    pub(super) fn evict_one(&self) -> bool {
        let open = self.lock();
        let oldest = open
            .values()
            .filter(|a| a.busy.load(Ordering::Relaxed) == 0 && !a.evicting.load(Ordering::Relaxed))
            .min_by_key(|a| a.idle_since.load(Ordering::Relaxed));
        match oldest {
            Some(activity) => {
                activity.evicting.store(true, Ordering::Relaxed);
                activity.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// What the driver of one connection reads to set its deadline.
struct Activity {
    registry: Arc<Registry>,
    /// Requests in progress: from the complete head until the answer's body is dropped.
    busy: AtomicU32,
    /// When the connection last became idle (accepted, or its last answer ended).
    idle_since: AtomicU64,
    /// When the first byte of the next head arrived (0: none yet).
    head_since: AtomicU64,
    /// Asked to close by [`Registry::evict_one`] and not yet done with it.
    evicting: AtomicBool,
    evict: Notify,
}

impl Activity {
    fn request_started(&self) {
        self.busy.fetch_add(1, Ordering::Relaxed);
        self.head_since.store(0, Ordering::Relaxed);
    }

    fn request_ended(&self) {
        if self.busy.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.idle_since.store(self.registry.now(), Ordering::Relaxed);
        }
    }

    fn bytes_read(&self) {
        if self.busy.load(Ordering::Relaxed) == 0 && self.head_since.load(Ordering::Relaxed) == 0 {
            self.head_since.store(self.registry.now(), Ordering::Relaxed);
        }
    }

    fn is_idle(&self) -> bool {
        self.busy.load(Ordering::Relaxed) == 0
    }

    /// When the connection is to be closed if nothing changes; `None` while busy.
    fn deadline(&self, config: &ConnectionConfig) -> Option<Instant> {
        if !self.is_idle() {
            return None;
        }
        let (since, timeout) = match self.head_since.load(Ordering::Relaxed) {
            0 => (self.idle_since.load(Ordering::Relaxed), config.idle_timeout?),
            since => (since, config.header_read_timeout?),
        };
        Some(self.registry.instant(since) + timeout)
    }
}

/// Serves one accepted connection until it closes, times out, is evicted, or (once
/// `stopping` turns true) has nothing in progress. The connection's slot (`permit`) is held
/// by its socket, so an upgraded connection keeps it until the hijack closes it.
pub(super) async fn serve_connection<I>(
    io: I,
    peer: Option<Peer>,
    permit: OwnedSemaphorePermit,
    router: axum::Router,
    config: Arc<ConnectionConfig>,
    registry: Arc<Registry>,
    mut stopping: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (id, activity) = registry.register();
    let socket = Socket { io, activity: Arc::clone(&activity), _permit: permit };
    let service = ConnectionService { router, activity: Arc::clone(&activity), peer };
    let connection = hyper::server::conn::http1::Builder::new()
        // The timeouts are this module's (see above); hyper's own would warn without a timer.
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(socket), service)
        .with_upgrades();
    let mut connection = pin!(connection);
    let mut deadline = pin!(tokio::time::sleep_until(Instant::now()));
    let mut evicted = pin!(activity.evict.notified());
    let mut stop_signal = pin!(async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    });
    let mut stopped = false;
    let outcome = poll_fn(|cx| {
        if !stopped && stop_signal.as_mut().poll(cx).is_ready() {
            stopped = true;
            // hyper's graceful shutdown: no further request on this connection; the one in
            // progress, if any, finishes (within the server's shutdown deadline).
            connection.as_mut().graceful_shutdown();
        }
        if let Poll::Ready(result) = connection.as_mut().poll(cx) {
            return Poll::Ready(result.map_err(|e| e.to_string()));
        }
        if stopped && activity.is_idle() {
            // Idle, or a head not complete yet (hyper would wait for it): nothing to finish.
            return Poll::Ready(Err("closed while idle: the server is shutting down".to_owned()));
        }
        if evicted.as_mut().poll(cx).is_ready() {
            if activity.is_idle() {
                return Poll::Ready(Err("closed while idle: the server is at its connection limit".to_owned()));
            }
            // A request started meanwhile: it may be evicted later, once idle again.
            activity.evicting.store(false, Ordering::Relaxed);
            evicted.set(activity.evict.notified());
            let _ = evicted.as_mut().poll(cx);
        }
        if let Some(at) = activity.deadline(&config) {
            if deadline.deadline() != at {
                deadline.as_mut().reset(at);
            }
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err("timed out waiting for a request".to_owned()));
            }
        }
        Poll::Pending
    })
    .await;
    registry.deregister(id);
    if let Err(reason) = outcome {
        tracing::debug!(%reason, "connection closed");
    }
}

/// The socket of one connection: notes the first byte of each request head and holds the
/// connection's slot until it is dropped.
struct Socket<I> {
    io: I,
    activity: Arc<Activity>,
    _permit: OwnedSemaphorePermit,
}

impl<I: AsyncRead + Unpin> AsyncRead for Socket<I> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_read();
        }
        result
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Socket<I> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The router as hyper's service for one connection; a request counts as in progress until
/// its answer's body is dropped (a `logs -f` stream is in progress for as long as it runs).
struct ConnectionService {
    router: axum::Router,
    activity: Arc<Activity>,
    peer: Option<Peer>,
}

impl hyper::service::Service<Request<hyper::body::Incoming>> for ConnectionService {
    type Response = Response<InProgress>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, mut request: Request<hyper::body::Incoming>) -> Self::Future {
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(peer);
        }
        let guard = Busy::new(Arc::clone(&self.activity));
        let mut router = self.router.clone();
        let answer = router.call(request.map(Body::new));
        Box::pin(async move {
            let response = match answer.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok(response.map(|body| InProgress { body, _busy: guard }))
        })
    }
}

/// Marks a request in progress for as long as it lives.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: Arc<Activity>) -> Busy {
        activity.request_started();
        Busy(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

/// An answer's body, which keeps its request in progress until hyper drops it.
struct InProgress {
    body: Body,
    _busy: Busy,
}

impl hyper::body::Body for InProgress {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        hyper::body::Body::is_end_stream(&self.body)
    }

    fn size_hint(&self) -> SizeHint {
        hyper::body::Body::size_hint(&self.body)
    }
}
