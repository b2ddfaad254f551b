//! The build context goes out as the docker CLI sends it: a socket that records the
//! request heads of `POST /build` sees the same `Content-Type` from the generated client as
//! from both docker CLIs (28.x at /usr/local/bin/docker, 20.10 at /usr/bin/docker). A
//! missing CLI skips its half, except under CI.

use std::path::{Path, PathBuf};
use std::time::Duration;

use moby_api::v1_44::client::Client;
use moby_api::v1_44::params::ImageBuildParams;
use moby_api_runtime::client::{ApiVersion, Endpoint, Host, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

const CLIS: [&str; 2] = ["/usr/local/bin/docker", "/usr/bin/docker"];

/// Answers `/_ping` like a 1.44 daemon and every other request with a 500 after reading
/// its head; returns the head of the first `POST …/build`.
async fn build_request_head(socket: &Path, client: impl std::future::Future<Output = ()>) -> String {
    let listener = UnixListener::bind(socket).unwrap();
    let server = async {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).await.unwrap() == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            if head.contains("/_ping ") {
                let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nApi-Version: 1.44\r\nOstype: linux\r\nContent-Length: 2\r\n\r\nOK").await;
                continue;
            }
            let _ = conn
                .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 19\r\n\r\n{\"message\":\"done\"}\n")
                .await;
            let path = head.split_whitespace().nth(1).unwrap_or_default();
            if head.starts_with("POST ") && path.split('?').next().is_some_and(|p| p.ends_with("/build")) {
                return head;
            }
        }
    };
    tokio::select! {
        head = server => head,
        () = async { client.await; std::future::pending::<()>().await } => unreachable!(),
        () = tokio::time::sleep(Duration::from_secs(60)) => panic!("no build request arrived within 60 s"),
    }
}

fn content_type(head: &str) -> Option<String> {
    head.lines()
        .find_map(|l| l.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.trim().to_owned()))
}

fn context_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM busybox\n").unwrap();
    dir
}

#[tokio::test]
async fn build_content_type_is_the_clis() {
    let dir = tempfile::tempdir().unwrap();
    let context = context_dir();

    let socket = dir.path().join("ours.sock");
    let endpoint = Endpoint::new(Host::Unix(socket.clone()));
    let client = Client::new(Transport::new(endpoint, ApiVersion::new(1, 44)).unwrap());
    let ours = build_request_head(&socket, async {
        let body = moby_api::build_context(context.path()).await.unwrap();
        let _ = client.image_build(&ImageBuildParams::default(), body).await;
    })
    .await;
    assert_eq!(content_type(&ours).as_deref(), Some("application/x-tar"), "{ours}");

    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    for cli in CLIS.map(PathBuf::from) {
        if !cli.exists() {
            assert!(!ci, "{} is missing; under CI the client comparisons must run", cli.display());
            eprintln!("skipped: no {}", cli.display());
            continue;
        }
        let socket = dir.path().join("cli.sock");
        let _ = std::fs::remove_file(&socket);
        let host = format!("unix://{}", socket.display());
        let theirs = build_request_head(&socket, async {
            let _ = tokio::process::Command::new(&cli)
                .args(["-H", &host, "build", "-t", "x"])
                .arg(context.path())
                .env("DOCKER_BUILDKIT", "0")
                .env("DOCKER_CONFIG", dir.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .await;
        })
        .await;
        assert_eq!(content_type(&ours), content_type(&theirs), "{} sent:\n{theirs}", cli.display());
    }
}
