//! The typed streams, hijacks and streamed bodies against a real Docker Engine (20.10, API
//! 1.41), with nothing but `Transport` and `Request`: logs framed and raw (decided by the
//! TTY lookup, since 1.41 never says), events and stats as JSON lines, an image import and
//! a build as progress, export and archives as tar, attach and exec with stdin closed by a
//! half-close.
//!
//! Start an engine with `bash tests/engine/engine.sh start /tmp/mae` and run with
//! `MOBY_API_TEST_ENGINE_20_10=unix:///tmp/mae/docker.sock`. Without that variable the
//! tests print "skipped: no engine" and pass, except under CI (`CI` set), where they fail.
//! Everything created carries the label `org.example.moby-api-runtime-test` and is removed
//! again, also when a test fails.

use std::io::Read as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt as _;
use moby_api_runtime::client::header::HeaderValue;
use moby_api_runtime::client::{
    body_from_reader, body_from_stream, build_context, ApiVersion, Endpoint, Hijacked, Host, Method, PathStat, Request, Transport,
    TtySource,
};
use moby_api_runtime::stream::{Framing, LogChunk, StdStream, StreamError};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const MAX: ApiVersion = ApiVersion::new(1, 49);
const LABEL: &str = "org.example.moby-api-runtime-test";
/// Longer than any step here takes on a slow machine; a hang fails instead of blocking.
const PATIENCE: Duration = Duration::from_secs(120);

mod support;
use support::engine_host;

/// Removes what a test created when it ends, passed or failed: in a thread with its own
/// runtime, since `Drop` cannot await.
struct Cleanup {
    host: Host,
    containers: Vec<String>,
    images: Vec<String>,
}

impl Cleanup {
    fn new(host: &Host) -> Cleanup {
        Cleanup { host: host.clone(), containers: Vec::new(), images: Vec::new() }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (host, containers, images) = (self.host.clone(), std::mem::take(&mut self.containers), std::mem::take(&mut self.images));
        let removal = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                let Ok(t) = Transport::new(Endpoint::new(host), MAX) else { return };
                for id in containers {
                    let request = Request::delete(format!("/containers/{id}")).query("force", "1").query("v", "1");
                    if let Err(e) = t.send(request).await {
                        if !e.is_not_found() {
                            eprintln!("cleanup: container {id}: {e}");
                        }
                    }
                }
                for image in images {
                    if let Err(e) = t.send(Request::delete(format!("/images/{image}")).query("force", "1")).await {
                        if !e.is_not_found() {
                            eprintln!("cleanup: image {image}: {e}");
                        }
                    }
                }
            });
        });
        let _ = removal.join();
    }
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.unwrap_or_else(|_| panic!("{what} took more than {PATIENCE:?}"))
}

/// Creates a busybox container from `config` (merged over the defaults) and registers it
/// for removal.
async fn create(t: &Transport, cleanup: &mut Cleanup, config: Value) -> String {
    let mut body = json!({
        "Image": "busybox:test",
        "Labels": {LABEL: "1"},
        "HostConfig": {"NetworkMode": "none"},
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), config) {
        body.extend(extra);
    }
    let created: Value = t.send_json(Request::post("/containers/create").json(&body).unwrap()).await.unwrap();
    let id = created["Id"].as_str().expect("container id").to_owned();
    cleanup.containers.push(id.clone());
    id
}

async fn start(t: &Transport, id: &str) {
    t.send(Request::post(format!("/containers/{id}/start"))).await.unwrap();
}

async fn wait(t: &Transport, id: &str) -> i64 {
    let status: Value = within("wait", t.send_json(Request::post(format!("/containers/{id}/wait")))).await.unwrap();
    status["StatusCode"].as_i64().expect("StatusCode")
}

async fn chunks<S: futures::Stream<Item = Result<LogChunk, StreamError>> + Unpin>(stream: S) -> (Vec<u8>, Vec<u8>) {
    let items: Vec<_> = within("reading output", stream.collect()).await;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    for item in items {
        let chunk = item.unwrap();
        match chunk.stream {
            StdStream::Stdout | StdStream::Stdin => out.extend_from_slice(&chunk.bytes),
            StdStream::Stderr => err.extend_from_slice(&chunk.bytes),
        }
    }
    (out, err)
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn tar_names(bytes: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(bytes);
    archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect()
}

fn transport(host: Host) -> Transport {
    Transport::new(Endpoint::new(host), MAX).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_framed_and_raw() {
    let Some(host) = engine_host() else { return };
    let t = transport(host.clone());
    let mut cleanup = Cleanup::new(&host);

    let plain = create(&t, &mut cleanup, json!({"Cmd": ["sh", "-c", "echo out; echo err >&2"]})).await;
    start(&t, &plain).await;
    assert_eq!(wait(&t, &plain).await, 0);
    let request = Request::get(format!("/containers/{plain}/logs")).query("stdout", "1").query("stderr", "1");
    let logs = t.send_logs(request, TtySource::Container(plain.clone())).await.unwrap();
    assert_eq!(t.known_api_version(), Some(ApiVersion::new(1, 41)));
    assert_eq!(logs.framing(), Framing::Multiplexed);
    assert_eq!(chunks(logs).await, (b"out\n".to_vec(), b"err\n".to_vec()));

    let tty = create(&t, &mut cleanup, json!({"Cmd": ["sh", "-c", "echo tty; echo err >&2"], "Tty": true})).await;
    start(&t, &tty).await;
    assert_eq!(wait(&t, &tty).await, 0);
    let request = Request::get(format!("/containers/{tty}/logs")).query("stdout", "1").query("stderr", "1");
    let logs = t.send_logs(request, TtySource::Container(tty.clone())).await.unwrap();
    assert_eq!(logs.framing(), Framing::Raw);
    let (out, err) = chunks(logs).await;
    assert_eq!((String::from_utf8_lossy(&out).as_ref(), err.len()), ("tty\r\nerr\r\n", 0));

    // Following a running container: chunks as they are written, the end when it exits.
    let follow = create(&t, &mut cleanup, json!({"Cmd": ["sh", "-c", "echo first; sleep 1; echo second >&2"]})).await;
    start(&t, &follow).await;
    let request = Request::get(format!("/containers/{follow}/logs")).query("follow", "1").query("stdout", "1").query("stderr", "1");
    let mut logs = within("follow head", t.send_logs(request, TtySource::Container(follow.clone()))).await.unwrap();
    let first = within("first chunk", logs.next()).await.map(Result::unwrap);
    assert_eq!(first.map(|c| (c.stream, c.bytes)), Some((StdStream::Stdout, Bytes::from_static(b"first\n"))));
    assert_eq!(chunks(logs).await, (Vec::new(), b"second\n".to_vec()));

    let err = t.send_logs(Request::get("/containers/moby-api-no-such/logs"), TtySource::Container("moby-api-no-such".into())).await;
    assert!(err.is_err_and(|e| e.is_not_found()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_stats_as_json_lines() {
    let Some(host) = engine_host() else { return };
    let t = transport(host.clone());
    let mut cleanup = Cleanup::new(&host);

    let since = now() - 1.0;
    let id = create(&t, &mut cleanup, json!({"Cmd": ["sleep", "60"]})).await;
    start(&t, &id).await;

    // One-shot stats: a single value, then the end.
    let request = Request::get(format!("/containers/{id}/stats")).query("stream", "false");
    let stats: Vec<_> = within("one-shot stats", t.send_json_lines::<Value>(request).await.unwrap().collect()).await;
    assert_eq!(stats.len(), 1, "{stats:?}");
    assert!(stats[0].as_ref().is_ok_and(|s| s["read"].is_string() && s["memory_stats"].is_object()), "{stats:?}");

    // Streamed stats: a new value about every second, for as long as one reads.
    let request = Request::get(format!("/containers/{id}/stats"));
    let streamed: Vec<_> = within("streamed stats", t.send_json_lines::<Value>(request).await.unwrap().take(2).collect()).await;
    assert_eq!(streamed.len(), 2);
    assert!(streamed.iter().all(|s| s.as_ref().is_ok_and(|s| s["id"] == id.as_str())), "{streamed:?}");

    t.send(Request::post(format!("/containers/{id}/kill"))).await.unwrap();
    wait(&t, &id).await;

    // Events of a bounded window: the body ends once `until` has passed.
    let until = now() + 1.0;
    let filters = json!({"container": [id.clone()]}).to_string();
    let request =
        Request::get("/events").query("since", format!("{since:.3}")).query("until", format!("{until:.3}")).query("filters", filters);
    let events: Vec<_> = within("events", t.send_json_lines::<Value>(request).await.unwrap().collect()).await;
    let actions: Vec<String> = events.iter().map(|e| e.as_ref().unwrap()["Action"].as_str().unwrap_or("").to_owned()).collect();
    for action in ["create", "start", "kill", "die"] {
        assert!(actions.iter().any(|a| a == action), "{action} missing from {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_export_and_archives() {
    let Some(host) = engine_host() else { return };
    let t = transport(host.clone());
    let mut cleanup = Cleanup::new(&host);
    let tar = HeaderValue::from_static("application/x-tar");

    // Import: the body read from an AsyncRead, the answer as progress.
    let image = "moby-api-runtime-test-import:streams";
    cleanup.images.push(image.to_owned());
    let rootfs = tar_of(&[("hello.txt", b"hello from an import\n")]);
    let request = Request::post("/images/create")
        .query("fromSrc", "-")
        .query("repo", "moby-api-runtime-test-import")
        .query("tag", "streams")
        .body(body_from_reader(std::io::Cursor::new(rootfs)), tar.clone());
    let messages: Vec<_> = within("import", t.send_progress::<serde_json::Value>(request).await.unwrap().collect()).await;
    let statuses: Vec<String> = messages.into_iter().map(|m| m.unwrap().status.unwrap_or_default()).collect();
    assert!(statuses.iter().any(|s| s.starts_with("sha256:")), "{statuses:?}");
    let inspect: Value = t.send_json(Request::get(format!("/images/{image}/json"))).await.unwrap();
    assert!(inspect["Id"].as_str().is_some_and(|id| id.starts_with("sha256:")));

    // Export: a tar of the whole filesystem, as a byte stream.
    let id = create(&t, &mut cleanup, json!({"Cmd": ["true"]})).await;
    let export = within("export", t.send_bytes(Request::get(format!("/containers/{id}/export"))).await.unwrap().collect()).await.unwrap();
    let names = tar_names(&export);
    assert!(names.iter().any(|n| n == "bin/busybox" || n == "bin/sh"), "{} entries", names.len());

    // Archive put from a byte stream, in pieces.
    let payload = tar_of(&[("greeting.txt", b"hello, archive\n"), ("dir/inner.txt", b"inner\n")]);
    let pieces: Vec<Result<Bytes, std::io::Error>> = payload.chunks(700).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let request = Request::new(Method::PUT, format!("/containers/{id}/archive"))
        .query("path", "/tmp")
        .body(body_from_stream(futures::stream::iter(pieces)), tar);
    t.send(request).await.unwrap();

    // HEAD: the path's stat in a header.
    let request = Request::new(Method::HEAD, format!("/containers/{id}/archive")).query("path", "/tmp/greeting.txt");
    let stat = PathStat::from_headers(t.send(request).await.unwrap().headers()).unwrap();
    assert_eq!((stat.name.as_str(), stat.size, stat.mode & 0o777, stat.link_target.as_str()), ("greeting.txt", 15, 0o644, ""));
    let request = Request::new(Method::HEAD, format!("/containers/{id}/archive")).query("path", "/tmp/dir");
    let dir = PathStat::from_headers(t.send(request).await.unwrap().headers()).unwrap();
    assert_eq!(dir.mode & (1 << 31), 1 << 31, "{dir:?}");

    // GET: the file back, read through AsyncRead.
    let request = Request::get(format!("/containers/{id}/archive")).query("path", "/tmp/greeting.txt");
    let mut reader = t.send_bytes(request).await.unwrap().into_async_read();
    let mut archive = Vec::new();
    within("archive", reader.read_to_end(&mut archive)).await.unwrap();
    let mut tar = tar::Archive::new(archive.as_slice());
    let mut entry = tar.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.path().unwrap().to_string_lossy(), "greeting.txt");
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    assert_eq!(text, "hello, archive\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_with_stdin() {
    let Some(host) = engine_host() else { return };
    let t = transport(host.clone());
    let mut cleanup = Cleanup::new(&host);

    let config = json!({
        "Cmd": ["cat"],
        "OpenStdin": true,
        "StdinOnce": true,
        "AttachStdin": true,
        "AttachStdout": true,
        "AttachStderr": true,
    });
    let id = create(&t, &mut cleanup, config).await;
    let request = Request::post(format!("/containers/{id}/attach"))
        .query("stream", "1")
        .query("stdin", "1")
        .query("stdout", "1")
        .query("stderr", "1");
    let hijacked = within("attach", t.upgrade(request, TtySource::Container(id.clone()))).await.unwrap();
    assert_eq!(hijacked.output.framing(), Framing::Multiplexed);
    let (output, mut input) = hijacked.split();
    start(&t, &id).await;
    input.write_all(b"hello\n").await.unwrap();
    input.shutdown().await.unwrap();
    assert_eq!(chunks(output).await, (b"hello\n".to_vec(), Vec::new()));
    assert_eq!(wait(&t, &id).await, 0);

    // A missing container: the daemon hijacks to say so, in plain text.
    let request = Request::post("/containers/moby-api-no-such/attach").query("stream", "1").query("stdout", "1");
    let err = within("attach to nothing", t.upgrade(request, TtySource::Known(false))).await.unwrap_err();
    assert!(err.is_not_found() && err.to_string().contains("No such container"), "{err:?}");
    let request = Request::post("/exec/moby-api-no-such/start").json(&json!({"Detach": false, "Tty": false})).unwrap();
    let err = within("start no exec", t.upgrade(request, TtySource::Exec("moby-api-no-such".into()))).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_with_stdin_and_with_a_tty() {
    let Some(host) = engine_host() else { return };
    let t = transport(host.clone());
    let mut cleanup = Cleanup::new(&host);

    let id = create(&t, &mut cleanup, json!({"Cmd": ["sleep", "120"]})).await;
    start(&t, &id).await;

    let exec = json!({"AttachStdin": true, "AttachStdout": true, "AttachStderr": true, "Cmd": ["sh", "-c", "cat; echo done >&2"]});
    let created: Value = t.send_json(Request::post(format!("/containers/{id}/exec")).json(&exec).unwrap()).await.unwrap();
    let exec_id = created["Id"].as_str().unwrap().to_owned();
    let request = Request::post(format!("/exec/{exec_id}/start")).json(&json!({"Detach": false, "Tty": false})).unwrap();
    let hijacked = within("exec start", t.upgrade(request, TtySource::Exec(exec_id.clone()))).await.unwrap();
    assert_eq!(hijacked.output.framing(), Framing::Multiplexed);
    let Hijacked { output, mut input } = hijacked;
    input.write_all(b"hello\n").await.unwrap();
    input.shutdown().await.unwrap();
    assert_eq!(chunks(output).await, (b"hello\n".to_vec(), b"done\n".to_vec()));
    let mut inspect = Value::Null;
    for _ in 0..50 {
        inspect = t.send_json(Request::get(format!("/exec/{exec_id}/json"))).await.unwrap();
        if inspect["Running"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(inspect["ExitCode"], 0, "{inspect}");

    // With a TTY the output is raw; the exec's own inspect says so.
    let exec = json!({"AttachStdout": true, "AttachStderr": true, "Tty": true, "Cmd": ["sh", "-c", "echo tty; echo err >&2"]});
    let created: Value = t.send_json(Request::post(format!("/containers/{id}/exec")).json(&exec).unwrap()).await.unwrap();
    let exec_id = created["Id"].as_str().unwrap().to_owned();
    let request = Request::post(format!("/exec/{exec_id}/start")).json(&json!({"Detach": false, "Tty": true})).unwrap();
    let hijacked = within("tty exec start", t.upgrade(request, TtySource::Exec(exec_id))).await.unwrap();
    assert_eq!(hijacked.output.framing(), Framing::Raw);
    let (out, err) = chunks(hijacked.output).await;
    assert_eq!((String::from_utf8_lossy(&out).as_ref(), err.len()), ("tty\r\nerr\r\n", 0));

    // Created without a TTY but started with `Tty: true`: the daemon sends it raw, and the
    // start body, not the exec's inspect, says so.
    let exec = json!({"AttachStdout": true, "AttachStderr": true, "Tty": false, "Cmd": ["sh", "-c", "echo no-tty; echo err >&2"]});
    let created: Value = t.send_json(Request::post(format!("/containers/{id}/exec")).json(&exec).unwrap()).await.unwrap();
    let exec_id = created["Id"].as_str().unwrap().to_owned();
    let request = Request::post(format!("/exec/{exec_id}/start")).json(&json!({"Detach": false, "Tty": true})).unwrap();
    let hijacked = within("mixed exec start", t.upgrade(request, TtySource::Exec(exec_id))).await.unwrap();
    assert_eq!(hijacked.output.framing(), Framing::Raw);
    // The daemon passes stdout through unframed and drops stderr.
    let (out, err) = chunks(hijacked.output).await;
    assert_eq!((String::from_utf8_lossy(&out).as_ref(), err.len()), ("no-tty\n", 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_with_a_dockerignore() {
    let Some(host) = engine_host() else { return };
    let t = transport(host.clone());
    let mut cleanup = Cleanup::new(&host);
    let image = "moby-api-runtime-test-build:streams";
    cleanup.images.push(image.to_owned());

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("Dockerfile", "FROM busybox:test\nCOPY . /ctx\nRUN ls -R /ctx\n");
    write(".dockerignore", "# not sent\n*.secret\nignored_dir\n!ignored_dir/wanted.txt\nDockerfile\n");
    write("kept.txt", "kept");
    write("top.secret", "hidden");
    write("sub/nested.secret", "a nested .secret is sent: *.secret is only the root");
    write("sub/kept2.txt", "kept");
    write("ignored_dir/unwanted.txt", "hidden");
    write("ignored_dir/wanted.txt", "kept by the exception");

    let request = Request::post("/build")
        .query("t", image)
        .query("rm", "1")
        .query("forcerm", "1")
        .query("networkmode", "none")
        .query("labels", json!({LABEL: "1"}).to_string())
        .body(build_context(dir.path()).await.unwrap(), HeaderValue::from_static("application/x-tar"));
    let messages: Vec<_> = within("build", t.send_progress::<serde_json::Value>(request).await.unwrap().collect()).await;
    let mut output = String::new();
    for message in messages {
        match message {
            Ok(m) => output.push_str(m.stream.as_deref().unwrap_or_default()),
            Err(e) => panic!("build failed: {e}\n{output}"),
        }
    }
    println!("{output}");
    // The Dockerfile was sent although `.dockerignore` names it (the build read it), and
    // the daemon then took it out of the context again, as it does for matched Dockerfiles.
    for present in ["kept.txt", "kept2.txt", "nested.secret", "wanted.txt", "Successfully built"] {
        assert!(output.contains(present), "{present} missing:\n{output}");
    }
    for absent in ["top.secret", "unwanted.txt"] {
        assert!(!output.contains(absent), "{absent} was sent:\n{output}");
    }

    // A failing step arrives as an error item after the 200.
    write("Dockerfile", "FROM busybox:test\nRUN exit 3\n");
    let request = Request::post("/build")
        .query("rm", "1")
        .query("forcerm", "1")
        .query("networkmode", "none")
        .body(build_context(dir.path()).await.unwrap(), HeaderValue::from_static("application/x-tar"));
    let messages: Vec<_> = within("failing build", t.send_progress::<serde_json::Value>(request).await.unwrap().collect()).await;
    let error = messages.iter().find_map(|m| m.as_ref().err());
    assert!(matches!(error, Some(StreamError::Daemon { message, .. }) if message.contains("returned a non-zero code: 3")), "{messages:?}");
}
