//! One pooled reqwest client per endpoint, version negotiation, and the request path.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::OnceCell;
use tracing::Instrument as _;

use super::auth::{RegistryAuth, RegistryConfig};
use super::direct::Direct;
use super::endpoint::Endpoint;
use super::host::Host;
#[cfg(feature = "tls")]
use super::tls;
use super::version::ApiVersionPolicy;
use super::Error;
use crate::version::ApiVersion;

/// The default for [`TransportBuilder::connect_timeout`], as the Go client's dialer.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default for [`TransportBuilder::max_body_size`]: 64 MiB. The largest answers a
/// daemon gives in one piece (every container or image of a busy host, `system df`) are a
/// few MiB; a body larger than this is a broken or hostile peer.
pub const DEFAULT_MAX_BODY_SIZE: usize = 64 * 1024 * 1024;

/// The connection to one daemon: a pooled `reqwest::Client` (keep-alive connections are
/// reused across requests), the base URL, and the API version policy.
///
/// Streamed responses ([`send_logs`](Transport::send_logs), `send_json_lines`,
/// `send_progress`, `send_bytes`) on a unix socket or plain TCP get a connection of their
/// own instead, read by the task that reads the stream and closed when the stream ends or
/// is dropped: handing each chunk over from a connection task costs more than the daemon's
/// work for it. The options, timeouts, headers and errors are those of the pooled client,
/// except that failing before the response head is an [`Error::Connection`] there.
///
/// Cheap to clone; clones share the pool and the negotiated version. Every versioned
/// request path carries `/v{X.Y}`: the pinned version, or the negotiated one. Negotiation
/// happens once, on the first request that needs a version (or on
/// [`api_version`](Transport::api_version)); concurrent first requests wait for the same
/// `/_ping`. A failed negotiation is not remembered: the next request tries again.
///
/// # Timeouts
///
/// A request's timeout ([`TransportBuilder::timeout`], [`Request::timeout`]) bounds a
/// one-shot call from sending the request to the decoded answer: for
/// [`send_json`](Transport::send_json) and [`send_text`](Transport::send_text) it covers
/// connecting, sending, the response head and reading the whole body, so a daemon that
/// stalls after the head ends the call with [`Error::Timeout`]. The long poll of
/// [`send_deferred_json`](Transport::send_deferred_json) (`wait`) is bounded up to its
/// head only: the document comes when the container stops. For the calls that hand
/// back a response or a stream ([`send`](Transport::send), [`execute`](Transport::execute),
/// the streams, [`upgrade`](Transport::upgrade)) it bounds the time until the response
/// *head* arrives (a `tokio::time::timeout` around `reqwest::Client::execute`, or around
/// connecting and sending on a streamed response's own connection): a `follow=1` log or an
/// event stream the caller reads may run for hours and is never cut by it. reqwest's own
/// `timeout` is not used, because it would cut those bodies too. Sending the request body
/// falls inside the timeout, so give large uploads (a build context, `docker load`) a
/// larger timeout or none. Calls whose head legitimately takes long
/// (`POST /containers/{id}/stop?t=60`, which answers once the container has stopped) need
/// [`Request::no_timeout`] or a timeout above the wait. The default is no timeout, like the
/// Go client, with a 30 s connect timeout.
///
/// # Body limits
///
/// A body read into memory ([`send_json`](Transport::send_json),
/// [`send_text`](Transport::send_text), [`send_deferred_json`](Transport::send_deferred_json),
/// [`read_body`](Transport::read_body)) may be at most [`TransportBuilder::max_body_size`]
/// bytes ([`DEFAULT_MAX_BODY_SIZE`]), or [`Request::max_body_size`] for one request;
/// a larger one, announced or read, is [`Error::BodyTooLarge`], and at most that much is
/// held meanwhile. Error answers are read up to [`MAX_ERROR_BODY`](super::MAX_ERROR_BODY);
/// streams bound each line or frame instead (see [`stream`](crate::stream)).
///
/// # Proxies and redirects
///
/// `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` apply to TCP endpoints other than loopback,
/// as in the Go client; never to unix sockets. Redirects are not followed (a `3xx` other
/// than 304 is an [`Error::UnexpectedResponse`]), so registry auth never travels on.
///
/// # Tracing
///
/// Each request runs in a `DEBUG` span `docker_request` with the method, the path as the
/// caller wrote it (no query string: build arguments can hold secrets; no headers:
/// registry auth travels there) and the response status.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    host: Host,
    policy: ApiVersionPolicy,
    negotiated: OnceCell<ApiVersion>,
    timeout: Option<Duration>,
    max_body_size: usize,
    /// The unpooled path of streamed responses; `None` where reqwest must handle them too.
    direct: Option<Direct>,
}

/// Options of a [`Transport`]; from [`Transport::builder`].
#[derive(Debug)]
pub struct TransportBuilder {
    endpoint: Endpoint,
    policy: ApiVersionPolicy,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    max_body_size: usize,
    user_agent: String,
}

impl TransportBuilder {
    /// Replaces the version policy (by default `Pinned` when the endpoint pins a version,
    /// else `Negotiate { max }`).
    pub fn policy(mut self, policy: ApiVersionPolicy) -> TransportBuilder {
        self.policy = policy;
        self
    }

    /// The default per-request timeout: of the whole call for one-shot calls, of the
    /// response head for streams (see [`Transport`]); `None` (the default) waits as long as
    /// it takes.
    pub fn timeout(mut self, timeout: Option<Duration>) -> TransportBuilder {
        self.timeout = timeout;
        self
    }

    /// How long establishing a connection (TCP and TLS, or the unix socket; pooled, or a
    /// streamed response's own) may take; `None` for no limit. Defaults to
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> TransportBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// How long an idle pooled connection is kept (reqwest's default: 90 s).
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> TransportBuilder {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The largest body read into memory, in bytes (see [`Transport`]); defaults to
    /// [`DEFAULT_MAX_BODY_SIZE`].
    pub fn max_body_size(mut self, bytes: usize) -> TransportBuilder {
        self.max_body_size = bytes;
        self
    }

    /// The `User-Agent` header (default `moby-api-runtime/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> TransportBuilder {
        self.user_agent = user_agent.into();
        self
    }

    /// Builds the pooled client. Fails on unusable certificates, or on a unix socket on
    /// a platform without them.
    pub fn build(self) -> Result<Transport, Error> {
        let endpoint = self.endpoint;
        let base = endpoint.base_url();
        let port = Url::parse(&base).ok().and_then(|url| url.port_or_known_default()).unwrap_or(80);
        let direct = Direct::new(endpoint.host(), port, endpoint.uses_tls(), self.connect_timeout, &self.user_agent);
        let mut builder = reqwest::Client::builder()
            .user_agent(self.user_agent)
            // A redirect would carry X-Registry-Auth to wherever it points; the Go
            // client refuses them too.
            .redirect(reqwest::redirect::Policy::none())
            .http1_only()
            .pool_idle_timeout(self.pool_idle_timeout);
        builder = with_tls(builder, &endpoint)?;
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        match endpoint.host() {
            #[cfg(unix)]
            Host::Unix(path) => builder = builder.unix_socket(path.as_path()),
            #[cfg(not(unix))]
            Host::Unix(path) => {
                return Err(Error::Unsupported(format!("unix socket {} on a platform without unix sockets", path.display())));
            }
            // Go's ProxyFromEnvironment never proxies loopback; reqwest's would.
            Host::Tcp { host, .. } if is_loopback(host) => builder = builder.no_proxy(),
            Host::Tcp { .. } => {}
        }
        let http = builder.build().map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Transport {
            inner: Arc::new(Inner {
                http,
                base,
                host: endpoint.host().clone(),
                policy: self.policy,
                negotiated: OnceCell::new(),
                timeout: self.timeout,
                max_body_size: self.max_body_size,
                direct,
            }),
        })
    }
}

/// The client's rustls configuration: the endpoint's settings, or an inert one without TLS.
#[cfg(feature = "tls")]
fn with_tls(builder: reqwest::ClientBuilder, endpoint: &Endpoint) -> Result<reqwest::ClientBuilder, Error> {
    let default = super::TlsSettings::new(true);
    let settings = match endpoint.host() {
        Host::Tcp { .. } if endpoint.uses_tls() => Some(endpoint.tls().unwrap_or(&default)),
        _ => None,
    };
    Ok(builder.tls_backend_preconfigured(tls::client_config(settings)?))
}

/// Without the `tls` feature a TLS endpoint is refused before anything is sent.
#[cfg(not(feature = "tls"))]
fn with_tls(builder: reqwest::ClientBuilder, endpoint: &Endpoint) -> Result<reqwest::ClientBuilder, Error> {
    if !endpoint.uses_tls() {
        return Ok(builder);
    }
    Err(Error::Unsupported(format!(
        "{} uses TLS, which this build leaves out: enable the `tls` feature of moby-api (or moby-api-runtime)",
        endpoint.base_url()
    )))
}

pub(super) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What `/_ping` tells besides `OK`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ping {
    /// `API-Version`: the newest API version the daemon speaks.
    pub api_version: Option<String>,
    /// `OSType`: `linux` or `windows`.
    pub os_type: Option<String>,
    /// `Docker-Experimental: true`.
    pub experimental: bool,
    /// `Builder-Version` (newer engines): `1` (classic) or `2` (BuildKit).
    pub builder_version: Option<String>,
    /// `Swarm` (newer engines): e.g. `inactive`, `active/manager`.
    pub swarm: Option<String>,
}

impl Ping {
    fn from_headers(headers: &HeaderMap) -> Ping {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Ping {
            api_version: text("api-version"),
            os_type: text("ostype"),
            experimental: text("docker-experimental").is_some_and(|v| v.eq_ignore_ascii_case("true")),
            builder_version: text("builder-version"),
            swarm: text("swarm"),
        }
    }
}

impl Transport {
    /// Options for a transport to `endpoint` whose callers speak at most `max` (the
    /// generated module's version); the policy is `Pinned` when the endpoint pins one.
    pub fn builder(endpoint: Endpoint, max: ApiVersion) -> TransportBuilder {
        TransportBuilder {
            policy: ApiVersionPolicy::new(max, endpoint.pinned_version()),
            endpoint,
            timeout: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            user_agent: concat!("moby-api-runtime/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// A transport with the default options.
    pub fn new(endpoint: Endpoint, max: ApiVersion) -> Result<Transport, Error> {
        Transport::builder(endpoint, max).build()
    }

    /// A transport to the daemon the environment names ([`Endpoint::from_env`]).
    pub fn from_env(max: ApiVersion) -> Result<Transport, Error> {
        Transport::new(Endpoint::from_env()?, max)
    }

    /// The version policy.
    pub fn policy(&self) -> ApiVersionPolicy {
        self.inner.policy
    }

    /// The URL request paths are appended to (see [`Endpoint::base_url`]).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The underlying pooled client, for what this type does not cover. Its requests
    /// need the full URL ([`Transport::url`]).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The version of this transport's request paths: the pinned one, or the negotiated
    /// one, negotiating now if no request has yet.
    pub async fn api_version(&self) -> Result<ApiVersion, Error> {
        match self.inner.policy {
            ApiVersionPolicy::Pinned(version) => Ok(version),
            policy @ ApiVersionPolicy::Negotiate { .. } => self.inner.negotiated.get_or_try_init(|| self.negotiate(policy)).await.copied(),
        }
    }

    /// The version in use if it is known without asking the daemon (pinned, or already
    /// negotiated).
    pub fn known_api_version(&self) -> Option<ApiVersion> {
        match self.inner.policy {
            ApiVersionPolicy::Pinned(version) => Some(version),
            ApiVersionPolicy::Negotiate { .. } => self.inner.negotiated.get().copied(),
        }
    }

    async fn negotiate(&self, policy: ApiVersionPolicy) -> Result<ApiVersion, Error> {
        let ping = self.ping().await?;
        let server = match &ping.api_version {
            None => None,
            Some(text) => {
                Some(text.parse::<ApiVersion>().map_err(|e| Error::Negotiation(format!("the daemon's API-Version header: {e}")))?)
            }
        };
        let version = policy.settle(server);
        tracing::debug!(server = ?ping.api_version, %version, "negotiated the Docker API version");
        Ok(version)
    }

    /// `HEAD /_ping` (unversioned), and `GET /_ping` when that fails or does not answer
    /// 200, as the Go client does; an error answer to the `GET` is an [`Error`].
    pub async fn ping(&self) -> Result<Ping, Error> {
        let head = self.dispatch(Request::new(Method::HEAD, "/_ping").unversioned(), None).await;
        if let Ok(response) = &head {
            if response.status() == StatusCode::OK {
                return Ok(Ping::from_headers(response.headers()));
            }
        }
        let response = self.dispatch(Request::new(Method::GET, "/_ping").unversioned(), None).await?;
        if response.status().is_success() {
            Ok(Ping::from_headers(response.headers()))
        } else {
            Err(Error::from_response(response).await)
        }
    }

    /// The full URL of `path` (which must be percent-encoded where needed, and may hold a
    /// query string) under `version`, or unversioned.
    pub fn url(&self, version: Option<ApiVersion>, path: &str) -> Result<Url, Error> {
        let version = version.map(ApiVersion::path_prefix).unwrap_or_default();
        let slash = if path.starts_with('/') { "" } else { "/" };
        let text = format!("{}{version}{slash}{path}", self.inner.base);
        Url::parse(&text).map_err(|e| Error::Config(format!("invalid request URL for path `{path}`: {e}")))
    }

    /// Sends `request` and returns the response whatever its status (for callers that
    /// map statuses themselves); negotiates the version first if needed.
    pub async fn execute(&self, request: Request) -> Result<reqwest::Response, Error> {
        let version = self.version_for(&request).await?;
        self.dispatch(request, version).await
    }

    /// The version `request` will be sent under (`None`: unversioned), negotiating if needed.
    pub(super) async fn version_for(&self, request: &Request) -> Result<Option<ApiVersion>, Error> {
        if request.versioned {
            Ok(Some(self.api_version().await?))
        } else {
            Ok(None)
        }
    }

    /// Sends `request`; a status of 300 or more other than 304 becomes an [`Error`]
    /// ([`Error::Api`] for the daemon's JSON errors). The body is left to the caller.
    ///
    /// Reading an error body is bounded by the request's timeout as well.
    pub fn send(&self, request: impl IntoRequest) -> Call<'_, reqwest::Response> {
        let request = request.into_request();
        Box::pin(async move { self.send_request(request?).await })
    }

    /// [`send`](Self::send) for the other send methods, unboxed.
    pub(super) async fn send_request(&self, request: Request) -> Result<reqwest::Response, Error> {
        let version = self.version_for(&request).await?;
        self.send_at(request, version).await
    }

    /// [`send`](Self::send) under a version already settled by [`version_for`](Self::version_for),
    /// for callers that need to know it (the framing of logs and hijacked streams depends on it).
    pub(super) async fn send_at(&self, request: Request, version: Option<ApiVersion>) -> Result<reqwest::Response, Error> {
        let timeout = self.timeout_of(&request);
        let response = self.dispatch(request, version).await?;
        let status = response.status();
        if status.is_success() || status.is_informational() || status == StatusCode::NOT_MODIFIED {
            return Ok(response);
        }
        match timeout {
            Some(after) => Err(tokio::time::timeout(after, Error::from_response(response)).await.unwrap_or(Error::Timeout { after })),
            None => Err(Error::from_response(response).await),
        }
    }

    fn timeout_of(&self, request: &Request) -> Option<Duration> {
        match request.timeout {
            TimeoutSetting::Default => self.inner.timeout,
            TimeoutSetting::Set(d) => Some(d),
            TimeoutSetting::Off => None,
        }
    }

    /// [`send`](Self::send), then reads the whole body (at most the body limit) and decodes
    /// it as JSON by the decoding policy ([`crate::json::from_slice`]: a `null` body reads
    /// as the default), all within the request's timeout (see [`Transport`]).
    pub fn send_json<T: DeserializeOwned + Default + Send>(&self, request: impl IntoRequest) -> Call<'_, T> {
        let request = request.into_request();
        Box::pin(async move {
            let bytes = self.send_whole(request?).await?;
            Ok(crate::json::from_slice(&bytes)?)
        })
    }

    /// [`send`](Self::send), then reads the whole body (at most the body limit) as text
    /// (lossy UTF-8), all within the request's timeout (`GET /_ping`'s `OK`).
    pub fn send_text(&self, request: impl IntoRequest) -> Call<'_, String> {
        let request = request.into_request();
        Box::pin(async move {
            let bytes = self.send_whole(request?).await?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        })
    }

    /// A long poll (`POST /containers/{id}/wait`): the head within the request's timeout,
    /// then the JSON document (at most the body limit) whenever the daemon sends it, which
    /// is when the condition is met; the timeout does not cut that wait.
    pub fn send_deferred_json<T: DeserializeOwned + Default + Send>(&self, request: impl IntoRequest) -> Call<'_, T> {
        let request = request.into_request();
        Box::pin(async move {
            let request = request?;
            let limit = request.max_body_size.unwrap_or(self.inner.max_body_size);
            let what = format!("{} {}", request.method, request.path);
            let response = self.send_request(request).await?;
            Ok(crate::json::from_slice(&read_limited(response, limit, what).await?)?)
        })
    }

    /// [`send`](Self::send) for an answer without a body: the status is all it says.
    pub fn send_empty(&self, request: impl IntoRequest) -> Call<'_, ()> {
        let request = request.into_request();
        Box::pin(async move {
            self.send_request(request?).await?;
            Ok(())
        })
    }

    /// [`send`](Self::send) for an operation with several success statuses, its answer read
    /// by [`Outcome::read`].
    pub fn send_outcome<O: Outcome>(&self, request: impl IntoRequest) -> Call<'_, O> {
        let request = request.into_request();
        Box::pin(async move {
            let response = self.send_request(request?).await?;
            O::read(self, response).await
        })
    }

    /// The whole body of a response in hand (at most the transport's body limit), for
    /// callers that looked at its status first; [`Error::BodyTooLarge`] names its path.
    pub async fn read_body(&self, response: reqwest::Response) -> Result<bytes::Bytes, Error> {
        let what = response.url().path().to_owned();
        read_limited(response, self.inner.max_body_size, what).await
    }

    /// A one-shot call: the request's timeout bounds sending it and reading the whole body.
    async fn send_whole(&self, request: Request) -> Result<bytes::Bytes, Error> {
        let timeout = self.timeout_of(&request);
        let limit = request.max_body_size.unwrap_or(self.inner.max_body_size);
        let what = format!("{} {}", request.method, request.path);
        let call = async {
            let response = self.send_request(request).await?;
            read_limited(response, limit, what).await
        };
        match timeout {
            Some(after) => tokio::time::timeout(after, call).await.unwrap_or(Err(Error::Timeout { after })),
            None => call.await,
        }
    }

    async fn dispatch(&self, request: Request, version: Option<ApiVersion>) -> Result<reqwest::Response, Error> {
        let span = tracing::debug_span!(
            "docker_request",
            method = %request.method,
            path = %request.path,
            api_version = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        if let Some(version) = version {
            span.record("api_version", tracing::field::display(version));
        }
        let timeout = self.timeout_of(&request);
        let direct = self.inner.direct.as_ref().filter(|_| request.own_connection);
        let request_span = span.clone();
        async move {
            let mut url = self.url(version, &request.path)?;
            if !request.query.is_empty() {
                url.query_pairs_mut().extend_pairs(request.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }
            let mut builder = self.inner.http.request(request.method, url).headers(request.headers);
            if let Some(body) = request.body {
                builder = builder.body(body);
            }
            let http_request = builder.build().map_err(Error::transport)?;
            let sending = async {
                match direct {
                    Some(direct) => direct.send(http_request).await,
                    None => self.inner.http.execute(http_request).await.map_err(Error::transport),
                }
            };
            let response = match timeout {
                Some(after) => tokio::time::timeout(after, sending).await.map_err(|_| Error::Timeout { after })?,
                None => sending.await,
            };
            let response = response.inspect_err(|e| tracing::debug!(error = %e, "request failed"))?;
            request_span.record("status", response.status().as_u16());
            Ok(response)
        }
        .instrument(span)
        .await
    }
}

/// The whole body of `response`, refused as soon as it is announced or read to be larger
/// than `limit` bytes.
async fn read_limited(mut response: reqwest::Response, limit: usize, request: String) -> Result<bytes::Bytes, Error> {
    let too_large = |request: String| Error::BodyTooLarge { request, limit };
    let announced = response.content_length();
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large(request));
    }
    let mut body = bytes::BytesMut::with_capacity(announced.map_or(0, |n| n as usize));
    while let Some(chunk) = response.chunk().await.map_err(Error::transport)? {
        if chunk.len() > limit - body.len() {
            return Err(too_large(request));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("host", &self.inner.host.to_string())
            .field("base_url", &self.inner.base)
            .field("policy", &self.inner.policy)
            .field("negotiated", &self.inner.negotiated.get())
            .field("timeout", &self.inner.timeout)
            .field("max_body_size", &self.inner.max_body_size)
            .finish()
    }
}

#[derive(Clone, Copy, Debug)]
enum TimeoutSetting {
    Default,
    Set(Duration),
    Off,
}

/// The future of one call: what the transport's `send` methods, and so the generated
/// `Client` methods, return. The request was built when the method was called (the future
/// borrows nothing but the transport), and is sent when this is awaited. Boxed here, once
/// for every answer type, so that the generated methods are plain functions of a named
/// type and a crate with every version neither proves each operation's future `Send` nor
/// builds it.
pub type Call<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, Error>> + Send + 'a>>;

/// What the transport's `send` methods take: a [`Request`], or the result of building one
/// (the generated request builders return `Result<Request, Error>`), whose error is then
/// the call's. So a generated method is a plain call that returns the transport's future.
pub trait IntoRequest {
    fn into_request(self) -> Result<Request, Error>;
}

impl IntoRequest for Request {
    fn into_request(self) -> Result<Request, Error> {
        Ok(self)
    }
}

impl IntoRequest for Result<Request, Error> {
    fn into_request(self) -> Result<Request, Error> {
        self
    }
}

/// The answer of an operation with several success statuses (`ContainerStart`: 204 started,
/// 304 already running), one generated enum per operation, read by status.
pub trait Outcome: Sized + Send {
    /// Reads the answer, its body bounded by the transport's limit; a status the spec does
    /// not name is an error.
    fn read(transport: &Transport, response: reqwest::Response) -> impl std::future::Future<Output = Result<Self, Error>> + Send;
}

/// One request: method, path (without the `/vX.Y` prefix), query, headers, body, a
/// timeout and a body limit.
///
/// `Debug` shows the query's keys but not its values, and header names but not values.
pub struct Request {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<reqwest::Body>,
    timeout: TimeoutSetting,
    max_body_size: Option<usize>,
    versioned: bool,
    own_connection: bool,
}

impl Request {
    /// A request for `path`, e.g. `/containers/json`; the transport adds `/v1.41`. Path
    /// parameters must already be percent-encoded where needed (`%`, `?`, `#`, spaces);
    /// `/` inside image names stays as it is (the daemon's routes are greedy).
    pub fn new(method: Method, path: impl Into<String>) -> Request {
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            timeout: TimeoutSetting::Default,
            max_body_size: None,
            versioned: true,
            own_connection: false,
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Request {
        Request::new(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(path: impl Into<String>) -> Request {
        Request::new(Method::POST, path)
    }

    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Request {
        Request::new(Method::DELETE, path)
    }

    /// Sends this request on a connection of its own, read by whoever reads the body (see
    /// [`Transport`]); for streamed responses. Without effect on TLS and proxied endpoints.
    pub(super) fn own_connection(mut self) -> Request {
        self.own_connection = true;
        self
    }

    /// Sends the path without the version prefix (`/_ping`, or a daemon's maximum).
    pub fn unversioned(mut self) -> Request {
        self.versioned = false;
        self
    }

    /// Appends a query parameter (encoded by the transport); repeat a key for lists.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Request {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Adds a header (appends when the name is already there).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Request {
        self.headers.append(name, value);
        self
    }

    /// Adds a header given as text (how generated code passes header parameters).
    /// Credentials ([`is_secret_header`](crate::secret::is_secret_header)) are marked
    /// sensitive.
    pub fn text_header(self, name: &str, value: &str) -> Result<Request, Error> {
        let invalid = || Error::Config(format!("header {name} cannot be sent with this value"));
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let mut header_value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        if crate::secret::is_secret_header(header_name.as_str()) {
            header_value.set_sensitive(true);
        }
        Ok(self.header(header_name, header_value))
    }

    /// Sets `X-Registry-Auth` (marked sensitive: never logged or printed).
    pub fn registry_auth(self, auth: &RegistryAuth) -> Request {
        self.sensitive_header("x-registry-auth", auth.to_header())
    }

    /// Sets `X-Registry-Config` (marked sensitive).
    pub fn registry_config(self, config: &RegistryConfig) -> Request {
        self.sensitive_header("x-registry-config", config.to_header())
    }

    fn sensitive_header(mut self, name: &'static str, value: String) -> Request {
        // base64 text is always a valid header value.
        if let Ok(mut value) = HeaderValue::try_from(value) {
            value.set_sensitive(true);
            self.headers.insert(HeaderName::from_static(name), value);
        }
        self
    }

    /// A JSON body, with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Result<Request, Error> {
        let bytes = serde_json::to_vec(body)?;
        Ok(self.body(bytes, HeaderValue::from_static("application/json")))
    }

    /// A body of any kind (bytes, or a stream with reqwest's `stream` feature) with its
    /// content type (`application/x-tar` for build contexts and archives), unless the
    /// request already names one: an operation's own `Content-Type` header parameter
    /// (ImageBuild's `content_type`) is what the caller chose.
    pub fn body(mut self, body: impl Into<reqwest::Body>, content_type: HeaderValue) -> Request {
        self.headers.entry(CONTENT_TYPE).or_insert(content_type);
        self.body = Some(body.into());
        self
    }

    /// The timeout of this request (of the whole call, or of the response head for
    /// streams: see [`Transport`]), instead of the transport's.
    pub fn timeout(mut self, timeout: Duration) -> Request {
        self.timeout = TimeoutSetting::Set(timeout);
        self
    }

    /// No timeout for this request, whatever the transport's default.
    pub fn no_timeout(mut self) -> Request {
        self.timeout = TimeoutSetting::Off;
        self
    }

    /// The largest body of this request's answer read into memory, instead of the
    /// transport's [`max_body_size`](TransportBuilder::max_body_size).
    pub fn max_body_size(mut self, bytes: usize) -> Request {
        self.max_body_size = Some(bytes);
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path as given (without version prefix or query).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The body when it is held in memory (not a stream).
    pub(super) fn body_bytes(&self) -> Option<&[u8]> {
        self.body.as_ref()?.as_bytes()
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_keys", &self.query.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
            .field("headers", &self.headers.keys().map(HeaderName::as_str).collect::<Vec<_>>())
            .field("body", &self.body.is_some())
            .field("timeout", &self.timeout)
            .field("max_body_size", &self.max_body_size)
            .field("versioned", &self.versioned)
            .field("own_connection", &self.own_connection)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{HeaderValue, Request, CONTENT_TYPE};

    #[test]
    fn text_headers_mark_registry_credentials_sensitive() {
        let r = Request::get("/images/x/push").text_header("X-Registry-Auth", "eyJ1c2VybmFtZSI6ImEifQ==").unwrap();
        assert!(r.headers["x-registry-auth"].is_sensitive());
        let r = r.text_header("X-Custom", "plain").unwrap();
        assert!(!r.headers["x-custom"].is_sensitive());
        assert!(Request::get("/").text_header("X-Bad", "line\nbreak").is_err());
        assert!(Request::get("/").text_header("bad header", "v").is_err());
    }

    #[test]
    fn a_content_type_parameter_wins_over_the_bodys_default() {
        let tar = HeaderValue::from_static("application/x-tar");
        let r = Request::post("/build").body(Vec::new(), tar.clone());
        assert_eq!(r.headers.get_all(CONTENT_TYPE).iter().collect::<Vec<_>>(), [&tar]);
        let r = Request::post("/build").text_header("Content-type", "application/x-gzip").unwrap().body(Vec::new(), tar);
        assert_eq!(r.headers.get_all(CONTENT_TYPE).iter().collect::<Vec<_>>(), [&HeaderValue::from_static("application/x-gzip")]);
    }
}
