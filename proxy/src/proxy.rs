//! One request through the proxy: classify, judge by the policy, scope, mutate, forward;
//! one audit line for the decision.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use moby_api_runtime::server::axum::body::Body;
use moby_api_runtime::server::axum::extract::Request;
use moby_api_runtime::server::axum::http::{header, request, HeaderValue, StatusCode};
use moby_api_runtime::server::axum::response::IntoResponse;
use moby_api_runtime::server::config::DEFAULT_JSON_BODY_LIMIT;
use moby_api_runtime::server::{ApiError, ApiVersion, Peer, Query, Response};
use serde_json::Value;

use crate::audit::{Decision, Entry};
use crate::classify::{Classified, RouteTables, Unclassified};
use crate::config::Policy;
use crate::forward::{unreachable_engine, Outgoing, Upstream};
use crate::newest::models::{
    ContainerCreateBody, ContainerExecBody, ContainerUpdateBody, PluginPrivilege, ServiceCreateBody, VolumeCreateOptions,
};
use crate::rules::{self, Denial};
use crate::scope::{self, Kind, Lookup};

/// Everything a request needs, shared by all of them.
pub struct Proxy {
    pub tables: RouteTables,
    pub policy: Policy,
    pub upstream: Upstream,
    /// `--typed`: each version's roundtrips of JSON request bodies and answers.
    pub typed: Option<Vec<(moby_api_runtime::server::ApiVersion, crate::typed::Typed)>>,
}

/// The proxy as an axum router: every request goes to [`handle`].
pub fn router(proxy: Arc<Proxy>) -> moby_api_runtime::server::axum::Router {
    moby_api_runtime::server::axum::Router::new().fallback(move |request: Request| handle(Arc::clone(&proxy), request)).with_state(())
}

/// How a judged request goes out.
struct Judged {
    /// The request's path parameters as forwarded (a scoped object's full id).
    classified: Classified,
    query: Option<String>,
    body: Outgoing,
    /// `system df` of a scoped client: filtered on the way back.
    filter_answer: bool,
}

/// Why a judged request is not forwarded.
enum Stop {
    Denied(Denial),
    /// Answered as the engine would (a scoped client's 404, a malformed body or filter).
    Answer(StatusCode, String),
}

impl From<Denial> for Stop {
    fn from(denial: Denial) -> Stop {
        Stop::Denied(denial)
    }
}

async fn handle(proxy: Arc<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let peer = parts.extensions.get::<Peer>().copied();
    let method = parts.method.clone();
    let engine = match proxy.upstream.versions().await {
        Ok(engine) => engine,
        Err(why) => {
            Entry::new(peer, &method, Decision::Refuse).rule("engine", &why).log();
            return unreachable_engine(&why);
        }
    };
    let classified = match proxy.tables.classify(&parts.method, parts.uri.path(), engine) {
        Ok(classified) => classified,
        Err(unclassified) => {
            let (answer, reason) = answer_unclassified(&unclassified, parts.uri.query());
            Entry::new(peer, &method, Decision::Refuse).rule("unclassified", &reason).log();
            drain(body).await;
            return answer;
        }
    };
    let (version, operation) = (classified.version, classified.operation);
    if !proxy.policy.allows(operation) {
        let reason = format!("{operation} is not an allowed operation");
        Entry::new(peer, &method, Decision::Deny).operation(version, operation).rule("allow", &reason).log();
        drain(body).await;
        return denied(operation, "allow", &reason);
    }
    let typed = proxy.typed.as_ref().and_then(|all| all.iter().find(|(v, _)| *v == version)).map(|(_, typed)| *typed);
    let judged = match judge(&proxy, classified, &parts, body).await {
        Ok(judged) => match typed.and_then(|typed| (typed.requests)(operation)) {
            Some(decode) => retyped(judged, decode, operation).await,
            None => Ok(judged),
        },
        Err(stop) => Err(stop),
    };
    let judged = match judged {
        Ok(judged) => judged,
        Err(Stop::Denied(denial)) => {
            Entry::new(peer, &method, Decision::Deny).operation(version, operation).rule(&denial.rule, &denial.reason).log();
            return denied(operation, &denial.rule, &denial.reason);
        }
        Err(Stop::Answer(status, message)) => {
            Entry::new(peer, &method, Decision::Deny).operation(version, operation).rule("scope", &message).log();
            return ApiError::new(status, message).into_response();
        }
    };
    Entry::new(peer, &method, Decision::Allow).operation(version, operation).log();
    let path = match &judged.query {
        Some(query) => format!("{}?{query}", judged.classified.path()),
        None => judged.classified.path(),
    };
    let mut answer = proxy.upstream.forward(parts, &path, judged.body).await;
    // An engine newer than the proxy's tables: clients negotiate (from this header, or
    // `/version`) down to the newest version the proxy can check.
    let newest = proxy.tables.newest().unwrap_or(engine.max);
    let engine_is_newer = engine.max > newest;
    if engine_is_newer {
        if let Ok(value) = HeaderValue::from_str(&newest.to_string()) {
            answer.headers_mut().insert("api-version", value);
        }
    }
    let answer = match (&proxy.policy.scope, judged.filter_answer) {
        (Some(scope), true) if answer.status() == StatusCode::OK => {
            rewrite_json(answer, |body| scope::filter_data_usage(body, scope)).await
        }
        _ if engine_is_newer && operation == "SystemVersion" && answer.status() == StatusCode::OK => {
            rewrite_json(answer, |mut body| {
                body["ApiVersion"] = Value::String(newest.to_string());
                body
            })
            .await
        }
        _ => answer,
    };
    match typed {
        Some(typed) => crate::typed::answer(typed.answers, operation, &method, answer),
        None => answer,
    }
}

/// `--typed`: the judged JSON request body through the version's model.
async fn retyped(judged: Judged, decode: crate::typed::RequestDecoder, operation: &str) -> Result<Judged, Stop> {
    let bytes = match judged.body {
        Outgoing::Bytes(bytes) => bytes,
        Outgoing::Stream(body) => read_body(body).await?,
    };
    Ok(Judged { body: Outgoing::Bytes(crate::typed::request(decode, operation, bytes)), ..judged })
}

/// The rules, scoping and mutations of one classified request.
async fn judge(proxy: &Proxy, mut classified: Classified, parts: &request::Parts, body: Body) -> Result<Judged, Stop> {
    let policy = &proxy.policy;
    let operation = classified.operation;
    let mut query = parts.uri.query().map(str::to_owned);
    let mut filter_answer = false;

    if let Some(scope) = &policy.scope {
        if let Some((kind, param)) = Kind::of(&classified) {
            let given = classified.param(param).unwrap_or_default().to_owned();
            match scope::lookup(&proxy.upstream, scope, classified.version, kind, &given).await {
                Lookup::Visible(full) => set_param(&mut classified, param, full),
                Lookup::Hidden(message) => return Err(Stop::Answer(StatusCode::NOT_FOUND, message)),
                Lookup::Unknown => {}
            }
        }
        if scope::is_filtered_list(operation) {
            let scoped =
                scope::scoped_query(query.as_deref().unwrap_or(""), scope).map_err(|e| Stop::Answer(StatusCode::BAD_REQUEST, e))?;
            query = Some(scoped);
        }
        if operation == "ImageCommit" {
            let container = Query::parse(query.as_deref().unwrap_or("")).string("container").unwrap_or_default();
            if let Lookup::Hidden(message) = scope::lookup(&proxy.upstream, scope, classified.version, Kind::Container, &container).await {
                return Err(Stop::Answer(StatusCode::NOT_FOUND, message));
            }
        }
        filter_answer = operation == "SystemDataUsage";
    }

    let rules = policy.rules.as_ref();
    let labels = !policy.add_labels.is_empty();
    let query_of = || Query::parse(parts.uri.query().unwrap_or(""));
    if let Some(rules) = rules {
        if let Err(denial) = rules::image_made_locally(rules, operation, query_of().get("fromSrc").is_some()) {
            drain(body).await;
            return Err(denial.into());
        }
    }
    let body = match (operation, rules) {
        ("ContainerCreate", _) if rules.is_some() || labels => {
            let bytes = read_body(body).await?;
            let parsed: ContainerCreateBody = decode(&bytes)?;
            if let Some(rules) = rules {
                rules::container_create(rules, &parsed)?;
            }
            if let Some(scope) = &policy.scope {
                create_references(proxy, scope, classified.version, &parsed).await?;
            }
            Outgoing::Bytes(with_labels(bytes, &policy.add_labels)?)
        }
        ("VolumeCreate" | "NetworkCreate", _) if rules.is_some() || labels => {
            let bytes = read_body(body).await?;
            if let (Some(rules), "VolumeCreate") = (rules, operation) {
                rules::volume_create(rules, &decode::<VolumeCreateOptions>(&bytes)?)?;
            }
            Outgoing::Bytes(with_labels(bytes, &policy.add_labels)?)
        }
        ("ContainerUpdate", Some(rules)) => {
            let bytes = read_body(body).await?;
            rules::container_update(rules, &decode::<ContainerUpdateBody>(&bytes)?)?;
            Outgoing::Bytes(bytes)
        }
        ("ContainerExec", Some(rules)) => {
            let bytes = read_body(body).await?;
            let exec: ContainerExecBody = decode(&bytes)?;
            let container_user = if exec.user.as_deref().is_none_or(str::is_empty) {
                let id = classified.param("id").unwrap_or_default().to_owned();
                let path = format!("/containers/{}/json", moby_api_runtime::path::encode_path_param(&id));
                match proxy.upstream.get_json(classified.version, &path).await {
                    Ok((StatusCode::OK, inspect)) => Some(inspect["Config"]["User"].as_str().unwrap_or_default().to_owned()),
                    // The engine answers the exec itself (404 for a container that is not there).
                    _ => None,
                }
            } else {
                None
            };
            rules::exec_create(rules, &exec, container_user.as_deref().or(Some("")))?;
            Outgoing::Bytes(bytes)
        }
        ("ImageCreate", Some(rules)) => {
            let query = query_of();
            // `fromSrc` imports a tarball: nothing is pulled.
            if let (Some(image), None) = (query.get("fromImage"), query.get("fromSrc")) {
                rules::image_reference(rules, image, "fromImage")?;
            }
            Outgoing::Stream(body)
        }
        ("ImageBuild", Some(rules)) if !rules.allow_host_namespaces => {
            let mode = query_of().string("networkmode").unwrap_or_default();
            if mode == "host" || mode.starts_with("container:") {
                drain(body).await;
                return Err(Denial::new("containers.allow_host_namespaces", format!("networkmode is {mode:?}")).into());
            }
            Outgoing::Stream(body)
        }
        ("PluginPull" | "PluginUpgrade", Some(rules)) => {
            let bytes = read_body(body).await?;
            rules::plugin_privileges(rules, &decode::<Vec<PluginPrivilege>>(&bytes)?)?;
            if let Some(remote) = query_of().get("remote") {
                rules::image_reference(rules, remote, "remote")?;
            }
            Outgoing::Bytes(bytes)
        }
        ("NetworkConnect" | "NetworkDisconnect", _) if policy.scope.is_some() => {
            // The container joined or removed must be the client's too.
            let bytes = read_body(body).await?;
            let container = serde_json::from_slice::<Value>(&bytes).ok().and_then(|b| b["Container"].as_str().map(str::to_owned));
            if let (Some(scope), Some(container)) = (&policy.scope, container) {
                if let Lookup::Hidden(message) =
                    scope::lookup(&proxy.upstream, scope, classified.version, Kind::Container, &container).await
                {
                    return Err(Stop::Answer(StatusCode::NOT_FOUND, message));
                }
            }
            Outgoing::Bytes(bytes)
        }
        ("ServiceCreate" | "ServiceUpdate", Some(rules)) => {
            // An update body is a whole spec too, the same type in every version.
            let bytes = read_body(body).await?;
            rules::service(rules, &decode::<ServiceCreateBody>(&bytes)?)?;
            Outgoing::Bytes(bytes)
        }
        _ => Outgoing::Stream(body),
    };
    Ok(Judged { classified, query, body, filter_answer })
}

/// The networks and containers a scoped client's create names (to join, or to take
/// volumes from) must be its own. Any other is denied by the rule `scope` with the same
/// words whether it exists or not (a 404 would make the CLI try to pull the image).
async fn create_references(
    proxy: &Proxy,
    scope: &crate::config::Scope,
    version: ApiVersion,
    body: &ContainerCreateBody,
) -> Result<(), Stop> {
    // The engine's own networks, which belong to nobody.
    const BUILT_IN: &[&str] = &["", "default", "none", "host", "bridge"];
    let host = body.host_config.as_ref();
    let mode = host.and_then(|h| h.network_mode.as_deref()).unwrap_or_default();
    let endpoints = body.networking_config.as_ref().and_then(|n| n.endpoints_config.as_ref());
    let mut references: Vec<(Kind, &str)> = Vec::new();
    match mode.strip_prefix("container:") {
        Some(container) => references.push((Kind::Container, container)),
        None if !BUILT_IN.contains(&mode) => references.push((Kind::Network, mode)),
        None => {}
    }
    references.extend(
        endpoints.into_iter().flat_map(|e| e.keys()).filter(|n| !BUILT_IN.contains(&n.as_str())).map(|n| (Kind::Network, n.as_str())),
    );
    // `VolumesFrom` is `container[:ro|rw]`.
    let volumes_from = host.and_then(|h| h.volumes_from.as_ref()).into_iter().flatten();
    references.extend(volumes_from.map(|v| (Kind::Container, v.split(':').next().unwrap_or_default())));
    for (kind, name) in references {
        if let Lookup::Hidden(message) = scope::lookup(&proxy.upstream, scope, version, kind, name).await {
            return Err(Denial::new("scope", message).into());
        }
    }
    Ok(())
}

fn set_param(classified: &mut Classified, name: &str, value: String) {
    if let Some(slot) = classified.params.iter_mut().find(|(n, _)| n == name) {
        slot.1 = value;
    }
}

/// A JSON request body, at most the limit the engine's own clients send.
async fn read_body(body: Body) -> Result<Bytes, Stop> {
    match Limited::new(body, DEFAULT_JSON_BODY_LIMIT).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(Stop::Answer(StatusCode::BAD_REQUEST, format!("reading the request body failed: {e}"))),
    }
}

/// Decodes a body a rule reads; an empty body reads as the default (the engine answers
/// what it answers to it).
fn decode<T: serde::de::DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, Stop> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    moby_api_runtime::json::from_slice(bytes).map_err(|e| Stop::Answer(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")))
}

/// The body with the policy's labels set in its `Labels` (over any the client gave).
/// The JSON is edited as a value, so every other member goes out as it came.
fn with_labels(bytes: Bytes, labels: &std::collections::BTreeMap<String, String>) -> Result<Bytes, Stop> {
    if labels.is_empty() {
        return Ok(bytes);
    }
    let mut value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&bytes).map_err(|e| Stop::Answer(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")))?
    };
    if value.is_null() {
        value = Value::Object(Default::default());
    }
    let Some(object) = value.as_object_mut() else {
        return Err(Stop::Answer(StatusCode::BAD_REQUEST, "invalid JSON: the body is not an object".to_owned()));
    };
    let slot = object.entry("Labels").or_insert_with(|| Value::Object(Default::default()));
    if !slot.is_object() {
        *slot = Value::Object(Default::default());
    }
    if let Some(map) = slot.as_object_mut() {
        for (key, value) in labels {
            map.insert(key.clone(), Value::String(value.clone()));
        }
    }
    Ok(Bytes::from(value.to_string()))
}

/// A JSON answer read whole, changed and sent on.
async fn rewrite_json(answer: Response, change: impl FnOnce(Value) -> Value) -> Response {
    let (mut parts, body) = answer.into_parts();
    let Ok(collected) = body.collect().await else {
        return unreachable_engine("the engine's answer broke off");
    };
    let Ok(value) = serde_json::from_slice::<Value>(&collected.to_bytes()) else {
        return unreachable_engine("the engine's answer is not JSON");
    };
    let bytes = Bytes::from(change(value).to_string());
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::from(bytes))
}

/// 403 in the engine's error shape, naming the rule.
fn denied(operation: &str, rule: &str, reason: &str) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, format!("moby-proxy denied {operation} by rule `{rule}`: {reason}")).into_response()
}

/// What the engine answers to a request that does not classify, and why.
fn answer_unclassified(unclassified: &Unclassified, query: Option<&str>) -> (Response, String) {
    match unclassified {
        Unclassified::BadEscape => {
            let answer = (StatusCode::BAD_REQUEST, "400 Bad Request").into_response();
            (answer, "a malformed percent-escape in the path".to_owned())
        }
        Unclassified::NotClean(cleaned) => {
            let location = match query {
                Some(query) => format!("{cleaned}?{query}"),
                None => cleaned.clone(),
            };
            let mut answer = StatusCode::MOVED_PERMANENTLY.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                answer.headers_mut().insert(header::LOCATION, value);
            }
            (answer, format!("the path is not clean; the engine redirects it to {cleaned}"))
        }
        Unclassified::UnknownPath => (ApiError::page_not_found().into_response(), "no operation has this method and path".to_owned()),
        Unclassified::Version(message) => (ApiError::invalid_argument(message.clone()).into_response(), message.clone()),
        Unclassified::TooOld(message) => ((StatusCode::BAD_REQUEST, format!("{message}\n")).into_response(), message.clone()),
    }
}

/// Reads and discards what is left of a request body that is not forwarded (within a
/// bound), so that a client still sending sees the answer rather than a broken pipe.
async fn drain(body: Body) {
    let reading = async {
        let mut body = body;
        let mut left: usize = 64 * 1024 * 1024;
        while let Some(Ok(frame)) = body.frame().await {
            left = left.saturating_sub(frame.data_ref().map_or(0, Bytes::len));
            if left == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), reading).await;
}
