//! Typed results to HTTP responses, as the daemon writes them; called by the generated
//! handlers.

use std::cell::Cell;

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use tracing::Instrument;

use super::body::{Kind, StreamBody};
use super::deferred::Deferred;
use super::error::{json_error, ApiError};
use super::hijack::{Hijack, Upgraded};
use super::incoming::{Context, Incoming};
use crate::version::ApiVersion;

/// Framed output from API 1.42 on.
pub const MULTIPLEXED_STREAM: &str = "application/vnd.docker.multiplexed-stream";
/// Raw output, and framed output before 1.42.
pub const RAW_STREAM: &str = "application/vnd.docker.raw-stream";
pub const JSON: &str = "application/json";
pub const TAR: &str = "application/x-tar";
pub const TEXT: &str = "text/plain; charset=utf-8";

/// The version that introduced the multiplexed-stream media type.
const MULTIPLEXED_SINCE: ApiVersion = ApiVersion::new(1, 42);

/// One JSON document, newline-terminated like Go's `json.Encoder`; a value that fails to
/// serialize answers 500 with a Docker JSON error.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match json_line(body) {
        Ok(bytes) => with_type(status, Body::from(bytes), JSON),
        Err(e) => {
            tracing::error!(error = %e, "response body failed to serialize");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, &format!("serializing the response failed: {e}"))
        }
    }
}

/// The largest first guess at an answer's size; bigger answers grow from there.
const SIZE_HINT_MAX: usize = 64 * 1024;

thread_local! {
    /// The size of the last JSON answer made on this thread: the next is likely alike.
    static LAST_SIZE: Cell<usize> = const { Cell::new(0) };
}

/// `value` as JSON and a newline, in a buffer of exactly that size: a JSON answer, and
/// each line of a JSON-lines stream.
///
/// Written straight into a buffer sized from the thread's last answer (with an eighth
/// more), then shrunk in place. A fresh `Vec` would start at 128 bytes and double, so a
/// 2 KiB container list cost five reallocations and copies, and glibc's large-chunk
/// bookkeeping on each. Serializing into a reused buffer and copying out costs a second
/// write of every byte into memory not yet in cache, which showed on an idle server.
pub(super) fn json_line<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Bytes> {
    let hint = LAST_SIZE.get().min(SIZE_HINT_MAX);
    let mut buffer = Vec::with_capacity((hint + hint / 8).max(128));
    serde_json::to_writer(&mut buffer, value)?;
    buffer.push(b'\n');
    LAST_SIZE.set(buffer.len());
    // Exact size, so `Bytes` takes the allocation as it is instead of adding a header.
    Ok(Bytes::from(buffer.into_boxed_slice()))
}

/// A long poll: `status` and the headers now, the JSON document (newline-terminated) when
/// `body` resolves. A document that fails to serialize ends the body early, as the daemon's
/// encoder would; the head cannot be taken back.
pub fn deferred<T: Serialize + Send + 'static>(status: StatusCode, body: Deferred<T>) -> Response {
    let document = futures_util::stream::once(async move {
        json_line(&body.value.await).map_err(|e| {
            tracing::error!(error = %e, "deferred response body failed to serialize");
            std::io::Error::other(e)
        })
    });
    with_type(status, Body::from_stream(document), JSON)
}

/// No body (204, 201 without content …).
pub fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// `text/plain; charset=utf-8` (`/_ping`'s `OK`, logs in some versions).
pub fn text(status: StatusCode, body: String) -> Response {
    with_type(status, Body::from(body), TEXT)
}

/// A Docker error (same as `error.into_response()`).
pub fn error(error: ApiError) -> Response {
    error.into_response()
}

/// A streamed body. Frames are `application/vnd.docker.multiplexed-stream` from API 1.42
/// on and `application/vnd.docker.raw-stream` before, raw output is raw-stream, lines and
/// progress `application/json`, tar `application/x-tar`.
pub fn stream(status: StatusCode, body: StreamBody, context: &Context) -> Response {
    let media_type = match body.kind {
        Kind::JsonLines | Kind::Progress => JSON,
        Kind::Frames => output_type(true, context.api_version),
        Kind::Raw => RAW_STREAM,
        Kind::Tar => TAR,
        Kind::Other(media_type) => media_type,
    };
    with_type(status, Body::from_stream(body.bytes), media_type)
}

/// Sets a header on a response being built (for response headers the spec names); a name or
/// value that is not valid in HTTP is skipped with a warning rather than failing the answer.
pub fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        (Ok(name), Ok(value)) => {
            response.headers_mut().insert(name, value);
        }
        _ => tracing::warn!(header = name, "skipping a response header that is not valid HTTP"),
    }
    response
}

/// Hands the connection to `hijack`, as the daemon does for attach and exec start.
///
/// With an `Upgrade` header: `101 Switching Protocols` with `Connection: Upgrade`,
/// `Upgrade: tcp` and the Content-Type (multiplexed-stream only when multiplexed and the
/// version is at least 1.42, else raw-stream); the hijack then runs on the upgraded
/// connection in a task of its own, and the connection closes when it returns.
///
/// Without one the daemon hijacks anyway, which a server that speaks HTTP through hyper
/// cannot: the answer is `200` with the raw-stream Content-Type, what the hijack writes is
/// the body, and its read side is at EOF.
pub fn hijack(incoming: &mut Incoming, hijack: Hijack) -> Response {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "a hijacked connection needs a tokio runtime");
    };
    let context = incoming.context();
    let asked = context.headers.contains_key(header::UPGRADE);
    let media_type = output_type(hijack.multiplexed, context.api_version);
    let Hijack { multiplexed, run } = hijack;
    let span = tracing::Span::current();
    match (asked, incoming.take_upgrade()) {
        (true, Some(pending)) => {
            runtime.spawn(
                async move {
                    match pending.await {
                        Ok(io) => run(Upgraded::connection(io, multiplexed)).await,
                        Err(e) => tracing::debug!(error = %e, "the connection was not upgraded"),
                    }
                }
                .instrument(span),
            );
            let mut response = with_type(StatusCode::SWITCHING_PROTOCOLS, Body::empty(), media_type);
            let headers = response.headers_mut();
            headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
            headers.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
            response
        }
        _ => {
            // The pipe's buffer bounds how far the hijack can run ahead of the client.
            let (writer, reader) = tokio::io::duplex(64 * 1024);
            runtime.spawn(run(Upgraded::body(writer, multiplexed)).instrument(span));
            with_type(StatusCode::OK, Body::from_stream(tokio_util::io::ReaderStream::new(reader)), RAW_STREAM)
        }
    }
}

/// The Content-Type of attach, exec and log output: `application/vnd.docker.multiplexed-stream`
/// only for multiplexed output from API 1.42 on, else `application/vnd.docker.raw-stream`
/// (framed or not).
fn output_type(multiplexed: bool, version: ApiVersion) -> &'static str {
    if multiplexed && version >= MULTIPLEXED_SINCE {
        MULTIPLEXED_STREAM
    } else {
        RAW_STREAM
    }
}

fn with_type(status: StatusCode, body: Body, media_type: &'static str) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, Method, Uri};

    fn context(version: ApiVersion) -> Context {
        Context {
            api_version: version,
            versioned: true,
            method: Method::GET,
            uri: Uri::from_static("/containers/x/logs"),
            headers: HeaderMap::new(),
            operation: "ContainerLogs",
        }
    }

    #[test]
    fn content_types() {
        let frames = || StreamBody::frames(futures_util::stream::empty());
        let r = stream(StatusCode::OK, frames(), &context(ApiVersion::new(1, 41)));
        assert_eq!(r.headers()[header::CONTENT_TYPE], RAW_STREAM);
        let r = stream(StatusCode::OK, frames(), &context(ApiVersion::new(1, 42)));
        assert_eq!(r.headers()[header::CONTENT_TYPE], MULTIPLEXED_STREAM);
        let r = stream(StatusCode::OK, StreamBody::raw(futures_util::stream::empty()), &context(ApiVersion::new(1, 49)));
        assert_eq!(r.headers()[header::CONTENT_TYPE], RAW_STREAM);
        let r = stream(
            StatusCode::OK,
            StreamBody::bytes("application/octet-stream", futures_util::stream::empty()),
            &context(ApiVersion::new(1, 49)),
        );
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/octet-stream");
        assert_eq!(text(StatusCode::OK, "OK".into()).headers()[header::CONTENT_TYPE], TEXT);
        assert_eq!(json(StatusCode::CREATED, &serde_json::json!({})).status(), StatusCode::CREATED);
    }

    /// Serializes another document while being serialized, as a value that builds an answer
    /// in its `Serialize` impl would: the inner one must not disturb the outer.
    struct Nested(u32);

    impl Serialize for Nested {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let inner = json_line(&self.0).map_err(serde::ser::Error::custom)?;
            serializer.serialize_str(std::str::from_utf8(&inner).map_err(serde::ser::Error::custom)?)
        }
    }

    #[test]
    fn json_lines_sized_from_the_last_answer() {
        assert_eq!(&json_line(&[1, 2, 3]).unwrap()[..], b"[1,2,3]\n");
        // A failed document leaves nothing behind for the next one.
        assert!(json_line(&std::collections::BTreeMap::from([((1, 2), 3)])).is_err());
        assert_eq!(&json_line("a").unwrap()[..], b"\"a\"\n");
        // Larger than the largest first guess, then small again.
        let big = "x".repeat(SIZE_HINT_MAX * 2);
        assert_eq!(json_line(&big).unwrap().len(), big.len() + 3);
        assert_eq!(LAST_SIZE.get(), big.len() + 3);
        assert_eq!(&json_line(&true).unwrap()[..], b"true\n");
        assert_eq!(LAST_SIZE.get(), 5);
        // A document serialized inside another.
        assert_eq!(&json_line(&[Nested(7), Nested(8)]).unwrap()[..], b"[\"7\\n\",\"8\\n\"]\n");
    }

    #[test]
    fn bad_json_and_headers() {
        let r = json(StatusCode::OK, &std::collections::BTreeMap::from([((1, 2), 3)]));
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.headers()[header::CONTENT_TYPE], JSON);
        let r = with_header(empty(StatusCode::OK), "X-Docker-Container-Path-Stat", "e30=");
        assert_eq!(r.headers()["x-docker-container-path-stat"], "e30=");
        let r = with_header(r, "X-Bad", "a\nb");
        assert!(r.headers().get("x-bad").is_none());
        let r = with_header(r, "bad name", "v");
        assert_eq!(r.headers().len(), 1);
    }
}
