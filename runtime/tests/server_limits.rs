//! The serving layer under clients that misbehave, over loopback TCP with a hand-written
//! HTTP/1.1 client: a flood of idle connections leaves `/_ping` answering, a head sent
//! slowly and an idle keep-alive connection are closed after their timeouts while a quiet
//! stream and a hijacked connection are not, and the graceful shutdown ends by its deadline
//! whatever the clients do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream;
use moby_api_runtime::server::{
    self, respond, ApiVersion, BoxFuture, ConnectionConfig, Hijack, Incoming, Method, Response, Route, ServerConfig, StatusCode, StreamBody,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

struct Daemon;

fn ping(_: Arc<Daemon>, _: Incoming) -> BoxFuture<Response> {
    Box::pin(async { respond::text(StatusCode::OK, "OK".to_owned()) })
}

/// A stream that says `one`, is quiet for 1.5 s (longer than every timeout of the tests),
/// then says `two` and ends.
fn quiet_stream(_: Arc<Daemon>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        let lines = stream::unfold(0, |n| async move {
            match n {
                0 => Some((Bytes::from_static(b"one\n"), 1)),
                1 => {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    Some((Bytes::from_static(b"two\n"), 2))
                }
                _ => None,
            }
        });
        respond::stream(StatusCode::OK, StreamBody::raw(lines), incoming.context())
    })
}

/// A stream that never ends.
fn endless(_: Arc<Daemon>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move { respond::stream(StatusCode::OK, StreamBody::raw(stream::pending()), incoming.context()) })
}

/// Echoes what the client sends until it half-closes.
fn attach(_: Arc<Daemon>, mut incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        let hijack = Hijack::new(false, |mut conn| async move {
            let mut buf = [0u8; 1024];
            while let Ok(n) = conn.read(&mut buf).await {
                if n == 0 || conn.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            let _ = conn.shutdown().await;
        });
        respond::hijack(&mut incoming, hijack)
    })
}

fn router() -> server::axum::Router {
    let routes = vec![
        Route::new(Method::GET, "/_ping", "SystemPing", ping as fn(_, _) -> _),
        Route::new(Method::GET, "/quiet", "Quiet", quiet_stream),
        Route::new(Method::GET, "/endless", "Endless", endless),
        Route::new(Method::POST, "/containers/{id}/attach", "ContainerAttach", attach),
    ];
    server::router(Arc::new(Daemon), routes, ServerConfig::new(ApiVersion::new(1, 41)))
}

struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(config: ConnectionConfig) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, router(), config, async move {
        let _ = stopped.await;
    }));
    Running { addr, stop, task }
}

impl Running {
    /// Signals the shutdown and returns how long `serve` took to return.
    async fn shut_down(self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(30), self.task).await.expect("serve returns").expect("server task").expect("serve");
        started.elapsed()
    }
}

/// `GET /_ping` on a new connection, within `within`.
async fn ping_answers(addr: SocketAddr, within: Duration) -> Result<Duration, String> {
    let started = Instant::now();
    let exchange = async {
        let mut conn = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
        conn.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.map_err(|e| format!("write: {e}"))?;
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await.map_err(|e| format!("read: {e}"))?;
        let text = String::from_utf8_lossy(&answer).into_owned();
        if text.starts_with("HTTP/1.1 200") && text.ends_with("OK") {
            Ok(())
        } else {
            Err(format!("unexpected answer {text:?}"))
        }
    };
    match tokio::time::timeout(within, exchange).await {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("no answer within {within:?}")),
    }
}

/// Reads until EOF or `within`; returns what was read and whether the peer closed.
async fn read_until_closed(conn: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let closed = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (got, closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_flood_leaves_ping_answering() {
    // Timeouts far longer than the test: only the connection cap can make room.
    let config = ConnectionConfig::default()
        .max_connections(50)
        .header_read_timeout(Some(Duration::from_secs(600)))
        .idle_timeout(Some(Duration::from_secs(600)));
    let server = start(config).await;
    let mut flood = Vec::new();
    for i in 0..1000 {
        let mut conn = TcpStream::connect(server.addr).await.expect("connect");
        // Some say nothing, some send half a head, some a whole request and keep the
        // connection idle afterwards.
        match i % 3 {
            0 => {}
            1 => conn.write_all(b"GET /_ping HTTP/1.1\r\nHost: x").await.unwrap(),
            _ => conn.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap(),
        }
        flood.push(conn);
    }
    for _ in 0..5 {
        let took = ping_answers(server.addr, Duration::from_secs(3)).await.expect("/_ping answers during the flood");
        assert!(took < Duration::from_secs(3));
    }
    // The flood's connections beyond the cap were closed by the server.
    let mut closed = 0;
    for conn in &mut flood {
        let mut buf = [0u8; 1024];
        let mut open = true;
        while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(1), conn.read(&mut buf)).await {
            if n == 0 {
                open = false;
                break;
            }
        }
        if !open {
            closed += 1;
        }
    }
    assert!(closed >= 1000 - 50, "only {closed} of 1000 idle connections were closed");
    drop(flood);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_and_idle_connections_time_out_but_streams_and_hijacks_do_not() {
    let config =
        ConnectionConfig::default().header_read_timeout(Some(Duration::from_millis(300))).idle_timeout(Some(Duration::from_millis(600)));
    let server = start(config).await;

    // Half a head: closed after the header timeout, with no answer.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /_ping HTTP/1.1\r\nHost: x").await.unwrap();
    let started = Instant::now();
    let (got, closed) = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(closed && got.is_empty(), "closed {closed}, got {:?}", String::from_utf8_lossy(&got));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(2), "closed after {took:?}");

    // A silent new connection: the head timeout runs from the start.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    assert!(read_until_closed(&mut silent, Duration::from_secs(5)).await.1);
    assert!(started.elapsed() < Duration::from_secs(2));

    // Keep-alive: a request, then idle; closed after the idle timeout, not the head timeout.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let started = Instant::now();
    let (got, closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert!(closed && String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"));
    assert!(took >= Duration::from_millis(550) && took < Duration::from_secs(2), "idle connection closed after {took:?}");

    // A stream quiet for longer than both timeouts runs to its end.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /quiet HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let (got, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(closed && text.contains("one\n") && text.contains("two\n"), "{text:?}");

    // A hijacked connection quiet for longer than both timeouts still echoes.
    let mut hijacked = TcpStream::connect(server.addr).await.unwrap();
    hijacked
        .write_all(b"POST /containers/c/attach?stream=1 HTTP/1.1\r\nHost: x\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        hijacked.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{:?}", String::from_utf8_lossy(&head));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    hijacked.write_all(b"still here").await.unwrap();
    let mut echo = [0u8; 10];
    tokio::time::timeout(Duration::from_secs(5), hijacked.read_exact(&mut echo)).await.expect("echo in time").unwrap();
    assert_eq!(&echo, b"still here");
    hijacked.shutdown().await.unwrap();
    assert!(read_until_closed(&mut hijacked, Duration::from_secs(5)).await.1);

    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_by_its_deadline_whatever_the_clients_do() {
    // Long timeouts: only the shutdown can end these connections.
    let patient = ConnectionConfig::default()
        .header_read_timeout(Some(Duration::from_secs(600)))
        .idle_timeout(Some(Duration::from_secs(600)))
        .shutdown_timeout(Duration::from_secs(1));

    // A half-sent request and an idle keep-alive connection hold nothing up: closed at once.
    let server = start(patient.clone()).await;
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"GET /_ping HTTP/1.1\r\nHost: x").await.unwrap();
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = server.shut_down().await;
    assert!(took < Duration::from_millis(500), "shutdown with a half-sent request took {took:?}");
    assert!(read_until_closed(&mut half, Duration::from_secs(2)).await.1);
    assert!(read_until_closed(&mut kept, Duration::from_secs(2)).await.1);

    // A stream that never ends is cut at the deadline.
    let server = start(patient).await;
    let mut endless = TcpStream::connect(server.addr).await.unwrap();
    endless.write_all(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut head = [0u8; 12];
    endless.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let took = server.shut_down().await;
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(3), "shutdown with an endless stream took {took:?}");
    assert!(read_until_closed(&mut endless, Duration::from_secs(2)).await.1);
}
