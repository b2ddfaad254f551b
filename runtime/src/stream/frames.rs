//! Docker's multiplexed stdout/stderr frames (the Go package `github.com/moby/moby/api/pkg/stdcopy`),
//! and the unframed bytes of a TTY.
//!
//! A frame is an 8-byte header `[stream, 0, 0, 0, size as big-endian u32]` and `size` bytes
//! of payload. Each frame becomes one [`LogChunk`] however the transport cut the bytes, so
//! a payload that arrived in one piece is handed out without a copy (`Bytes::split_to`) and
//! only a payload spread over several pieces is copied, once.
//!
//! Nothing is allocated from a header's size: a payload is only gathered once all of it
//! has arrived. What a corrupt or hostile header can still cost is the buffering of a
//! frame that never seems to end, so a frame longer than a limit
//! ([`DEFAULT_MAX_FRAME_LEN`] unless configured) is an error as soon as its header is read.

use std::collections::VecDeque;
use std::error::Error;
use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures_core::{FusedStream, Stream};

use super::StreamError;

const HEADER_LEN: usize = 8;

/// Default limit of one frame's payload: 64 MiB. The engine writes a frame per write of
/// the process (at most its 32 KiB copy buffer) or per log message (16 KiB lines with
/// `json-file`, 1 MB with `local`), so only a corrupt header comes near it.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024 * 1024;

/// Whether a body is multiplexed into frames or is the raw output of a TTY.
///
/// The caller decides, from the Content-Type (`application/vnd.docker.multiplexed-stream`
/// from API 1.42 on) or, before that, from the container's or exec's `Tty`: the first byte
/// cannot tell, since TTY output may start with `\x01` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// 8-byte headers, stdout and stderr interleaved.
    Multiplexed,
    /// No headers: every byte is the TTY's output, reported as stdout.
    Raw,
}

/// Which standard stream a chunk was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StdStream {
    /// Stream byte 0: the engine echoes stdin; the Go client writes it to stdout.
    Stdin,
    Stdout,
    Stderr,
}

/// The payload of one frame (or one piece of raw TTY output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    pub stream: StdStream,
    pub bytes: Bytes,
}

/// What the sans-IO [`FrameDecoder`] can report; each one ends the decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A frame of stream 3: the engine's error message, after which it sends nothing more.
    Daemon(String),
    /// A stream byte other than 0–3: not a multiplexed body (a TTY's output?), or a lost
    /// frame boundary. There is no way to resynchronise.
    InvalidStream(u8),
    /// The input ended inside a frame; see [`StreamError::Truncated`].
    Truncated { expected: usize, received: usize },
    /// A header announced a payload of `size` bytes, more than the decoder's `limit`
    /// (see [`FrameDecoder::with_max_frame_len`]).
    TooLarge { size: u64, limit: usize },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Daemon(msg) => write!(f, "error from daemon in stream: {msg}"),
            FrameError::InvalidStream(b) => {
                write!(f, "invalid stream byte {b:#04x} in frame header (is the body a TTY's raw output?)")
            }
            FrameError::Truncated { expected, received } => {
                write!(f, "stream ended inside a frame: {received} of {expected} bytes arrived")
            }
            FrameError::TooLarge { size, limit } => {
                write!(f, "frame of {size} bytes exceeds the limit of {limit} bytes (corrupt header?)")
            }
        }
    }
}

impl Error for FrameError {}

impl From<FrameError> for StreamError {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::Daemon(message) => StreamError::Daemon { message, code: None },
            e @ (FrameError::InvalidStream(_) | FrameError::TooLarge { .. }) => StreamError::Protocol(e.to_string()),
            FrameError::Truncated { expected, received } => StreamError::Truncated { expected, received },
        }
    }
}

/// Sans-IO decoder: [`push`](Self::push) the body's pieces as they arrive, take chunks with
/// [`next_frame`](Self::next_frame) until it returns `None`, and at the end of the body call
/// [`finish`](Self::finish) to learn whether it stopped inside a frame.
#[derive(Debug)]
pub struct FrameDecoder {
    framing: Framing,
    /// Pieces not yet handed out, oldest first; kept as they came so that a frame inside
    /// one piece is a slice of it.
    pending: VecDeque<Bytes>,
    buffered: usize,
    /// The largest payload accepted.
    max_frame_len: usize,
    /// Set after an error: the rest of the body has no reliable meaning.
    failed: bool,
}

impl FrameDecoder {
    pub fn new(framing: Framing) -> Self {
        FrameDecoder { framing, pending: VecDeque::new(), buffered: 0, max_frame_len: DEFAULT_MAX_FRAME_LEN, failed: false }
    }

    /// Sets the largest payload accepted ([`DEFAULT_MAX_FRAME_LEN`] by default); a header
    /// announcing more is a [`FrameError::TooLarge`]. Raw bodies have no frames to limit.
    pub fn with_max_frame_len(mut self, limit: usize) -> Self {
        self.max_frame_len = limit;
        self
    }

    pub fn push(&mut self, bytes: Bytes) {
        if !self.failed && !bytes.is_empty() {
            self.buffered += bytes.len();
            self.pending.push_back(bytes);
        }
    }

    /// The next complete chunk, an error (after which it returns `None`), or `None` when more
    /// input is needed. Frames with an empty payload carry nothing and are skipped.
    pub fn next_frame(&mut self) -> Option<Result<LogChunk, FrameError>> {
        if self.failed {
            return None;
        }
        if self.framing == Framing::Raw {
            self.buffered = 0;
            return self.pending.pop_front().map(|bytes| Ok(LogChunk { stream: StdStream::Stdout, bytes }));
        }
        loop {
            // Checked as soon as it arrives, so that a body that is not framed fails at once
            // instead of waiting for a "size" that may be gigabytes.
            let first = *self.pending.front()?.first()?;
            // `None` is stream 3, the daemon's error.
            let stream = match first {
                0 => Some(StdStream::Stdin),
                1 => Some(StdStream::Stdout),
                2 => Some(StdStream::Stderr),
                3 => None,
                other => return self.fail(FrameError::InvalidStream(other)),
            };
            let header = self.peek_header()?;
            let size = payload_len(&header);
            if u64::try_from(self.max_frame_len).is_ok_and(|limit| size > limit) {
                return self.fail(FrameError::TooLarge { size, limit: self.max_frame_len });
            }
            let total = frame_len(&header);
            if self.buffered < total {
                return None;
            }
            self.take(HEADER_LEN);
            let bytes = self.take(total - HEADER_LEN);
            match stream {
                Some(_) if bytes.is_empty() => continue,
                Some(stream) => return Some(Ok(LogChunk { stream, bytes })),
                None => return self.fail(FrameError::Daemon(String::from_utf8_lossy(&bytes).into_owned())),
            }
        }
    }

    /// Reports a frame cut by the end of the body. Call it once the body has ended and
    /// [`next_frame`](Self::next_frame) returned `None`.
    pub fn finish(&mut self) -> Result<(), FrameError> {
        if self.failed || self.buffered == 0 || self.framing == Framing::Raw {
            return Ok(());
        }
        self.failed = true;
        let expected = self.peek_header().map_or(HEADER_LEN, |h| frame_len(&h));
        Err(FrameError::Truncated { expected, received: self.buffered })
    }

    fn fail(&mut self, e: FrameError) -> Option<Result<LogChunk, FrameError>> {
        self.failed = true;
        self.pending.clear();
        self.buffered = 0;
        Some(Err(e))
    }

    /// The first 8 buffered bytes, which may span pieces; `None` if fewer arrived.
    fn peek_header(&self) -> Option<[u8; HEADER_LEN]> {
        let mut header = [0u8; HEADER_LEN];
        let mut iter = self.pending.iter().flat_map(|b| b.iter());
        for slot in &mut header {
            *slot = *iter.next()?;
        }
        Some(header)
    }

    /// Removes the first `n` buffered bytes (the caller checked `n <= buffered`): a slice of
    /// the first piece when it holds them all, else one copy.
    fn take(&mut self, n: usize) -> Bytes {
        self.buffered = self.buffered.saturating_sub(n);
        if let Some(front) = self.pending.front_mut() {
            if front.len() >= n {
                let out = front.split_to(n);
                if front.is_empty() {
                    self.pending.pop_front();
                }
                return out;
            }
        }
        let mut out = BytesMut::with_capacity(n);
        while out.len() < n {
            let Some(front) = self.pending.front_mut() else { break };
            let k = front.len().min(n - out.len());
            out.extend_from_slice(&front[..k]);
            front.advance(k);
            if front.is_empty() {
                self.pending.pop_front();
            }
        }
        out.freeze()
    }
}

fn payload_len(header: &[u8; HEADER_LEN]) -> u64 {
    u64::from(u32::from_be_bytes([header[4], header[5], header[6], header[7]]))
}

/// Header plus payload; saturates where `usize` is narrower than the 32-bit size.
fn frame_len(header: &[u8; HEADER_LEN]) -> usize {
    HEADER_LEN.saturating_add(usize::try_from(payload_len(header)).unwrap_or(usize::MAX))
}

pin_project_lite::pin_project! {
    /// The chunks of a logs, attach or exec body.
    ///
    /// Any error is the last item: a transport error, a daemon error (stream 3), an unknown
    /// stream byte, or a body that ended inside a frame.
    #[derive(Debug)]
    pub struct LogStream<S> {
        #[pin]
        inner: S,
        decoder: FrameDecoder,
        done: bool,
    }
}

impl<S> LogStream<S> {
    pub fn new(inner: S, framing: Framing) -> Self {
        LogStream { inner, decoder: FrameDecoder::new(framing), done: false }
    }

    /// See [`FrameDecoder::with_max_frame_len`].
    pub fn with_max_frame_len(mut self, limit: usize) -> Self {
        self.decoder.max_frame_len = limit;
        self
    }

    /// Whether the body is framed or raw.
    pub fn framing(&self) -> Framing {
        self.decoder.framing
    }
}

impl<S, E> Stream for LogStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn Error + Send + Sync>>,
{
    type Item = Result<LogChunk, StreamError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            if let Some(item) = this.decoder.next_frame() {
                *this.done = item.is_err();
                return Poll::Ready(Some(item.map_err(StreamError::from)));
            }
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(bytes)) => this.decoder.push(bytes),
                Some(Err(e)) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(StreamError::Transport(e.into()))));
                }
                None => {
                    *this.done = true;
                    return Poll::Ready(this.decoder.finish().err().map(|e| Err(e.into())));
                }
            }
        }
    }
}

impl<S, E> FusedStream for LogStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn Error + Send + Sync>>,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}
