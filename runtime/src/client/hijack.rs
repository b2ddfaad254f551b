//! Hijacked connections (`ContainerAttach`, `ExecStart`): the upgrade
//! handshake, then the connection split into the process's output and its stdin.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::TryStreamExt as _;
use reqwest::header::{HeaderValue, CONNECTION, CONTENT_TYPE, UPGRADE};
use reqwest::StatusCode;
use tokio::io::{AsyncWrite, WriteHalf};

use super::streams::{BodyStream, BoxError, LogOutput, TtySource};
use super::{Call, Error, IntoRequest, Request, Transport};

/// How much one read of the hijacked connection takes: the daemon's own copy buffer.
const READ_CHUNK: usize = 32 * 1024;

impl Transport {
    /// Sends an attach or exec start request with `Connection: Upgrade` and `Upgrade: tcp`
    /// and takes over the connection.
    ///
    /// Anything but `101 Switching Protocols` is an [`Error`]: the daemon's JSON error as
    /// [`Error::Api`], and a 2xx (a daemon that hijacked without upgrading, whose body
    /// never ends) as [`Error::UnexpectedResponse`] without reading its body. Bytes the
    /// daemon sent right behind the 101 head are the start of the output. The framing is
    /// settled as for [`send_logs`](Transport::send_logs), except that for
    /// [`TtySource::Exec`] the `Tty` of the start request's JSON body decides when there is
    /// one: the daemon frames exec output by it, whatever the exec was created with.
    ///
    /// The timeout covers the handshake only; the connection then lives as long as the
    /// caller keeps a half of it.
    pub fn upgrade(&self, request: impl IntoRequest, tty: TtySource) -> Call<'_, Hijacked> {
        let request = request.into_request();
        Box::pin(self.hijack(request, tty))
    }

    async fn hijack(&self, request: Result<Request, Error>, tty: TtySource) -> Result<Hijacked, Error> {
        let request = request?.header(CONNECTION, HeaderValue::from_static("Upgrade")).header(UPGRADE, HeaderValue::from_static("tcp"));
        let tty = match tty {
            TtySource::Exec(id) => exec_start_tty(&request).map_or(TtySource::Exec(id), TtySource::Known),
            other => other,
        };
        let version = self.version_for(&request).await?;
        let before = self.framing_before(&tty, version).await?;
        let response = self.send_at(request, version).await?;
        let status = response.status();
        if status != StatusCode::SWITCHING_PROTOCOLS {
            let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
            return Err(Error::UnexpectedResponse { status: status.as_u16(), content_type, body: String::new(), truncated: true });
        }
        let framing = self.framing_after(response.headers(), version, before, &tty).await?;
        let upgraded = response.upgrade().await.map_err(Error::transport)?;
        let (read, write) = tokio::io::split(upgraded);
        let output: BodyStream =
            Box::pin(tokio_util::io::ReaderStream::with_capacity(read, READ_CHUNK).map_err(|e| -> BoxError { Box::new(e) }));
        Ok(Hijacked { output: LogOutput::new(output, framing), input: HijackInput { inner: write } })
    }
}

/// The `Tty` of an `ExecStart` body: the daemon frames exec output by it, not by the
/// exec's own `ProcessConfig.tty`, so the two can disagree. Absent means `false`, as Go
/// decodes it; `None` when the body is not an in-memory JSON object.
fn exec_start_tty(request: &Request) -> Option<bool> {
    let body: serde_json::Value = serde_json::from_slice(request.body_bytes()?).ok()?;
    Some(body.as_object()?.get("Tty").and_then(serde_json::Value::as_bool).unwrap_or(false))
}

/// Both directions of a hijacked connection ([`Transport::upgrade`]). The connection
/// closes once both halves are dropped.
#[derive(Debug)]
pub struct Hijacked {
    /// What the process writes (and the daemon echoes), as chunks.
    pub output: HijackOutput,
    /// The process's stdin.
    pub input: HijackInput,
}

impl Hijacked {
    /// The two halves, to move into different tasks.
    pub fn split(self) -> (HijackOutput, HijackInput) {
        (self.output, self.input)
    }
}

/// The output of a hijacked connection: stdout and stderr as the daemon framed them, or a
/// TTY's raw output as stdout.
///
/// An error is the last item. A failure the daemon meets before upgrading is the error
/// of [`Transport::upgrade`] (for attach written raw: an [`Error::UnexpectedResponse`]
/// with the message as body); an exec that fails after the upgrade writes its error as
/// text on stdout, as the daemon does.
///
/// The same stream as a logs body's: one type, so code that reads container output takes
/// either.
pub type HijackOutput = LogOutput;

/// The stdin of a hijacked connection.
///
/// [`poll_shutdown`](AsyncWrite::poll_shutdown) (`AsyncWriteExt::shutdown`) half-closes
/// the connection: the process sees end of input while its output keeps flowing, as the
/// Go client's `CloseWrite`. Dropping it without shutting down leaves stdin open until the
/// output half is dropped too.
pub struct HijackInput {
    inner: WriteHalf<reqwest::Upgraded>,
}

impl AsyncWrite for HijackInput {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl fmt::Debug for HijackInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HijackInput").finish_non_exhaustive()
    }
}
