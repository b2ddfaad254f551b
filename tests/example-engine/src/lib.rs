//! An in-memory Docker Engine (API 1.41) built on the generated server traits of
//! `moby_api::v1_41::server`: containers, images, volumes, networks, execs and events,
//! enough for the real `docker` CLIs and docker-py to work against it.
//!
//! No process is ever started. Containers "run" a tiny emulation of busybox: `echo`, `cat`
//! (stdin to stdout), `sleep N`, `true`, `false`, `hostname`, `env`, `seq`, and `sh -c`
//! scripts of them joined by `;`, `&&` and `||` with `exit N` and `>&2`; anything else exits
//! 127 with a message on stderr. Every signal that would end a process without a handler
//! ends them at once, so `docker stop` is quick (exit 143). An image pull "downloads" any
//! name instantly; `busybox:latest` is there from the start.
//!
//! Running it with the docker CLI:
//!
//! ```text
//! cargo run -p moby-api-example-engine -- --socket /tmp/example-engine.sock
//! export DOCKER_HOST=unix:///tmp/example-engine.sock
//! docker run --rm busybox sh -c 'echo hi; exit 3'; echo $?    # hi, 3
//! echo data | docker run -i --rm busybox cat                  # data
//! docker run -d --name web busybox sleep 300 && docker exec web hostname
//! docker ps -a; docker logs web; docker stats --no-stream; docker events --since 10m --until 0s
//! ```
//!
//! `--tcp 127.0.0.1:2375` serves TCP as well (then `DOCKER_HOST=tcp://127.0.0.1:2375`).
//!
//! Embedding: [`router`] gives the axum router of an [`Engine`], to serve with
//! `moby_api_runtime::server::serve_unix` or `serve_tcp`.

mod clock;
mod containers;
mod engine;
mod events;
mod exec;
mod images;
mod logs;
mod networks;
mod process;
mod shell;
mod stats;
mod system;
mod volumes;

use std::collections::HashMap;

use moby_api::v1_41::server::{
    ConfigApi, DistributionApi, NodeApi, PluginApi, PluginInspectReply, PluginInspectRequest, PluginListReply, PluginListRequest,
    SecretApi, ServiceApi, SessionApi, SwarmApi, TaskApi,
};
use moby_api_runtime::server::{ApiError, Context, Filters, ServerConfig};

pub use engine::Engine;
pub use system::ENGINE_VERSION;

/// The configuration the engine is served with: API 1.41, down to 1.24.
pub fn server_config() -> ServerConfig {
    ServerConfig::new(moby_api::v1_41::API_VERSION).server_header(format!("Docker/{ENGINE_VERSION} (linux)"))
}

/// The axum router serving `engine`: the generated routes of v1.41.
pub fn router(engine: Engine) -> moby_api_runtime::server::axum::Router {
    moby_api::v1_41::server::router_with(engine, server_config())
}

/// The filters of a list or prune after the daemon's check of their keys (a 400
/// `Invalid filter 'key'` for any other); how terms combine is the runtime's
/// [`Filters`](moby_api_runtime::server::Filters) (`label` terms ANDed, others ORed).
pub(crate) fn checked_filters(filters: Option<Filters>, accepted: &[&str]) -> Result<Filters, ApiError> {
    let filters = filters.unwrap_or_default();
    filters.check_keys(accepted).map_err(ApiError::invalid_argument)?;
    Ok(filters)
}

/// An object's labels, none when it has none.
pub(crate) fn labels(labels: Option<&HashMap<String, String>>) -> &HashMap<String, String> {
    static NONE: std::sync::OnceLock<HashMap<String, String>> = std::sync::OnceLock::new();
    labels.unwrap_or_else(|| NONE.get_or_init(HashMap::new))
}

// Swarm, plugins, secrets, configs, sessions and distribution are not emulated: their
// operations keep the generated 501 answers. Plugins are listed (none) and inspected (404)
// because `docker inspect NAME` tries every kind of object and must end with "No such
// object", not with a 501.
impl ConfigApi for Engine {}
impl DistributionApi for Engine {}
impl NodeApi for Engine {}
impl SecretApi for Engine {}
impl ServiceApi for Engine {}
impl SessionApi for Engine {}
impl SwarmApi for Engine {}
impl TaskApi for Engine {}

impl PluginApi for Engine {
    async fn plugin_list(&self, _context: &Context, _request: PluginListRequest) -> Result<PluginListReply, ApiError> {
        Ok(PluginListReply::Ok(Vec::new()))
    }

    async fn plugin_inspect(&self, _context: &Context, request: PluginInspectRequest) -> Result<PluginInspectReply, ApiError> {
        Err(ApiError::not_found(format!("plugin \"{}\" not found", request.name)))
    }
}
