//! One request after routing: what the generated handler pulls its typed parameters out of
//! (path parameters, query, headers, JSON or streamed body) and the pending upgrade of a
//! hijacked connection.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context as TaskContext, Poll};

use axum::body::{Body, BodyDataStream};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use bytes::Bytes;
use futures_core::Stream;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::query::Query;
use crate::secret::{is_secret_header, is_secret_query_key, REDACTED};
use crate::version::ApiVersion;

/// What a handler knows besides its typed parameters.
///
/// `Debug` redacts credentials: the values of the headers that hold them and of the
/// query parameters that may (see [`secret`](crate::secret)).
#[derive(Clone)]
pub struct Context {
    /// From the `/vX.Y` prefix, or the server's maximum when the path has none.
    pub api_version: ApiVersion,
    /// Whether the path had a `/vX.Y` prefix.
    pub versioned: bool,
    pub method: Method,
    /// The original URI, version prefix and query included.
    pub uri: Uri,
    pub headers: HeaderMap,
    /// The operation id of the matched route, e.g. `ContainerList`.
    pub operation: &'static str,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let uri = match self.uri.query() {
            Some(query) => format!("{}?{}", self.uri.path(), redact_query(query)),
            None => self.uri.path().to_owned(),
        };
        let headers = RedactedHeaders(&self.headers);
        f.debug_struct("Context")
            .field("api_version", &self.api_version)
            .field("versioned", &self.versioned)
            .field("method", &self.method)
            .field("uri", &uri)
            .field("headers", &headers)
            .field("operation", &self.operation)
            .finish()
    }
}

/// Headers as a map, credentials redacted.
struct RedactedHeaders<'a>(&'a HeaderMap);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if is_secret_header(name.as_str()) || value.is_sensitive() {
                map.entry(&name.as_str(), &format_args!("{REDACTED}"));
            } else {
                map.entry(&name.as_str(), value);
            }
        }
        map.finish()
    }
}

/// A raw query string (`t=app&buildargs=%7B…%7D`) with the values of secret parameters
/// replaced by `<redacted>`.
fn redact_query(raw: &str) -> String {
    raw.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret_query_key(&super::query::percent_decode(key, true)) => format!("{key}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// One request after routing; the generated handler pulls typed parameters out of it.
///
/// `Send` and `Sync`, so a handler may hold a borrow of it across an `.await`. `Debug`
/// redacts credentials, like [`Context`]'s.
#[derive(Debug)]
pub struct Incoming {
    context: Context,
    params: Vec<(String, String)>,
    query: Query,
    json_body_limit: usize,
    // Behind a mutex only to make `Incoming` `Sync` (the body is `Send` only); every access
    // goes through `&mut self`, so it is never contended.
    body: Mutex<Option<Body>>,
    /// The body, once [`buffer_json_body`](Incoming::buffer_json_body) has read it.
    json: Option<Bytes>,
    upgrade: Mutex<Option<hyper::upgrade::OnUpgrade>>,
    unread: Option<Unread>,
}

impl Incoming {
    /// Assembles a routed request. The dispatcher does this; it is public so that handlers
    /// can be tested without a socket.
    pub fn new(context: Context, params: Vec<(String, String)>, body: Body, json_body_limit: usize) -> Incoming {
        let query = Query::parse(context.uri.query().unwrap_or(""));
        Incoming { context, params, query, json_body_limit, body: Mutex::new(Some(body)), json: None, upgrade: Mutex::new(None), unread: None }
    }

    /// Where the body goes if the handler leaves it unread.
    pub(crate) fn set_unread(&mut self, unread: Unread) {
        self.unread = Some(unread);
    }

    pub(crate) fn set_upgrade(&mut self, upgrade: Option<hyper::upgrade::OnUpgrade>) {
        *lock(&mut self.upgrade) = upgrade;
    }

    pub(crate) fn take_upgrade(&mut self) -> Option<hyper::upgrade::OnUpgrade> {
        lock(&mut self.upgrade).take()
    }

    pub fn context(&self) -> &Context {
        &self.context
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    /// A path parameter by its name in the route template (`{id}`, `{name}`), percent-decoded;
    /// missing → 400.
    pub fn path(&self, name: &str) -> Result<String, ApiError> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| ApiError::invalid_argument(format!("missing path parameter \"{name}\"")))
    }

    /// A header as text (the first one when repeated); non-UTF-8 → 400 naming the header.
    pub fn header(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.context.headers.get(name) {
            None => Ok(None),
            Some(value) => std::str::from_utf8(value.as_bytes())
                .map(|s| Some(s.to_owned()))
                .map_err(|_| ApiError::invalid_argument(format!("header \"{name}\" is not valid UTF-8"))),
        }
    }

    /// Reads the whole body (at most the configured JSON limit, else 413) and decodes it as
    /// JSON; unknown fields are ignored unless the type says otherwise. An empty body is a 400
    /// with the daemon's message (`invalid JSON: got EOF while reading request body`), bad
    /// JSON a 400 `invalid JSON: <reason>`.
    pub async fn json_body<T: DeserializeOwned>(&mut self) -> Result<T, ApiError> {
        self.buffer_json_body().await?;
        self.buffered_json()
    }

    /// Like [`json_body`](Incoming::json_body), but an empty body (or `Content-Length: 0`,
    /// or only whitespace) is `Ok(None)`.
    pub async fn json_body_opt<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ApiError> {
        self.buffer_json_body().await?;
        self.buffered_json_opt()
    }

    /// Reads the whole body, at most the configured JSON limit (else 413), for
    /// [`buffered_json`](Incoming::buffered_json) to decode; a second call keeps the first's.
    /// The handler of an [`Endpoint`](super::Endpoint) with a JSON body calls this before
    /// its `parse`.
    pub async fn buffer_json_body(&mut self) -> Result<(), ApiError> {
        if self.json.is_some() {
            return Ok(());
        }
        let declared =
            self.context.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        if declared == Some(0) {
            self.json = Some(Bytes::new());
            return Ok(());
        }
        // Refused before reading a byte when the client announced the size.
        if declared.is_some_and(|n| n > self.json_body_limit as u64) {
            return Err(too_large(self.json_body_limit));
        }
        self.json = Some(self.body().collect(self.json_body_limit).await?);
        Ok(())
    }

    /// The body [`buffer_json_body`](Incoming::buffer_json_body) read, decoded as by
    /// [`json_body`](Incoming::json_body). Before it, a 500: a handler that forgot.
    pub fn buffered_json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        self.buffered_json_opt()?
            .ok_or_else(|| ApiError::invalid_argument("invalid JSON: got EOF while reading request body (a request body is required)"))
    }

    /// [`buffered_json`](Incoming::buffered_json) where the body is optional: empty or only
    /// whitespace is `Ok(None)`.
    pub fn buffered_json_opt<T: DeserializeOwned>(&self) -> Result<Option<T>, ApiError> {
        let Some(bytes) = &self.json else {
            return Err(ApiError::internal("the request body was not read before it was decoded"));
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(bytes).map(Some).map_err(|e| ApiError::invalid_argument(format!("invalid JSON: {e}")))
    }

    /// The raw request body as a stream (tar contexts, archives, image loads); not
    /// size-limited. Taking it twice gives an empty body the second time.
    pub fn body(&mut self) -> RequestBody {
        let body = lock(&mut self.body).take().unwrap_or_else(Body::empty);
        RequestBody { inner: Mutex::new(body.into_data_stream()), unread: self.unread.take() }
    }
}

/// Where a request body the handler left unread goes when its `Incoming` is dropped, for
/// the dispatcher to read and discard before it answers (see [`super::dispatch`]).
pub(crate) type Unread = std::sync::Arc<Mutex<Option<Body>>>;

impl Drop for Incoming {
    fn drop(&mut self) {
        if let (Some(body), Some(unread)) = (lock(&mut self.body).take(), self.unread.take()) {
            leave_unread(body, &unread);
        }
    }
}

fn leave_unread(body: Body, unread: &Unread) {
    if !hyper::body::Body::is_end_stream(&body) {
        *unread.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(body);
    }
}

fn lock<T>(m: &mut Mutex<T>) -> &mut T {
    m.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("request body is larger than the limit of {limit} bytes"))
}

/// A streaming request body: a `Stream` of `Result<Bytes, io::Error>`, `Unpin`, `Send` and
/// `Sync`.
#[derive(Debug)]
pub struct RequestBody {
    // A mutex for `Sync` only, like in `Incoming`: polling has `&mut self`.
    inner: Mutex<BodyDataStream>,
    unread: Option<Unread>,
}

impl Drop for RequestBody {
    /// What is left unread goes where `Incoming`'s unread body goes.
    fn drop(&mut self) {
        if let Some(unread) = self.unread.take() {
            let rest = std::mem::replace(lock(&mut self.inner), Body::empty().into_data_stream());
            leave_unread(Body::new(rest), &unread);
        }
    }
}

impl RequestBody {
    /// The body as a `tokio::io::AsyncRead` (for tar readers and the like).
    pub fn into_async_read(self) -> impl tokio::io::AsyncRead + Send + Sync + Unpin + 'static {
        tokio_util::io::StreamReader::new(self)
    }

    /// Reads the whole body; more than `limit` bytes → 413, a failed read → 400.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes, ApiError> {
        let body = std::mem::replace(lock(&mut self.inner), Body::empty().into_data_stream());
        match Limited::new(Body::from_stream(body), limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if is_limit(&*e) => Err(too_large(limit)),
            Err(e) => Err(ApiError::invalid_argument(format!("reading the request body failed: {e}"))),
        }
    }
}

fn is_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(e) = current {
        if e.is::<LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}

impl Stream for RequestBody {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let inner = lock(&mut self.get_mut().inner);
        Pin::new(inner).poll_next(cx).map(|item| item.map(|r| r.map_err(io::Error::other)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incoming(body: &'static str, headers: &[(&'static str, &'static str)], limit: usize) -> Incoming {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, axum::http::HeaderValue::from_static(v));
        }
        let context = Context {
            api_version: ApiVersion::new(1, 41),
            versioned: false,
            method: Method::POST,
            uri: Uri::from_static("/containers/create?name=a%2Fb"),
            headers: map,
            operation: "ContainerCreate",
        };
        Incoming::new(context, vec![("id".into(), "a/b".into())], Body::from(body), limit)
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn params_query_headers() {
        let i = incoming("", &[("x-registry-auth", "abc")], 100);
        assert_eq!(i.path("id").unwrap(), "a/b");
        assert_eq!(i.path("name").unwrap_err().status(), StatusCode::BAD_REQUEST);
        assert_eq!(i.query().get("name"), Some("a/b"));
        assert_eq!(i.header("X-Registry-Auth").unwrap().as_deref(), Some("abc"));
        assert_eq!(i.header("missing").unwrap(), None);
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Incoming>();
        assert_send_sync::<RequestBody>();
    }

    #[test]
    fn json_bodies() {
        let mut i = incoming(r#"{"Image":"alpine","Unknown":1}"#, &[], 100);
        let v: serde_json::Value = block_on(i.json_body()).unwrap();
        assert_eq!(v["Image"], "alpine");

        let e = block_on(incoming("", &[], 100).json_body::<serde_json::Value>()).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.message().contains("required"), "{}", e.message());
        assert_eq!(block_on(incoming(" \n", &[], 100).json_body_opt::<serde_json::Value>()), Ok(None));
        assert_eq!(block_on(incoming("{}", &[("content-length", "0")], 100).json_body_opt::<serde_json::Value>()), Ok(None));

        let e = block_on(incoming("{", &[], 100).json_body::<serde_json::Value>()).unwrap_err();
        assert!(e.message().starts_with("invalid JSON: "), "{}", e.message());

        let e = block_on(incoming("[1,2,3,4,5,6]", &[], 4).json_body::<serde_json::Value>()).unwrap_err();
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let e = block_on(incoming("[1]", &[("content-length", "9999")], 4).json_body::<serde_json::Value>()).unwrap_err();
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn a_buffered_body_is_read_once_and_decoded_as_often_as_asked() {
        let mut i = incoming(r#"{"Image":"alpine"}"#, &[], 100);
        let e = i.buffered_json::<serde_json::Value>().unwrap_err();
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR, "decoded before it was read: {}", e.message());
        block_on(i.buffer_json_body()).unwrap();
        block_on(i.buffer_json_body()).unwrap();
        assert_eq!(i.buffered_json::<serde_json::Value>().unwrap()["Image"], "alpine");
        assert_eq!(i.buffered_json_opt::<serde_json::Value>().unwrap().unwrap()["Image"], "alpine");
        // The stream was taken by the first read: nothing is left for a streaming reader.
        assert!(block_on(i.body().collect(100)).unwrap().is_empty());
    }

    #[test]
    fn streamed_bodies() {
        let mut i = incoming("tar bytes", &[], 1);
        let bytes = block_on(i.body().collect(1 << 20)).unwrap();
        assert_eq!(&bytes[..], b"tar bytes");
        assert!(block_on(i.body().collect(10)).unwrap().is_empty());
    }
}
