//! Serving a router on unix sockets and TCP: HTTP/1.1 with upgrades, under the timeouts,
//! connection cap and shutdown deadline of a [`ConnectionConfig`].
//!
//! [`serve`] is the piece to build on (a daemon, a socket proxy): any [`Listener`], any
//! axum `Router` (wrap another service with `Router::new().fallback_service(…)`), and a
//! shutdown signal. The `serve_unix*` and `serve_tcp*` functions call it with
//! [`ConnectionConfig::default`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use super::connection::{serve_connection, Registry};

/// How connections are served: how long a client may take to send a request, how long an
/// idle connection is kept, how many connections are open at once, and how long the
/// graceful shutdown may take. Every field is public; [`ConnectionConfig::default`] has
/// the values a daemon would choose.
///
/// The timeouts apply only while a connection waits for a request. A request in progress
/// (a `logs -f` or `events` stream, a long `wait`, a build) is never cut by them, nor is a
/// connection handed over to an attach or exec (hijacked), which is no longer HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// How long a client may take to send a complete request head, counted from the head's
    /// first byte, or from the connection's start for its first request (a client that
    /// connects sends at once). `None`: no limit. Default: 30 s, hyper's default and
    /// generous for a client on a slow link; a client that sends part of a head and stops
    /// (slowloris) holds its connection for no longer.
    pub header_read_timeout: Option<Duration>,
    /// How long a connection is kept open with no request in progress and no byte of the
    /// next one (HTTP keep-alive). `None`: no limit. Default: 120 s, longer than the
    /// clients' own pools keep idle connections (Go's and reqwest's 90 s), so it is the
    /// client that closes them, never the server just as the client reuses one.
    pub idle_timeout: Option<Duration>,
    /// How many connections may be open at once, hijacked ones included. When the server is
    /// at the limit, a new connection makes the connection idle the longest (no request in
    /// progress) close, so a flood of idle connections cannot lock clients out; when every
    /// connection is busy, new ones wait in the listen backlog. The accept loop does the
    /// same when the process runs out of file descriptors. Default:
    /// [`default_max_connections`].
    pub max_connections: usize,
    /// How long the graceful shutdown waits for requests in progress once the shutdown
    /// signal resolves; connections with nothing in progress close at once, whatever is
    /// left at the deadline is closed. Default: 10 s, the grace `docker stop` gives a
    /// container.
    pub shutdown_timeout: Duration,
}

impl Default for ConnectionConfig {
    fn default() -> ConnectionConfig {
        ConnectionConfig {
            header_read_timeout: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(120)),
            max_connections: default_max_connections(),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl ConnectionConfig {
    pub fn header_read_timeout(mut self, timeout: Option<Duration>) -> ConnectionConfig {
        self.header_read_timeout = timeout;
        self
    }

    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> ConnectionConfig {
        self.idle_timeout = timeout;
        self
    }

    /// At least 1.
    pub fn max_connections(mut self, max: usize) -> ConnectionConfig {
        self.max_connections = max.max(1);
        self
    }

    pub fn shutdown_timeout(mut self, timeout: Duration) -> ConnectionConfig {
        self.shutdown_timeout = timeout;
        self
    }
}

/// The most connections served by default: 4096, or half the process's limit of open files
/// (`RLIMIT_NOFILE`) when that is lower, and at least 16. Half, so that what the handlers
/// open (files, and for a proxy one upstream connection per client connection) still has
/// descriptors left when every slot is taken; 4096 bounds the memory idle connections
/// hold (hyper's buffers, some tens of KiB each).
pub fn default_max_connections() -> usize {
    const MOST: usize = 4096;
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit only writes the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 && limit.rlim_cur != libc::RLIM_INFINITY {
            let half = usize::try_from(limit.rlim_cur / 2).unwrap_or(MOST);
            return half.clamp(16, MOST);
        }
    }
    MOST
}

/// A source of connections for [`serve`]: implemented for tokio's `TcpListener` (with
/// `TCP_NODELAY` set on each connection) and `UnixListener`; implement it for a listener
/// of your own (e.g. a TLS acceptor). Errors are handled by `serve`: a lack of file
/// descriptors frees an idle connection's, anything else is retried.
pub trait Listener: Send + 'static {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    fn accept(&mut self) -> impl Future<Output = io::Result<Self::Io>> + Send;

    /// Who is on the other end of an accepted connection; [`serve`] puts it in the
    /// extensions of every request of that connection. `None` by default.
    fn peer(io: &Self::Io) -> Option<Peer> {
        let _ = io;
        None
    }
}

/// Who is on the other end of a served connection, in the extensions of each of its
/// requests (`request.extensions().get::<Peer>()`): the credentials of the process on a
/// unix socket (`SO_PEERCRED`), the address on TCP. A socket proxy logs it with every
/// decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The connecting process, as the kernel saw it when it connected.
    Unix {
        pid: Option<i32>,
        uid: u32,
        gid: u32,
    },
    Tcp(SocketAddr),
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Unix { pid: Some(pid), uid, gid } => write!(f, "pid={pid} uid={uid} gid={gid}"),
            Peer::Unix { pid: None, uid, gid } => write!(f, "uid={uid} gid={gid}"),
            Peer::Tcp(addr) => write!(f, "{addr}"),
        }
    }
}

impl Listener for TcpListener {
    type Io = tokio::net::TcpStream;

    async fn accept(&mut self) -> io::Result<Self::Io> {
        let (stream, _) = TcpListener::accept(self).await?;
        // Attach and exec write small pieces interactively; Nagle would hold them back (Go's
        // listener sets TCP_NODELAY too).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        Ok(stream)
    }

    fn peer(io: &Self::Io) -> Option<Peer> {
        io.peer_addr().ok().map(Peer::Tcp)
    }
}

#[cfg(unix)]
impl Listener for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;

    async fn accept(&mut self) -> io::Result<Self::Io> {
        tokio::net::UnixListener::accept(self).await.map(|(stream, _)| stream)
    }

    fn peer(io: &Self::Io) -> Option<Peer> {
        let cred = io.peer_cred().ok()?;
        Some(Peer::Unix { pid: cred.pid(), uid: cred.uid(), gid: cred.gid() })
    }
}

/// Serves `router` on `listener` under `config` until `shutdown` resolves, then shuts down
/// gracefully: no new connections, connections with nothing in progress are closed at
/// once, requests in progress may finish until [`ConnectionConfig::shutdown_timeout`];
/// then whatever is left is closed and this returns. Hijacked connections (attach, exec)
/// run in tasks of their own and are not waited for: they end when their handler returns,
/// or with the runtime.
pub async fn serve<L: Listener>(
    mut listener: L,
    router: axum::Router,
    config: ConnectionConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let registry = Arc::new(Registry::new());
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut backoff = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            // Finished connections are reaped as they go, so the set stays as large as the
            // number of open connections.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let io = match accepted {
            Ok(io) => {
                backoff = Duration::ZERO;
                io
            }
            Err(e) => {
                // Out of file descriptors: free an idle connection's and retry soon; other
                // errors (a connection reset before it was accepted …) are the client's.
                let exhausted = matches!(e.raw_os_error(), Some(code) if is_fd_exhaustion(code));
                if exhausted && !registry.evict_one() {
                    backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                }
                tracing::debug!(error = %e, "accepting a connection failed");
                if exhausted {
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(backoff.max(Duration::from_millis(1))) => {}
                    }
                }
                continue;
            }
        };
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                // At the limit: the connection idle the longest makes room; with none idle,
                // wait for any to close.
                let permit = loop {
                    registry.evict_one();
                    tokio::select! {
                        () = &mut shutdown => break None,
                        permit = Arc::clone(&slots).acquire_owned() => break permit.ok(),
                        Some(_) = connections.join_next(), if !connections.is_empty() => {}
                        () = tokio::time::sleep(Duration::from_millis(50)) => {}
                    }
                };
                match permit {
                    Some(permit) => permit,
                    None => break,
                }
            }
        };
        let peer = L::peer(&io);
        connections.spawn(serve_connection(io, peer, permit, router.clone(), Arc::clone(&config), Arc::clone(&registry), stopping.clone()));
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(config.shutdown_timeout, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::debug!(left = connections.len(), "shutdown deadline reached: closing the connections left");
        connections.shutdown().await;
    }
    Ok(())
}

fn is_fd_exhaustion(code: i32) -> bool {
    #[cfg(unix)]
    {
        code == libc::EMFILE || code == libc::ENFILE
    }
    #[cfg(not(unix))]
    {
        let _ = code;
        false
    }
}

/// Binds a unix socket at `path` with permissions `mode` (e.g. `0o660`), replacing a stale
/// socket left by an earlier run. Any other kind of file there is an error rather than
/// deleted.
#[cfg(unix)]
pub fn bind_unix(path: impl AsRef<std::path::Path>, mode: u32) -> io::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    let path = path.as_ref();
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket; not replacing it", path.display()),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(listener)
}

/// Serves `router` on a unix socket at `path` (see [`bind_unix`]) with the default
/// [`ConnectionConfig`] until `shutdown` resolves.
#[cfg(unix)]
pub async fn serve_unix(
    router: axum::Router,
    path: impl AsRef<std::path::Path>,
    mode: u32,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_unix_listener(router, bind_unix(path, mode)?, shutdown).await
}

/// Serves `router` on an already bound unix listener with the default [`ConnectionConfig`]
/// until `shutdown` resolves.
#[cfg(unix)]
pub async fn serve_unix_listener(
    router: axum::Router,
    listener: tokio::net::UnixListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve(listener, router, ConnectionConfig::default(), shutdown).await
}

/// Serves `router` on TCP at `addr` with the default [`ConnectionConfig`] until `shutdown`
/// resolves.
pub async fn serve_tcp(router: axum::Router, addr: SocketAddr, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
    serve_tcp_listener(router, TcpListener::bind(addr).await?, shutdown).await
}

/// Serves `router` on an already bound TCP listener (bind to port 0 first to learn the
/// address) with the default [`ConnectionConfig`] until `shutdown` resolves.
pub async fn serve_tcp_listener(
    router: axum::Router,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve(listener, router, ConnectionConfig::default(), shutdown).await
}
