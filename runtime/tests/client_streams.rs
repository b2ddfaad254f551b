//! Typed streams, hijacks and streamed request bodies against a scripted fake daemon on a
//! unix socket: how the framing is settled (Content-Type, version, TTY lookups and their
//! order), bodies cut mid-frame or mid-chunk, a hijack answered with 200 or an error, the
//! bytes that arrive with the 101 head, half-closing stdin, and head timeouts that spare
//! the body.

use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use moby_api_runtime::client::header::HeaderValue;
use moby_api_runtime::client::{
    body_from_reader, body_from_stream, ApiVersion, BuildContext, ByteStream, Endpoint, Error, HijackInput, HijackOutput, Hijacked, Host,
    JsonLinesOutput, LogOutput, Method, PathStat, ProgressOutput, Request, Transport, TtySource,
};
use moby_api_runtime::stream::{Framing, LogChunk, StdStream, StreamError};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

const MAX: ApiVersion = ApiVersion::new(1, 49);
/// No test waits longer than this for anything: a hang is a failure, not a stuck run.
const PATIENCE: Duration = Duration::from_secs(10);

// --- the fake daemon -------------------------------------------------------------------------

mod fake_daemon;
use fake_daemon::{read_request, write_chunked, write_full, Seen};

enum Reply {
    /// A complete response with a Content-Length; the connection stays open.
    Full { status: u16, headers: Vec<(&'static str, String)>, body: Vec<u8> },
    /// Bytes written as they are; then the connection closes, or with `hold` stays open
    /// and silent (a daemon that hijacked).
    Raw { bytes: Vec<u8>, hold: bool },
    /// A chunked body sent piece by piece with `gap` between pieces, ending properly.
    Chunked { headers: Vec<(&'static str, String)>, chunks: Vec<Vec<u8>>, gap: Duration },
    /// `head` (a 101 answer and any early output), then whatever the client writes until it
    /// half-closes, sent back as one stderr frame, then close.
    Echo { head: Vec<u8> },
}

impl Reply {
    fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Full { status, headers: vec![("Content-Type", "application/json".into())], body: body.to_string().into_bytes() }
    }

    fn stream(content_type: Option<&str>, body: Vec<u8>) -> Reply {
        let headers = content_type.map(|ct| vec![("Content-Type", ct.to_owned())]).unwrap_or_default();
        Reply::Full { status: 200, headers, body }
    }
}

struct FakeDaemon {
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
    dir: tempfile::TempDir,
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeDaemon {
    /// A daemon answering `handler`, and a transport to it pinned at `version`.
    fn start(version: ApiVersion, handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> (FakeDaemon, Transport) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<dyn Fn(&Seen) -> Reply + Send + Sync> = Arc::new(handler);
        let task = tokio::spawn({
            let seen = seen.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, handler.clone(), seen.clone()));
                }
            }
        });
        let endpoint = Endpoint::new(Host::Unix(path)).with_pinned_version(Some(version));
        let transport = Transport::new(endpoint, MAX).unwrap();
        (FakeDaemon { seen, task, dir }, transport)
    }

    fn socket(&self) -> std::path::PathBuf {
        self.dir.path().join("docker.sock")
    }

    fn paths(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().map(|s| format!("{} {}", s.method, s.path())).collect()
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(stream: UnixStream, handler: Arc<dyn Fn(&Seen) -> Reply + Send + Sync>, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut stream = BufReader::new(stream);
    while let Some(request) = read_request(&mut stream).await {
        seen.lock().unwrap().push(request.clone());
        match handler(&request) {
            Reply::Full { status, headers, body } => {
                if !write_full(&mut stream, &request, status, headers, &body).await {
                    return;
                }
            }
            Reply::Raw { bytes, hold } => {
                let _ = stream.write_all(&bytes).await;
                if hold {
                    tokio::time::sleep(PATIENCE * 2).await;
                }
                return;
            }
            Reply::Chunked { headers, chunks, gap } => {
                if !write_chunked(&mut stream, 200, headers, chunks, gap).await {
                    return;
                }
            }
            Reply::Echo { head } => {
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                let mut input = Vec::new();
                if stream.read_to_end(&mut input).await.is_err() {
                    return;
                }
                let _ = stream.write_all(&frame(2, &input)).await;
                return;
            }
        }
    }
}

fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![stream, 0, 0, 0];
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn chunk(stream: StdStream, bytes: &[u8]) -> LogChunk {
    LogChunk { stream, bytes: Bytes::copy_from_slice(bytes) }
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.unwrap_or_else(|_| panic!("{what} hung"))
}

async fn all<S: futures::Stream + Unpin>(stream: S) -> Vec<S::Item> {
    within("reading the stream", stream.collect::<Vec<_>>()).await
}

const MUX: &str = "application/vnd.docker.multiplexed-stream";
const RAW: &str = "application/vnd.docker.raw-stream";

fn inspect_with_tty(tty: bool) -> Reply {
    Reply::json(200, serde_json::json!({"Id": "c", "Config": {"Tty": tty}}))
}

// --- logs ------------------------------------------------------------------------------------

#[tokio::test]
async fn below_1_42_the_tty_is_asked_before_the_logs() {
    for tty in [false, true] {
        let body = [frame(1, b"out\n"), frame(2, b"err\n")].concat();
        let sent = body.clone();
        let (daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), move |seen| match seen.path() {
            "/v1.41/containers/c/json" => inspect_with_tty(tty),
            // What 20.10 sends: no Content-Type at all.
            "/v1.41/containers/c/logs" => Reply::stream(None, sent.clone()),
            _ => Reply::json(404, serde_json::json!({"message": "page not found"})),
        });
        let request = Request::get("/containers/c/logs").query("stdout", "1").query("stderr", "1");
        let logs = transport.send_logs(request, TtySource::Container("c".into())).await.unwrap();
        let expected = if tty { Framing::Raw } else { Framing::Multiplexed };
        assert_eq!(logs.framing(), expected);
        let items: Vec<_> = all(logs).await.into_iter().map(Result::unwrap).collect();
        if tty {
            assert_eq!(items, [chunk(StdStream::Stdout, &body)]);
        } else {
            assert_eq!(items, [chunk(StdStream::Stdout, b"out\n"), chunk(StdStream::Stderr, b"err\n")]);
        }
        assert_eq!(daemon.paths(), ["GET /v1.41/containers/c/json", "GET /v1.41/containers/c/logs"]);
    }
}

#[tokio::test]
async fn from_1_42_the_content_type_decides_without_a_lookup() {
    for (content_type, framing) in [(MUX, Framing::Multiplexed), (RAW, Framing::Raw)] {
        let (daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 44), move |_| Reply::stream(Some(content_type), frame(1, b"x")));
        let logs = transport.send_logs(Request::get("/containers/c/logs"), TtySource::Container("c".into())).await.unwrap();
        assert_eq!(logs.framing(), framing);
        assert_eq!(all(logs).await.len(), 1);
        assert_eq!(daemon.paths(), ["GET /v1.44/containers/c/logs"]);
    }
    // Below 1.42 `multiplexed-stream` still means what it says (after the lookup).
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), |seen| match seen.path() {
        "/v1.41/containers/c/json" => inspect_with_tty(true),
        _ => Reply::stream(Some(MUX), frame(1, b"x")),
    });
    let logs = transport.send_logs(Request::get("/containers/c/logs"), TtySource::Container("c".into())).await.unwrap();
    assert_eq!(logs.framing(), Framing::Multiplexed);
}

#[tokio::test]
async fn from_1_42_without_a_content_type_the_lookup_comes_after() {
    let (daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 44), |seen| match seen.path() {
        "/v1.44/tasks/t1" => Reply::json(200, serde_json::json!({"Spec": {"ContainerSpec": {"TTY": true}}})),
        _ => Reply::stream(None, b"\x01raw".to_vec()),
    });
    let logs = transport.send_logs(Request::get("/tasks/t1/logs"), TtySource::Task("t1".into())).await.unwrap();
    assert_eq!(logs.framing(), Framing::Raw);
    assert_eq!(all(logs).await.into_iter().map(Result::unwrap).collect::<Vec<_>>(), [chunk(StdStream::Stdout, b"\x01raw")]);
    assert_eq!(daemon.paths(), ["GET /v1.44/tasks/t1/logs", "GET /v1.44/tasks/t1"]);
}

#[tokio::test]
async fn every_tty_source_reads_its_own_field() {
    let (daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), |seen| match seen.path() {
        "/v1.41/services/web" => Reply::json(200, serde_json::json!({"Spec": {"TaskTemplate": {"ContainerSpec": {"Image": "x"}}}})),
        "/v1.41/services/tty" => Reply::json(200, serde_json::json!({"Spec": {"TaskTemplate": {"ContainerSpec": {"TTY": true}}}})),
        "/v1.41/exec/e1/json" => Reply::json(200, serde_json::json!({"ProcessConfig": {"tty": true}})),
        "/v1.41/tasks/t1" => Reply::json(200, serde_json::json!({"Spec": {"ContainerSpec": {}}})),
        _ => Reply::stream(None, Vec::new()),
    });
    for (source, framing) in [
        (TtySource::Service("web".into()), Framing::Multiplexed),
        (TtySource::Service("tty".into()), Framing::Raw),
        (TtySource::Exec("e1".into()), Framing::Raw),
        (TtySource::Task("t1".into()), Framing::Multiplexed),
        (TtySource::Known(true), Framing::Raw),
        (TtySource::Known(false), Framing::Multiplexed),
    ] {
        let logs = transport.send_logs(Request::get("/any/logs"), source.clone()).await.unwrap();
        assert_eq!(logs.framing(), framing, "{source:?}");
        assert!(all(logs).await.is_empty());
    }
    // Known asks nobody.
    assert_eq!(daemon.paths().iter().filter(|p| !p.ends_with("/any/logs")).count(), 4, "{:?}", daemon.paths());
}

#[tokio::test]
async fn errors_come_back_before_any_item() {
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), |seen| match seen.path() {
        "/v1.41/containers/gone/json" | "/v1.41/containers/gone/logs" => {
            Reply::json(404, serde_json::json!({"message": "No such container: gone"}))
        }
        _ => Reply::json(501, serde_json::json!({"message": "configured logging driver does not support reading"})),
    });
    let err = transport.send_logs(Request::get("/containers/gone/logs"), TtySource::Container("gone".into())).await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 404, message } if message.contains("gone")), "{err:?}");
    let err = transport.send_logs(Request::get("/containers/c/logs"), TtySource::Known(false)).await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 501, .. }), "{err:?}");
}

#[tokio::test]
async fn a_body_cut_mid_frame_is_an_error_item_then_the_end() {
    let mut bytes = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n\r\n".to_vec();
    bytes.extend_from_slice(&frame(1, b"hello\n"));
    bytes.extend_from_slice(&frame(2, b"cut here")[..11]);
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 44), move |_| Reply::Raw { bytes: bytes.clone(), hold: false });
    let logs = transport.send_logs(Request::get("/containers/c/logs"), TtySource::Known(false)).await.unwrap();
    let items = all(logs).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_ref().ok(), Some(&chunk(StdStream::Stdout, b"hello\n")));
    assert!(matches!(items[1], Err(StreamError::Truncated { expected: 16, received: 11 })), "{items:?}");
}

#[tokio::test]
async fn a_chunked_body_cut_by_the_connection_is_a_transport_error_item() {
    let mut bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let payload = frame(1, b"ok");
    bytes.extend_from_slice(format!("{:x}\r\n", payload.len()).as_bytes());
    bytes.extend_from_slice(&payload);
    // A chunk of 0x20 bytes of which only 10 arrive: a frame's header and two bytes.
    bytes.extend_from_slice(b"\r\n20\r\n");
    bytes.extend_from_slice(&frame(1, b"only part of it")[..10]);
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 44), move |_| Reply::Raw { bytes: bytes.clone(), hold: false });
    let logs = transport.send_logs(Request::get("/containers/c/logs"), TtySource::Known(false)).await.unwrap();
    let items = all(logs).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(&items[1], Err(StreamError::Transport(_))), "{items:?}");
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_a_transport_error_item() {
    let mut bytes = format!("HTTP/1.1 200 OK\r\nContent-Type: {MUX}\r\nContent-Length: 100\r\n\r\n").into_bytes();
    bytes.extend_from_slice(&frame(1, b"first\n"));
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 44), move |_| Reply::Raw { bytes: bytes.clone(), hold: false });
    let logs = transport.send_logs(Request::get("/containers/c/logs"), TtySource::Known(false)).await.unwrap();
    let items = all(logs).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_ref().ok(), Some(&chunk(StdStream::Stdout, b"first\n")));
    assert!(matches!(&items[1], Err(StreamError::Transport(_))), "{items:?}");
    // The same for bytes: the error is the last item.
    let bytes = transport.send_bytes(Request::get("/containers/c/export")).await.unwrap();
    let items = all(bytes).await;
    assert!(matches!(items.last(), Some(Err(Error::Transport(_)))), "{items:?}");
}

#[tokio::test]
async fn the_head_timeout_never_cuts_a_stream_being_read() {
    let (daemon, _) = FakeDaemon::start(ApiVersion::new(1, 44), |_| Reply::Chunked {
        headers: vec![("Content-Type", MUX.to_owned())],
        chunks: (0..4).map(|i| frame(1, format!("{i}").as_bytes())).collect(),
        gap: Duration::from_millis(150),
    });
    // Each piece takes longer than the timeout, and the whole body five times as long.
    let endpoint = Endpoint::new(Host::Unix(daemon.socket())).with_pinned_version(Some(ApiVersion::new(1, 44)));
    let transport = Transport::builder(endpoint, MAX).timeout(Some(Duration::from_millis(100))).build().unwrap();
    let started = std::time::Instant::now();
    let logs = transport.send_logs(Request::get("/containers/c/logs"), TtySource::Known(false)).await.unwrap();
    let items: Vec<_> = all(logs).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(items.len(), 4, "{items:?}");
    assert!(started.elapsed() >= Duration::from_millis(500), "{:?}", started.elapsed());
}

// --- JSON lines, progress, bytes -------------------------------------------------------------

#[tokio::test]
async fn json_lines_progress_and_bytes() {
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), |seen| match seen.path() {
        "/v1.41/events" => Reply::stream(Some("application/json"), b"{\"n\":1}\n{\"n\":2}\nnot json\n{\"n\":3}".to_vec()),
        "/v1.41/images/create" => Reply::stream(
            Some("application/json"),
            b"{\"status\":\"Pulling\",\"id\":\"x\"}\r\n{\"errorDetail\":{\"message\":\"denied\"},\"error\":\"denied\"}\r\n".to_vec(),
        ),
        "/v1.41/containers/c/export" => Reply::stream(Some("application/x-tar"), (0..=255u8).cycle().take(100_000).collect()),
        _ => Reply::json(404, serde_json::json!({"message": "page not found"})),
    });

    #[derive(Debug, serde::Deserialize)]
    struct N {
        n: i64,
    }
    let lines = transport.send_json_lines::<N>(Request::get("/events")).await.unwrap();
    let items = all(lines).await;
    assert_eq!(items.len(), 4, "{items:?}");
    assert_eq!(items[1].as_ref().map(|i| i.n).ok(), Some(2));
    assert!(matches!(&items[2], Err(StreamError::Json { line, .. }) if line == "not json"));
    assert_eq!(items[3].as_ref().map(|i| i.n).ok(), Some(3));

    let progress = transport.send_progress::<serde_json::Value>(Request::post("/images/create").query("fromImage", "x")).await.unwrap();
    let items = all(progress).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_ref().ok().and_then(|m| m.status.as_deref()), Some("Pulling"));
    assert!(matches!(&items[1], Err(StreamError::Daemon { message, code: None }) if message == "denied"), "{items:?}");

    let expected: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let bytes = transport.send_bytes(Request::get("/containers/c/export")).await.unwrap();
    assert_eq!(within("collect", bytes.collect()).await.unwrap(), expected);
    let mut read = transport.send_bytes(Request::get("/containers/c/export")).await.unwrap().into_async_read();
    let mut out = Vec::new();
    within("read", read.read_to_end(&mut out)).await.unwrap();
    assert_eq!(out, expected);

    let err = transport.send_bytes(Request::get("/containers/nope/export")).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn path_stat_from_the_archive_head() {
    use base64::Engine as _;
    let stat = r#"{"name":"hosts","size":174,"mode":420,"mtime":"2024-05-01T10:00:00.5Z","linkTarget":""}"#;
    let header = base64::engine::general_purpose::STANDARD.encode(stat);
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), move |_| Reply::Full {
        status: 200,
        headers: vec![("X-Docker-Container-Path-Stat", header.clone()), ("Content-Type", "application/x-tar".into())],
        body: Vec::new(),
    });
    let response = transport.send(Request::new(Method::HEAD, "/containers/c/archive").query("path", "/etc/hosts")).await.unwrap();
    let stat = PathStat::from_headers(response.headers()).unwrap();
    assert_eq!((stat.name.as_str(), stat.size, stat.mode, stat.link_target.as_str()), ("hosts", 174, 0o644, ""));
}

// --- request bodies --------------------------------------------------------------------------

#[tokio::test]
async fn streamed_bodies_arrive_whole() {
    let (daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), |_| Reply::json(200, serde_json::json!({})));
    let pieces: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(Bytes::from_static(b"one ")), Ok(Bytes::new()), Ok(Bytes::from_static(b"two"))];
    let tar = HeaderValue::from_static("application/x-tar");
    let request = Request::new(Method::PUT, "/containers/c/archive")
        .query("path", "/")
        .body(body_from_stream(futures::stream::iter(pieces)), tar.clone());
    transport.send(request).await.unwrap();
    let large: Vec<u8> = (0..=250u8).cycle().take(300_000).collect();
    let request = Request::post("/images/load").body(body_from_reader(Cursor::new(large.clone())), tar);
    transport.send(request).await.unwrap();
    let seen = daemon.requests();
    assert_eq!(seen[0].body, b"one two");
    assert_eq!(seen[0].headers.get("content-type").map(String::as_str), Some("application/x-tar"));
    assert_eq!(seen[1].body, large);
}

#[tokio::test]
async fn a_streamed_upload_answered_with_progress_arrives_whole() {
    let (daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), |_| {
        Reply::stream(Some("application/json"), b"{\"stream\":\"Loaded image: x\\n\"}\n".to_vec())
    });
    let large: Vec<u8> = (0..=250u8).cycle().take(3_000_000).collect();
    let request =
        Request::post("/images/load").body(body_from_reader(Cursor::new(large.clone())), HeaderValue::from_static("application/x-tar"));
    let items = all(transport.send_progress::<serde_json::Value>(request).await.unwrap()).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].as_ref().ok().and_then(|m| m.stream.as_deref()), Some("Loaded image: x\n"));
    let seen = daemon.requests();
    assert_eq!(seen[0].headers.get("transfer-encoding").map(String::as_str), Some("chunked"));
    assert_eq!(seen[0].body, large);
}

#[tokio::test]
async fn a_failing_body_stream_aborts_the_request() {
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), |_| Reply::json(200, serde_json::json!({})));
    let pieces: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"start")), Err(std::io::Error::other("disk gone"))];
    let request =
        Request::post("/build").body(body_from_stream(futures::stream::iter(pieces)), HeaderValue::from_static("application/x-tar"));
    let err = within("send", transport.send(request)).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

// --- hijack ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_hijack_answered_200_is_an_error_without_reading_the_endless_body() {
    let bytes = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nsome output".to_vec();
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), move |_| Reply::Raw { bytes: bytes.clone(), hold: true });
    let request = Request::post("/containers/c/attach").query("stream", "1");
    let err = within("upgrade", transport.upgrade(request, TtySource::Known(false))).await.unwrap_err();
    assert!(matches!(&err, Error::UnexpectedResponse { status: 200, content_type: Some(ct), .. } if ct == RAW), "{err:?}");
}

#[tokio::test]
async fn a_hijack_refused_with_json_is_an_api_error() {
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), |seen| match seen.path() {
        "/v1.41/exec/e1/json" => Reply::json(200, serde_json::json!({"ProcessConfig": {"tty": false}})),
        _ => Reply::json(409, serde_json::json!({"message": "container c is not running"})),
    });
    let err = transport.upgrade(Request::post("/exec/e1/start"), TtySource::Exec("e1".into())).await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 409, message } if message.contains("not running")), "{err:?}");
}

#[tokio::test]
async fn a_hijack_keeps_early_bytes_and_half_closes_stdin() {
    for (version, content_type) in [(ApiVersion::new(1, 41), RAW), (ApiVersion::new(1, 44), MUX)] {
        let mut head =
            format!("HTTP/1.1 101 UPGRADED\r\nContent-Type: {content_type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n").into_bytes();
        // Output the daemon wrote right behind the head, in the same segment.
        head.extend_from_slice(&frame(1, b"early\n"));
        let (daemon, transport) = FakeDaemon::start(version, move |seen| match seen.path() {
            p if p.ends_with("/containers/c/json") => inspect_with_tty(false),
            _ => Reply::Echo { head: head.clone() },
        });
        let request = Request::post("/containers/c/attach").query("stream", "1").query("stdin", "1");
        let hijacked = within("upgrade", transport.upgrade(request, TtySource::Container("c".into()))).await.unwrap();
        assert_eq!(hijacked.output.framing(), Framing::Multiplexed);
        let (mut output, mut input) = hijacked.split();
        assert_eq!(within("early output", output.next()).await.map(Result::unwrap), Some(chunk(StdStream::Stdout, b"early\n")));
        input.write_all(b"hello\n").await.unwrap();
        input.write_all(b"world\n").await.unwrap();
        input.shutdown().await.unwrap();
        let rest: Vec<_> = all(output).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(rest, [chunk(StdStream::Stderr, b"hello\nworld\n")]);
        let attach = daemon.requests().into_iter().find(|s| s.path().ends_with("/attach")).unwrap();
        assert_eq!(attach.headers.get("connection").map(|v| v.to_ascii_lowercase()).as_deref(), Some("upgrade"));
        assert_eq!(attach.headers.get("upgrade").map(String::as_str), Some("tcp"));
    }
}

#[tokio::test]
async fn exec_start_is_framed_by_its_own_tty_field() {
    let head = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n".to_vec();
    let (daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 41), move |seen| match seen.path() {
        // Created without a TTY: a lookup would say multiplexed.
        "/v1.41/exec/e1/json" => Reply::json(200, serde_json::json!({"ProcessConfig": {"tty": false}})),
        _ => Reply::Raw { bytes: head.clone(), hold: false },
    });
    for (body, framing) in
        [(serde_json::json!({"Detach": false, "Tty": true}), Framing::Raw), (serde_json::json!({"Detach": false}), Framing::Multiplexed)]
    {
        let request = Request::post("/exec/e1/start").json(&body).unwrap();
        let hijacked = transport.upgrade(request, TtySource::Exec("e1".into())).await.unwrap();
        assert_eq!(hijacked.output.framing(), framing, "{body}");
    }
    // Without a JSON body in memory, the exec's inspect is the fallback.
    let request = Request::post("/exec/e1/start")
        .body(body_from_stream(futures::stream::empty::<Result<Bytes, std::io::Error>>()), HeaderValue::from_static("application/json"));
    let hijacked = transport.upgrade(request, TtySource::Exec("e1".into())).await.unwrap();
    assert_eq!(hijacked.output.framing(), Framing::Multiplexed);
    assert_eq!(
        daemon.paths(),
        ["POST /v1.41/exec/e1/start", "POST /v1.41/exec/e1/start", "GET /v1.41/exec/e1/json", "POST /v1.41/exec/e1/start"]
    );
}

#[tokio::test]
async fn a_hijack_whose_connection_drops_ends_the_output() {
    let head =
        b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x09part"
            .to_vec();
    let (_daemon, transport) = FakeDaemon::start(ApiVersion::new(1, 44), move |_| Reply::Raw { bytes: head.clone(), hold: false });
    let hijacked = transport.upgrade(Request::post("/containers/c/attach"), TtySource::Known(false)).await.unwrap();
    let items = all(hijacked.output).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(matches!(items[0], Err(StreamError::Truncated { expected: 17, received: 12 })), "{items:?}");
}

#[test]
fn the_stream_types_can_move_between_tasks() {
    fn check<T: Send + Unpin + 'static>() {}
    check::<LogOutput>();
    check::<JsonLinesOutput<serde_json::Value>>();
    check::<ProgressOutput>();
    check::<ByteStream>();
    check::<Hijacked>();
    check::<HijackOutput>();
    check::<HijackInput>();
    check::<BuildContext>();
    fn reader<R: tokio::io::AsyncRead + Send + Unpin + 'static>(_: impl FnOnce(ByteStream) -> R) {}
    reader(ByteStream::into_async_read);
}
