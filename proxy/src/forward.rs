//! The engine side: one pooled client to the engine `DOCKER_HOST` (or the docker context)
//! names, the engine's version range, and faithful forwarding — bodies streamed both
//! ways as they come, the head of an answer passed on as soon as it arrives (the long poll
//! of `ContainerWait`), attach and exec upgrades spliced both ways with half-close.
//! Bodiless reads from a unix-socket engine go over [`crate::http1`]'s connections.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use hyper_util::rt::TokioIo;
use moby_api_runtime::client::{Endpoint, Error as ClientError, Host, Request as ClientRequest, Transport};
use moby_api_runtime::server::axum::body::Body;
use moby_api_runtime::server::axum::http::{header, request, HeaderMap, HeaderValue, Method, StatusCode};
use moby_api_runtime::server::axum::response::IntoResponse;
use moby_api_runtime::server::{ApiError, ApiVersion, Response};
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::classify::EngineVersions;
use crate::http1::Connections;

/// Headers that belong to one connection, not to the request or answer (RFC 9110 7.6.1).
/// `expect` too: the proxy's own server already answered `100 Continue` by reading the body.
const HOP_BY_HOP: &[&str] = &["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "expect"];

/// The engine the proxy forwards to.
pub struct Upstream {
    transport: Transport,
    socket: Option<PathBuf>,
    /// The proxy's own connections for bodiless reads, when the engine is on a unix socket.
    reads: Option<Arc<Connections>>,
    versions: OnceCell<EngineVersions>,
}

/// What a request body is when it goes out.
pub enum Outgoing {
    /// As the client sends it, streamed.
    Stream(Body),
    /// Read by a rule (and maybe changed).
    Bytes(Bytes),
}

impl Upstream {
    /// The engine named by `DOCKER_HOST` or the docker context, as the docker CLI
    /// resolves it; `newest` is the newest version the proxy speaks (used for its own
    /// look-ups, never for forwarded requests, which carry their own version).
    pub fn from_env(newest: ApiVersion) -> Result<Upstream, ClientError> {
        let endpoint = Endpoint::from_env()?.with_pinned_version(None);
        let socket = match endpoint.host() {
            Host::Unix(path) => Some(path.clone()),
            _ => None,
        };
        // No whole-call timeout: a forwarded `logs -f` or `wait` lasts as long as it lasts.
        let transport = Transport::builder(endpoint, newest).timeout(None).build()?;
        let reads = socket.as_deref().map(|socket| Arc::new(Connections::new(socket)));
        Ok(Upstream { transport, socket, reads, versions: OnceCell::new() })
    }

    /// The engine's unix socket, if it listens on one.
    pub fn socket(&self) -> Option<&std::path::Path> {
        self.socket.as_deref()
    }

    /// The versions the engine accepts, asked once (`GET /version`); asked again after a
    /// failure.
    pub async fn versions(&self) -> Result<EngineVersions, String> {
        #[derive(Deserialize, Default)]
        struct Version {
            #[serde(rename = "ApiVersion", default)]
            api: String,
            #[serde(rename = "MinAPIVersion", default)]
            min: String,
        }
        let versions = self
            .versions
            .get_or_try_init(|| async {
                let version: Version =
                    self.transport.send_json(ClientRequest::get("/version").unversioned()).await.map_err(|e| e.to_string())?;
                let max = version.api.parse::<ApiVersion>().map_err(|e| format!("the engine's ApiVersion {:?}: {e}", version.api))?;
                // Engines before 1.25 do not say; they accept everything down to the oldest spec.
                let min = version.min.parse::<ApiVersion>().unwrap_or(ApiVersion::FALLBACK);
                Ok::<_, String>(EngineVersions { min, max })
            })
            .await?;
        Ok(*versions)
    }

    /// A JSON answer of the engine to the proxy's own `GET` (scoping looks objects up).
    pub async fn get_json(&self, version: ApiVersion, path: &str) -> Result<(StatusCode, serde_json::Value), String> {
        let url = format!("{}{}{path}", self.transport.base_url(), version.path_prefix());
        let response = self.transport.http_client().get(url).send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
    }

    /// Sends the request to the engine at `path_and_query` and answers with what the engine
    /// answers. A `101` is answered at once and the two connections are spliced: each
    /// direction is copied until it ends, and its end is passed on as a half-close.
    pub async fn forward(&self, parts: request::Parts, path_and_query: &str, body: Outgoing) -> Response {
        let mut parts = parts;
        let upgrade = parts.headers.get(header::UPGRADE).cloned();
        if let (Some(reads), None, Outgoing::Stream(body)) = (&self.reads, &upgrade, &body) {
            if (parts.method == Method::GET || parts.method == Method::HEAD) && hyper::body::Body::is_end_stream(body) {
                return reads
                    .get(&parts.method, path_and_query, &end_to_end(&parts.headers))
                    .await
                    .unwrap_or_else(|e| unreachable_engine(&e));
            }
        }
        let url = format!("{}{path_and_query}", self.transport.base_url());
        let client_upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
        let mut request = self.transport.http_client().request(parts.method.clone(), url);
        let mut headers = end_to_end(&parts.headers);
        headers.remove(header::HOST);
        if let Some(upgrade) = &upgrade {
            headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
            headers.insert(header::UPGRADE, upgrade.clone());
        }
        if let Outgoing::Bytes(bytes) = &body {
            // A body a rule changed has a new length.
            headers.remove(header::TRANSFER_ENCODING);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        }
        request = request.headers(headers);
        request = match body {
            Outgoing::Bytes(bytes) => request.body(bytes),
            Outgoing::Stream(body) if hyper::body::Body::is_end_stream(&body) => request,
            Outgoing::Stream(body) => request.body(moby_api_runtime::client::Body::wrap_stream(body.into_data_stream())),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return unreachable_engine(&e.to_string()),
        };
        let status = response.status();
        let mut head = Response::builder().status(status);
        let answer_headers =
            if status == StatusCode::SWITCHING_PROTOCOLS { response.headers().clone() } else { end_to_end(response.headers()) };
        if let Some(headers) = head.headers_mut() {
            *headers = answer_headers;
        }
        if status == StatusCode::SWITCHING_PROTOCOLS {
            let Some(client_upgrade) = client_upgrade else {
                return unreachable_engine("the engine switched protocols for a client that did not ask to");
            };
            tokio::spawn(async move {
                let (engine, client) = match (response.upgrade().await, client_upgrade.await) {
                    (Ok(engine), Ok(client)) => (engine, client),
                    (Err(e), _) => return tracing_warn(&format!("the engine's upgraded connection failed: {e}")),
                    (_, Err(e)) => return tracing_warn(&format!("the client's upgraded connection failed: {e}")),
                };
                let mut engine = engine;
                let mut client = TokioIo::new(client);
                // Each direction until its end, which is passed on as a half-close
                // (`shutdown` of the write side): the end of stdin reaches the process.
                let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
            });
            return head.body(Body::empty()).unwrap_or_else(|e| unreachable_engine(&e.to_string()));
        }
        let stream = response.bytes_stream().map_err(std::io::Error::other);
        head.body(Body::from_stream(stream)).unwrap_or_else(|e| unreachable_engine(&e.to_string()))
    }
}

fn tracing_warn(message: &str) {
    eprintln!("moby-proxy: {message}");
}

/// The headers without the hop-by-hop ones, and without those the `Connection` header
/// names.
pub(crate) fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named = connection_options(headers);
    let mut headers = headers.clone();
    for name in HOP_BY_HOP.iter().copied().chain(named.iter().map(String::as_str)) {
        headers.remove(name);
    }
    headers
}

/// The options the `Connection` header lists (`close`, header names), lower case.
pub(crate) fn connection_options(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
        .collect()
}

/// `502` with the engine's error shape.
pub fn unreachable_engine(why: &str) -> Response {
    ApiError::new(StatusCode::BAD_GATEWAY, format!("moby-proxy: the engine cannot be reached: {why}")).into_response()
}
