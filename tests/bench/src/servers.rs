//! The server half of the benchmark: what serving through the generated routes costs.
//!
//! 1. `GET /v1.41/containers/json?all=1` answered by a `ContainerApi::container_list` behind
//!    `moby_api::v1_41::server::router` (the runtime's dispatcher) against the same work as a
//!    plain axum handler on `axum::Router::route` (same axum, same lenient `all`, same
//!    summaries, `axum::Json`).
//! 2. `GET /_ping` on the example engine (`moby_api_example_engine`) against the real dockerd
//!    of the bench engine.
//!
//! The servers run in this process on a tokio runtime of their own (one worker per core,
//! like dockerd's GOMAXPROCS), each on a unix socket in a private directory; every contender
//! is driven by the same lean client, hyper's `client::conn::http1` over a tokio
//! `UnixStream`, each connection driven by the task that sends on it, kept-alive connections
//! opened before the clock starts: one connection sending N requests one after the other (on
//! a current-thread runtime of its own), and 16 connections sending N/16 each at once (16
//! tasks on the benchmark's multi-thread runtime).
//! Every answer's status and body length are checked; before the runs, the two
//! `containers/json` answers are compared as JSON. Runs are interleaved (the order alternates
//! from slice to slice: each run is cut into ten slices) after one discarded warm-up pair.
//! Rates are the median over the slices; the ratio that decides a target is the median of
//! the ratios of paired slices (sent one right after the other), which cancels the load
//! drifting between seconds on a shared machine.
//!
//! Besides the rates, the CPU time the server spent per request (its threads' run time from
//! `/proc/PID/task/*/schedstat`, the server found by the socket's peer credentials): on a
//! shared machine the wall time moves with the load, the work done much less. And the two
//! routers called in process (`Service::call`, no socket, no HTTP) show what the routing
//! itself costs. Calibration rows measure the direct server against a second socket of itself:
//! two identical servers still differ by this machine's noise, which a ratio must exceed to
//! mean anything.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::{BoxFuture, Either};
use futures::FutureExt;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::{header, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use moby_api::v1_41::models::{
    ContainerSummary, ContainerSummaryHostConfig, ContainerSummaryNetworkSettings, EndpointSettings, Port, PortType,
};
use moby_api::v1_41::server::{self, ContainerListReply, ContainerListRequest};
use moby_api_runtime::server::axum;
use moby_api_runtime::server::{ApiError, Context, Query};
use tokio::net::UnixStream;
use tokio::sync::oneshot;

use crate::Result;

/// Connections of the concurrent measurements.
const CONNECTIONS: usize = 16;
const LIST: &str = "/v1.41/containers/json?all=1";
const PING: &str = "/_ping";
/// The name of the server runtime's threads, whose CPU time is the in-process servers'.
const SERVER_THREADS: &str = "bench-server";

/// Measures both tables and prints them (markdown) after a line saying what ran where.
pub async fn run(docker_socket: &Path, requests: usize, runs: usize) -> Result<()> {
    let servers = Servers::start()?;
    let outcome = measure(&servers, docker_socket, requests, runs).await;
    drop(servers);
    let (dockerd, tables) = outcome?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "Servers: the generated router (moby-api v1_41 on the moby-api-runtime dispatcher), a plain axum {} router and \
         the example engine, in this process on a tokio runtime of {cores} workers, each on a unix socket; dockerd: \
         {dockerd}. One client for all: hyper `client::conn::http1` over tokio `UnixStream`, each connection driven by \
         the task sending on it, kept-alive connections opened before the clock starts; one connection on a \
         current-thread runtime of its own, 16 from 16 tasks on a multi-thread runtime of {cores} workers. Load average \
         {} at the start; {runs} runs, each cut into {SLICES} slices sent alternately with the other contender's, \
         after one warm-up pair.\n",
        env!("AXUM_VERSION"),
        crate::load_average(),
    );
    for table in tables {
        table.print();
    }
    Ok(())
}

async fn measure(servers: &Servers, docker_socket: &Path, requests: usize, runs: usize) -> Result<(String, Vec<Table>)> {
    let version: serde_json::Value = serde_json::from_slice(&fetch(docker_socket, "/version").await?)?;
    let dockerd =
        format!("Docker Engine {} (API {})", version["Version"].as_str().unwrap_or("?"), version["ApiVersion"].as_str().unwrap_or("?"));
    let per_connection = (requests / CONNECTIONS).max(1);
    let sequential_label = format!("{requests} sequential, one connection, in slices of {}", slice_of(requests));
    let concurrent_label =
        format!("{CONNECTIONS} connections × {per_connection}, in slices of {CONNECTIONS} × {}", slice_of(per_connection));
    let in_process_label = format!("{requests} calls of the router in process (no socket, no HTTP; not a target)");

    // The same JSON from both, and the body lengths every timed answer is checked against.
    let generated = fetch(&servers.generated, LIST).await?;
    let direct = fetch(&servers.direct, LIST).await?;
    let (a, b): (serde_json::Value, serde_json::Value) = (serde_json::from_slice(&generated)?, serde_json::from_slice(&direct)?);
    if a != b || a.as_array().map(Vec::len) != Some(3) {
        return Err(format!("the generated and the direct route answer differently:\n{a}\n{b}").into());
    }
    let running = fetch(&servers.generated, "/v1.41/containers/json?all=0").await?;
    if serde_json::from_slice::<serde_json::Value>(&running)?.as_array().map(Vec::len) != Some(2) {
        return Err("the generated route ignores `all`".into());
    }
    let lists = [(servers.generated.as_path(), generated.len()), (servers.direct.as_path(), direct.len())];

    let mut routes = Table::new(
        &format!("Server: generated route vs direct axum, `GET {LIST}` (3 containers, {} bytes of JSON)", direct.len()),
        ["generated (moby-api router)", "direct axum"],
        Target::AtMost(1.1),
    );
    routes.notes.push(
        "Same work on both sides: `all` read with the runtime's lenient `Query::bool`, the summaries cloned from one \
         `Vec` built at start-up, serde_json. The generated side adds what every route gets: the dispatcher's version \
         prefix check and route table, `Server`/`Api-Version`/`Ostype` headers, the typed request (all four query \
         parameters), panic capture, a tracing span (no subscriber installed) and a trailing newline (Go's encoder); \
         it serializes into a buffer sized from the last answer where `axum::Json` grows one from 128 bytes. \
         Ratios: time generated/direct per pair of slices and CPU generated/direct, both the generated route's overhead. The calibration \
         rows measure the direct server against a second socket of itself the same way: their distance from 1.00× \
         is this machine's noise, not a difference of code."
            .into(),
    );
    eprintln!("server: GET {LIST}, {sequential_label}");
    let row = bench(runs, lists.map(|(socket, len)| Some(Contender::sequential(socket, LIST, requests, len)))).await?;
    routes.rows.push(Row::new(sequential_label.clone(), row));
    eprintln!("server: GET {LIST}, {concurrent_label}");
    let row = bench(runs, lists.map(|(socket, len)| Some(Contender::concurrent(socket, LIST, per_connection, len)))).await?;
    routes.rows.push(Row::new(concurrent_label.clone(), row));
    eprintln!("server: GET {LIST}, {in_process_label}");
    let routers = [(servers.routers[0].clone(), generated.len()), (servers.routers[1].clone(), direct.len())];
    let row = bench(runs, routers.map(|(router, len)| Some(Contender::in_process(router, LIST, requests, len)))).await?;
    routes.rows.push(Row { target: false, ..Row::new(in_process_label.clone(), row) });
    // How far two identical servers measure apart on this machine: the noise under the ratios.
    let twins = [(servers.direct_again.as_path(), direct.len()), (servers.direct.as_path(), direct.len())];
    eprintln!("server: calibration, direct axum against itself");
    let row = bench(runs, twins.map(|(socket, len)| Some(Contender::sequential(socket, LIST, requests, len)))).await?;
    routes.rows.push(Row { target: false, ..Row::new(format!("calibration: direct axum against itself, {sequential_label}"), row) });
    let row = bench(runs, twins.map(|(socket, len)| Some(Contender::concurrent(socket, LIST, per_connection, len)))).await?;
    routes.rows.push(Row { target: false, ..Row::new(format!("calibration: direct axum against itself, {concurrent_label}"), row) });

    for socket in [servers.example.as_path(), docker_socket] {
        let body = fetch(socket, PING).await?;
        if body != "OK" {
            return Err(format!("{} answered /_ping with {body:?}", socket.display()).into());
        }
    }
    let pings = [servers.example.as_path(), docker_socket];
    let mut ping = Table::new(
        "Server: `GET /_ping`, example engine vs dockerd",
        ["example engine (moby-api router)", "dockerd"],
        Target::AtLeast(2.0),
    );
    ping.notes.push(format!(
        "dockerd ({dockerd}) is a process of its own; the example engine shares this process (not its threads) with the \
         client. Both answer with the daemon's `/_ping` headers. Ratios: time dockerd/example per pair of slices and CPU \
         dockerd/example, both the example engine's advantage."
    ));
    eprintln!("server: GET {PING}, {sequential_label}");
    let row = bench(runs, pings.map(|socket| Some(Contender::sequential(socket, PING, requests, 2)))).await?;
    ping.rows.push(Row::new(sequential_label, row));
    eprintln!("server: GET {PING}, {concurrent_label}");
    let row = bench(runs, pings.map(|socket| Some(Contender::concurrent(socket, PING, per_connection, 2)))).await?;
    ping.rows.push(Row::new(concurrent_label, row));
    eprintln!("server: GET {PING}, {in_process_label}");
    let row = bench(runs, [Some(Contender::in_process(servers.routers[2].clone(), PING, requests, 2)), None]).await?;
    ping.rows.push(Row { target: false, ..Row::new(in_process_label, row) });

    Ok((dockerd, vec![routes, ping]))
}

// --- the servers --------------------------------------------------------------------------

/// The three in-process servers, on a runtime of their own; stopped and their sockets
/// removed on drop.
struct Servers {
    dir: PathBuf,
    generated: PathBuf,
    direct: PathBuf,
    /// The direct router again, for the calibration rows (the same server measured twice).
    direct_again: PathBuf,
    example: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
    stops: Vec<oneshot::Sender<()>>,
    /// The generated and the direct router and the example engine's, for the in-process rows.
    routers: [axum::Router; 3],
}

impl Servers {
    fn start() -> Result<Servers> {
        let dir = std::env::temp_dir().join(format!("moby-api-bench-servers-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().thread_name(SERVER_THREADS).enable_all().build()?;
        let mut servers = Servers {
            generated: dir.join("generated.sock"),
            direct: dir.join("direct.sock"),
            direct_again: dir.join("direct-again.sock"),
            example: dir.join("example.sock"),
            dir,
            runtime: None,
            stops: Vec::new(),
            routers: [
                server::router(Fixed::new()),
                direct_router(Fixed::new()),
                moby_api_example_engine::router(moby_api_example_engine::Engine::new()),
            ],
        };
        let routers = [
            (servers.generated.clone(), servers.routers[0].clone()),
            (servers.direct.clone(), servers.routers[1].clone()),
            (servers.direct_again.clone(), servers.routers[1].clone()),
            (servers.example.clone(), servers.routers[2].clone()),
        ];
        {
            // Binding registers the listeners with the server runtime's reactor.
            let _entered = runtime.enter();
            for (path, router) in routers {
                let listener = moby_api_runtime::server::bind_unix(&path, 0o600)?;
                let (stop, stopped) = oneshot::channel::<()>();
                servers.stops.push(stop);
                // `serve_unix_listener` is `axum::serve(listener, router).with_graceful_shutdown(…)`:
                // the direct router goes through the very same call.
                runtime.spawn(async move {
                    let shutdown = async {
                        let _ = stopped.await;
                    };
                    if let Err(e) = moby_api_runtime::server::serve_unix_listener(router, listener, shutdown).await {
                        eprintln!("warning: serving {} failed: {e}", path.display());
                    }
                });
            }
        }
        servers.runtime = Some(runtime);
        Ok(servers)
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            // Dropped from inside the client's runtime: no blocking wait.
            runtime.shutdown_background();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Three summaries, two running, built once; every answer clones them.
#[derive(Clone)]
struct Fixed {
    containers: Arc<Vec<ContainerSummary>>,
}

impl Fixed {
    fn new() -> Fixed {
        let summary = |i: usize, name: &str, state: &str, status: &str| {
            let id = format!("{i:x}").repeat(64);
            let network = EndpointSettings {
                network_id: Some("b".repeat(64)),
                endpoint_id: Some(format!("e{i}").repeat(32)),
                gateway: Some("172.17.0.1".into()),
                ip_address: Some(format!("172.17.0.{}", i + 2)),
                ip_prefix_len: Some(16),
                mac_address: Some(format!("02:42:ac:11:00:0{}", i + 2)),
                ..Default::default()
            };
            ContainerSummary {
                id: Some(id),
                names: Some(vec![format!("/{name}")]),
                image: Some("busybox:latest".into()),
                image_id: Some(format!("sha256:{}", "a".repeat(64))),
                command: Some("sleep 3600".into()),
                created: Some(1_700_000_000 + i as i64),
                ports: Some(vec![Port {
                    ip: Some("0.0.0.0".into()),
                    private_port: 80,
                    public_port: Some(8080 + i as u16),
                    r#type: PortType::Tcp,
                }]),
                labels: Some([("com.example.app".to_string(), name.to_string()), ("com.example.tier".into(), "web".into())].into()),
                state: Some(state.into()),
                status: Some(status.into()),
                host_config: Some(ContainerSummaryHostConfig { network_mode: Some("bridge".into()) }),
                network_settings: Some(ContainerSummaryNetworkSettings { networks: Some([("bridge".to_string(), network)].into()) }),
                mounts: Some(Vec::new()),
                ..Default::default()
            }
        };
        let containers = vec![
            summary(1, "web", "running", "Up 2 hours"),
            summary(2, "worker", "running", "Up 2 hours"),
            summary(3, "migrate", "exited", "Exited (0) 2 hours ago"),
        ];
        Fixed { containers: Arc::new(containers) }
    }

    /// Running containers, or all of them with `all`, like the daemon.
    fn list(&self, all: bool) -> Vec<ContainerSummary> {
        self.containers.iter().filter(|c| all || c.state.as_deref() == Some("running")).cloned().collect()
    }
}

impl server::ContainerApi for Fixed {
    async fn container_list(&self, _: &Context, request: ContainerListRequest) -> Result<ContainerListReply, ApiError> {
        Ok(self.list(request.params.all.unwrap_or(false)).into())
    }
}

// The other tags keep their defaults (501 Not Implemented, `/_ping` answers OK).
impl server::ConfigApi for Fixed {}
impl server::DistributionApi for Fixed {}
impl server::ExecApi for Fixed {}
impl server::ImageApi for Fixed {}
impl server::NetworkApi for Fixed {}
impl server::NodeApi for Fixed {}
impl server::PluginApi for Fixed {}
impl server::SecretApi for Fixed {}
impl server::ServiceApi for Fixed {}
impl server::SessionApi for Fixed {}
impl server::SwarmApi for Fixed {}
impl server::SystemApi for Fixed {}
impl server::TaskApi for Fixed {}
impl server::VolumeApi for Fixed {}

/// The same route written directly in axum.
fn direct_router(fixed: Fixed) -> axum::Router {
    axum::Router::new().route("/v1.41/containers/json", axum::routing::get(direct_list)).with_state(fixed)
}

async fn direct_list(
    axum::extract::State(fixed): axum::extract::State<Fixed>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> axum::Json<Vec<ContainerSummary>> {
    let all = Query::parse(query.as_deref().unwrap_or("")).bool("all").unwrap_or(false);
    axum::Json(fixed.list(all))
}

// --- the client ---------------------------------------------------------------------------

type Sender = SendRequest<Empty<Bytes>>;
type Connection = hyper::client::conn::http1::Connection<TokioIo<UnixStream>, Empty<Bytes>>;

/// One HTTP/1.1 connection on `socket`, kept alive until dropped, and the CPU time of the
/// server at its other end.
async fn connect(socket: &Path) -> Result<(Sender, Connection, ServerCpu)> {
    let stream = UnixStream::connect(socket).await.map_err(|e| format!("{}: {e}", socket.display()))?;
    let cpu = ServerCpu::of(&stream);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    Ok((sender, connection, cpu))
}

/// Runs `work` while driving `connection` on the same task: no task of its own, so no
/// wake-ups between tasks on the client's side.
async fn driving<T>(connection: Connection, work: impl Future<Output = Result<T>>) -> Result<T> {
    match futures::future::select(pin!(work), connection).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right((Ok(()), _)) => Err("the server closed the connection".into()),
        Either::Right((Err(e), _)) => Err(e.into()),
    }
}

/// One `GET`; the body of a 200, any other status is an error.
async fn get(sender: &mut Sender, uri: &Uri) -> Result<Bytes> {
    sender.ready().await?;
    let request = hyper::Request::get(uri.clone()).header(header::HOST, "docker").body(Empty::new())?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if status != StatusCode::OK {
        return Err(format!("GET {uri} answered {status}: {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(body)
}

async fn fetch(socket: &Path, uri: &'static str) -> Result<Bytes> {
    let (mut sender, connection, _) = connect(socket).await?;
    driving(connection, async move { get(&mut sender, &Uri::from_static(uri)).await }).await
}

/// `n` requests on one connection; every body must be `len` bytes long.
async fn requests(mut sender: Sender, connection: Connection, uri: Uri, n: usize, len: usize) -> Result<()> {
    let work = async move {
        for _ in 0..n {
            let body = get(&mut sender, &uri).await?;
            if body.len() != len {
                return Err(format!("GET {uri}: {} bytes, expected {len}", body.len()).into());
            }
        }
        Ok(())
    };
    driving(connection, work).await
}

/// `n` requests handed to the router as `http::Request`s on this task: what serving costs
/// without the socket, hyper's parsing and the wake-ups.
async fn call_router(router: axum::Router, uri: Uri, n: usize, len: usize) -> Result<()> {
    use tower::ServiceExt;
    for _ in 0..n {
        let request = hyper::Request::get(uri.clone()).header(header::HOST, "docker").body(axum::body::Body::empty())?;
        let response = router.clone().oneshot(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if status != StatusCode::OK || body.len() != len {
            return Err(format!("GET {uri} in process: {status}, {} bytes, expected 200 and {len}", body.len()).into());
        }
    }
    Ok(())
}

/// The CPU time of a server's threads, from the kernel's scheduler statistics.
#[derive(Clone, Copy)]
enum ServerCpu {
    /// Another process: all its threads.
    Process(u32),
    /// This process: the threads of the server runtime only.
    Ours,
    Unknown,
}

impl ServerCpu {
    fn of(stream: &UnixStream) -> ServerCpu {
        match stream.peer_cred().ok().and_then(|cred| cred.pid()).and_then(|pid| u32::try_from(pid).ok()) {
            Some(pid) if pid == std::process::id() => ServerCpu::Ours,
            Some(pid) => ServerCpu::Process(pid),
            None => ServerCpu::Unknown,
        }
    }

    /// The sum of the first field of `/proc/PID/task/TID/schedstat` (time on a CPU, in ns).
    fn read(self) -> Option<Duration> {
        let (pid, only) = match self {
            ServerCpu::Process(pid) => (pid, None),
            ServerCpu::Ours => (std::process::id(), Some(SERVER_THREADS)),
            ServerCpu::Unknown => return None,
        };
        let mut total = 0;
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
            let path = task.ok()?.path();
            if let Some(name) = only {
                if std::fs::read_to_string(path.join("comm")).map_or(true, |comm| comm.trim_end() != name) {
                    continue;
                }
            }
            // A thread that ended meanwhile is skipped.
            let Ok(stat) = std::fs::read_to_string(path.join("schedstat")) else { continue };
            total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        }
        Some(Duration::from_nanos(total))
    }
}

// --- the runs -----------------------------------------------------------------------------

/// One contender of one row: where and how to send the requests.
#[derive(Clone)]
struct Contender<'a> {
    to: To<'a>,
    uri: &'static str,
    connections: usize,
    per_connection: usize,
    len: usize,
}

#[derive(Clone)]
enum To<'a> {
    /// HTTP/1.1 over a unix socket.
    Socket(&'a Path),
    /// `Service::call` on the router itself.
    Router(axum::Router),
}

/// One contender's result of one run.
#[derive(Clone, Copy)]
struct Sample {
    elapsed: Duration,
    /// The server's CPU time in the run (not measured in process).
    cpu: Option<Duration>,
}

impl<'a> Contender<'a> {
    fn sequential(socket: &'a Path, uri: &'static str, n: usize, len: usize) -> Contender<'a> {
        Contender { to: To::Socket(socket), uri, connections: 1, per_connection: n, len }
    }

    fn concurrent(socket: &'a Path, uri: &'static str, per_connection: usize, len: usize) -> Contender<'a> {
        Contender { to: To::Socket(socket), uri, connections: CONNECTIONS, per_connection, len }
    }

    fn in_process(router: axum::Router, uri: &'static str, n: usize, len: usize) -> Contender<'a> {
        Contender { to: To::Router(router), uri, connections: 1, per_connection: n, len }
    }

    fn name(&self) -> String {
        match &self.to {
            To::Socket(socket) => socket.display().to_string(),
            To::Router(_) => "in-process router".into(),
        }
    }

    /// Opens the connections, then times all the requests: one connection on a
    /// current-thread runtime of its own (a round trip then wakes no other client thread),
    /// several from one task each on this (multi-thread) runtime.
    fn run(&self) -> BoxFuture<'a, Result<Sample>> {
        let Contender { to, uri, connections, per_connection, len } = self.clone();
        let uri = Uri::from_static(uri);
        async move {
            match to {
                To::Router(router) => {
                    let start = Instant::now();
                    call_router(router, uri, per_connection, len).await?;
                    Ok(Sample { elapsed: start.elapsed(), cpu: None })
                }
                To::Socket(socket) if connections == 1 => {
                    let socket = socket.to_path_buf();
                    tokio::task::spawn_blocking(move || {
                        let client = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                        client.block_on(timed(&socket, 1, |mut opened| async move {
                            let (sender, connection, _) = opened.pop().ok_or("no connection")?;
                            requests(sender, connection, uri, per_connection, len).await
                        }))
                    })
                    .await?
                }
                To::Socket(socket) => {
                    timed(socket, connections, |opened| async move {
                        let tasks: Vec<_> = opened
                            .into_iter()
                            .map(|(sender, connection, _)| tokio::spawn(requests(sender, connection, uri.clone(), per_connection, len)))
                            .collect();
                        for task in tasks {
                            task.await??;
                        }
                        Ok(())
                    })
                    .await
                }
            }
        }
        .boxed()
    }
}

/// Opens `connections` connections to `socket`, then times `work` on them, with the server's
/// CPU time.
async fn timed<F, Fut>(socket: &Path, connections: usize, work: F) -> Result<Sample>
where
    F: FnOnce(Vec<(Sender, Connection, ServerCpu)>) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut opened = Vec::with_capacity(connections);
    for _ in 0..connections {
        opened.push(connect(socket).await?);
    }
    let server = opened[0].2;
    let cpu_before = server.read();
    let start = Instant::now();
    work(opened).await?;
    let elapsed = start.elapsed();
    let cpu = cpu_before.zip(server.read()).map(|(before, after)| after.saturating_sub(before));
    Ok(Sample { elapsed, cpu })
}

/// A run of each contender is cut into this many slices, sent alternately.
const SLICES: usize = 10;

/// The requests of one slice of a run of `n` (per connection).
fn slice_of(n: usize) -> usize {
    (n / SLICES).max(1)
}

/// One warm-up pair of slices, then `runs` runs of [`SLICES`] pairs: each contender sends a
/// slice (a tenth of its requests), then the other, the order alternating from pair to pair.
/// Slices a few tens of milliseconds apart see the same machine, so the ratio within a pair
/// is free of the load drifting from second to second, which a ratio of whole runs is not.
async fn bench(runs: usize, contenders: [Option<Contender<'_>>; 2]) -> Result<Measured> {
    let slices = contenders.map(|c| c.map(|c| Contender { per_connection: slice_of(c.per_connection), ..c }));
    let requests = slices.iter().flatten().map(|c| c.connections * c.per_connection).next().unwrap_or(0);
    let mut samples: [Vec<Sample>; 2] = Default::default();
    for pair in 0..=runs * SLICES {
        let order = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let Some(contender) = &slices[i] else { continue };
            let sample = contender.run().await.map_err(|e| format!("{}: {e}", contender.name()))?;
            if pair > 0 {
                samples[i].push(sample);
            }
        }
        if pair > 0 && pair % SLICES == 0 {
            let run: Vec<String> = samples
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| format!("{:.3} s", s[s.len() - SLICES..].iter().map(|x| x.elapsed.as_secs_f64()).sum::<f64>()))
                .collect();
            eprintln!("  run {}: {}", pair / SLICES, run.join(", "));
        }
    }
    Ok(Measured { requests, samples })
}

/// The slices of one row: `samples[i][k]` is contender `i`'s `k`-th slice of `requests`
/// requests; `samples[0][k]` and `samples[1][k]` ran one right after the other.
struct Measured {
    requests: usize,
    samples: [Vec<Sample>; 2],
}

// --- the tables ---------------------------------------------------------------------------

struct Row {
    label: String,
    measured: Measured,
    /// Whether the table's target applies to this row.
    target: bool,
}

impl Row {
    fn new(label: String, measured: Measured) -> Row {
        Row { label, measured, target: true }
    }

    fn median(&self, i: usize, of: impl Fn(&Sample) -> Option<Duration>) -> Option<Duration> {
        let mut v: Vec<Duration> = self.measured.samples[i].iter().filter_map(of).collect();
        v.sort();
        v.get(v.len() / 2).copied()
    }

    /// Median rate of contender `i`'s slices.
    fn rate(&self, i: usize) -> Option<f64> {
        Some(self.measured.requests as f64 / self.median(i, |s| Some(s.elapsed))?.as_secs_f64())
    }

    /// Median server CPU time per request, µs.
    fn cpu(&self, i: usize) -> Option<f64> {
        Some(self.median(i, |s| s.cpu)?.as_secs_f64() * 1e6 / self.measured.requests as f64)
    }

    /// The time ratio of each pair of slices ([`Target::ratio`]), sorted.
    fn paired(&self, target: Target) -> Vec<f64> {
        let [a, b] = &self.measured.samples;
        let mut ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| target.ratio(a.elapsed.as_secs_f64(), b.elapsed.as_secs_f64())).collect();
        ratios.sort_by(f64::total_cmp);
        ratios
    }

    /// The median of the paired ratios and their quartiles.
    fn paired_quartiles(&self, target: Target) -> Option<[f64; 3]> {
        let ratios = self.paired(target);
        let at = |q: usize| ratios.get((ratios.len() - 1) * q / 4).copied();
        Some([at(2)?, at(1)?, at(3)?])
    }

    /// The ratio of the median CPU times per request ([`Target::ratio`]).
    fn cpu_ratio(&self, target: Target) -> Option<f64> {
        let (a, b) = self.cpu(0).zip(self.cpu(1))?;
        Some(target.ratio(a, b))
    }
}

#[derive(Clone, Copy)]
enum Target {
    AtMost(f64),
    AtLeast(f64),
}

impl Target {
    /// The ratio of the first contender's cost to the second's, oriented like the target:
    /// for `AtMost` the first one's overhead (`first / second`), for `AtLeast` its
    /// advantage (`second / first`).
    fn ratio(self, first: f64, second: f64) -> f64 {
        match self {
            Target::AtMost(_) => first / second,
            Target::AtLeast(_) => second / first,
        }
    }

    fn met(self, ratio: f64) -> bool {
        match self {
            Target::AtMost(f) => ratio <= f,
            Target::AtLeast(f) => ratio >= f,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::AtMost(x) => write!(f, "≤ {x}×"),
            Target::AtLeast(x) => write!(f, "≥ {x}×"),
        }
    }
}

struct Table {
    title: String,
    columns: [&'static str; 2],
    rows: Vec<Row>,
    notes: Vec<String>,
    /// On the rate ratio of the rows that have `target`. Shown, not asserted.
    target: Target,
}

impl Table {
    fn new(title: &str, columns: [&'static str; 2], target: Target) -> Table {
        Table { title: title.into(), columns, rows: Vec::new(), notes: Vec::new(), target }
    }

    fn print(&self) {
        let [a, b] = self.columns;
        println!("### {}\n", self.title);
        println!(
            "Requests per second (median of the slices; higher is better), the paired ratio (median of the ratios \
             of slices sent one right after the other, and its quartiles) and the server's CPU time per request \
             (its threads' time on a CPU; lower is better).\n"
        );
        println!("| measurement | {a} | {b} | paired ratio [quartiles] | {a}: CPU/request | {b}: CPU/request | CPU ratio |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        let ratio = |r: Option<f64>| r.map_or("–".to_string(), |r| format!("{r:.2}×"));
        for row in &self.rows {
            let rate = |i: usize| row.rate(i).map_or("–".into(), |rate| format!("{rate:.0} req/s"));
            let cpu = |i: usize| row.cpu(i).map_or("–".into(), |us| format!("{us:.1} µs"));
            let paired = row.paired_quartiles(self.target).map_or("–".into(), |[m, lo, hi]| format!("{m:.2}× [{lo:.2}–{hi:.2}]"));
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                row.label,
                rate(0),
                rate(1),
                paired,
                cpu(0),
                cpu(1),
                ratio(row.cpu_ratio(self.target))
            );
        }
        println!();
        for note in &self.notes {
            println!("{note}\n");
        }
        let verdicts: Vec<String> = self
            .rows
            .iter()
            .filter(|row| row.target)
            .filter_map(|row| {
                let [median, ..] = row.paired_quartiles(self.target)?;
                Some(format!("{} ({median:.2}×) for {}", if self.target.met(median) { "met" } else { "missed" }, row.label))
            })
            .collect();
        println!("Target paired ratio {}: {}.\n", self.target, verdicts.join("; "));
    }
}
