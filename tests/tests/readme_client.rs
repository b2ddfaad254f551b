//! The README's client example, compiled (it needs an engine to run; client_engine.rs runs
//! the same calls against one).

use moby_api::v1_41::client::{Client, ContainerListParams};

#[allow(dead_code)]
async fn running_containers() -> Result<usize, moby_api_runtime::client::Error> {
    let docker = Client::from_env()?;
    let all = docker.container_list(&ContainerListParams { all: Some(true), ..Default::default() }).await?;
    Ok(all.iter().filter(|c| c.state.as_deref() == Some("running")).count())
}

#[test]
fn readme_client_example_compiles() {
    let readme = std::fs::read_to_string(moby_api_tests::root().join("README.md")).unwrap();
    let this = include_str!("readme_client.rs");
    let body = "let docker = Client::from_env()?;";
    assert!(readme.contains(body) && this.contains(body), "README and this copy of the example differ");
}
