//! Run a container and print its logs as they arrive, like `docker run` + `docker logs -f`.

use futures_util::StreamExt;
use moby_api::v1_44::client::Client;
use moby_api::v1_44::models::{ContainerCreateBody, HostConfig};
use moby_api::v1_44::params::{ContainerCreateParams, ContainerLogsParams, ContainerStartParams};
use moby_api::StdStream;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let docker = Client::from_env()?;
    let body = ContainerCreateBody {
        image: Some("busybox".into()),
        cmd: Some(vec!["sh".into(), "-c".into(), "for i in 1 2 3; do echo tick $i; sleep 1; done; echo done >&2".into()]),
        host_config: Some(HostConfig { network_mode: Some("none".into()), ..Default::default() }),
        ..Default::default()
    };
    let created = docker.container_create(&ContainerCreateParams::default(), &body).await?;
    docker.container_start(&created.id, &ContainerStartParams::default()).await?;

    let follow = ContainerLogsParams { follow: Some(true), stdout: Some(true), stderr: Some(true), ..Default::default() };
    let mut logs = docker.container_logs(&created.id, &follow).await?;
    while let Some(chunk) = logs.next().await {
        let chunk = chunk?;
        let text = String::from_utf8_lossy(&chunk.bytes);
        match chunk.stream {
            StdStream::Stderr => eprint!("{text}"),
            _ => print!("{text}"),
        }
    }
    Ok(())
}
