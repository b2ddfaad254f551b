//! Scaffolding until the proxy lands: a byte-for-byte splice from a unix socket to the
//! engine's unix socket, so the differential suite has a binary with the proxy's
//! command line to drive (`moby-proxy --listen unix:///PATH`; the engine from
//! `DOCKER_HOST`). It checks nothing; the real proxy replaces this file.

use tokio::net::{UnixListener, UnixStream};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut listen = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next(),
            "--typed" => {}
            "--config" => {
                args.next();
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let listen = listen.ok_or("--listen unix:///PATH is required")?;
    let path = listen.strip_prefix("unix://").ok_or("--listen takes unix:///PATH")?.to_owned();
    let upstream = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let upstream = upstream.strip_prefix("unix://").ok_or("DOCKER_HOST must be unix:///PATH")?.to_owned();
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    loop {
        let (mut client, _) = listener.accept().await?;
        let upstream = upstream.clone();
        tokio::spawn(async move {
            if let Ok(mut engine) = UnixStream::connect(&upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
            }
        });
    }
}
