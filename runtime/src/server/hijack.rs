//! Attach and exec connections: after `101 Switching Protocols` the
//! connection is the implementation's, stdin coming in and output going out, framed when
//! multiplexed.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};

use super::body::frame_header;
use super::BoxFuture;
use crate::stream::StdStream;

/// A hijacked connection handed to the implementation: reading gives the client's stdin
/// (EOF when the client half-closes), writing sends output.
///
/// When the client did not ask for an upgrade the output becomes the response body and
/// reading is at EOF at once.
pub struct Upgraded {
    io: Io,
    multiplexed: bool,
}

enum Io {
    Connection(TokioIo<hyper::upgrade::Upgraded>),
    /// The write side of a pipe whose read side is the response body.
    Body(DuplexStream),
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.io {
            Io::Connection(_) => "connection",
            Io::Body(_) => "response body",
        };
        f.debug_struct("Upgraded").field("io", &kind).field("multiplexed", &self.multiplexed).finish()
    }
}

impl Upgraded {
    pub(crate) fn connection(io: hyper::upgrade::Upgraded, multiplexed: bool) -> Upgraded {
        Upgraded { io: Io::Connection(TokioIo::new(io)), multiplexed }
    }

    pub(crate) fn body(pipe: DuplexStream, multiplexed: bool) -> Upgraded {
        Upgraded { io: Io::Body(pipe), multiplexed }
    }

    /// What the [`Hijack`] said: whether output should be written with
    /// [`write_frame`](Upgraded::write_frame) (no TTY) or raw (TTY).
    pub fn multiplexed(&self) -> bool {
        self.multiplexed
    }

    /// Whether this is a real upgraded connection (so reading gives stdin), not the body of
    /// a `200` answer to a client that sent no `Upgrade` header.
    pub fn is_connection(&self) -> bool {
        matches!(self.io, Io::Connection(_))
    }

    /// Writes one stdout/stderr frame (when multiplexed); data longer than `u32::MAX` goes
    /// out as several frames, empty data as none.
    pub async fn write_frame(&mut self, stream: StdStream, data: &[u8]) -> io::Result<()> {
        for payload in data.chunks(u32::MAX as usize) {
            self.write_all(&frame_header(stream, payload.len())).await?;
            self.write_all(payload).await?;
        }
        self.flush().await
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Connection(io) => Pin::new(io).poll_read(cx, buf),
            // No stdin without an upgrade: EOF.
            Io::Body(_) => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Connection(io) => Pin::new(io).poll_write(cx, buf),
            Io::Body(pipe) => Pin::new(pipe).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Connection(io) => Pin::new(io).poll_flush(cx),
            Io::Body(pipe) => Pin::new(pipe).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Connection(io) => Pin::new(io).poll_shutdown(cx),
            Io::Body(pipe) => Pin::new(pipe).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Connection(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Io::Body(pipe) => Pin::new(pipe).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Connection(io) => io.is_write_vectored(),
            Io::Body(pipe) => pipe.is_write_vectored(),
        }
    }
}

/// What an attach / exec-start implementation returns: whether its output is multiplexed,
/// and what to do with the connection once it is hijacked.
///
/// Output written the instant the connection is handed over can be lost by some clients:
/// docker-py reads the `101` through a buffered reader and then switches to the raw
/// socket, dropping whatever came in the same read as the headers. The daemon's processes
/// take a moment to start; an emulation that writes at once should wait a few tens of
/// milliseconds first (the example engine waits 50 ms).
pub struct Hijack {
    pub(crate) multiplexed: bool,
    pub(crate) run: Box<dyn FnOnce(Upgraded) -> BoxFuture<()> + Send + 'static>,
}

impl fmt::Debug for Hijack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hijack").field("multiplexed", &self.multiplexed).finish_non_exhaustive()
    }
}

impl Hijack {
    /// `multiplexed`: whether the output is framed (no TTY). `run` gets the connection in a
    /// task of its own; when it returns, the connection is shut down and closed.
    pub fn new<F, Fut>(multiplexed: bool, run: F) -> Hijack
    where
        F: FnOnce(Upgraded) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Hijack { multiplexed, run: Box::new(move |upgraded| Box::pin(run(upgraded))) }
    }

    pub fn multiplexed(&self) -> bool {
        self.multiplexed
    }
}
