//! Request bodies streamed from any byte stream or reader (tar contexts, archives, image
//! loads), so that large uploads are never held in memory.

use bytes::Bytes;
use futures_core::Stream;
use reqwest::Body;

/// How much of a reader one chunk of the body takes.
const READ_CHUNK: usize = 64 * 1024;

/// A request body that sends the stream's chunks as they come (chunked transfer encoding).
/// An error item aborts the request; the daemon sees a cut body.
pub fn body_from_stream<S, E>(stream: S) -> Body
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Body::wrap_stream(stream)
}

/// A request body read from `reader` in chunks as the connection takes them; a read error
/// aborts the request.
pub fn body_from_reader<R: tokio::io::AsyncRead + Send + 'static>(reader: R) -> Body {
    Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(reader, READ_CHUNK))
}
