//! Response bodies that are not one JSON document, as typed streams, and how logs and hijacked output are known to be
//! framed or raw.
//!
//! Every call sends through [`Transport::send`]'s path, so the timeout covers the
//! response head only: a stream the caller is still reading is never cut by it. Each of
//! these requests gets a connection of its own on unix sockets and plain TCP, read by the
//! task that reads the stream (see [`Transport`]).

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::{FusedStream, Stream};
use futures_util::{StreamExt as _, TryStreamExt as _};
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use serde::de::DeserializeOwned;

use super::{Call, Error, IntoRequest, Request, Transport};
use crate::stream::{Framing, JsonLines, LogChunk, LogStream, ProgressMessage, ProgressStream, StreamError};
use crate::version::ApiVersion;

pub(super) type BoxError = Box<dyn StdError + Send + Sync>;

/// A body as the decoders read it; boxed so that the public stream types name no
/// transport type and stay `Unpin`.
pub(super) type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

const MULTIPLEXED_STREAM: &str = "application/vnd.docker.multiplexed-stream";
const RAW_STREAM: &str = "application/vnd.docker.raw-stream";

/// The first version whose `raw-stream` Content-Type means raw: below it the daemon says
/// `raw-stream` (or nothing) for framed output too.
const TYPED_STREAMS: ApiVersion = ApiVersion::new(1, 42);

/// How to learn whether a hijacked or log stream is multiplexed when the Content-Type does
/// not say (every version below 1.42 sends `raw-stream` or nothing even when framed). The first byte is never sniffed: a TTY's output may begin with
/// `\x01` too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TtySource {
    /// `GET /containers/{id}/json` → `Config.Tty` (logs and attach).
    Container(String),
    /// `GET /exec/{id}/json` → `ProcessConfig.tty`. [`Transport::upgrade`] reads the
    /// `Tty` of the `ExecStart` body first, since the daemon frames by that one.
    Exec(String),
    /// `GET /services/{id}` → `Spec.TaskTemplate.ContainerSpec.TTY` (absent: no TTY).
    Service(String),
    /// `GET /tasks/{id}` → `Spec.ContainerSpec.TTY`.
    Task(String),
    /// The caller knows: `true` means a TTY, so raw output.
    Known(bool),
}

impl TtySource {
    /// The inspect request that tells, and where the answer sits in its JSON.
    fn lookup(&self) -> Option<(String, &'static str)> {
        let (path, pointer) = match self {
            TtySource::Known(_) => return None,
            TtySource::Container(id) => (format!("/containers/{}/json", encode_segment(id)), "/Config/Tty"),
            TtySource::Exec(id) => (format!("/exec/{}/json", encode_segment(id)), "/ProcessConfig/tty"),
            TtySource::Service(id) => (format!("/services/{}", encode_segment(id)), "/Spec/TaskTemplate/ContainerSpec/TTY"),
            TtySource::Task(id) => (format!("/tasks/{}", encode_segment(id)), "/Spec/ContainerSpec/TTY"),
        };
        Some((path, pointer))
    }
}

/// Percent-encodes everything but unreserved characters: the id is one path segment.
fn encode_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn framing_of_tty(tty: bool) -> Framing {
    if tty {
        Framing::Raw
    } else {
        Framing::Multiplexed
    }
}

/// What the Content-Type says at `version` (`None`: unversioned, the daemon's maximum,
/// unknown here); `None` when it cannot tell.
pub(super) fn framing_from_content_type(headers: &HeaderMap, version: Option<ApiVersion>) -> Option<Framing> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match media.as_str() {
        MULTIPLEXED_STREAM => Some(Framing::Multiplexed),
        RAW_STREAM if version.is_some_and(|v| v >= TYPED_STREAMS) => Some(Framing::Raw),
        _ => None,
    }
}

impl Transport {
    /// Asks the daemon whether `source` has a TTY.
    async fn tty_of(&self, source: &TtySource) -> Result<bool, Error> {
        let Some((path, pointer)) = source.lookup() else {
            return Ok(matches!(source, TtySource::Known(true)));
        };
        let body: serde_json::Value = self.send_json(Request::get(path)).await?;
        // Go decodes into a struct: an absent field is false.
        Ok(body.pointer(pointer).and_then(serde_json::Value::as_bool).unwrap_or(false))
    }

    /// The framing when it is settled before sending: the caller knows it, or the version
    /// is one whose Content-Type cannot tell. Asking first rather than after means a
    /// container removed right after its logs were read (`AutoRemove`) still works.
    pub(super) async fn framing_before(&self, tty: &TtySource, version: Option<ApiVersion>) -> Result<Option<Framing>, Error> {
        match tty {
            TtySource::Known(tty) => Ok(Some(framing_of_tty(*tty))),
            _ if version.is_some_and(|v| v < TYPED_STREAMS) => Ok(Some(framing_of_tty(self.tty_of(tty).await?))),
            _ => Ok(None),
        }
    }

    /// The framing once the head is in: the Content-Type when it tells (the daemon
    /// decided), else what was settled before, else one lookup.
    pub(super) async fn framing_after(
        &self,
        headers: &HeaderMap,
        version: Option<ApiVersion>,
        before: Option<Framing>,
        tty: &TtySource,
    ) -> Result<Framing, Error> {
        if let Some(framing) = framing_from_content_type(headers, version) {
            return Ok(framing);
        }
        match before {
            Some(framing) => Ok(framing),
            None => Ok(framing_of_tty(self.tty_of(tty).await?)),
        }
    }

    /// Sends a logs request (`ContainerLogs`, `ServiceLogs`, `TaskLogs`) and returns its
    /// chunks.
    ///
    /// The framing comes from the Content-Type (`multiplexed-stream`, or `raw-stream` at
    /// 1.42 and later), otherwise from `tty`: one extra inspect request, made before the
    /// logs request when the version already says the Content-Type will not tell. Error
    /// answers (404 …) come back as [`Error`] before any item.
    pub fn send_logs(&self, request: impl IntoRequest, tty: TtySource) -> Call<'_, LogOutput> {
        let request = request.into_request();
        Box::pin(async move {
            let request = request?;
            let version = self.version_for(&request).await?;
            let before = self.framing_before(&tty, version).await?;
            let response = self.send_at(request.own_connection(), version).await?;
            let framing = self.framing_after(response.headers(), version, before, &tty).await?;
            Ok(LogOutput::new(body_stream(response), framing))
        })
    }

    /// Sends a request whose body is one JSON value per line (`ContainerStats`,
    /// `SystemEvents`); items are `T`.
    pub fn send_json_lines<T: DeserializeOwned + Send>(&self, request: impl IntoRequest) -> Call<'_, JsonLinesOutput<T>> {
        let request = request.into_request();
        Box::pin(async move {
            let response = self.send_request(request?.own_connection()).await?;
            Ok(JsonLinesOutput { inner: JsonLines::new(body_stream(response)) })
        })
    }

    /// Sends a request answered with JSON progress messages (pull, push, build, import,
    /// load, plugin pull …); a message with `errorDetail`/`error` is an
    /// [`StreamError::Daemon`] item.
    pub fn send_progress<A: DeserializeOwned + Send>(&self, request: impl IntoRequest) -> Call<'_, ProgressOutput<A>> {
        let request = request.into_request();
        Box::pin(async move {
            let response = self.send_request(request?.own_connection()).await?;
            Ok(ProgressOutput { inner: ProgressStream::new(body_stream(response)) })
        })
    }

    /// Sends a request answered with a tar or other binary body (`ContainerExport`,
    /// `ContainerArchive`, `ImageGet`) and returns its bytes as they arrive.
    pub fn send_bytes(&self, request: impl IntoRequest) -> Call<'_, ByteStream> {
        let request = request.into_request();
        Box::pin(async move {
            let response = self.send_request(request?.own_connection()).await?;
            Ok(ByteStream { inner: Box::pin(response.bytes_stream()) })
        })
    }
}

/// The body of `response` for the decoders. reqwest's errors lose their URL, whose query
/// may hold secrets (build arguments).
fn body_stream(response: reqwest::Response) -> BodyStream {
    Box::pin(response.bytes_stream().map_err(|e| -> BoxError { Box::new(e.without_url()) }))
}

/// The chunks of a logs body ([`Transport::send_logs`]), and of a hijacked connection's
/// output ([`HijackOutput`](super::HijackOutput)): stdout and stderr as the daemon framed
/// them, or a TTY's raw output as stdout.
///
/// An error (the connection failing, a frame cut short, the daemon's in-band error) is the
/// last item. Ends when the body does: at once, or with `follow=1` when the container stops.
pub struct LogOutput {
    inner: LogStream<BodyStream>,
}

impl LogOutput {
    pub(super) fn new(body: BodyStream, framing: Framing) -> LogOutput {
        LogOutput { inner: LogStream::new(body, framing) }
    }

    /// Whether the output is framed or raw, as settled before the first item (for a
    /// hijacked connection, during the handshake).
    pub fn framing(&self) -> Framing {
        self.inner.framing()
    }

    /// Replaces the largest frame accepted (see [`crate::stream::DEFAULT_MAX_FRAME_LEN`]).
    pub fn with_max_frame_len(self, limit: usize) -> LogOutput {
        LogOutput { inner: self.inner.with_max_frame_len(limit) }
    }
}

impl Stream for LogOutput {
    type Item = Result<LogChunk, StreamError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl FusedStream for LogOutput {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl fmt::Debug for LogOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogOutput").field("framing", &self.framing()).field("terminated", &self.is_terminated()).finish()
    }
}

/// One `T` per line of the body ([`Transport::send_json_lines`]).
///
/// A line that is not a `T` is a [`StreamError::Json`] item and the stream goes on; a
/// failing connection or an overlong line is the last item.
pub struct JsonLinesOutput<T> {
    inner: JsonLines<BodyStream, T>,
}

impl<T> JsonLinesOutput<T> {
    /// Replaces the longest line accepted ([`crate::stream::DEFAULT_MAX_LINE_LEN`]).
    pub fn with_max_line_len(self, limit: usize) -> JsonLinesOutput<T> {
        JsonLinesOutput { inner: self.inner.with_max_line_len(limit) }
    }
}

impl<T: DeserializeOwned> Stream for JsonLinesOutput<T> {
    type Item = Result<T, StreamError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl<T: DeserializeOwned> FusedStream for JsonLinesOutput<T> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<T> fmt::Debug for JsonLinesOutput<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesOutput").field("item", &std::any::type_name::<T>()).finish_non_exhaustive()
    }
}

/// The messages of a JSON progress body ([`Transport::send_progress`]), with `aux` read as
/// `A` where the spec says what it is (the built image's `ImageId` for a build).
///
/// A message carrying `errorDetail` or `error` is a [`StreamError::Daemon`] item: after a
/// 200 status that is the only way a failed pull, push or build is reported.
pub struct ProgressOutput<A = serde_json::Value> {
    inner: ProgressStream<BodyStream, A>,
}

impl<A> ProgressOutput<A> {
    /// Replaces the longest line accepted ([`crate::stream::DEFAULT_MAX_LINE_LEN`]).
    pub fn with_max_line_len(self, limit: usize) -> ProgressOutput<A> {
        ProgressOutput { inner: self.inner.with_max_line_len(limit) }
    }
}

impl<A: DeserializeOwned> Stream for ProgressOutput<A> {
    type Item = Result<ProgressMessage<A>, StreamError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl<A: DeserializeOwned> FusedStream for ProgressOutput<A> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<A: DeserializeOwned> fmt::Debug for ProgressOutput<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressOutput").field("terminated", &self.is_terminated()).finish()
    }
}

/// A tar or binary body as it arrives ([`Transport::send_bytes`]).
pub struct ByteStream {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>,
}

impl ByteStream {
    /// The body as an `AsyncRead`, e.g. for `tokio::io::copy` into a file; errors become
    /// `io::Error`s wrapping the [`Error`].
    pub fn into_async_read(self) -> impl tokio::io::AsyncRead + Send + Unpin {
        tokio_util::io::StreamReader::new(self.map(|item| item.map_err(io::Error::other)))
    }

    /// Reads the whole body into memory.
    pub async fn collect(mut self) -> Result<Bytes, Error> {
        let mut out = BytesMut::new();
        while let Some(chunk) = self.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out.freeze())
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx).map(|item| item.map(|r| r.map_err(Error::transport)))
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteStream").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};

    use super::{encode_segment, framing_from_content_type, TtySource};
    use crate::stream::Framing;
    use crate::version::ApiVersion;

    fn headers(content_type: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(ct) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        headers
    }

    #[test]
    fn content_type_decides_only_where_it_can() {
        let v41 = Some(ApiVersion::new(1, 41));
        let v42 = Some(ApiVersion::new(1, 42));
        let mux = headers(Some("application/vnd.docker.multiplexed-stream"));
        let raw = headers(Some("Application/Vnd.Docker.Raw-Stream; charset=x"));
        assert_eq!(framing_from_content_type(&mux, v41), Some(Framing::Multiplexed));
        assert_eq!(framing_from_content_type(&mux, None), Some(Framing::Multiplexed));
        assert_eq!(framing_from_content_type(&raw, v42), Some(Framing::Raw));
        assert_eq!(framing_from_content_type(&raw, v41), None);
        assert_eq!(framing_from_content_type(&raw, None), None);
        assert_eq!(framing_from_content_type(&headers(None), v42), None);
        assert_eq!(framing_from_content_type(&headers(Some("text/plain")), v42), None);
    }

    #[test]
    fn lookups_name_one_path_segment() {
        assert_eq!(encode_segment("abc-1.2_x"), "abc-1.2_x");
        assert_eq!(encode_segment("a/b?c d"), "a%2Fb%3Fc%20d");
        let (path, pointer) = TtySource::Service("web/1".into()).lookup().unwrap_or_default();
        assert_eq!((path.as_str(), pointer), ("/services/web%2F1", "/Spec/TaskTemplate/ContainerSpec/TTY"));
        assert!(TtySource::Known(true).lookup().is_none());
    }
}
