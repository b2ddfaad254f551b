//! List every container, running or not, like `docker ps -a`.

use moby_api::v1_44::client::Client;
use moby_api::v1_44::params::ContainerListParams;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let docker = Client::from_env()?;
    let all = ContainerListParams { all: Some(true), ..Default::default() };
    for container in docker.container_list(&all).await? {
        let id = container.id.unwrap_or_default();
        let names = container.names.unwrap_or_default().join(",");
        println!("{:.12}  {:<20}  {}", id, names, container.status.unwrap_or_default());
    }
    Ok(())
}
