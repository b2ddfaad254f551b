//! The server runtime over real sockets (a unix socket in a tempdir and loopback TCP),
//! driven by a hand-written HTTP/1.1 client: version prefixes and range, greedy names,
//! Docker's query conventions, JSON errors everywhere, `/_ping` headers, streamed bodies
//! byte for byte, hijacked connections with and without `Upgrade`, panics.
//!
//! The routes and handlers are written the way the generated code writes them: a table of
//! `Route`s whose handlers pull typed parameters out of an `Incoming`.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream;
use moby_api_runtime::server::{
    self, respond, ApiError, ApiVersion, BoxFuture, Hijack, Incoming, Method, Response, Route, ServerConfig, StatusCode, StreamBody,
};
use moby_api_runtime::stream::{LogChunk, StdStream};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::oneshot;

const MAX: ApiVersion = ApiVersion::new(1, 42);
const JSON_LIMIT: usize = 1024;

// --- the service and its routes, as generated code would write them ---------------------------

#[derive(Default)]
struct Fake {
    creates: AtomicUsize,
}

fn answer(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(respond::error)
}

fn ping(_: Arc<Fake>, _: Incoming) -> BoxFuture<Response> {
    Box::pin(async { respond::text(StatusCode::OK, "OK".to_owned()) })
}

fn ping_head(_: Arc<Fake>, _: Incoming) -> BoxFuture<Response> {
    Box::pin(async { respond::empty(StatusCode::OK) })
}

fn container_list(_: Arc<Fake>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        answer((|| {
            let q = incoming.query();
            let all = q.bool("all");
            let limit: Option<i64> = q.number("limit")?;
            let size = q.bool_strict("size")?;
            let filters = q.filters("filters")?;
            let labels: Option<Value> = q.json("labels")?;
            Ok(respond::json(StatusCode::OK, &json!({ "all": all, "limit": limit, "size": size, "filters": filters, "labels": labels })))
        })())
    })
}

fn image_list(_: Arc<Fake>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move { respond::json(StatusCode::OK, &json!({ "op": incoming.context().operation })) })
}

fn image_inspect(_: Arc<Fake>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        answer((|| {
            let name = incoming.path("name")?;
            let auth = incoming.header("X-Registry-Auth")?;
            let ctx = incoming.context();
            Ok(respond::json(
                StatusCode::OK,
                &json!({
                    "name": name,
                    "version": ctx.api_version.to_string(),
                    "versioned": ctx.versioned,
                    "op": ctx.operation,
                    "auth": auth,
                }),
            ))
        })())
    })
}

fn image_delete(_: Arc<Fake>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move { answer(incoming.path("name").map(|name| respond::json(StatusCode::OK, &json!([{ "Untagged": name }])))) })
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBody {
    image: String,
    #[serde(default)]
    cmd: Vec<String>,
}

fn container_create(service: Arc<Fake>, mut incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        let body: CreateBody = match incoming.json_body().await {
            Ok(body) => body,
            Err(e) => return respond::error(e),
        };
        if body.image == "exists" {
            return respond::error(ApiError::conflict("Conflict. The container name is already in use"));
        }
        let n = service.creates.fetch_add(1, Ordering::SeqCst);
        respond::json(StatusCode::CREATED, &json!({ "Id": format!("c{n}"), "Image": body.image, "Cmd": body.cmd, "Warnings": [] }))
    })
}

fn container_update(_: Arc<Fake>, mut incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        match incoming.json_body_opt::<Value>().await {
            Ok(body) => respond::json(StatusCode::OK, &json!({ "got": body })),
            Err(e) => respond::error(e),
        }
    })
}

fn container_start(_: Arc<Fake>, _: Incoming) -> BoxFuture<Response> {
    Box::pin(async { respond::error(ApiError::not_modified()) })
}

fn container_kill(_: Arc<Fake>, _: Incoming) -> BoxFuture<Response> {
    Box::pin(async { respond::error(ApiError::not_implemented("ContainerKill")) })
}

fn build(_: Arc<Fake>, mut incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        let tags = incoming.query().repeated("t");
        let mut context = Vec::new();
        if let Err(e) = incoming.body().into_async_read().read_to_end(&mut context).await {
            return respond::error(ApiError::invalid_argument(e.to_string()));
        }
        let sum: u64 = context.iter().map(|&b| u64::from(b)).sum();
        let messages = vec![
            json!({ "stream": "Step 1/1 : FROM scratch\n" }),
            json!({ "stream": format!("context {} bytes, sum {sum}\n", context.len()) }),
            json!({ "aux": { "ID": "sha256:0123" } }),
            json!({ "stream": format!("Successfully tagged {}\n", tags.join(" ")) }),
        ];
        let body = StreamBody::progress(stream::iter(messages));
        respond::stream(StatusCode::OK, body, incoming.context())
    })
}

fn container_logs(_: Arc<Fake>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        let chunks = vec![
            LogChunk { stream: StdStream::Stdout, bytes: Bytes::from_static(b"hello\n") },
            LogChunk { stream: StdStream::Stderr, bytes: Bytes::from_static(b"oops\n") },
            LogChunk { stream: StdStream::Stdout, bytes: Bytes::new() },
            LogChunk { stream: StdStream::Stdout, bytes: Bytes::from(vec![7u8; 70_000]) },
        ];
        respond::stream(StatusCode::OK, StreamBody::frames(stream::iter(chunks)), incoming.context())
    })
}

fn container_export(_: Arc<Fake>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move { respond::stream(StatusCode::OK, StreamBody::tar_reader(&b"not really a tar"[..]), incoming.context()) })
}

fn events(_: Arc<Fake>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        let since: Option<i64> = match incoming.query().number("since") {
            Ok(v) => v,
            Err(e) => return respond::error(e),
        };
        let items = vec![json!({ "Type": "container", "Action": "start", "time": since }), json!({ "Type": "image", "Action": "pull" })];
        respond::stream(StatusCode::OK, StreamBody::json_lines(stream::iter(items)), incoming.context())
    })
}

/// Echoes stdin to stdout frames until EOF, then says "bye".
fn container_attach(_: Arc<Fake>, mut incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        let hijack = Hijack::new(true, |mut conn| async move {
            let mut buf = [0u8; 4096];
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if conn.write_frame(StdStream::Stdout, &buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = conn.write_frame(StdStream::Stdout, b"bye").await;
            let _ = conn.shutdown().await;
        });
        respond::hijack(&mut incoming, hijack)
    })
}

fn panics(_: Arc<Fake>, _: Incoming) -> BoxFuture<Response> {
    Box::pin(async { panic!("the handler fell over") })
}

fn panics_early(_: Arc<Fake>, _: Incoming) -> BoxFuture<Response> {
    panic!("before the future existed")
}

fn routes() -> Vec<Route<Fake>> {
    let r = |method: Method, path: &'static str, operation: &'static str, handler: fn(Arc<Fake>, Incoming) -> BoxFuture<Response>| {
        Route::new(method, path, operation, handler)
    };
    vec![
        r(Method::GET, "/_ping", "SystemPing", ping),
        r(Method::HEAD, "/_ping", "SystemPingHead", ping_head),
        r(Method::GET, "/containers/json", "ContainerList", container_list),
        r(Method::POST, "/containers/create", "ContainerCreate", container_create),
        r(Method::POST, "/containers/{id}/update", "ContainerUpdate", container_update),
        r(Method::POST, "/containers/{id}/start", "ContainerStart", container_start),
        r(Method::POST, "/containers/{id}/kill", "ContainerKill", container_kill),
        r(Method::GET, "/containers/{id}/logs", "ContainerLogs", container_logs),
        r(Method::GET, "/containers/{id}/export", "ContainerExport", container_export),
        r(Method::POST, "/containers/{id}/attach", "ContainerAttach", container_attach),
        // Deliberately before the list route: precedence, not table order, decides.
        r(Method::GET, "/images/{name}/json", "ImageInspect", image_inspect),
        r(Method::GET, "/images/json", "ImageList", image_list),
        r(Method::DELETE, "/images/{name}", "ImageDelete", image_delete),
        r(Method::POST, "/build", "ImageBuild", build),
        r(Method::GET, "/events", "SystemEvents", events),
        r(Method::GET, "/panic", "Panic", panics),
        r(Method::GET, "/panic-early", "PanicEarly", panics_early),
    ]
}

fn config() -> ServerConfig {
    ServerConfig::new(MAX).json_body_limit(JSON_LIMIT).builder_version("2").swarm("inactive").server_header("fake-daemon/1.0")
}

// --- serving ----------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Target {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl Target {
    async fn connect(&self) -> BufReader<Box<dyn Io>> {
        let io: Box<dyn Io> = match self {
            Target::Unix(path) => Box::new(UnixStream::connect(path).await.expect("connect unix")),
            Target::Tcp(addr) => Box::new(TcpStream::connect(addr).await.expect("connect tcp")),
        };
        BufReader::new(io)
    }
}

struct Servers {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    targets: Vec<Target>,
    stops: Vec<(oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>)>,
}

impl Servers {
    async fn start(config: ServerConfig) -> Servers {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let mut stops = Vec::new();

        let router = server::router(Arc::new(Fake::default()), routes(), config.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let path = socket.clone();
        let task = tokio::spawn(async move {
            server::serve_unix(router, path, 0o660, async move {
                let _ = rx.await;
            })
            .await
        });
        stops.push((tx, task));
        wait_for_socket(&socket).await;

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = server::router(Arc::new(Fake::default()), routes(), config);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve_tcp_listener(router, listener, async move {
            let _ = rx.await;
        }));
        stops.push((tx, task));

        Servers { _dir: dir, targets: vec![Target::Unix(socket.clone()), Target::Tcp(addr)], socket, stops }
    }

    async fn stop(self) {
        for (tx, task) in self.stops {
            let _ = tx.send(());
            let result = tokio::time::timeout(Duration::from_secs(10), task).await.expect("server stops").expect("server task");
            result.expect("server returned an error");
        }
    }
}

async fn wait_for_socket(path: &Path) {
    for _ in 0..200 {
        if UnixStream::connect(path).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} never accepted connections", path.display());
}

// --- a small HTTP/1.1 client ------------------------------------------------------------------

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts a Docker JSON error and returns its message.
    fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.header("content-type"), Some("application/json"), "{self:?}");
        let body = self.json();
        assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
        body["message"].as_str().expect("message is a string").to_owned()
    }
}

async fn read_head(conn: &mut BufReader<Box<dyn Io>>) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    conn.read_line(&mut line).await.unwrap();
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).await.unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').expect("header line");
        headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
    }
    (status, headers)
}

async fn read_answer(conn: &mut BufReader<Box<dyn Io>>, head_request: bool) -> Answer {
    let (status, headers) = read_head(conn).await;
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if head_request || status == 304 || status == 204 || status == 101 {
        // no body
    } else if get("transfer-encoding").as_deref() == Some("chunked") {
        loop {
            let mut size = String::new();
            conn.read_line(&mut size).await.unwrap();
            let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
            let mut chunk = vec![0; n + 2];
            conn.read_exact(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = get("content-length") {
        body = vec![0; n.parse().unwrap()];
        conn.read_exact(&mut body).await.unwrap();
    } else {
        conn.read_to_end(&mut body).await.unwrap();
    }
    Answer { status, headers, body }
}

/// Sends `method target` with optional extra header lines and body on `conn`, reads the answer.
async fn exchange(conn: &mut BufReader<Box<dyn Io>>, method: &str, target: &str, extra: &str, body: &[u8]) -> Answer {
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: api.moby.localhost\r\n{extra}");
    if !body.is_empty() || method == "POST" {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    conn.get_mut().write_all(&bytes).await.unwrap();
    read_answer(conn, method == "HEAD").await
}

async fn call(target: &Target, method: &str, path: &str) -> Answer {
    exchange(&mut target.connect().await, method, path, "", b"").await
}

async fn post_json(target: &Target, path: &str, body: &str) -> Answer {
    exchange(&mut target.connect().await, "POST", path, "Content-Type: application/json\r\n", body.as_bytes()).await
}

fn frame(stream: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![stream, 0, 0, 0];
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
    out.extend_from_slice(data);
    out
}

// --- the tests --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_mode_and_stale_socket() {
    let servers = Servers::start(config()).await;
    let mode = std::fs::metadata(&servers.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    servers.stop().await;

    // A socket left behind by a dead server is replaced; a regular file is not touched.
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let listener = server::bind_unix(&stale, 0o600).unwrap();
    assert_eq!(std::fs::metadata(&stale).unwrap().permissions().mode() & 0o777, 0o600);
    drop(listener);
    let file = dir.path().join("file");
    std::fs::write(&file, "keep me").unwrap();
    let err = server::bind_unix(&file, 0o600).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_headers_on_get_and_head() {
    let servers = Servers::start(config()).await;
    for target in &servers.targets {
        for path in ["/_ping", "/v1.41/_ping"] {
            let a = call(target, "GET", path).await;
            assert_eq!(a.status, 200, "{a:?}");
            assert_eq!(a.body, b"OK");
            assert_eq!(a.header("content-type"), Some("text/plain; charset=utf-8"));
            assert_eq!(a.header("api-version"), Some("1.42"));
            assert_eq!(a.header("ostype"), Some("linux"));
            assert_eq!(a.header("server"), Some("fake-daemon/1.0"));
            assert_eq!(a.header("docker-experimental"), Some("false"));
            assert_eq!(a.header("cache-control"), Some("no-cache, no-store, must-revalidate"));
            assert_eq!(a.header("pragma"), Some("no-cache"));
            assert_eq!(a.header("builder-version"), Some("2"));
            assert_eq!(a.header("swarm"), Some("inactive"));

            let mut conn = target.connect().await;
            let a = exchange(&mut conn, "HEAD", path, "", b"").await;
            assert_eq!(a.status, 200, "{a:?}");
            assert_eq!(a.header("content-length"), Some("0"));
            assert_eq!(a.header("api-version"), Some("1.42"));
            assert_eq!(a.header("docker-experimental"), Some("false"));
            assert_eq!(a.header("swarm"), Some("inactive"));
            // Nothing followed the head: the connection goes on with the next answer.
            let a = exchange(&mut conn, "GET", path, "", b"").await;
            assert_eq!(a.body, b"OK");
        }
        // Not a ping: no ping headers, but the common ones.
        let a = call(target, "GET", "/images/json").await;
        assert_eq!(a.header("docker-experimental"), None);
        assert_eq!(a.header("pragma"), None);
        assert_eq!(a.header("server"), Some("fake-daemon/1.0"));
    }
    servers.stop().await;

    let servers = Servers::start(ServerConfig::new(MAX).experimental(true).os_type("windows")).await;
    let a = call(&servers.targets[1], "GET", "/_ping").await;
    assert_eq!(a.header("docker-experimental"), Some("true"));
    assert_eq!(a.header("ostype"), Some("windows"));
    assert_eq!(a.header("server"), Some("moby-api"));
    assert_eq!(a.header("builder-version"), None);
    assert_eq!(a.header("swarm"), None);
    servers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_route_and_range() {
    let servers = Servers::start(config()).await;
    for target in &servers.targets {
        let a = call(target, "GET", "/images/alpine/json").await;
        assert_eq!(a.json()["version"], "1.42");
        assert_eq!(a.json()["versioned"], false);
        let a = call(target, "GET", "/v1.30/images/alpine/json").await;
        assert_eq!(a.json()["version"], "1.30");
        assert_eq!(a.json()["versioned"], true);
        assert_eq!(a.json()["op"], "ImageInspect");
        let a = call(target, "GET", "/v1.24/images/alpine/json").await;
        assert_eq!(a.json()["version"], "1.24");

        let a = call(target, "GET", "/v1.43/images/alpine/json").await;
        assert_eq!(a.error(400), "client version 1.43 is too new. Maximum supported API version is 1.42");
        assert_eq!(a.header("api-version"), Some("1.42"));
        let a = call(target, "GET", "/v1.23/_ping").await;
        assert_eq!(
            a.error(400),
            "client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
        );
        // Unknown path: 404 whatever the version says, as in the daemon.
        assert_eq!(call(target, "GET", "/v9.99/nothing").await.error(404), "page not found");
        assert_eq!(call(target, "GET", "/vabc/_ping").await.error(404), "page not found");
        assert_eq!(call(target, "GET", "/v/_ping").await.error(404), "page not found");
        assert_eq!(call(target, "GET", "/v1.41").await.error(404), "page not found");
    }
    servers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_methods_are_json_404s() {
    let servers = Servers::start(config()).await;
    for target in &servers.targets {
        for (method, path) in [
            ("GET", "/nope"),
            ("GET", "/"),
            ("PUT", "/containers/json"),
            ("POST", "/_ping"),
            ("GET", "/images/"),
            ("GET", "/images//json"),
            ("DELETE", "/images/"),
            ("GET", "/containers/json/extra"),
        ] {
            let a = call(target, method, path).await;
            assert_eq!(a.error(404), "page not found", "{method} {path}");
            assert_eq!(a.header("server"), Some("fake-daemon/1.0"));
            assert_eq!(a.header("ostype"), Some("linux"));
            assert_eq!(a.header("api-version"), Some("1.42"));
        }
        let a = exchange(&mut target.connect().await, "HEAD", "/nope", "", b"").await;
        assert_eq!(a.status, 404);
        assert_eq!(a.header("content-length"), Some("0"));
    }
    servers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greedy_names() {
    let servers = Servers::start(config()).await;
    for target in &servers.targets {
        for (path, name) in [
            ("/images/alpine/json", "alpine"),
            ("/images/registry:5000/team/app:1.2/json", "registry:5000/team/app:1.2"),
            ("/v1.41/images/docker.io/library/alpine:3.20/json", "docker.io/library/alpine:3.20"),
            ("/images/sha256:0123abcd/json", "sha256:0123abcd"),
            ("/images/a/json/json", "a/json"),
            ("/images/with%20space%3Fq/json", "with space?q"),
            ("/images/app@sha256:ff/json?x=1", "app@sha256:ff"),
        ] {
            let a = call(target, "GET", path).await;
            assert_eq!(a.status, 200, "{path}: {a:?}");
            assert_eq!(a.json()["name"], name, "{path}");
        }
        let a = call(target, "GET", "/images/json").await;
        assert_eq!(a.json()["op"], "ImageList");
        for (path, name) in [("/images/a/b:c", "a/b:c"), ("/v1.42/images/registry:5000/x/y", "registry:5000/x/y"), ("/images/json", "json")]
        {
            let a = call(target, "DELETE", path).await;
            assert_eq!(a.status, 200, "{path}: {a:?}");
            assert_eq!(a.json(), json!([{ "Untagged": name }]));
        }
    }
    servers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_conventions() {
    let servers = Servers::start(config()).await;
    let target = &servers.targets[0];
    for (raw, want) in [
        ("all=1", Some(true)),
        ("all=true", Some(true)),
        ("all=True", Some(true)),
        ("all=yes", Some(true)),
        ("all=%20TRUE%20", Some(true)),
        ("all=", Some(false)),
        ("all", Some(false)),
        ("all=0", Some(false)),
        ("all=no", Some(false)),
        ("all=false", Some(false)),
        ("all=none", Some(false)),
        ("all=NONE+", Some(false)),
        ("other=1", None),
    ] {
        let a = call(target, "GET", &format!("/containers/json?{raw}")).await;
        assert_eq!(a.json()["all"], json!(want), "{raw}");
    }
    for (raw, want) in [("size=1", json!(true)), ("size=T", json!(true)), ("size=False", json!(false)), ("", Value::Null)] {
        let a = call(target, "GET", &format!("/containers/json?{raw}")).await;
        assert_eq!(a.json()["size"], want, "{raw}");
    }
    let message = call(target, "GET", "/containers/json?size=yes").await.error(400);
    assert!(message.contains("\"size\""), "{message}");

    let a = call(target, "GET", "/containers/json?limit=5").await;
    assert_eq!(a.json()["limit"], 5);
    assert_eq!(call(target, "GET", "/containers/json?limit=").await.json()["limit"], Value::Null);
    assert_eq!(call(target, "GET", "/containers/json?limit=-1").await.json()["limit"], -1);
    let message = call(target, "GET", "/containers/json?limit=abc").await.error(400);
    assert_eq!(message, r#"invalid value for query parameter "limit": "abc""#);
    let message = call(target, "GET", "/events?since=1.5").await.error(400);
    assert!(message.contains("\"since\""), "{message}");

    // Both forms of filters, percent-encoded as clients send them.
    let documented = "%7B%22status%22%3A%5B%22exited%22%5D%2C%22label%22%3A%5B%22a%3D1%22%5D%7D";
    let daemon = "%7B%22status%22%3A%7B%22exited%22%3Atrue%7D%2C%22label%22%3A%7B%22a%3D1%22%3Atrue%7D%7D";
    for encoded in [documented, daemon] {
        let a = call(target, "GET", &format!("/containers/json?filters={encoded}")).await;
        assert_eq!(a.json()["filters"], json!({ "label": ["a=1"], "status": ["exited"] }));
    }
    let message = call(target, "GET", "/containers/json?filters=%5B1%5D").await.error(400);
    assert!(message.contains("\"filters\""), "{message}");
    let message = call(target, "GET", "/containers/json?labels=%7Bnope").await.error(400);
    assert!(message.contains("\"labels\""), "{message}");
    let a = call(target, "GET", "/containers/json?labels=%7B%22k%22%3A%22v%22%7D").await;
    assert_eq!(a.json()["labels"], json!({ "k": "v" }));

    // Repeated `t`, and a build context far above the JSON limit streamed through.
    let context: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let sum: u64 = context.iter().map(|&b| u64::from(b)).sum();
    let mut conn = target.connect().await;
    let head = "POST /v1.42/build?t=app%3A1&t=registry%3A5000%2Fteam%2Fapp%3Alatest&q=1 HTTP/1.1\r\nHost: x\r\n\
                Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n";
    conn.get_mut().write_all(head.as_bytes()).await.unwrap();
    for piece in context.chunks(30_000) {
        conn.get_mut().write_all(format!("{:x}\r\n", piece.len()).as_bytes()).await.unwrap();
        conn.get_mut().write_all(piece).await.unwrap();
        conn.get_mut().write_all(b"\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    conn.get_mut().write_all(b"0\r\n\r\n").await.unwrap();
    let a = read_answer(&mut conn, false).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.header("content-type"), Some("application/json"));
    let text = String::from_utf8(a.body).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 4, "{text:?}");
    assert!(text.ends_with("\r\n"));
    assert_eq!(serde_json::from_str::<Value>(lines[1]).unwrap()["stream"], format!("context 100000 bytes, sum {sum}\n"));
    assert_eq!(serde_json::from_str::<Value>(lines[2]).unwrap(), json!({ "aux": { "ID": "sha256:0123" } }));
    assert_eq!(serde_json::from_str::<Value>(lines[3]).unwrap()["stream"], "Successfully tagged app:1 registry:5000/team/app:latest\n");
    servers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_and_errors() {
    let servers = Servers::start(config()).await;
    for target in &servers.targets {
        let a = post_json(target, "/containers/create?name=web", r#"{"Image":"alpine","Cmd":["sh"],"Unknown":{"x":1}}"#).await;
        assert_eq!(a.status, 201, "{a:?}");
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert_eq!(a.json()["Image"], "alpine");
        assert_eq!(a.json()["Cmd"], json!(["sh"]));

        let message = post_json(target, "/containers/create", r#"{"Image": "alp"#).await.error(400);
        assert!(message.starts_with("invalid JSON: "), "{message}");
        let message = post_json(target, "/containers/create", r#"{"Cmd":[]}"#).await.error(400);
        assert!(message.starts_with("invalid JSON: ") && message.contains("Image"), "{message}");
        let message = post_json(target, "/containers/create", "").await.error(400);
        assert!(message.contains("request body"), "{message}");
        let big = format!(r#"{{"Image":"{}"}}"#, "a".repeat(JSON_LIMIT));
        let message = post_json(target, "/containers/create", &big).await.error(413);
        assert!(message.contains(&JSON_LIMIT.to_string()), "{message}");
        assert_eq!(
            post_json(target, "/containers/create", r#"{"Image":"exists"}"#).await.error(409),
            "Conflict. The container name is already in use"
        );

        // Chunked, so the limit is hit while reading rather than from Content-Length.
        let mut conn = target.connect().await;
        let head = "POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        let chunk = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
        conn.get_mut().write_all(format!("{head}{chunk}").as_bytes()).await.unwrap();
        read_answer(&mut conn, false).await.error(413);

        // An optional body may be absent.
        assert_eq!(post_json(target, "/containers/x/update", "").await.json(), json!({ "got": null }));
        assert_eq!(post_json(target, "/containers/x/update", r#"{"Memory":1}"#).await.json(), json!({ "got": { "Memory": 1 } }));

        let a = call(target, "POST", "/containers/x/start").await;
        assert_eq!(a.status, 304);
        assert!(a.body.is_empty());
        let message = call(target, "POST", "/containers/x/kill").await.error(501);
        assert_eq!(message, "ContainerKill is not implemented by this server");

        // A header that is not UTF-8 is a 400 naming it.
        let mut conn = target.connect().await;
        conn.get_mut().write_all(b"GET /images/a/json HTTP/1.1\r\nHost: x\r\nX-Registry-Auth: \xff\xfe\r\n\r\n").await.unwrap();
        let message = read_answer(&mut conn, false).await.error(400);
        assert!(message.contains("X-Registry-Auth"), "{message}");
        let a = exchange(&mut target.connect().await, "GET", "/images/a/json", "X-Registry-Auth: e30=\r\n", b"").await;
        assert_eq!(a.json()["auth"], "e30=");
    }
    servers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_answers_are_byte_exact() {
    let servers = Servers::start(config()).await;
    let mut expected = frame(1, b"hello\n");
    expected.extend(frame(2, b"oops\n"));
    expected.extend(frame(1, &[7u8; 70_000]));
    for target in &servers.targets {
        let a = call(target, "GET", "/v1.41/containers/abc/logs?stdout=1&stderr=1").await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("content-type"), Some("application/vnd.docker.raw-stream"));
        assert_eq!(a.body, expected);
        let a = call(target, "GET", "/containers/abc/logs?stdout=1&stderr=1").await;
        assert_eq!(a.header("content-type"), Some("application/vnd.docker.multiplexed-stream"));
        assert_eq!(a.body, expected);

        let a = call(target, "GET", "/events?since=17").await;
        assert_eq!(a.header("content-type"), Some("application/json"));
        // One JSON value per line; member order depends on serde_json's `preserve_order`,
        // which feature unification may switch on, so compare values, not bytes.
        let text = String::from_utf8(a.body).unwrap();
        assert!(text.ends_with('\n') && !text.contains("\r"), "{text:?}");
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(
            lines,
            [
                serde_json::json!({"Action": "start", "Type": "container", "time": 17}),
                serde_json::json!({"Action": "pull", "Type": "image"})
            ]
        );

        let a = call(target, "GET", "/containers/abc/export").await;
        assert_eq!(a.header("content-type"), Some("application/x-tar"));
        assert_eq!(a.body, b"not really a tar");
    }
    servers.stop().await;
}

async fn attach_upgraded(target: &Target, version: &str, content_type: &str) {
    let mut conn = target.connect().await;
    let request = format!(
        "POST /{version}containers/abc/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\n\
         Content-Type: text/plain\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    );
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let (status, headers) = read_head(&mut conn).await;
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(status, 101, "{headers:?}");
    assert_eq!(get("connection"), Some("Upgrade"));
    assert_eq!(get("upgrade"), Some("tcp"));
    assert_eq!(get("content-type"), Some(content_type));
    assert_eq!(get("api-version"), Some("1.42"));

    let mut got = vec![0u8; 13];
    conn.get_mut().write_all(b"hello").await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), conn.read_exact(&mut got)).await.expect("echo in time").unwrap();
    assert_eq!(got, frame(1, b"hello"));
    conn.get_mut().write_all(b"world!").await.unwrap();
    let mut got = vec![0u8; 14];
    tokio::time::timeout(Duration::from_secs(10), conn.read_exact(&mut got)).await.expect("echo in time").unwrap();
    assert_eq!(got, frame(1, b"world!"));

    // Half-close: stdin ends, the output goes on until the handler is done.
    conn.get_mut().shutdown().await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut rest)).await.expect("bye in time").unwrap();
    assert_eq!(rest, frame(1, b"bye"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hijack_with_upgrade() {
    let servers = Servers::start(config()).await;
    for target in &servers.targets {
        attach_upgraded(target, "", "application/vnd.docker.multiplexed-stream").await;
        attach_upgraded(target, "v1.42/", "application/vnd.docker.multiplexed-stream").await;
        attach_upgraded(target, "v1.41/", "application/vnd.docker.raw-stream").await;
    }
    servers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hijack_without_upgrade_streams_a_200() {
    let servers = Servers::start(config()).await;
    for target in &servers.targets {
        let a = call(target, "POST", "/containers/abc/attach?stream=1&stdout=1").await;
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.header("content-type"), Some("application/vnd.docker.raw-stream"));
        assert_eq!(a.body, frame(1, b"bye"));
    }
    servers.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_become_500s_and_the_connection_lives_on() {
    let servers = Servers::start(config()).await;
    for target in &servers.targets {
        let mut conn = target.connect().await;
        for path in ["/panic", "/panic-early"] {
            let a = exchange(&mut conn, "GET", path, "", b"").await;
            let message = a.error(500);
            assert!(message.contains("Panic"), "{message}");
            assert_eq!(a.header("server"), Some("fake-daemon/1.0"));
        }
        let a = exchange(&mut conn, "GET", "/_ping", "", b"").await;
        assert_eq!(a.body, b"OK");
    }
    servers.stop().await;
}
