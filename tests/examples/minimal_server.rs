//! A Docker-compatible server in a few lines: answers `docker version` and `docker volume ls`
//! on a unix socket, every other operation with Docker's 501 error.
//!
//! `cargo run -p moby-api-tests --example minimal_server /tmp/mini.sock`, then
//! `DOCKER_HOST=unix:///tmp/mini.sock docker volume ls`.

use moby_api::v1_44::models::{SystemVersion, Volume, VolumeListResponse};
use moby_api::v1_44::server::{self, SystemApi, SystemVersionReply, SystemVersionRequest, VolumeApi, VolumeListReply, VolumeListRequest};
use moby_api::{ApiError, Context};

struct Mini;

impl SystemApi for Mini {
    async fn system_version(&self, context: &Context, _: SystemVersionRequest) -> Result<SystemVersionReply, ApiError> {
        Ok(SystemVersion {
            version: Some("0.1.0-mini".into()),
            api_version: Some(context.api_version.to_string()),
            min_api_version: Some("1.24".into()),
            os: Some("linux".into()),
            arch: Some(std::env::consts::ARCH.into()),
            ..Default::default()
        }
        .into())
    }
}

impl VolumeApi for Mini {
    async fn volume_list(&self, _: &Context, _: VolumeListRequest) -> Result<VolumeListReply, ApiError> {
        let data = Volume { name: "data".into(), driver: "local".into(), mountpoint: "/nowhere".into(), ..Default::default() };
        Ok(VolumeListResponse { volumes: Some(vec![data]), ..Default::default() }.into())
    }
}

// The other tags keep their defaults (501 Not Implemented).
impl server::ConfigApi for Mini {}
impl server::ContainerApi for Mini {}
impl server::DistributionApi for Mini {}
impl server::ExecApi for Mini {}
impl server::ImageApi for Mini {}
impl server::NetworkApi for Mini {}
impl server::NodeApi for Mini {}
impl server::PluginApi for Mini {}
impl server::SecretApi for Mini {}
impl server::ServiceApi for Mini {}
impl server::SessionApi for Mini {}
impl server::SwarmApi for Mini {}
impl server::TaskApi for Mini {}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let socket = std::env::args().nth(1).unwrap_or_else(|| "/tmp/mini.sock".into());
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    moby_api::serve_unix(server::router(Mini), socket, 0o660, shutdown).await
}
