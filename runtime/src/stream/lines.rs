//! Bodies of one JSON value per line: stats and events (`\n`), and the JSON progress
//! messages of pull, push, build and load (`\r\n`).
//!
//! Both separators are accepted everywhere, blank lines are skipped and a last line without
//! a separator still counts, so that the decoder does not depend on which engine wrote the
//! body. A line is buffered until its end arrives, up to a limit: a body without newlines
//! (a wrong Content-Type, a proxy's HTML page) must not grow memory without bound.

use std::error::Error;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::{FusedStream, Stream};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::StreamError;

/// Default line limit: far above the largest message the engine writes (stats and BuildKit
/// trace messages are kilobytes), far below what would hurt a client.
pub const DEFAULT_MAX_LINE_LEN: usize = 8 * 1024 * 1024;

/// Sans-IO line splitter: [`push`](Self::push) pieces of the body, take lines (without their
/// `\n` or `\r\n`) with [`next_line`](Self::next_line) until it returns `None`, and at the
/// end of the body take the unterminated last line with [`finish`](Self::finish).
#[derive(Debug)]
pub struct LineSplitter {
    buf: BytesMut,
    /// How much of `buf` is known to hold no `\n`, so that a long line arriving in many small
    /// pieces is scanned once, not once per piece.
    scanned: usize,
    max: usize,
    /// After `LineTooLong` or `finish`: nothing more comes out.
    done: bool,
}

impl LineSplitter {
    pub fn new(max_line_len: usize) -> Self {
        LineSplitter { buf: BytesMut::new(), scanned: 0, max: max_line_len, done: false }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if !self.done {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next non-blank complete line, `LineTooLong` (after which it returns `None`), or
    /// `None` when more input is needed.
    pub fn next_line(&mut self) -> Option<Result<Bytes, StreamError>> {
        while !self.done {
            let Some(pos) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') else {
                self.scanned = self.buf.len();
                // A `\r` at the end may be half of the separator, not part of the line.
                let len = self.buf.len() - usize::from(self.buf.ends_with(b"\r"));
                return if len > self.max { Some(Err(self.fail())) } else { None };
            };
            let mut line = self.buf.split_to(self.scanned + pos + 1);
            self.scanned = 0;
            line.truncate(line.len() - 1);
            if let Some(line) = self.accept(line) {
                return Some(line);
            }
        }
        None
    }

    /// The last line if the body did not end with a separator. Call it once the body has
    /// ended and [`next_line`](Self::next_line) returned `None`.
    pub fn finish(&mut self) -> Option<Result<Bytes, StreamError>> {
        if self.done {
            return None;
        }
        let line = self.buf.split();
        self.done = true;
        self.accept(line)
    }

    /// Strips a `\r`, checks the length, and drops blank lines.
    fn accept(&mut self, mut line: BytesMut) -> Option<Result<Bytes, StreamError>> {
        if line.ends_with(b"\r") {
            line.truncate(line.len() - 1);
        }
        if line.len() > self.max {
            return Some(Err(self.fail()));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        Some(Ok(line.freeze()))
    }

    fn fail(&mut self) -> StreamError {
        self.done = true;
        self.buf = BytesMut::new();
        StreamError::LineTooLong { limit: self.max }
    }
}

pin_project_lite::pin_project! {
    /// One `T` per line of the body.
    ///
    /// A line that is not a `T` gives a `Json` error item and the stream goes on; a transport
    /// error or a line over the limit is the last item.
    #[derive(Debug)]
    pub struct JsonLines<S, T> {
        #[pin]
        inner: S,
        lines: LineSplitter,
        done: bool,
        // `fn() -> T`: the stream makes `T`s but holds none, so `T` does not decide whether
        // the stream is `Send`, `Sync` or `Unpin`.
        item: PhantomData<fn() -> T>,
    }
}

impl<S, T> JsonLines<S, T> {
    pub fn new(inner: S) -> Self {
        JsonLines { inner, lines: LineSplitter::new(DEFAULT_MAX_LINE_LEN), done: false, item: PhantomData }
    }

    pub fn with_max_line_len(mut self, limit: usize) -> Self {
        self.lines.max = limit;
        self
    }
}

fn parse<T: DeserializeOwned>(line: Result<Bytes, StreamError>) -> Result<T, StreamError> {
    let line = line?;
    serde_json::from_slice(&line).map_err(|source| StreamError::Json { line: String::from_utf8_lossy(&line).into_owned(), source })
}

impl<S, E, T> Stream for JsonLines<S, T>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn Error + Send + Sync>>,
    T: DeserializeOwned,
{
    type Item = Result<T, StreamError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            if let Some(line) = this.lines.next_line() {
                *this.done = line.is_err();
                return Poll::Ready(Some(parse(line)));
            }
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(bytes)) => this.lines.push(&bytes),
                Some(Err(e)) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(StreamError::Transport(e.into()))));
                }
                None => {
                    *this.done = true;
                    return Poll::Ready(this.lines.finish().map(parse));
                }
            }
        }
    }
}

impl<S, E, T> FusedStream for JsonLines<S, T>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn Error + Send + Sync>>,
    T: DeserializeOwned,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}

/// One JSON progress message (moby `api/types/jsonstream`, `JSONMessage`). Every field is
/// optional because each operation sends a different subset; unknown fields (`from`,
/// `time`, `timeNano` of older engines) are ignored.
///
/// `A` is the type of `aux` where the spec gives one (the built image's `ImageId` for a
/// build); the default, a JSON value, takes any `aux`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressMessage<A = serde_json::Value> {
    /// Build output text.
    pub stream: Option<String>,
    pub status: Option<String>,
    pub progress_detail: Option<ProgressDetail>,
    /// The engine's own rendering of `progress_detail` as a text bar (deprecated upstream).
    pub progress: Option<String>,
    /// Layer or image the message is about.
    pub id: Option<String>,
    pub error_detail: Option<ErrorDetail>,
    /// The older form of `error_detail.message`.
    pub error: Option<String>,
    /// The operation's result, as `A`: the built image's ID for a build.
    pub aux: Option<A>,
    /// An `aux` that does not read as `A`, as the engine sent it: BuildKit's trace records
    /// (base64 strings, `id` `moby.buildkit.trace`) in a build with `version=2`. Nothing an
    /// engine sends fails to decode.
    pub other_aux: Option<serde_json::Value>,
}

impl<A> Default for ProgressMessage<A> {
    fn default() -> Self {
        ProgressMessage {
            stream: None,
            status: None,
            progress_detail: None,
            progress: None,
            id: None,
            error_detail: None,
            error: None,
            aux: None,
            other_aux: None,
        }
    }
}

/// A progress message as it travels: `aux` as JSON, whatever its type.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    progress_detail: Option<ProgressDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    progress: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_detail: Option<ErrorDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aux: Option<serde_json::Value>,
}

impl<'de, A: DeserializeOwned> Deserialize<'de> for ProgressMessage<A> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let w = WireMessage::deserialize(deserializer)?;
        let (aux, other_aux) = match w.aux {
            None => (None, None),
            Some(value) => match A::deserialize(&value) {
                Ok(aux) => (Some(aux), None),
                Err(_) => (None, Some(value)),
            },
        };
        Ok(ProgressMessage {
            stream: w.stream,
            status: w.status,
            progress_detail: w.progress_detail,
            progress: w.progress,
            id: w.id,
            error_detail: w.error_detail,
            error: w.error,
            aux,
            other_aux,
        })
    }
}

impl<A: Serialize> Serialize for ProgressMessage<A> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let aux = match &self.aux {
            Some(aux) => Some(serde_json::to_value(aux).map_err(serde::ser::Error::custom)?),
            None => self.other_aux.clone(),
        };
        WireMessage {
            stream: self.stream.clone(),
            status: self.status.clone(),
            progress_detail: self.progress_detail.clone(),
            progress: self.progress.clone(),
            id: self.id.clone(),
            error_detail: self.error_detail.clone(),
            error: self.error.clone(),
            aux,
        }
        .serialize(serializer)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    #[serde(default, deserialize_with = "crate::json::null_as_default")]
    pub message: String,
}

impl<A> ProgressMessage<A> {
    /// The message, or the error it carries: a failure after the 200 status arrives only
    /// this way, so it must not pass as one more status line.
    pub fn into_result(self) -> Result<ProgressMessage<A>, StreamError> {
        if self.error_detail.is_none() && self.error.is_none() {
            return Ok(self);
        }
        let code = self.error_detail.as_ref().and_then(|d| d.code);
        let message = match (self.error_detail, self.error) {
            (Some(d), _) if !d.message.is_empty() => d.message,
            (_, Some(e)) => e,
            _ => String::new(),
        };
        Err(StreamError::Daemon { message, code })
    }
}

pin_project_lite::pin_project! {
    /// The messages of a JSON progress body; one carrying an error becomes a `Daemon` error
    /// item. As for [`JsonLines`], the stream goes on after it (the engine normally closes
    /// the body right after its error message).
    ///
    /// `A` is the type of the messages' `aux` ([`ProgressMessage`]).
    #[derive(Debug)]
    pub struct ProgressStream<S, A = serde_json::Value> {
        #[pin]
        lines: JsonLines<S, ProgressMessage<A>>,
    }
}

impl<S, A> ProgressStream<S, A> {
    pub fn new(inner: S) -> Self {
        ProgressStream { lines: JsonLines::new(inner) }
    }

    pub fn with_max_line_len(self, limit: usize) -> Self {
        ProgressStream { lines: self.lines.with_max_line_len(limit) }
    }
}

impl<S, E, A> Stream for ProgressStream<S, A>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn Error + Send + Sync>>,
    A: DeserializeOwned,
{
    type Item = Result<ProgressMessage<A>, StreamError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = ready!(self.project().lines.poll_next(cx));
        Poll::Ready(item.map(|m| m.and_then(ProgressMessage::into_result)))
    }
}

impl<S, E, A> FusedStream for ProgressStream<S, A>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn Error + Send + Sync>>,
    A: DeserializeOwned,
{
    fn is_terminated(&self) -> bool {
        self.lines.is_terminated()
    }
}
