//! The policy file (TOML), read and checked once at start-up: every error names the file,
//! the line and column, and the key.
//!
//! ```toml
//! preset = "traefik"            # read-only | traefik | watchtower: a set of operations
//! allow = ["ContainerLogs"]     # operations allowed besides the preset's
//! deny = ["SystemEvents"]       # operations refused even if the preset allows them
//!
//! [containers]                  # what a body that creates or changes containers may ask for
//! bind_prefixes = ["/srv/app"]  # host paths binds, bind mounts and bind volumes may use
//! capabilities = ["NET_BIND_SERVICE"]
//!
//! [exec]
//! allow_root = true
//!
//! [scope]                       # a client that sees and touches only what carries the label
//! label = "com.example.owner=ci"
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::classify::RouteTables;

/// The policy, checked: what the proxy enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `None`: every operation is allowed (no configuration file).
    pub allowed: Option<BTreeSet<String>>,
    /// Whether the body rules apply (a configuration file was given).
    pub rules: Option<Rules>,
    /// Labels added to containers, volumes and networks created through the proxy.
    pub add_labels: BTreeMap<String, String>,
    pub scope: Option<Scope>,
}

/// The rules on request bodies; every field's default is the safe one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub allow_privileged: bool,
    pub allow_host_namespaces: bool,
    /// Host directories (absolute, clean) under which binds are allowed.
    pub bind_prefixes: Vec<PathBuf>,
    /// Paths no bind may reach, even under an allowed prefix: the engine's socket and the
    /// directories above it.
    pub sockets: Vec<PathBuf>,
    pub allow_devices: bool,
    pub allow_volumes_from: bool,
    /// Every container must have a memory and a process limit, and keep the OOM killer.
    pub require_limits: bool,
    /// Added capabilities allowed, upper case without `CAP_`.
    pub capabilities: BTreeSet<String>,
    /// `SecurityOpt` entries allowed as written.
    pub security_options: BTreeSet<String>,
    /// Registries images may come from; `None`: any.
    pub registries: Option<BTreeSet<String>>,
    /// With `registries`: images may also be made on the engine (loaded, imported, built,
    /// committed), which come from no registry.
    pub local_images: bool,
    pub exec_allow_root: bool,
    pub exec_allow_privileged: bool,
}

/// Visibility scoping by one label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub key: String,
    pub value: String,
}

impl Scope {
    /// `key=value`, the form of a `label` filter term.
    pub fn term(&self) -> String {
        format!("{}={}", self.key, self.value)
    }
}

/// The presets: sets of operations like those the path-based proxies offer.
pub const PRESETS: &[&str] = &["read-only", "traefik", "watchtower"];

/// Operations a read-only client may not use although they answer GET: they hand over
/// a connection (attach over websocket), whole file systems and images, or the swarm's
/// unlock key.
const NOT_READ_ONLY: &[&str] =
    &["ContainerAttachWebsocket", "ContainerArchive", "ContainerExport", "ImageGet", "ImageGetAll", "SwarmUnlockkey"];

/// What Traefik's docker and swarm providers call.
const TRAEFIK: &[&str] = &[
    "SystemPing",
    "SystemPingHead",
    "SystemVersion",
    "SystemInfo",
    "SystemEvents",
    "ContainerList",
    "ContainerInspect",
    "NetworkList",
    "NetworkInspect",
    "ServiceList",
    "ServiceInspect",
    "TaskList",
    "NodeList",
];

/// What Watchtower calls to pull a newer image and recreate a container from it.
const WATCHTOWER: &[&str] = &[
    "SystemPing",
    "SystemPingHead",
    "SystemVersion",
    "SystemInfo",
    "ContainerList",
    "ContainerInspect",
    "ContainerCreate",
    "ContainerStart",
    "ContainerStop",
    "ContainerKill",
    "ContainerDelete",
    "ContainerRename",
    "ContainerWait",
    "ImageList",
    "ImageInspect",
    "ImageCreate",
    "ImageDelete",
    "NetworkConnect",
    "NetworkDisconnect",
];

/// The operations of a preset.
pub fn preset_operations(name: &str, tables: &RouteTables) -> Option<BTreeSet<String>> {
    let owned = |ops: &[&str]| ops.iter().map(|s| (*s).to_owned()).collect();
    match name {
        "read-only" => Some(
            tables
                .operations()
                .into_iter()
                .filter(|op| tables.methods_of(op).iter().all(|m| m == "GET" || m == "HEAD") && !NOT_READ_ONLY.contains(op))
                .map(str::to_owned)
                .collect(),
        ),
        "traefik" => Some(owned(TRAEFIK)),
        "watchtower" => Some(owned(WATCHTOWER)),
        _ => None,
    }
}

/// The paths of the engine's socket that no bind may reach besides the one the proxy
/// forwards to.
const DEFAULT_SOCKETS: &[&str] = &["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock"];

/// A configuration error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the error has no place in the file (it cannot be read).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    preset: Option<Spanned<String>>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    #[serde(default)]
    deny: Vec<Spanned<String>>,
    #[serde(default)]
    containers: ContainersFile,
    #[serde(default)]
    exec: ExecFile,
    #[serde(default)]
    labels: BTreeMap<String, Spanned<String>>,
    scope: Option<ScopeFile>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ContainersFile {
    #[serde(default)]
    allow_privileged: bool,
    #[serde(default)]
    allow_host_namespaces: bool,
    #[serde(default)]
    bind_prefixes: Vec<Spanned<String>>,
    #[serde(default)]
    docker_sockets: Vec<Spanned<String>>,
    #[serde(default)]
    allow_devices: bool,
    #[serde(default)]
    allow_volumes_from: bool,
    #[serde(default)]
    require_limits: bool,
    #[serde(default)]
    capabilities: Vec<Spanned<String>>,
    #[serde(default)]
    security_options: Vec<String>,
    registries: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    local_images: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExecFile {
    #[serde(default)]
    allow_root: bool,
    #[serde(default)]
    allow_privileged: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeFile {
    label: Spanned<String>,
}

impl Policy {
    /// No configuration: every classified request is forwarded, no body is read.
    pub fn allow_all() -> Policy {
        Policy { allowed: None, rules: None, add_labels: BTreeMap::new(), scope: None }
    }

    /// Reads and checks the file at `path`; `upstream_socket` is the engine's socket path,
    /// which no bind may reach.
    pub fn load(path: &Path, tables: &RouteTables, upstream_socket: Option<&Path>) -> Result<Policy, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_owned(),
            line: 0,
            column: 0,
            message: format!("cannot read it: {e}"),
        })?;
        Policy::parse(path, &text, tables, upstream_socket)
    }

    /// [`load`](Policy::load) of text already read; `path` names it in errors.
    pub fn parse(path: &Path, text: &str, tables: &RouteTables, upstream_socket: Option<&Path>) -> Result<Policy, ConfigError> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = line_column(text, span.start);
            ConfigError { file: path.to_owned(), line, column, message }
        };
        let file: File = toml::from_str(text).map_err(|e| {
            let message = e.message().to_owned();
            match e.span() {
                Some(span) => at(span, message),
                None => ConfigError { file: path.to_owned(), line: 0, column: 0, message },
            }
        })?;

        let known = tables.operations();
        let mut allowed = BTreeSet::new();
        if let Some(preset) = &file.preset {
            let ops = preset_operations(preset.get_ref(), tables).ok_or_else(|| {
                at(preset.span(), format!("`preset`: unknown preset {:?}; the presets are {}", preset.get_ref(), PRESETS.join(", ")))
            })?;
            allowed.extend(ops);
        }
        let check_op = |key: &str, i: usize, op: &Spanned<String>| -> Result<String, ConfigError> {
            if known.contains(op.get_ref().as_str()) {
                return Ok(op.get_ref().clone());
            }
            let hint =
                known.iter().find(|k| k.eq_ignore_ascii_case(op.get_ref())).map(|k| format!("; did you mean {k}?")).unwrap_or_default();
            Err(at(
                op.span(),
                format!(
                    "`{key}[{i}]`: no API version {}–{} has an operation {:?}{hint}",
                    tables.oldest().map(|v| v.to_string()).unwrap_or_default(),
                    tables.newest().map(|v| v.to_string()).unwrap_or_default(),
                    op.get_ref()
                ),
            ))
        };
        for (i, op) in file.allow.iter().enumerate() {
            allowed.insert(check_op("allow", i, op)?);
        }
        for (i, op) in file.deny.iter().enumerate() {
            allowed.remove(&check_op("deny", i, op)?);
        }

        let c = &file.containers;
        let mut bind_prefixes = Vec::new();
        for (i, prefix) in c.bind_prefixes.iter().enumerate() {
            bind_prefixes.push(absolute_path(prefix.get_ref()).ok_or_else(|| {
                at(prefix.span(), format!("`containers.bind_prefixes[{i}]`: {:?} is not an absolute path", prefix.get_ref()))
            })?);
        }
        let mut sockets: Vec<PathBuf> = DEFAULT_SOCKETS.iter().map(PathBuf::from).collect();
        sockets.extend(upstream_socket.map(Path::to_owned));
        for (i, socket) in c.docker_sockets.iter().enumerate() {
            sockets.push(absolute_path(socket.get_ref()).ok_or_else(|| {
                at(socket.span(), format!("`containers.docker_sockets[{i}]`: {:?} is not an absolute path", socket.get_ref()))
            })?);
        }
        let mut capabilities = BTreeSet::new();
        for (i, cap) in c.capabilities.iter().enumerate() {
            let name = capability_name(cap.get_ref());
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                return Err(at(cap.span(), format!("`containers.capabilities[{i}]`: {:?} is not a capability name", cap.get_ref())));
            }
            capabilities.insert(name);
        }
        let registries = match &c.registries {
            None => None,
            Some(list) => {
                let mut set = BTreeSet::new();
                for (i, registry) in list.iter().enumerate() {
                    let name = registry.get_ref();
                    if name.is_empty() || name.contains('/') {
                        return Err(at(
                            registry.span(),
                            format!("`containers.registries[{i}]`: {name:?} is not a registry host (like `docker.io` or `registry.example.com:5000`)"),
                        ));
                    }
                    set.insert(name.to_ascii_lowercase());
                }
                Some(set)
            }
        };
        let rules = Rules {
            allow_privileged: c.allow_privileged,
            allow_host_namespaces: c.allow_host_namespaces,
            bind_prefixes,
            sockets,
            allow_devices: c.allow_devices,
            allow_volumes_from: c.allow_volumes_from,
            require_limits: c.require_limits,
            capabilities,
            security_options: c.security_options.iter().cloned().collect(),
            registries,
            local_images: c.local_images,
            exec_allow_root: file.exec.allow_root,
            exec_allow_privileged: file.exec.allow_privileged,
        };

        let mut add_labels = BTreeMap::new();
        for (key, value) in &file.labels {
            if key.is_empty() {
                return Err(at(value.span(), "`labels`: a label key may not be empty".to_owned()));
            }
            add_labels.insert(key.clone(), value.get_ref().clone());
        }
        let scope = match &file.scope {
            None => None,
            Some(scope) => {
                let Some((key, value)) = scope.label.get_ref().split_once('=').filter(|(k, _)| !k.is_empty()) else {
                    return Err(at(scope.label.span(), format!("`scope.label`: {:?} is not `key=value`", scope.label.get_ref())));
                };
                // What is created through a scoped proxy must stay visible to its client.
                add_labels.insert(key.to_owned(), value.to_owned());
                Some(Scope { key: key.to_owned(), value: value.to_owned() })
            }
        };
        Ok(Policy { allowed: Some(allowed), rules: Some(rules), add_labels, scope })
    }

    pub fn allows(&self, operation: &str) -> bool {
        self.allowed.as_ref().is_none_or(|ops| ops.contains(operation))
    }
}

/// `cap_sys_admin`, `CAP_SYS_ADMIN` and `SYS_ADMIN` are one capability to the engine.
pub fn capability_name(raw: &str) -> String {
    let upper = raw.trim().to_ascii_uppercase();
    upper.strip_prefix("CAP_").map(str::to_owned).unwrap_or(upper)
}

/// An absolute path, cleaned lexically (`/srv//app/../x` is `/srv/x`); `None` for a
/// relative one.
pub fn absolute_path(raw: &str) -> Option<PathBuf> {
    raw.starts_with('/').then(|| PathBuf::from(crate::classify::clean_segments(raw)))
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
