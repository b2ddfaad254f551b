//! Decoders for the response bodies that are not one JSON document, as
//! `futures_core::Stream`s of typed items.
//!
//! Each module has one job:
//! - [`frames`]: the multiplexed stdout/stderr frames of logs, attach and exec, or the raw
//!   bytes of a TTY, as [`LogChunk`]s.
//! - [`lines`]: one JSON value per line (stats, events) as `T`, and JSON progress messages
//!   (pull, push, build, load) as [`ProgressMessage`]s whose errors become error items.
//!
//! Every decoder is a sans-IO core (push bytes in, take items out) wrapped by an adapter over
//! any `Stream<Item = Result<Bytes, E>>`, so the transport (reqwest, hyper, a test vector)
//! is the caller's choice and the cores can be tested at every split of their input.
//!
//! The adapters never guess the body's kind: the generated client knows it from the
//! operation, the Content-Type and the container's TTY setting, and says so.

use std::error::Error;
use std::fmt;

pub mod frames;
pub mod lines;

pub use frames::{FrameDecoder, FrameError, Framing, LogChunk, LogStream, StdStream, DEFAULT_MAX_FRAME_LEN};
pub use lines::{ErrorDetail, JsonLines, LineSplitter, ProgressDetail, ProgressMessage, ProgressStream, DEFAULT_MAX_LINE_LEN};

/// Why a stream yielded an error item.
///
/// Errors that leave the body unreadable (`Transport`, `Protocol`, `Truncated`,
/// `LineTooLong`, and `Daemon` from frames) are the last item of their stream. `Json` and
/// a progress `Daemon` concern one line only; the stream goes on with the next one.
#[derive(Debug)]
pub enum StreamError {
    /// The underlying byte stream failed (connection reset, timeout, …).
    Transport(Box<dyn Error + Send + Sync>),
    /// The bytes do not follow the expected framing, e.g. an unknown stream byte or a frame
    /// header announcing more than the decoder's limit.
    Protocol(String),
    /// The body ended inside a frame: `received` of the `expected` bytes of that frame
    /// (header included) arrived. `expected` is 8 when the header itself was cut.
    Truncated { expected: usize, received: usize },
    /// A line that is not the expected JSON value; `line` is its text (lossy UTF-8).
    Json { line: String, source: serde_json::Error },
    /// The engine reported an error inside the stream (a frame of stream 3, or a progress
    /// message with `errorDetail`/`error`); the HTTP status was already 200.
    Daemon { message: String, code: Option<i64> },
    /// A line grew past the configured limit before its end arrived.
    LineTooLong { limit: usize },
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Transport(e) => write!(f, "reading the response body failed: {e}"),
            StreamError::Protocol(msg) => write!(f, "malformed stream: {msg}"),
            StreamError::Truncated { expected, received } => {
                write!(f, "stream ended inside a frame: {received} of {expected} bytes arrived")
            }
            StreamError::Json { source, .. } => write!(f, "invalid JSON line: {source}"),
            StreamError::Daemon { message, code: Some(code) } => write!(f, "error from daemon (code {code}): {message}"),
            StreamError::Daemon { message, code: None } => write!(f, "error from daemon: {message}"),
            StreamError::LineTooLong { limit } => write!(f, "line longer than {limit} bytes"),
        }
    }
}

impl Error for StreamError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StreamError::Transport(e) => Some(&**e),
            StreamError::Json { source, .. } => Some(source),
            _ => None,
        }
    }
}
