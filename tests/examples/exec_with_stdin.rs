//! Run a command in a running container and feed it stdin, like `echo … | docker exec -i`.

use futures_util::StreamExt;
use moby_api::v1_44::client::Client;
use moby_api::v1_44::models::{ContainerExecBody, ExecStartBody};
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let container = std::env::args().nth(1).ok_or("usage: exec_with_stdin CONTAINER")?;
    let docker = Client::from_env()?;
    let exec = ContainerExecBody {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(vec!["wc".into(), "-l".into()]),
        ..Default::default()
    };
    let created = docker.container_exec(&container, &exec).await?;
    let session = docker.exec_start(&created.id, &ExecStartBody { detach: Some(false), tty: Some(false), ..Default::default() }).await?;
    let (mut output, mut stdin) = session.split();

    stdin.write_all(b"one\ntwo\nthree\n").await?;
    // Half-closes the connection: the process sees the end of its stdin.
    stdin.shutdown().await?;

    while let Some(chunk) = output.next().await {
        print!("{}", String::from_utf8_lossy(&chunk?.bytes));
    }
    let inspect = docker.exec_inspect(&created.id).await?;
    println!("exit code: {:?}", inspect.exit_code);
    Ok(())
}
