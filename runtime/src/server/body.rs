//! Response bodies that are not one JSON document: JSON lines, progress messages,
//! stdout/stderr frames, raw TTY bytes, tar archives. The encoders mirror the client's
//! decoders in `stream`.

use std::io;
use std::pin::Pin;

use bytes::{BufMut, Bytes, BytesMut};
use futures_core::Stream;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use crate::stream::{LogChunk, StdStream};

/// What a [`StreamBody`] holds, which decides its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    JsonLines,
    Progress,
    Frames,
    Raw,
    Tar,
    Other(&'static str),
}

pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send + 'static>>;

/// A response body that is not one JSON document. The Content-Type is chosen when it is
/// turned into a response ([`respond::stream`](super::respond::stream)), since for frames it
/// depends on the API version.
pub struct StreamBody {
    pub(crate) kind: Kind,
    pub(crate) bytes: ByteStream,
}

impl std::fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamBody").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl StreamBody {
    /// One JSON value per line, `\n` separated (events, stats); Content-Type
    /// `application/json`. A value that fails to serialize ends the body with an error, which
    /// aborts the response so the client sees it was cut.
    pub fn json_lines<S, T>(items: S) -> StreamBody
    where
        S: Stream<Item = T> + Send + 'static,
        T: Serialize,
    {
        let bytes = items.map(|item| {
            super::respond::json_line(&item).map_err(|e| {
                tracing::warn!(error = %e, "a JSON line failed to serialize; ending the stream");
                io::Error::other(e)
            })
        });
        StreamBody { kind: Kind::JsonLines, bytes: Box::pin(bytes) }
    }

    /// JSON progress messages, `\r\n` separated (pull, push, build, load); Content-Type
    /// `application/json`. A message that fails to serialize becomes an `errorDetail`
    /// message, the protocol's way of reporting an error after the 200.
    pub fn progress<S, T>(items: S) -> StreamBody
    where
        S: Stream<Item = T> + Send + 'static,
        T: Serialize,
    {
        let bytes = items.map(|item| {
            let mut line = serde_json::to_vec(&item).unwrap_or_else(|e| {
                let message = format!("serializing a progress message failed: {e}");
                serde_json::json!({ "errorDetail": { "message": message }, "error": message }).to_string().into_bytes()
            });
            line.extend_from_slice(b"\r\n");
            Ok(Bytes::from(line))
        });
        StreamBody { kind: Kind::Progress, bytes: Box::pin(bytes) }
    }

    /// stdout/stderr frames with 8-byte headers (stream byte, `0,0,0`, big-endian `u32`
    /// length). A chunk longer than `u32::MAX` is split over several frames; empty chunks
    /// are skipped (an empty frame carries nothing). Payloads are not copied.
    pub fn frames<S>(chunks: S) -> StreamBody
    where
        S: Stream<Item = LogChunk> + Send + 'static,
    {
        let bytes = chunks.flat_map(|chunk| stream::iter(encode_frames(chunk.stream, chunk.bytes).map(Ok)));
        StreamBody { kind: Kind::Frames, bytes: Box::pin(bytes) }
    }

    /// Unframed bytes (TTY output); Content-Type `application/vnd.docker.raw-stream`.
    pub fn raw<S>(bytes: S) -> StreamBody
    where
        S: Stream<Item = Bytes> + Send + 'static,
    {
        StreamBody { kind: Kind::Raw, bytes: Box::pin(bytes.map(Ok)) }
    }

    /// A tar archive (Content-Type `application/x-tar`). An error item aborts the response.
    pub fn tar<S>(bytes: S) -> StreamBody
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    {
        StreamBody { kind: Kind::Tar, bytes: Box::pin(bytes) }
    }

    /// A tar archive read from `reader` (e.g. the output of a `tar::Builder` over a pipe).
    pub fn tar_reader<R: tokio::io::AsyncRead + Send + 'static>(reader: R) -> StreamBody {
        StreamBody::tar(tokio_util::io::ReaderStream::new(reader))
    }

    /// Any other bytes with an explicit media type.
    pub fn bytes<S>(media_type: &'static str, bytes: S) -> StreamBody
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    {
        StreamBody { kind: Kind::Other(media_type), bytes: Box::pin(bytes) }
    }
}

/// The stream byte of a frame header.
pub(crate) fn stream_byte(stream: StdStream) -> u8 {
    match stream {
        StdStream::Stdin => 0,
        StdStream::Stdout => 1,
        StdStream::Stderr => 2,
    }
}

/// The largest payload one frame can carry.
const MAX_FRAME: usize = u32::MAX as usize;

/// A frame header for `len` bytes (`len` fits in `u32` by construction).
pub(crate) fn frame_header(stream: StdStream, len: usize) -> [u8; 8] {
    let size = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    [stream_byte(stream), 0, 0, 0, size[0], size[1], size[2], size[3]]
}

/// Header and payload pieces of the frames carrying `data`, at most `u32::MAX` bytes each.
fn encode_frames(stream: StdStream, data: Bytes) -> impl Iterator<Item = Bytes> {
    encode_frames_of(stream, data, MAX_FRAME)
}

fn encode_frames_of(stream: StdStream, mut data: Bytes, max: usize) -> impl Iterator<Item = Bytes> {
    let mut pieces = Vec::new();
    while !data.is_empty() {
        let payload = data.split_to(data.len().min(max.max(1)));
        let mut header = BytesMut::with_capacity(8);
        header.put_slice(&frame_header(stream, payload.len()));
        pieces.push(header.freeze());
        pieces.push(payload);
    }
    pieces.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(body: StreamBody) -> Vec<u8> {
        futures::executor::block_on(async {
            let mut out = Vec::new();
            let mut s = body.bytes;
            while let Some(piece) = s.next().await {
                out.extend_from_slice(&piece.unwrap());
            }
            out
        })
    }

    #[test]
    fn frames_are_byte_exact() {
        let chunks = vec![
            LogChunk { stream: StdStream::Stdout, bytes: Bytes::from_static(b"hello\n") },
            LogChunk { stream: StdStream::Stderr, bytes: Bytes::new() },
            LogChunk { stream: StdStream::Stderr, bytes: Bytes::from_static(b"oops") },
            LogChunk { stream: StdStream::Stdin, bytes: Bytes::from_static(b"x") },
        ];
        let out = collect(StreamBody::frames(stream::iter(chunks)));
        assert_eq!(out, b"\x01\0\0\0\0\0\0\x06hello\n\x02\0\0\0\0\0\0\x04oops\x00\0\0\0\0\0\0\x01x");
        assert_eq!(frame_header(StdStream::Stderr, 0x0102_0304), [2, 0, 0, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn long_chunks_are_split() {
        let pieces: Vec<Bytes> = encode_frames_of(StdStream::Stdout, Bytes::from_static(b"abcdefg"), 3).collect();
        let joined: Vec<u8> = pieces.concat();
        assert_eq!(joined, b"\x01\0\0\0\0\0\0\x03abc\x01\0\0\0\0\0\0\x03def\x01\0\0\0\0\0\0\x01g");
    }

    #[test]
    fn lines_and_progress() {
        let out = collect(StreamBody::json_lines(stream::iter(vec![serde_json::json!({"a":1}), serde_json::json!("b")])));
        assert_eq!(out, b"{\"a\":1}\n\"b\"\n");
        let out = collect(StreamBody::progress(stream::iter(vec![serde_json::json!({"status":"x"})])));
        assert_eq!(out, b"{\"status\":\"x\"}\r\n");

        // A map with non-string keys cannot be JSON.
        let bad = std::collections::BTreeMap::from([((1, 2), 3)]);
        let out = collect(StreamBody::progress(stream::iter(vec![bad])));
        assert!(String::from_utf8_lossy(&out).contains("errorDetail"));
        let mut s = StreamBody::json_lines(stream::iter(vec![std::collections::BTreeMap::from([((1, 2), 3)])])).bytes;
        assert!(futures::executor::block_on(s.next()).unwrap().is_err());
    }

    #[test]
    fn raw_and_tar_pass_through() {
        assert_eq!(collect(StreamBody::raw(stream::iter(vec![Bytes::from_static(b"ab"), Bytes::from_static(b"c")]))), b"abc");
        assert_eq!(collect(StreamBody::tar_reader(&b"tarball"[..])), b"tarball");
    }
}
