//! Streamed response bodies (logs, events, progress, tar) on a connection of their own,
//! driven by the task that reads the body instead of a connection task.
//!
//! Why: per-chunk task hand-offs. reqwest (hyper-util's pool) runs every connection as a
//! spawned task that hands the body to the reader through a one-slot channel, so each HTTP
//! chunk costs two task wake-ups, across threads on a multi-thread runtime (futex calls).
//! The daemon flushes one chunk per log frame: a 64 MiB log of short lines is a million
//! chunks, and the hand-offs cost more than the daemon's own work. Here the hyper
//! connection future is polled inside the body's `poll_frame`, so chunks go from the socket
//! to the decoder within one task, and a wake-up is paid per socket read (tens of chunks),
//! not per chunk; [`WakeFilter`] keeps the channel inside hyper from waking the task for
//! nothing. Nothing is copied on the way: hyper cuts each chunk out of its read buffer as
//! a `Bytes`, and the decoders slice frames out of those.
//!
//! Plain connections only (unix sockets, TCP without TLS or proxy); TLS stays on reqwest.
//! The result is still a `reqwest::Response`, so error answers, decoders and the errors of
//! a body that fails while it is read are the same on both paths; only failures before the
//! response head are an [`Error::Connection`]. The connection serves one request and
//! closes when the body ends or is dropped: the streams are long, a connect is cheap.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, HOST, USER_AGENT};
use tokio::io::{AsyncRead, AsyncWrite};

use super::host::Host;
use super::streams::BoxError;
use super::Error;

/// The largest read buffer hyper may grow to (its default is about 400 KiB): a tar export
/// from a fast daemon is read in fewer, larger pieces.
const MAX_READ_BUFFER: usize = 1 << 20;

/// Where and how to open a connection of its own; one per [`Transport`](super::Transport),
/// absent for TLS and proxied endpoints.
#[derive(Debug)]
pub(super) struct Direct {
    dial: Dial,
    /// What the daemon is called in errors (`unix:///var/run/docker.sock`).
    shown: String,
    connect_timeout: Option<Duration>,
    /// What reqwest adds to every request unless it is set: `User-Agent`, `Accept: */*`.
    default_headers: HeaderMap,
}

#[derive(Debug)]
enum Dial {
    #[cfg(unix)]
    Unix(std::path::PathBuf),
    Tcp {
        host: String,
        port: u16,
    },
}

impl Direct {
    /// The direct path to `host` (`port`: the one the base URL uses), or `None` where
    /// reqwest must stay in charge: TLS, an HTTP proxy from the environment, no unix sockets.
    pub(super) fn new(host: &Host, port: u16, tls: bool, connect_timeout: Option<Duration>, user_agent: &str) -> Option<Direct> {
        let dial = match host {
            #[cfg(unix)]
            Host::Unix(path) => Dial::Unix(path.clone()),
            #[cfg(not(unix))]
            Host::Unix(_) => return None,
            Host::Tcp { .. } if tls => return None,
            // reqwest honours HTTP_PROXY and ALL_PROXY (with NO_PROXY) for everything but
            // loopback; when one is set the request goes through reqwest, which knows the rules.
            Host::Tcp { host, .. } if !super::transport::is_loopback(host) && proxy_configured() => return None,
            Host::Tcp { host, .. } => Dial::Tcp { host: host.clone(), port },
        };
        let mut default_headers = HeaderMap::new();
        default_headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        default_headers.insert(USER_AGENT, HeaderValue::from_str(user_agent).ok()?);
        Some(Direct { dial, shown: host.to_string(), connect_timeout, default_headers })
    }

    /// Sends `request` on a new connection and returns the response once its head is in;
    /// reading the body drives the connection.
    pub(super) async fn send(&self, request: reqwest::Request) -> Result<reqwest::Response, Error> {
        let context = format!("{} {}", request.method(), request.url().path());
        let mut request: hyper::Request<reqwest::Body> = request.try_into().map_err(Error::transport)?;
        let authority = request.uri().authority().map(|a| a.as_str().to_owned()).unwrap_or_default();
        let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
        *request.uri_mut() = target.parse().map_err(|e| connection_error(&context, e))?;
        let headers = request.headers_mut();
        for (name, value) in &self.default_headers {
            headers.entry(name).or_insert_with(|| value.clone());
        }
        // As hyper-util's client: from the URL, unless the caller set one.
        if !authority.is_empty() && !headers.contains_key(HOST) {
            headers.insert(HOST, HeaderValue::from_str(&authority).map_err(|e| connection_error(&context, e))?);
        }

        let connecting = async {
            match &self.dial {
                #[cfg(unix)]
                Dial::Unix(path) => Ok(Io::Unix(tokio::net::UnixStream::connect(path).await?)),
                Dial::Tcp { host, port } => {
                    let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                    stream.set_nodelay(true)?;
                    Ok(Io::Tcp(stream))
                }
            }
        };
        let connected: std::io::Result<Io> = match self.connect_timeout {
            Some(after) => tokio::time::timeout(after, connecting)
                .await
                .unwrap_or_else(|_| Err(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("no connection within {after:?}")))),
            None => connecting.await,
        };
        let io = connected.map_err(|e| connection_error(&format!("{context}: connecting to {}", self.shown), e))?;
        let (sender, connection) = http1::Builder::new()
            .max_buf_size(MAX_READ_BUFFER)
            .handshake(TokioIo::new(io))
            .await
            .map_err(|e| connection_error(&context, e))?;
        let mut driven = Driven { connection: Some(Box::pin(connection)), failed: None };
        let response = driven.until_head(sender, request).await.map_err(|e| connection_error(&context, e))?;
        let (parts, body) = response.into_parts();
        let body = DrivenBody::new(driven, body);
        Ok(reqwest::Response::from(hyper::Response::from_parts(parts, reqwest::Body::wrap(body))))
    }
}

/// Whether the environment names an HTTP proxy, as reqwest reads it.
fn proxy_configured() -> bool {
    ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"].iter().any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

fn connection_error(context: &str, source: impl Into<BoxError>) -> Error {
    Error::Connection { context: context.to_owned(), source: source.into() }
}

/// The socket of a direct connection.
enum Io {
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

impl AsyncRead for Io {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            #[cfg(unix)]
            Io::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            #[cfg(unix)]
            Io::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[std::io::IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            #[cfg(unix)]
            Io::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            #[cfg(unix)]
            Io::Unix(s) => s.is_write_vectored(),
            Io::Tcp(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            #[cfg(unix)]
            Io::Unix(s) => Pin::new(s).poll_flush(cx),
            Io::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            #[cfg(unix)]
            Io::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

type Connection = http1::Connection<TokioIo<Io>, reqwest::Body>;

/// A connection future polled by its one request's caller; dropped (closing the socket) as
/// soon as it completes, which also ends the body it feeds.
struct Driven {
    connection: Option<Pin<Box<Connection>>>,
    /// How the connection failed, until the body has had the chance to report it.
    failed: Option<hyper::Error>,
}

impl Driven {
    /// Lets the connection read and write what it can. Returns whether it is gone.
    fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(connection) = &mut self.connection else { return true };
        match connection.as_mut().poll(cx) {
            Poll::Pending => false,
            Poll::Ready(result) => {
                self.connection = None;
                // Closing a socket the daemon already closed is no failure of the exchange.
                self.failed = result.err().filter(|e| !e.is_shutdown());
                true
            }
        }
    }

    /// Sends the request and drives the connection until the response head is in.
    async fn until_head(
        &mut self,
        mut sender: http1::SendRequest<reqwest::Body>,
        request: hyper::Request<reqwest::Body>,
    ) -> Result<hyper::Response<Incoming>, BoxError> {
        let mut sending = std::pin::pin!(sender.send_request(request));
        poll_fn(|cx| {
            if let Poll::Ready(result) = sending.as_mut().poll(cx) {
                return Poll::Ready(result.map_err(BoxError::from));
            }
            let gone = self.drive(cx);
            if let Poll::Ready(result) = sending.as_mut().poll(cx) {
                return Poll::Ready(result.map_err(BoxError::from));
            }
            match (gone, self.failed.take()) {
                (_, Some(e)) => Poll::Ready(Err(e.into())),
                // hyper fails the request of a connection that ended; in case it did not:
                (true, None) => Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the daemon closed the connection before answering",
                )
                .into())),
                (false, None) => Poll::Pending,
            }
        })
        .await
    }
}

/// The body of a response on a [`Driven`] connection.
struct DrivenBody {
    driven: Driven,
    body: Incoming,
    wakes: Arc<WakeFilter>,
    /// `wakes` as a waker, for polling the connection and `body`.
    waker: Waker,
}

impl DrivenBody {
    fn new(driven: Driven, body: Incoming) -> DrivenBody {
        let wakes = Arc::new(WakeFilter { reader: AtomicWaker::new(), state: AtomicU8::new(IDLE) });
        DrivenBody { driven, body, waker: Waker::from(wakes.clone()), wakes }
    }

    fn frame(&mut self, item: Option<Result<Frame<Bytes>, hyper::Error>>) -> Option<Result<Frame<Bytes>, hyper::Error>> {
        match item {
            Some(Ok(frame)) => Some(Ok(frame)),
            Some(Err(e)) => {
                self.driven.failed = None;
                self.driven.connection = None;
                Some(Err(e))
            }
            // The end: close at once, not when the caller gets round to dropping the stream;
            // a connection that failed without telling the body reports it here.
            None => {
                self.driven.connection = None;
                self.driven.failed.take().map(Err)
            }
        }
    }

    /// One round: the body, else the connection and the body again.
    fn poll_once(&mut self) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let mut cx = Context::from_waker(&self.waker);
        if let Poll::Ready(item) = Pin::new(&mut self.body).poll_frame(&mut cx) {
            return Poll::Ready(self.frame(item));
        }
        self.driven.drive(&mut cx);
        match Pin::new(&mut self.body).poll_frame(&mut cx) {
            Poll::Ready(item) => Poll::Ready(self.frame(item)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl HttpBody for DrivenBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        this.wakes.reader.register(cx.waker());
        let mut result = Poll::Pending;
        for _ in 0..ROUNDS {
            this.wakes.state.store(POLLING, Ordering::SeqCst);
            result = this.poll_once();
            if result.is_ready() || this.wakes.state.load(Ordering::SeqCst) == POLLING {
                break;
            }
        }
        // A wake during a round that ended Pending may be news (the socket became readable
        // meanwhile, tokio's budget ran out): pass it on. After Ready the caller polls again.
        if this.wakes.state.swap(IDLE, Ordering::SeqCst) == WOKEN && result.is_pending() {
            cx.waker().wake_by_ref();
        }
        result
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Rounds of [`DrivenBody::poll_once`] in one `poll_frame` while wakes keep coming.
const ROUNDS: usize = 2;
const IDLE: u8 = 0;
const POLLING: u8 = 1;
const WOKEN: u8 = 2;

/// The waker the connection and the body channel see: outside `poll_frame` it wakes the
/// reader's task; inside, it only notes the wake.
///
/// The channel between hyper's connection and its body wakes the other side on every
/// chunk: here both sides are polled by the same `poll_frame`, which polls the connection
/// again whenever the body is empty, so those wakes would only reschedule the reader's
/// task for nothing, and tokio's multi-thread scheduler answers a task waking itself by
/// unparking another worker (a futex call and a stolen task, per read).
struct WakeFilter {
    reader: AtomicWaker,
    state: AtomicU8,
}

impl Wake for WakeFilter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let noted = self.state.compare_exchange(POLLING, WOKEN, Ordering::SeqCst, Ordering::SeqCst);
        if let Err(IDLE) = noted {
            self.reader.wake();
        }
    }
}
