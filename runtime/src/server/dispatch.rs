//! The dispatcher: serves a version's routes on a service like the daemon does: optional `/vX.Y` prefix checked against the
//! supported range, greedy route matching, the headers of every answer and of `/_ping`,
//! HEAD without a body, panics turned into 500s, JSON errors only.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use tracing::Instrument;

use super::config::ServerConfig;
use super::error::{json_error, ApiError};
use super::incoming::{Context, Incoming};
use super::pattern::{Params, Pattern};
use super::BoxFuture;
use crate::version::ApiVersion;

/// What answers a routed request: the operation's handler, started with the service.
pub type Handler<S> = Arc<dyn Fn(Arc<S>, Incoming) -> BoxFuture<Response> + Send + Sync>;

/// An operation as the dispatcher routes it, without a handler: a version's
/// `server::OPERATIONS` lists all of them, for programs that classify requests without
/// answering them (a proxy routes by them, then forwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRoute {
    pub method: Method,
    /// The spec's template, e.g. `/images/{name}/json`; [`Pattern`] matches it.
    pub path: &'static str,
    /// The spec's operation id, e.g. `ImageInspect`.
    pub operation: &'static str,
}

impl OperationRoute {
    pub const fn new(method: Method, path: &'static str, operation: &'static str) -> OperationRoute {
        OperationRoute { method, path, operation }
    }
}

/// One route of a version's router. `path` is the spec's template, e.g. `/images/{name}/json`.
/// The generated routes are [`Route::operation`]s; [`Route::new`] takes any handler.
pub struct Route<S> {
    pub method: Method,
    pub path: &'static str,
    pub operation: &'static str,
    handler: Handler<S>,
}

impl<S> Route<S> {
    /// A route answered by `handler`, which reads the request and makes the response itself.
    pub fn new(
        method: Method,
        path: &'static str,
        operation: &'static str,
        handler: impl Fn(Arc<S>, Incoming) -> BoxFuture<Response> + Send + Sync + 'static,
    ) -> Route<S> {
        Route { method, path, operation, handler: Arc::new(handler) }
    }
}

// By hand: a derive would require `S: Clone`, which the service need not be.
impl<S> Clone for Route<S> {
    fn clone(&self) -> Self {
        Route { method: self.method.clone(), path: self.path, operation: self.operation, handler: Arc::clone(&self.handler) }
    }
}

impl<S> fmt::Debug for Route<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route").field("method", &self.method).field("path", &self.path).field("operation", &self.operation).finish()
    }
}

/// Builds the axum `Router` that serves `routes` on `service` like the daemon does.
///
/// Every request goes to one catch-all handler rather than to axum's path router, whose
/// parameters cannot span `/`. Templates are compiled here, once; per method, routes are
/// tried in [`Pattern::precedence`] order (fewer parameters, then more literal text), the
/// first match wins, and no match is 404 `page not found` (never 405).
pub fn router<S: Send + Sync + 'static>(service: Arc<S>, routes: Vec<Route<S>>, config: ServerConfig) -> axum::Router {
    let dispatcher = Arc::new(Dispatcher::new(service, routes, config));
    axum::Router::new()
        .fallback(move |request: Request| Dispatcher::dispatch(&dispatcher, request))
        // Turns the handler into a service once, not again for every request.
        .with_state(())
}

struct Compiled<S> {
    pattern: Pattern,
    route: Route<S>,
}

struct Dispatcher<S> {
    service: Arc<S>,
    /// Per method, in the order they are tried. A list, not a map: there are at most five
    /// methods, and comparing them is cheaper than hashing one.
    routes: Vec<(Method, Vec<Compiled<S>>)>,
    config: ServerConfig,
    /// Set on every answer unless the handler set them.
    common: Vec<(HeaderName, HeaderValue)>,
    /// Set on `/_ping` answers in addition.
    ping: Vec<(HeaderName, HeaderValue)>,
}

impl<S: Send + Sync + 'static> Dispatcher<S> {
    fn new(service: Arc<S>, routes: Vec<Route<S>>, config: ServerConfig) -> Dispatcher<S> {
        let mut by_method: Vec<(Method, Vec<Compiled<S>>)> = Vec::new();
        for route in routes {
            let compiled = Compiled { pattern: Pattern::new(route.path), route };
            match by_method.iter_mut().find(|(method, _)| *method == compiled.route.method) {
                Some((_, list)) => list.push(compiled),
                None => by_method.push((compiled.route.method.clone(), vec![compiled])),
            }
        }
        for (_, compiled) in &mut by_method {
            // Stable: among equals the order given wins.
            compiled.sort_by(|a, b| a.pattern.precedence(&b.pattern));
        }
        let common = header_values([
            (header::SERVER, Some(config.server_header.clone())),
            (HeaderName::from_static("api-version"), Some(config.max_version.to_string())),
            (HeaderName::from_static("ostype"), Some(config.os_type.clone())),
        ]);
        let ping = header_values([
            (HeaderName::from_static("docker-experimental"), Some(config.experimental.to_string())),
            (header::CACHE_CONTROL, Some("no-cache, no-store, must-revalidate".to_owned())),
            (header::PRAGMA, Some("no-cache".to_owned())),
            (HeaderName::from_static("builder-version"), config.builder_version.clone()),
            (HeaderName::from_static("swarm"), config.swarm.clone()),
        ]);
        Dispatcher { service, routes: by_method, config, common, ping }
    }

    /// Routes `request` and starts its handler at once; the future returned holds only the
    /// handler's (boxed) future and a few words, not the request, the context and the routing
    /// state (which made every request's future a 2 KiB allocation, past the allocator's fast
    /// path for small sizes).
    fn dispatch(this: &Arc<Self>, request: Request) -> impl std::future::Future<Output = Response> + Send + 'static {
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            operation = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let Routed { prepared, is_ping, is_head, unread } = {
            let _entered = span.enter();
            this.route(request)
        };
        let this = Arc::clone(this);
        async move {
            let response = match prepared {
                Ok((future, operation)) => run(future, operation).instrument(span.clone()).await,
                Err(response) => response,
            };
            if response.status() != StatusCode::SWITCHING_PROTOCOLS {
                if let Some(body) = unread.and_then(Unread::take) {
                    drain(body).await;
                }
            }
            let response = this.finish(response, is_ping, is_head);
            if !span.is_disabled() {
                span.record("status", response.status().as_u16());
                let _entered = span.enter();
                tracing::debug!(status = response.status().as_u16(), "answered");
            }
            response
        }
    }

    /// Routes the request and starts its handler; a request that does not get that far is
    /// answered at once (`Err` in [`Routed::prepared`]). The answer is not boxed: it is
    /// moved once, straight out.
    fn route(&self, request: Request) -> Routed {
        let (mut parts, body) = request.into_parts();
        // Moved out rather than cloned: the context keeps it.
        let uri = std::mem::take(&mut parts.uri);
        let (version, unversioned) = split_version(uri.path());
        let is_head = parts.method == Method::HEAD;
        let is_ping = unversioned == "/_ping" && (is_head || parts.method == Method::GET);
        // A body that the answer leaves unread is read and discarded before the answer goes
        // out: closing the connection on a client still sending would make it report a
        // broken pipe instead of the answer (the docker CLI does, for a 501 to `docker build`).
        let has_body = !hyper::body::Body::is_end_stream(&body);
        let answered = |response: Response, body: Body| Routed {
            prepared: Err(response),
            is_ping,
            is_head,
            unread: has_body.then(|| Unread::Body(body)),
        };
        let Some((compiled, params)) = self.find(&parts.method, unversioned) else {
            return answered(ApiError::page_not_found().into_response(), body);
        };
        let route = &compiled.route;
        tracing::Span::current().record("operation", route.operation);
        // Like the daemon, the version is checked once a route matched: an unknown path is 404
        // whatever its prefix says.
        let api_version = match version.map(|v| check_version(v, &self.config)).transpose() {
            Ok(v) => v,
            Err(e) => return answered(e.into_response(), body),
        };
        let context = Context {
            api_version: api_version.unwrap_or(self.config.max_version),
            versioned: api_version.is_some(),
            method: parts.method,
            uri,
            headers: parts.headers,
            operation: route.operation,
        };
        let mut incoming = Incoming::new(context, params, body, self.config.json_body_limit);
        incoming.set_upgrade(parts.extensions.remove::<hyper::upgrade::OnUpgrade>());
        let unread = has_body.then(|| {
            let slot = super::incoming::Unread::default();
            incoming.set_unread(Arc::clone(&slot));
            Unread::Slot(slot)
        });

        // A panic must not drop the connection without an answer; neither the call that builds
        // the future nor the future itself may unwind past here.
        let service = Arc::clone(&self.service);
        let prepared = match std::panic::catch_unwind(AssertUnwindSafe(|| (route.handler)(service, incoming))) {
            Ok(future) => Ok((future, route.operation)),
            Err(payload) => Err(panicked(route.operation, payload)),
        };
        Routed { prepared, is_ping, is_head, unread }
    }

    fn find(&self, method: &Method, path: &str) -> Option<(&Compiled<S>, Params)> {
        let (_, compiled) = self.routes.iter().find(|(m, _)| m == method)?;
        compiled.iter().find_map(|c| c.pattern.matches(path).map(|params| (c, params)))
    }

    fn finish(&self, mut response: Response, is_ping: bool, is_head: bool) -> Response {
        let headers = response.headers_mut();
        let extra = if is_ping { &self.ping[..] } else { &[] };
        for (name, value) in self.common.iter().chain(extra) {
            headers.entry(name).or_insert_with(|| value.clone());
        }
        if is_head {
            // The daemon answers HEAD /_ping with `Content-Length: 0` and nothing after it.
            headers.entry(header::CONTENT_LENGTH).or_insert(HeaderValue::from_static("0"));
            *response.body_mut() = Body::empty();
        }
        response
    }
}

/// A routed request: its handler started (or the answer already made), what the answer's
/// headers depend on, and where to find the request body if the answer leaves it unread.
struct Routed {
    prepared: Result<(BoxFuture<Response>, &'static str), Response>,
    is_ping: bool,
    is_head: bool,
    unread: Option<Unread>,
}

/// A request body that may be left unread.
enum Unread {
    /// Answered before a handler ran.
    Body(Body),
    /// Where the handler's `Incoming` puts it when dropped with the body unread.
    Slot(super::incoming::Unread),
}

impl Unread {
    fn take(self) -> Option<Body> {
        match self {
            Unread::Body(body) => Some(body),
            Unread::Slot(slot) => slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take(),
        }
    }
}

/// The most of an unread request body that is read and discarded before answering, and
/// for how long; a client sending more keeps its broken pipe.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

async fn drain(mut body: Body) {
    use http_body_util::BodyExt;
    let reading = async {
        let mut drained = 0;
        while let Some(Ok(frame)) = body.frame().await {
            drained += frame.data_ref().map_or(0, bytes::Bytes::len);
            if drained > DRAIN_LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, reading).await;
}

/// Polls a handler's future, turning a panic into a 500.
async fn run(future: BoxFuture<Response>, operation: &'static str) -> Response {
    AssertUnwindSafe(future).catch_unwind().await.unwrap_or_else(|payload| panicked(operation, payload))
}

fn panicked(operation: &'static str, payload: Box<dyn std::any::Any + Send>) -> Response {
    let reason = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".to_owned());
    tracing::error!(operation, panic = %reason, "handler panicked");
    json_error(StatusCode::INTERNAL_SERVER_ERROR, &format!("{operation} failed: the server hit an internal error"))
}

/// Header values from configuration; one that is not valid in HTTP is left out (with a
/// warning) instead of failing every answer.
fn header_values<const N: usize>(pairs: [(HeaderName, Option<String>); N]) -> Vec<(HeaderName, HeaderValue)> {
    pairs
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value?;
            match HeaderValue::from_str(&value) {
                Ok(v) => Some((name, v)),
                Err(_) => {
                    tracing::warn!(header = %name, value = %value, "configured header value is not valid HTTP; not sending it");
                    None
                }
            }
        })
        .collect()
}

/// Splits `/v1.41/containers/json` into `Some("1.41")` and `/containers/json`. Like the
/// daemon's `/v{version:[0-9.]+}` routes, only digits and dots make a version segment, so
/// `/vabc/…` stays an (unknown) unversioned path.
pub fn split_version(path: &str) -> (Option<&str>, &str) {
    let Some(rest) = path.strip_prefix("/v") else {
        return (None, path);
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (version, tail) = rest.split_at(end);
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return (None, path);
    }
    (Some(version), tail)
}

/// Checks a prefix version against the supported range the way the daemon compares versions
/// (moby `api/types/versions`: dot-separated numbers, missing parts 0, so `1.41.0` is 1.41
/// and `1` is 1.0), and answers the daemon's 400s outside of it.
pub fn check_version(raw: &str, config: &ServerConfig) -> Result<ApiVersion, ApiError> {
    // The daemon's comparison over at most 3 parts without allocating: more parts than that
    // only matter when the first three equal a bound's, and a bound has two.
    let mut parts = [0u64; 3];
    let mut extra_nonzero = false;
    for (count, p) in raw.split('.').enumerate() {
        let n = match p.parse::<u64>() {
            Ok(n) => n,
            // Go's Atoi: overflow saturates, an empty part is 0.
            Err(_) if !p.is_empty() => u64::MAX,
            Err(_) => 0,
        };
        if count < parts.len() {
            parts[count] = n;
        } else if n != 0 {
            extra_nonzero = true;
        }
    }
    let compare = |v: ApiVersion| {
        let other = [u64::from(v.major()), u64::from(v.minor()), 0];
        parts.iter().zip(other).map(|(a, b)| a.cmp(&b)).find(|o| o.is_ne()).unwrap_or(if extra_nonzero {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        })
    };
    if compare(config.min_version).is_lt() {
        return Err(ApiError::invalid_argument(format!(
            "client version {raw} is too old. Minimum supported API version is {}, please upgrade your client to a newer version",
            config.min_version
        )));
    }
    if compare(config.max_version).is_gt() {
        return Err(ApiError::invalid_argument(format!(
            "client version {raw} is too new. Maximum supported API version is {}",
            config.max_version
        )));
    }
    let part = |i: usize| u16::try_from(parts[i]).unwrap_or(u16::MAX);
    Ok(ApiVersion::new(part(0), part(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefixes() {
        assert_eq!(split_version("/v1.41/containers/json"), (Some("1.41"), "/containers/json"));
        assert_eq!(split_version("/containers/json"), (None, "/containers/json"));
        assert_eq!(split_version("/vabc/containers/json"), (None, "/vabc/containers/json"));
        assert_eq!(split_version("/v/containers/json"), (None, "/v/containers/json"));
        assert_eq!(split_version("/v1.41"), (Some("1.41"), ""));
        assert_eq!(split_version("/volumes"), (None, "/volumes"));
        assert_eq!(split_version("/v1.2.3/_ping"), (Some("1.2.3"), "/_ping"));
    }

    #[test]
    fn version_range() {
        let config = ServerConfig::new(ApiVersion::new(1, 41));
        assert_eq!(check_version("1.41", &config), Ok(ApiVersion::new(1, 41)));
        assert_eq!(check_version("1.24", &config), Ok(ApiVersion::new(1, 24)));
        assert_eq!(check_version("1.30.0", &config), Ok(ApiVersion::new(1, 30)));
        assert_eq!(check_version("1.041", &config), Ok(ApiVersion::new(1, 41)));
        let e = check_version("1.42", &config).unwrap_err();
        assert_eq!(e.message(), "client version 1.42 is too new. Maximum supported API version is 1.41");
        assert!(check_version("1.41.1", &config).is_err());
        assert!(check_version("1.99999999999999999999999", &config).unwrap_err().message().contains("too new"));
        let e = check_version("1.23", &config).unwrap_err();
        assert_eq!(
            e.message(),
            "client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
        );
        assert!(check_version("1", &config).unwrap_err().message().contains("too old"));
        assert!(check_version(".", &config).unwrap_err().message().contains("too old"));
        assert!(check_version("2", &config).unwrap_err().message().contains("too new"));
    }
}
