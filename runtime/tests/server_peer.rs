//! Every request served knows who is on the other end of its connection: the process's
//! credentials on a unix socket (`SO_PEERCRED`), the address on TCP.

use moby_api_runtime::server::axum::extract::Request;
use moby_api_runtime::server::axum::Router;
use moby_api_runtime::server::{bind_unix, serve, ConnectionConfig, Peer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers with the peer it was given.
fn router() -> Router {
    Router::new().fallback(|request: Request| async move { format!("{:?}", request.extensions().get::<Peer>()) })
}

async fn ask(mut stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin) -> String {
    stream.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    answer
}

#[tokio::test]
async fn unix_peers_are_credentials_and_tcp_peers_addresses() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("peer.sock");
    let unix = bind_unix(&path, 0o600).expect("bind");
    tokio::spawn(serve(unix, router(), ConnectionConfig::default(), std::future::pending()));
    let answer = ask(tokio::net::UnixStream::connect(&path).await.expect("connect")).await;
    // SAFETY: getuid and getpid cannot fail.
    let (uid, pid) = unsafe { (libc::getuid(), libc::getpid()) };
    assert!(answer.contains(&format!("Some(Unix {{ pid: Some({pid}), uid: {uid}, gid: ")), "{answer}");

    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("address");
    tokio::spawn(serve(tcp, router(), ConnectionConfig::default(), std::future::pending()));
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let local = stream.local_addr().expect("address");
    let answer = ask(stream).await;
    assert!(answer.contains(&format!("Some(Tcp({local}))")), "{answer}");
}
