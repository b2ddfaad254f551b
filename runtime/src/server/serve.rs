//! Serving a router on a unix socket or TCP, HTTP/1.1 with upgrades (axum's `serve`), until
//! a shutdown signal; then in-flight requests are let finish.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

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

/// Serves `router` on a unix socket at `path` (see [`bind_unix`]) until `shutdown` resolves.
#[cfg(unix)]
pub async fn serve_unix(
    router: axum::Router,
    path: impl AsRef<std::path::Path>,
    mode: u32,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_unix_listener(router, bind_unix(path, mode)?, shutdown).await
}

/// Serves `router` on an already bound unix listener until `shutdown` resolves.
#[cfg(unix)]
pub async fn serve_unix_listener(
    router: axum::Router,
    listener: tokio::net::UnixListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// Serves `router` on TCP at `addr` until `shutdown` resolves.
pub async fn serve_tcp(router: axum::Router, addr: SocketAddr, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
    serve_tcp_listener(router, TcpListener::bind(addr).await?, shutdown).await
}

/// Serves `router` on an already bound TCP listener (bind to port 0 first to learn the
/// address) until `shutdown` resolves.
pub async fn serve_tcp_listener(
    router: axum::Router,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // Attach and exec write small pieces interactively; Nagle would hold them back (Go's
    // listener sets TCP_NODELAY too).
    let listener = listener.tap_io(|stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
