//! Build an image from a directory, honouring its `.dockerignore`, like `docker build -t NAME DIR`.

use futures_util::StreamExt;
use moby_api::build_context;
use moby_api::v1_44::client::Client;
use moby_api::v1_44::params::ImageBuildParams;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let docker = Client::from_env()?;
    let params = ImageBuildParams { t: Some("example:latest".into()), rm: Some(true), ..Default::default() };
    let mut progress = docker.image_build(&params, build_context(&dir).await?).await?;
    while let Some(message) = progress.next().await {
        // A failed step arrives as an error item (`errorDetail`), after a 200.
        let message = message?;
        if let Some(line) = message.stream {
            print!("{line}");
        }
        // The result, typed as the spec says: the new image's ID.
        if let Some(image) = message.aux {
            println!("built {}", image.id.unwrap_or_default());
        }
    }
    Ok(())
}
