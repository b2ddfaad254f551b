//! How the server presents itself, like a daemon's configuration: the versions it accepts,
//! the headers it sets on every response and on `/_ping`, and its request limits.

use crate::version::ApiVersion;

/// 16 MiB: large enough for any create or update body the engine accepts.
pub const DEFAULT_JSON_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// How the server presents itself (like a daemon's configuration).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The oldest version accepted in a `/vX.Y` prefix; older ones answer 400. Default 1.24.
    pub min_version: ApiVersion,
    /// The newest version accepted, the one unversioned paths are served at, and the value of
    /// the `API-Version` header: the generated module's version.
    pub max_version: ApiVersion,
    /// The `OSType` header: `linux` by default.
    pub os_type: String,
    /// The `Docker-Experimental` header of `/_ping`.
    pub experimental: bool,
    /// The `Builder-Version` header of `/_ping` (`1` or `2`), sent only when set.
    pub builder_version: Option<String>,
    /// The `Swarm` header of `/_ping` (`inactive`, `active/manager` …), sent only when set.
    pub swarm: Option<String>,
    /// The `Server` header of every response: `moby-api` by default.
    pub server_header: String,
    /// The largest JSON request body read, in bytes; larger ones answer 413. Default 16 MiB.
    /// Streamed bodies (build contexts, archives, image loads) are not limited.
    pub json_body_limit: usize,
}

impl ServerConfig {
    /// The defaults, serving `max_version` (1.24 up to it).
    pub fn new(max_version: ApiVersion) -> ServerConfig {
        ServerConfig {
            min_version: ApiVersion::FALLBACK,
            max_version,
            os_type: "linux".to_owned(),
            experimental: false,
            builder_version: None,
            swarm: None,
            server_header: "moby-api".to_owned(),
            json_body_limit: DEFAULT_JSON_BODY_LIMIT,
        }
    }

    pub fn min_version(mut self, version: ApiVersion) -> ServerConfig {
        self.min_version = version;
        self
    }

    pub fn os_type(mut self, os_type: impl Into<String>) -> ServerConfig {
        self.os_type = os_type.into();
        self
    }

    pub fn experimental(mut self, experimental: bool) -> ServerConfig {
        self.experimental = experimental;
        self
    }

    pub fn builder_version(mut self, version: impl Into<String>) -> ServerConfig {
        self.builder_version = Some(version.into());
        self
    }

    pub fn swarm(mut self, state: impl Into<String>) -> ServerConfig {
        self.swarm = Some(state.into());
        self
    }

    pub fn server_header(mut self, value: impl Into<String>) -> ServerConfig {
        self.server_header = value.into();
        self
    }

    pub fn json_body_limit(mut self, bytes: usize) -> ServerConfig {
        self.json_body_limit = bytes;
        self
    }
}
