//! Classifies a request exactly once, the way the engine will read it, and rebuilds the
//! path that is forwarded from what was classified.
//!
//! The engine (Engine 28.5.2, checked by `tests/smuggling.rs`) percent-decodes the path
//! first (`/v1.41%2Fcontainers/json` is ContainerList), answers `301` to the cleaned path
//! when the decoded one is not clean (`//`, `/./`, `/../`, `%2e%2e`), reads the version
//! segment `/v[0-9.]+` as dot-separated numbers (`/v1.41.0/`, `/v01.041/` are 1.41), and
//! matches the routes greedily on the decoded path. This module does the same on the
//! generated route tables, and the request goes out as `/vX.Y` plus the template filled
//! with the decoded parameters, so what the policy judged is what the engine does.

use std::collections::BTreeSet;

use moby_api_runtime::path::encode_path_param;
use moby_api_runtime::server::dispatch::{check_version, split_version};
use moby_api_runtime::server::pattern::{Params, Pattern};
use moby_api_runtime::server::{ApiVersion, Method, OperationRoute, ServerConfig};

/// The route tables of every version the proxy knows.
pub struct RouteTables {
    /// Oldest first.
    versions: Vec<VersionTable>,
}

struct VersionTable {
    version: ApiVersion,
    /// Per method, in the order the dispatcher tries them ([`Pattern::precedence`]).
    routes: Vec<(Method, Vec<Compiled>)>,
}

struct Compiled {
    pattern: Pattern,
    template: &'static str,
    operation: &'static str,
}

/// The versions the engine accepts, from its `/version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineVersions {
    pub min: ApiVersion,
    pub max: ApiVersion,
}

/// A request as the engine will read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The version the request is judged and forwarded at.
    pub version: ApiVersion,
    pub operation: &'static str,
    pub template: &'static str,
    /// Path parameters, decoded, in template order.
    pub params: Params,
}

impl Classified {
    /// A path parameter (`id`, `name`), decoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The path forwarded to the engine: `/vX.Y` and the template filled with the
    /// parameters, encoded the way the client encodes them.
    pub fn path(&self) -> String {
        let mut out = self.version.path_prefix();
        let mut rest = self.template;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
            out.push_str(&rest[..open]);
            let name = &rest[open + 1..close];
            out.push_str(&encode_path_param(self.param(name).unwrap_or_default()));
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Why a request is not forwarded: each answered as the engine would answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unclassified {
    /// A malformed percent-escape: Go's server answers `400 Bad Request` before routing.
    BadEscape,
    /// The decoded path is not clean: the engine answers `301` to this location.
    NotClean(String),
    /// No operation of the version has this method and path: `404 page not found`.
    UnknownPath,
    /// A version outside what the engine accepts, or one the proxy has no table for: `400`.
    Version(String),
    /// A version below the engine's minimum: `400` in plain text, as the engine answers
    /// clients that old.
    TooOld(String),
}

impl RouteTables {
    /// Tables from each version's operations; a version given twice keeps the last.
    pub fn new(tables: impl IntoIterator<Item = (ApiVersion, Vec<OperationRoute>)>) -> RouteTables {
        let mut versions: Vec<VersionTable> = Vec::new();
        for (version, operations) in tables {
            let mut routes: Vec<(Method, Vec<Compiled>)> = Vec::new();
            for op in operations {
                let compiled = Compiled { pattern: Pattern::new(op.path), template: op.path, operation: op.operation };
                match routes.iter_mut().find(|(m, _)| *m == op.method) {
                    Some((_, list)) => list.push(compiled),
                    None => routes.push((op.method.clone(), vec![compiled])),
                }
            }
            for (_, list) in &mut routes {
                // Stable: among equals the generated order wins, as in the dispatcher.
                list.sort_by(|a, b| a.pattern.precedence(&b.pattern));
            }
            versions.retain(|v| v.version != version);
            versions.push(VersionTable { version, routes });
        }
        versions.sort_by_key(|v| v.version);
        RouteTables { versions }
    }

    pub fn oldest(&self) -> Option<ApiVersion> {
        self.versions.first().map(|v| v.version)
    }

    pub fn newest(&self) -> Option<ApiVersion> {
        self.versions.last().map(|v| v.version)
    }

    /// Every operation id of any version.
    pub fn operations(&self) -> BTreeSet<&'static str> {
        self.versions.iter().flat_map(|v| v.routes.iter().flat_map(|(_, list)| list.iter().map(|c| c.operation))).collect()
    }

    /// The methods an operation is served with (the same in every version).
    pub fn methods_of(&self, operation: &str) -> BTreeSet<String> {
        let routes = self.versions.iter().flat_map(|v| v.routes.iter());
        routes.filter(|(_, list)| list.iter().any(|c| c.operation == operation)).map(|(m, _)| m.to_string()).collect()
    }

    /// Classifies a request by its method and raw path (still percent-encoded, without the
    /// query), for an engine that accepts `engine`.
    pub fn classify(&self, method: &Method, raw_path: &str, engine: EngineVersions) -> Result<Classified, Unclassified> {
        let decoded = go_path_unescape(raw_path).ok_or(Unclassified::BadEscape)?;
        let cleaned = clean_path(&decoded);
        if cleaned != decoded {
            return Err(Unclassified::NotClean(cleaned));
        }
        let (prefix, path) = split_version(&decoded);
        let version = match prefix {
            Some(raw) => {
                let version = engine_version(raw, engine)?;
                if !self.versions.iter().any(|v| v.version == version) {
                    return Err(Unclassified::Version(format!(
                        "client version {raw} is not one this proxy can check requests of (it knows {}–{})",
                        self.oldest().map(|v| v.to_string()).unwrap_or_default(),
                        self.newest().map(|v| v.to_string()).unwrap_or_default(),
                    )));
                }
                version
            }
            // Unversioned: the engine's own version, or the newest the proxy knows when the
            // engine is newer; the request goes out with that prefix, so the engine reads
            // it at the version it was judged at.
            None => match self.versions.iter().rev().find(|v| v.version <= engine.max) {
                Some(table) => table.version,
                None => {
                    return Err(Unclassified::Version(format!(
                        "the engine's API version {} is older than any this proxy knows",
                        engine.max
                    )))
                }
            },
        };
        let table = self.versions.iter().find(|v| v.version == version).ok_or(Unclassified::UnknownPath)?;
        let (_, routes) = table.routes.iter().find(|(m, _)| m == method).ok_or(Unclassified::UnknownPath)?;
        routes
            .iter()
            .find_map(|route| Some((route, route.pattern.matches_decoded(path)?)))
            .map(|(route, params)| Classified { version, operation: route.operation, template: route.template, params })
            .ok_or(Unclassified::UnknownPath)
    }
}

/// Go's `url.PathUnescape` as `net/url` applies it to `URL.Path`: `%XY` decoded, a `%`
/// without two hex digits an error; `+` stays `+`.
fn go_path_unescape(raw: &str) -> Option<String> {
    if !raw.contains('%') {
        return Some(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16))?;
            let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16))?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // Go keeps invalid UTF-8 as bytes; a name cannot hold it, so such a path matches nothing
    // with a parameter that is not lossy-converted the same way by the engine: refuse it.
    String::from_utf8(out).ok()
}

/// gorilla/mux's `cleanPath`: Go's `path.Clean`, keeping a trailing `/`.
fn clean_path(path: &str) -> String {
    let mut cleaned = clean_segments(path);
    if path.ends_with('/') && cleaned != "/" {
        cleaned.push('/');
    }
    cleaned
}

/// Go's `path.Clean` of a rooted path: empty and `.` segments dropped, `..` taking the
/// segment before it away (never past the root).
pub fn clean_segments(path: &str) -> String {
    let mut stack: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                stack.pop();
            }
            s => stack.push(s),
        }
    }
    format!("/{}", stack.join("/"))
}

/// Reads a prefix version as the daemon does and checks it against the engine's range with
/// the engine's own messages (the runtime's dispatcher's rules). A third part that is not 0
/// (`1.41.1`) lies between 1.41 and 1.42 for the engine, which serves it like 1.41: it is
/// judged and forwarded as 1.41.
fn engine_version(raw: &str, engine: EngineVersions) -> Result<ApiVersion, Unclassified> {
    let range = ServerConfig::new(engine.max).min_version(engine.min);
    check_version(raw, &range).map_err(|e| {
        let message = e.message().to_owned();
        // The engine answers clients older than it supports in plain text.
        if message.contains("too old") {
            Unclassified::TooOld(message)
        } else {
            Unclassified::Version(message)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-filled table of one version (the product reads the generated ones).
    fn tables() -> RouteTables {
        let route = |method: Method, path, operation| OperationRoute { method, path, operation };
        RouteTables::new([(
            ApiVersion::new(1, 41),
            vec![
                route(Method::GET, "/containers/json", "ContainerList"),
                route(Method::GET, "/containers/{id}/json", "ContainerInspect"),
                route(Method::POST, "/containers/create", "ContainerCreate"),
                route(Method::GET, "/images/{name}/json", "ImageInspect"),
                route(Method::GET, "/images/json", "ImageList"),
                route(Method::GET, "/_ping", "SystemPing"),
            ],
        )])
    }

    const ENGINE: EngineVersions = EngineVersions { min: ApiVersion::new(1, 24), max: ApiVersion::new(1, 41) };

    fn get(path: &str) -> Result<Classified, Unclassified> {
        tables().classify(&Method::GET, path, ENGINE)
    }

    fn op(path: &str) -> &'static str {
        get(path).unwrap_or_else(|e| panic!("{path}: {e:?}")).operation
    }

    #[test]
    fn prefixes_as_the_engine_reads_them() {
        assert_eq!(op("/containers/json"), "ContainerList");
        assert_eq!(op("/v1.41/containers/json"), "ContainerList");
        assert_eq!(op("/v1.41.0/containers/json"), "ContainerList");
        assert_eq!(op("/v01.041/containers/json"), "ContainerList");
        assert_eq!(get("/v1.41.0/containers/json").unwrap().path(), "/v1.41/containers/json");
        // Decoded before routing, as Go's URL.Path is.
        assert_eq!(op("/v1.41%2Fcontainers/json"), "ContainerList");
        assert_eq!(op("/v1.41/containers%2Fjson"), "ContainerList");
        assert!(
            matches!(get("/v1.999/containers/json"), Err(Unclassified::Version(m)) if m.contains("too new. Maximum supported API version is 1.41"))
        );
        assert!(matches!(get("/v1.23/containers/json"), Err(Unclassified::TooOld(m)) if m.contains("too old")));
        assert_eq!(get("/V1.41/containers/json"), Err(Unclassified::UnknownPath));
        assert_eq!(get("/v1.41/containers/json/"), Err(Unclassified::UnknownPath));
        assert_eq!(tables().classify(&Method::POST, "/containers/json", ENGINE), Err(Unclassified::UnknownPath));
    }

    #[test]
    fn unclean_paths_are_redirected_like_the_engine_does() {
        assert_eq!(get("//containers/json"), Err(Unclassified::NotClean("/containers/json".into())));
        assert_eq!(get("/v1.41//containers/json"), Err(Unclassified::NotClean("/v1.41/containers/json".into())));
        assert_eq!(get("/v1.41/containers/%2e%2e/images/json"), Err(Unclassified::NotClean("/v1.41/images/json".into())));
        assert_eq!(get("/v1.41/x/%2E%2E/containers/json"), Err(Unclassified::NotClean("/v1.41/containers/json".into())));
        assert_eq!(get("/v1.41/containers/%zz/json"), Err(Unclassified::BadEscape));
    }

    #[test]
    fn names_with_slashes_are_matched_greedily_and_forwarded_as_read() {
        let c = get("/v1.41/images/registry:5000/team/app:1.2/json").unwrap();
        assert_eq!((c.operation, c.param("name")), ("ImageInspect", Some("registry:5000/team/app:1.2")));
        assert_eq!(c.path(), "/v1.41/images/registry:5000/team/app:1.2/json");
        let c = get("/v1.41/containers/a%2Fb/json").unwrap();
        assert_eq!(c.param("id"), Some("a/b"));
        let c = get("/v1.41/containers/a%3Fb%20c/json").unwrap();
        assert_eq!(c.path(), "/v1.41/containers/a%3Fb%20c/json");
        assert_eq!(op("/images/json"), "ImageList");
    }
}
