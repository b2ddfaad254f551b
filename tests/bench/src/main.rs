//! Benchmark of the generated `moby-api` client against bollard and curl, on one Docker
//! Engine socket and one tokio runtime: request rates (`GET /_ping` sequential and from 16
//! tasks, `GET /containers/json?all=1`) and the throughput of reading a large log; and of the
//! generated server (module `servers`): a generated route against the same handler in plain
//! axum, and the example engine's `/_ping` against dockerd's.
//!
//! A benchmark, not a test: it measures and prints markdown tables; nothing about time is
//! asserted. The contenders run interleaved (the order alternates from run to run), the
//! request rates after one discarded warm-up round, and each cell is the median of the runs.
//! The project's targets are shown next to the tables (met or missed), never enforced.
//!
//! ```text
//! moby-api-bench --socket PATH [--requests N] [--log-mb M] [--runs R] [--containers C]
//!                [--server-requests N] [--only client|server]
//! ```
//!
//! `cargo xtask bench-peers` starts a private engine, builds this crate in release and runs it.

mod servers;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bollard::query_parameters::{ListContainersOptionsBuilder, LogsOptionsBuilder};
use bollard::{ClientVersion, Docker};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use moby_api::v1_41::client::Client;
use moby_api::v1_41::params::{ContainerListParams, ContainerLogsParams};
use moby_api::v1_41::API_VERSION;
use moby_api_runtime::client::{Endpoint, Host, Request, Transport};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

/// Every container this run creates carries this label (value: the process id).
const LABEL: &str = "org.example.moby-api-bench";
const IMAGE: &str = "busybox:test";
/// Tasks of the concurrent `/_ping` and `/containers/json` measurements.
const TASKS: usize = 16;
/// One log line: 63 characters and the newline.
const LINE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";

struct Args {
    socket: PathBuf,
    requests: usize,
    log_mb: u64,
    runs: usize,
    containers: usize,
    /// Requests per run of the server measurements (sequential; N/16 per connection).
    server_requests: usize,
    client: bool,
    server: bool,
}

const USAGE: &str = "moby-api-bench --socket PATH [--requests N] [--log-mb M] [--runs R (>= 3)] [--containers C] \
                     [--server-requests N] [--only client|server]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        socket: PathBuf::new(),
        requests: 2000,
        log_mb: 64,
        runs: 5,
        containers: 20,
        server_requests: 10_000,
        client: true,
        server: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| text.parse::<u64>().map_err(|e| format!("{flag} {text}: {e}"));
        match flag.as_str() {
            "--socket" => {
                let text = value()?;
                args.socket = PathBuf::from(text.strip_prefix("unix://").unwrap_or(&text));
            }
            "--requests" => args.requests = number(value()?)?.max(TASKS as u64) as usize,
            "--log-mb" => args.log_mb = number(value()?)?.max(1),
            "--runs" => args.runs = number(value()?)?.max(3) as usize,
            "--containers" => args.containers = number(value()?)? as usize,
            "--server-requests" => args.server_requests = number(value()?)?.max(TASKS as u64) as usize,
            "--only" => match value()?.as_str() {
                "client" => (args.client, args.server) = (true, false),
                "server" => (args.client, args.server) = (false, true),
                other => return Err(format!("--only {other}: client or server")),
            },
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.socket.as_os_str().is_empty() {
        return Err("--socket PATH (or unix://PATH) is required".into());
    }
    Ok(args)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut result = Ok(());
    if args.client {
        result = run(&args).await;
    }
    if args.server && result.is_ok() {
        if args.client {
            println!();
        }
        result = servers::run(&args.socket, args.server_requests, args.runs).await;
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("moby-api-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Peers {
    ours: Client,
    bollard: Docker,
    socket: PathBuf,
    curl: bool,
}

async fn run(args: &Args) -> Result<()> {
    let transport = Transport::new(Endpoint::new(Host::Unix(args.socket.clone())), API_VERSION)?;
    let ours = Client::new(transport);
    let socket = args.socket.to_str().ok_or("the socket path is not UTF-8")?;
    let bollard = Docker::connect_with_unix(socket, 600, &ClientVersion { major_version: 1, minor_version: 41 })?;
    let curl = std::process::Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success());
    let peers = Peers { ours, bollard, socket: args.socket.clone(), curl };

    let version: serde_json::Value = peers.ours.transport().send_json(Request::get("/version")).await?;
    let engine = format!(
        "Docker Engine {} (API {}, {} {})",
        version["Version"].as_str().unwrap_or("?"),
        version["ApiVersion"].as_str().unwrap_or("?"),
        version["Os"].as_str().unwrap_or("?"),
        version["Arch"].as_str().unwrap_or("?"),
    );
    let negotiated = peers.ours.transport().api_version().await?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!("{engine}; moby-api at API {negotiated}, bollard {} at 1.41; {cores} cores", env!("BOLLARD_VERSION"));
    if !peers.curl {
        eprintln!("curl not found: its column stays empty");
    }

    let load = load_average();
    let mut created = Vec::new();
    let outcome = measure(args, &peers, &mut created).await;
    // Removed whatever happened, as far as the engine lets us.
    for id in &created {
        let removal = peers.ours.transport().send(Request::delete(format!("/containers/{id}")).query("force", "1")).await;
        if let Err(e) = removal {
            eprintln!("warning: cannot remove container {id}: {e}");
        }
    }
    let tables = outcome?;

    println!(
        "{engine}; bollard {} (crates.io, API 1.41); moby-api from this repository (API {negotiated}); \
         {cores} cores{}, load average {} at the start; one tokio multi-thread runtime; \
         median of {} interleaved runs (after one warm-up round for the request rates)\n",
        env!("BOLLARD_VERSION"),
        cpu_model().map(|m| format!(" ({m})")).unwrap_or_default(),
        load,
        args.runs,
    );
    for table in tables {
        table.print();
    }
    Ok(())
}

/// The 1-minute load average: the machine may be shared, and the numbers move with it.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|t| t.split_whitespace().next().map(str::to_owned)).unwrap_or("?".into())
}

fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

async fn measure(args: &Args, peers: &Peers, created: &mut Vec<String>) -> Result<Vec<Table>> {
    let n = args.requests;
    let mut requests = Table::new("Request rate", "requests per second (wall time of all of them); higher is better");
    requests.targets.push((1, 1.5));
    requests.notes.push(
        "curl: one process sending all the requests over one kept-alive connection (16 tasks: `--parallel --parallel-max 16`), \
         process start included; it decodes nothing, so it shows what the engine allows."
            .into(),
    );

    let ours = |client: Client, n| async move { ping_ours(&client, n).await }.boxed();
    let bollard = |docker: Docker, n| async move { ping_bollard(&docker, n).await }.boxed();
    requests.rows.extend(rate_rows(args, peers, "/_ping", "", n, ours, bollard).await?);

    eprintln!("creating {} containers", args.containers);
    for i in 0..args.containers {
        let id = create(peers, &format!("moby-api-bench-{}-{i}", std::process::id()), &["true"]).await?;
        created.push(id);
    }
    let listed = peers.ours.container_list(&ContainerListParams { all: Some(true), ..Default::default() }).await?.len();
    let expected = args.containers;
    let ours = move |client: Client, n| async move { list_ours(&client, n, expected).await }.boxed();
    let bollard = move |docker: Docker, n| async move { list_bollard(&docker, n, expected).await }.boxed();
    let label = format!(" ({listed} containers, decoded)");
    requests.rows.extend(rate_rows(args, peers, "/containers/json?all=1", &label, (n / 4).max(1), ours, bollard).await?);

    let total = args.log_mb * 1024 * 1024;
    eprintln!("log container writing {} MiB", args.log_mb);
    let script = format!("yes {LINE} | head -c {total}");
    let started = Instant::now();
    let id = create(peers, &format!("moby-api-bench-{}-logs", std::process::id()), &["sh", "-c", &script]).await?;
    created.push(id.clone());
    peers.ours.transport().send(Request::post(format!("/containers/{id}/start"))).await?;
    let waited: serde_json::Value = peers.ours.transport().send_json(Request::post(format!("/containers/{id}/wait"))).await?;
    if waited["StatusCode"].as_i64() != Some(0) {
        return Err(format!("the log container exited with {}", waited["StatusCode"]).into());
    }
    eprintln!("  written in {:.1?}; reading it back with follow=0", started.elapsed());
    let id = id.as_str();
    // Reading 64 MiB warms nothing up that the first run does not: no warm-up round.
    let row = bench(
        args.runs,
        false,
        &[
            Some(&|| async { logs_ours(peers, id).await }.boxed()),
            Some(&|| async { logs_bollard(peers, id).await }.boxed()),
            curl_job(peers, &|| async { logs_curl(peers, id).await }.boxed()),
        ],
    )
    .await?;
    let title = format!(
        "Log throughput: {} MiB of stdout in {}-byte lines, `GET /containers/{{id}}/logs?stdout=1&stderr=1`",
        args.log_mb,
        LINE.len() + 1
    );
    let mut logs = Table::new(
        &title,
        "MiB of log payload per second (wall time); higher is better. moby-api and bollard decode the frames; \
         curl writes the raw body to /dev/null",
    );
    logs.targets.extend([(1, 3.0), (2, 0.8)]);
    let check = row.check_bytes(total);
    logs.rows.push(Row::bytes("read all logs, follow=0".into(), total, row));
    logs.notes.push(check);
    Ok(vec![requests, logs])
}

/// One contender's result of one run.
#[derive(Clone, Copy, Debug, Default)]
struct Outcome {
    elapsed: Duration,
    /// Log payload bytes (curl: raw body bytes, frame headers included).
    bytes: u64,
    /// Log frames decoded (curl: 0).
    frames: u64,
}

fn timed(elapsed: Duration) -> Outcome {
    Outcome { elapsed, ..Outcome::default() }
}

type Job<'a> = &'a (dyn Fn() -> BoxFuture<'a, Result<Outcome>> + Sync);

/// Runs each present contender (moby-api, bollard, curl) once to warm up (connections,
/// version negotiation, allocator) unless `warm_up` is false, then `runs` times interleaved,
/// alternating the order.
async fn bench(runs: usize, warm_up: bool, jobs: &[Option<Job<'_>>; 3]) -> Result<Measured> {
    let mut samples: [Vec<Outcome>; 3] = Default::default();
    let first = if warm_up { 0 } else { 1 };
    for run in first..=runs {
        let order: Vec<usize> = if run % 2 == 0 { vec![0, 1, 2] } else { vec![2, 1, 0] };
        for i in order {
            let Some(job) = jobs[i] else { continue };
            let outcome = job().await.map_err(|e| format!("{}: {e}", PEERS[i]))?;
            if run > 0 {
                samples[i].push(outcome);
            }
        }
        if run > 0 {
            let line: Vec<String> =
                (0..3).filter_map(|i| samples[i].last().map(|o| format!("{} {:.3} s", PEERS[i], o.elapsed.as_secs_f64()))).collect();
            eprintln!("  run {run}: {}", line.join(", "));
        }
    }
    Ok(Measured { samples })
}

const PEERS: [&str; 3] = ["moby-api", "bollard", "curl"];

struct Measured {
    samples: [Vec<Outcome>; 3],
}

impl Measured {
    fn median(&self, i: usize) -> Option<Outcome> {
        let mut v = self.samples[i].clone();
        if v.is_empty() {
            return None;
        }
        v.sort_by_key(|o| o.elapsed);
        Some(v[v.len() / 2])
    }

    /// Whether every contender read the whole log: the decoders the payload, curl the
    /// payload and one 8-byte header per frame.
    fn check_bytes(&self, total: u64) -> String {
        let mut problems = Vec::new();
        let frames = self.samples[0].first().map_or(0, |o| o.frames);
        for (i, samples) in self.samples.iter().enumerate() {
            let expected = if i == 2 { total + 8 * frames } else { total };
            for o in samples {
                if o.bytes != expected {
                    problems.push(format!("{} read {} bytes, expected {expected}", PEERS[i], o.bytes));
                }
                if i < 2 && o.frames != frames {
                    problems.push(format!("{} decoded {} frames, moby-api {frames}", PEERS[i], o.frames));
                }
            }
        }
        if problems.is_empty() {
            format!(
                "Bytes check: moby-api and bollard read {total} payload bytes in {frames} frames every run{}.",
                if self.samples[2].is_empty() {
                    String::new()
                } else {
                    format!(", curl {} raw bytes (payload + 8 × frames)", total + 8 * frames)
                }
            )
        } else {
            format!("Bytes check FAILED: {}.", problems.join("; "))
        }
    }
}

enum Unit {
    Requests(usize),
    Bytes(u64),
}

struct Row {
    label: String,
    unit: Unit,
    measured: Measured,
}

impl Row {
    fn requests(label: String, count: usize, measured: Measured) -> Row {
        Row { label, unit: Unit::Requests(count), measured }
    }

    fn bytes(label: String, bytes: u64, measured: Measured) -> Row {
        Row { label, unit: Unit::Bytes(bytes), measured }
    }

    fn rate(&self, i: usize) -> Option<f64> {
        let secs = self.measured.median(i)?.elapsed.as_secs_f64();
        Some(match self.unit {
            Unit::Requests(n) => n as f64 / secs,
            Unit::Bytes(b) => b as f64 / (1024.0 * 1024.0) / secs,
        })
    }

    fn cell(&self, i: usize) -> String {
        let (Some(rate), Some(o)) = (self.rate(i), self.measured.median(i)) else { return "–".into() };
        match self.unit {
            Unit::Requests(_) => format!("{rate:.0} req/s ({:.3} s)", o.elapsed.as_secs_f64()),
            Unit::Bytes(_) => format!("{rate:.1} MiB/s ({:.3} s)", o.elapsed.as_secs_f64()),
        }
    }

    fn ratio(&self, other: usize) -> String {
        match (self.rate(0), self.rate(other)) {
            (Some(ours), Some(theirs)) => format!("{:.2}×", ours / theirs),
            _ => "–".into(),
        }
    }
}

struct Table {
    title: String,
    unit: String,
    rows: Vec<Row>,
    notes: Vec<String>,
    /// The project's targets for every row: moby-api's rate at least this many times the
    /// peer's (index into `PEERS`). Shown, not asserted.
    targets: Vec<(usize, f64)>,
}

impl Table {
    fn new(title: &str, unit: &str) -> Table {
        Table { title: title.into(), unit: unit.into(), rows: Vec::new(), notes: Vec::new(), targets: Vec::new() }
    }

    /// One line per target: which rows meet it.
    fn target_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for &(peer, factor) in &self.targets {
            let verdicts: Vec<String> = self
                .rows
                .iter()
                .filter_map(|row| {
                    let ratio = row.rate(0)? / row.rate(peer)?;
                    let verdict = if ratio >= factor { "met" } else { "missed" };
                    Some(format!("{verdict} ({ratio:.2}×) for {}", row.label))
                })
                .collect();
            if !verdicts.is_empty() {
                lines.push(format!("Target moby-api ≥ {factor}× {}: {}.", PEERS[peer], verdicts.join("; ")));
            }
        }
        lines
    }

    fn print(&self) {
        println!("### {}\n\n{}.\n", self.title, self.unit);
        println!("| measurement | moby-api | bollard | curl | ratio moby-api/bollard | ratio moby-api/curl |");
        println!("|---|---:|---:|---:|---:|---:|");
        for row in &self.rows {
            println!("| {} | {} | {} | {} | {} | {} |", row.label, row.cell(0), row.cell(1), row.cell(2), row.ratio(1), row.ratio(2));
        }
        println!();
        for note in self.notes.iter().chain(&self.target_lines()) {
            println!("{note}\n");
        }
    }
}

// --- the contenders -----------------------------------------------------------------------

async fn ping_ours(client: &Client, n: usize) -> Result<Outcome> {
    let start = Instant::now();
    for _ in 0..n {
        let body = client.system_ping().await?;
        if body != "OK" {
            return Err(format!("/_ping answered {body:?}").into());
        }
    }
    Ok(timed(start.elapsed()))
}

async fn ping_bollard(docker: &Docker, n: usize) -> Result<Outcome> {
    let start = Instant::now();
    for _ in 0..n {
        let body = docker.ping().await?;
        if body != "OK" {
            return Err(format!("/_ping answered {body:?}").into());
        }
    }
    Ok(timed(start.elapsed()))
}

/// The request rate of `GET path` by each contender: `n` requests one after the other,
/// then about as many spread over `TASKS` tasks. `ours` and `bollard` send `n` requests on
/// the client given; `label` follows the path in the rows' labels.
async fn rate_rows<O, B>(args: &Args, peers: &Peers, path: &str, label: &str, n: usize, ours: O, bollard: B) -> Result<[Row; 2]>
where
    O: Fn(Client, usize) -> BoxFuture<'static, Result<Outcome>> + Sync,
    B: Fn(Docker, usize) -> BoxFuture<'static, Result<Outcome>> + Sync,
{
    eprintln!("GET {path}, {n} sequential requests");
    let sequential = bench(
        args.runs,
        true,
        &[
            Some(&|| ours(peers.ours.clone(), n)),
            Some(&|| bollard(peers.bollard.clone(), n)),
            curl_job(peers, &|| curl_requests(peers, path, n, false).boxed()),
        ],
    )
    .await?;
    let per_task = (n / TASKS).max(1);
    eprintln!("GET {path}, {TASKS} tasks × {per_task} requests");
    let spread = bench(
        args.runs,
        true,
        &[
            Some(&|| concurrent(|| ours(peers.ours.clone(), per_task)).boxed()),
            Some(&|| concurrent(|| bollard(peers.bollard.clone(), per_task)).boxed()),
            curl_job(peers, &|| curl_requests(peers, path, per_task * TASKS, true).boxed()),
        ],
    )
    .await?;
    Ok([
        Row::requests(format!("`GET {path}`{label}, {n} sequential"), n, sequential),
        Row::requests(format!("`GET {path}`{label}, {TASKS} tasks × {per_task}"), per_task * TASKS, spread),
    ])
}

/// `TASKS` tokio tasks running `job()` at once on the runtime's workers; the wall time of
/// all of them.
async fn concurrent<F, Fut>(job: F) -> Result<Outcome>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Outcome>> + Send + 'static,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS).map(|_| tokio::spawn(job())).collect();
    for task in tasks {
        task.await??;
    }
    Ok(timed(start.elapsed()))
}

async fn list_ours(client: &Client, n: usize, expected: usize) -> Result<Outcome> {
    let params = ContainerListParams { all: Some(true), ..Default::default() };
    let start = Instant::now();
    for _ in 0..n {
        let list = client.container_list(&params).await?;
        if list.len() < expected {
            return Err(format!("{} containers listed, at least {expected} expected", list.len()).into());
        }
    }
    Ok(timed(start.elapsed()))
}

async fn list_bollard(docker: &Docker, n: usize, expected: usize) -> Result<Outcome> {
    let start = Instant::now();
    for _ in 0..n {
        let options = ListContainersOptionsBuilder::default().all(true).build();
        let list = docker.list_containers(Some(options)).await?;
        if list.len() < expected {
            return Err(format!("{} containers listed, at least {expected} expected", list.len()).into());
        }
    }
    Ok(timed(start.elapsed()))
}

async fn logs_ours(peers: &Peers, id: &str) -> Result<Outcome> {
    let start = Instant::now();
    let params = ContainerLogsParams { stdout: Some(true), stderr: Some(true), follow: Some(false), ..Default::default() };
    let mut stream = peers.ours.container_logs(id, &params).await?;
    let (mut bytes, mut frames) = (0, 0);
    while let Some(chunk) = stream.next().await {
        bytes += chunk?.bytes.len() as u64;
        frames += 1;
    }
    Ok(Outcome { elapsed: start.elapsed(), bytes, frames })
}

async fn logs_bollard(peers: &Peers, id: &str) -> Result<Outcome> {
    let start = Instant::now();
    let options = LogsOptionsBuilder::default().stdout(true).stderr(true).follow(false).build();
    let mut stream = peers.bollard.logs(id, Some(options));
    let (mut bytes, mut frames) = (0, 0);
    while let Some(output) = stream.next().await {
        bytes += output?.as_ref().len() as u64;
        frames += 1;
    }
    Ok(Outcome { elapsed: start.elapsed(), bytes, frames })
}

/// The curl column, when curl is installed.
fn curl_job<'a>(peers: &Peers, job: Job<'a>) -> Option<Job<'a>> {
    peers.curl.then_some(job)
}

/// One curl process sending `n` requests for `path` over one kept-alive connection, or with
/// `parallel` over up to `TASKS` connections at once (`--parallel`); bodies are discarded.
/// The process start (a few milliseconds) is part of the time.
async fn curl_requests(peers: &Peers, path: &str, n: usize, parallel: bool) -> Result<Outcome> {
    let url = format!("http://localhost/v1.41{path}");
    let mut command = tokio::process::Command::new("curl");
    command.arg("--unix-socket").arg(&peers.socket).args(["-s", "-S", "-f"]);
    if parallel {
        command.args(["--parallel", "--parallel-immediate", "--parallel-max"]).arg(TASKS.to_string());
    }
    command.args(std::iter::repeat_n(url.as_str(), n)).stdout(std::process::Stdio::null());
    let start = Instant::now();
    let out = command.output().await?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        return Err(format!("curl failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(timed(elapsed))
}

async fn logs_curl(peers: &Peers, id: &str) -> Result<Outcome> {
    let start = Instant::now();
    let out = tokio::process::Command::new("curl")
        .arg("--unix-socket")
        .arg(&peers.socket)
        .args(["-s", "-S", "-f", "-o", "/dev/null", "-w", "%{size_download}"])
        .arg(format!("http://localhost/v1.41/containers/{id}/logs?stdout=1&stderr=1"))
        .output()
        .await?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        return Err(format!("curl failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)).into());
    }
    let bytes = String::from_utf8_lossy(&out.stdout).trim().parse::<u64>()?;
    Ok(Outcome { elapsed, bytes, frames: 0 })
}

// --- setup --------------------------------------------------------------------------------

/// Creates a stopped container of busybox:test without a network; returns its id.
async fn create(peers: &Peers, name: &str, cmd: &[&str]) -> Result<String> {
    let body = serde_json::json!({
        "Image": IMAGE,
        "Cmd": cmd,
        "Labels": { LABEL: std::process::id().to_string() },
        "HostConfig": { "NetworkMode": "none" },
    });
    let request = Request::post("/containers/create").query("name", name).json(&body)?;
    let created: serde_json::Value = peers.ours.transport().send_json(request).await?;
    Ok(created["Id"].as_str().ok_or("no Id in the create response")?.to_string())
}
