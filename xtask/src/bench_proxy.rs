//! `cargo xtask bench-proxy`: the proxy (`moby-proxy`, release build) against the engine
//! directly and against HAProxy (Debian's, installed with apt when missing) configured as a
//! path-allowlist socket proxy the way the HAProxy-based proxies are (GET only, the paths
//! allowed by regular expressions on the decoded path, a version prefix optional, server
//! connections closed after each answer), all on unix sockets in front of one private
//! Engine 28.5.2.
//!
//! Measures request rates on `/_ping` and `/containers/json` (keep-alive connections, each
//! answer read whole and its status checked) and the throughput of `docker logs` of a
//! container that wrote `--log-mb` MiB. Every round measures the three contenders one after
//! the other, the order rotating from round to round, after one discarded warm-up round; each
//! cell is the median over the rounds with the lowest and highest, and the ratios to direct
//! are the median of per-round ratios (measured seconds apart, so they share the machine's
//! load). CPU per request is the proxy's own process time (utime + stime from
//! `/proc/PID/stat`) over the measurement, beside dockerd's. A benchmark: nothing is asserted
//! about time.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{engine, root};

/// What to measure.
pub struct Options {
    pub requests: usize,
    pub connections: usize,
    pub log_mb: u64,
    pub runs: usize,
}

pub fn run(options: &Options) -> Result<(), String> {
    crate::load::ensure_tool("haproxy", "-v", "haproxy")?;
    crate::load::build_release("moby-api-proxy")?;
    let dir = std::env::temp_dir().join("moby-api-bench-proxy");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let engine_dir = dir.join("engine");
    let was_running = crate::bench_peers::answers_ping(&engine_dir.join("docker.sock"));
    let host = engine::start(&engine_dir, "28.5.2")?;
    let result = measure(options, &dir, &engine_dir, &host);
    if was_running {
        eprintln!("engine in {} was already running: left running", engine_dir.display());
    } else {
        engine::stop(&engine_dir);
    }
    result
}

/// A process serving a socket: the proxy or HAProxy, killed when dropped.
struct Server {
    child: Child,
}

impl Server {
    fn start(mut command: Command, socket: &Path, what: &str) -> Result<Server, String> {
        let _ = std::fs::remove_file(socket);
        let child = command.stdin(Stdio::null()).stdout(Stdio::null()).spawn().map_err(|e| format!("cannot start {what}: {e}"))?;
        let mut server = Server { child };
        let started = Instant::now();
        while UnixStream::connect(socket).is_err() {
            if server.child.try_wait().ok().flatten().is_some() || started.elapsed() > Duration::from_secs(20) {
                return Err(format!("{what} did not listen on {}", socket.display()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// HAProxy as a path-allowlist socket proxy: GET only; `/_ping`, `/version`, `/events` and
/// the container paths allowed, with or without a version prefix, after URL decoding;
/// anything else denied; one server connection per request (`http-server-close`), as the
/// HAProxy-based socket proxies run it.
fn haproxy_config(listen: &Path, engine: &Path) -> String {
    let allow = ["_ping", "version", "events", "containers"]
        .map(|p| format!("    http-request allow if {{ path,url_dec -m reg -i ^(/v[0-9.]+)?/{p} }}\n"))
        .concat();
    format!(
        "global\n    maxconn 4000\n\ndefaults\n    mode http\n    option http-server-close\n    timeout connect 10s\n    \
         timeout client 10m\n    timeout server 10m\n    timeout http-keep-alive 10s\n    timeout http-request 10s\n\n\
         backend engine\n    server engine {engine}\n\n\
         frontend socket\n    bind unix@{listen} mode 660\n    http-request deny unless METH_GET\n{allow}    http-request deny\n    \
         default_backend engine\n",
        engine = engine.display(),
        listen = listen.display(),
    )
}

fn measure(options: &Options, dir: &Path, engine_dir: &Path, host: &str) -> Result<(), String> {
    let engine_socket = PathBuf::from(host.strip_prefix("unix://").ok_or("the engine is not on a unix socket")?);
    let proxy_socket = dir.join("proxy.sock");
    let haproxy_socket = dir.join("haproxy.sock");
    // A policy, as a deployed proxy has one: every request is classified and judged (and
    // audited) the way HAProxy's allowlist judges its paths.
    let policy = dir.join("read-only.toml");
    std::fs::write(&policy, "preset = \"read-only\"\n").map_err(|e| format!("{}: {e}", policy.display()))?;
    let mut proxy = Command::new(root().join("target/release/moby-proxy"));
    proxy
        .arg("--listen")
        .arg(format!("unix://{}", proxy_socket.display()))
        .arg("--config")
        .arg(&policy)
        .env("DOCKER_HOST", host)
        .stderr(Stdio::null());
    let proxy = Server::start(proxy, &proxy_socket, "moby-proxy")?;
    let config = dir.join("haproxy.cfg");
    std::fs::write(&config, haproxy_config(&haproxy_socket, &engine_socket)).map_err(|e| format!("{}: {e}", config.display()))?;
    let mut haproxy = Command::new("haproxy");
    haproxy.arg("-db").arg("-f").arg(&config);
    let haproxy = Server::start(haproxy, &haproxy_socket, "haproxy")?;
    let dockerd: u32 = std::fs::read_to_string(engine_dir.join("dockerd.pid"))
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .ok_or("no dockerd.pid in the engine's directory")?;
    let sockets = [engine_socket.as_path(), proxy_socket.as_path(), haproxy_socket.as_path()];
    let pids = [None, Some(proxy.child.id()), Some(haproxy.child.id())];

    let container = logging_container(host, options.log_mb)?;
    let logs_path = format!("/containers/{container}/logs?stdout=1&stderr=1");
    let per_connection = (options.requests / options.connections).max(1);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "Engine 28.5.2 (dockerd pid {dockerd}); moby-proxy {} with the read-only preset; {}. {cores} cores, load average {} at the start. \
         Requests: {} connections × {per_connection}, keep-alive, HTTP/1.1, each answer read whole. {} rounds after a \
         warm-up, the contenders' order rotating; cells: median [lowest–highest].\n",
        root().join("target/release/moby-proxy").display(),
        Command::new("haproxy")
            .arg("-v")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|v| v.lines().next().map(str::to_owned))
            .unwrap_or_default(),
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        options.connections,
        options.runs,
    );
    println!("| measurement | direct | moby-proxy | HAProxy | moby-proxy / direct | HAProxy / direct | moby-proxy / HAProxy | CPU per request: moby-proxy | HAProxy | dockerd (direct) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (label, path, unit) in [
        ("`GET /_ping`", "/_ping".to_owned(), Unit::Requests(options.connections, per_connection)),
        ("`GET /containers/json?all=1`", "/containers/json?all=1".to_owned(), Unit::Requests(options.connections, per_connection / 4)),
        (&format!("`docker logs` of {} MiB", options.log_mb) as &str, logs_path, Unit::Bytes),
    ] {
        eprintln!("measuring {label}");
        let rounds = rounds(options.runs, &sockets, &pids, dockerd, &path, unit)?;
        print_row(label, unit, &rounds);
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Unit {
    /// Connections × requests on each.
    Requests(usize, usize),
    /// One stream read to its end.
    Bytes,
}

/// One contender's measurement: its rate (requests or MiB per second), and CPU time of the
/// proxy and of dockerd over it.
#[derive(Clone, Copy)]
struct Sample {
    rate: f64,
    proxy_cpu: Option<Duration>,
    dockerd_cpu: Duration,
    count: usize,
}

fn rounds(
    runs: usize,
    sockets: &[&Path; 3],
    pids: &[Option<u32>; 3],
    dockerd: u32,
    path: &str,
    unit: Unit,
) -> Result<Vec<[Sample; 3]>, String> {
    let mut rounds = Vec::new();
    for round in 0..=runs {
        let mut samples = [None; 3];
        for k in 0..3 {
            let i = (round + k) % 3;
            let (proxy_before, dockerd_before) = (pids[i].map(cpu_time), cpu_time(dockerd));
            let started = Instant::now();
            let (count, amount) = match unit {
                Unit::Requests(connections, each) => (connections * each, requests(sockets[i], path, connections, each)? as f64),
                Unit::Bytes => (1, read_stream(sockets[i], path)? as f64 / (1024.0 * 1024.0)),
            };
            let elapsed = started.elapsed().as_secs_f64();
            samples[i] = Some(Sample {
                rate: amount / elapsed,
                proxy_cpu: pids[i].map(|pid| cpu_time(pid).saturating_sub(proxy_before.unwrap_or_default())),
                dockerd_cpu: cpu_time(dockerd).saturating_sub(dockerd_before),
                count,
            });
        }
        // Round 0 warms the caches and connections up; it is not counted.
        if round > 0 {
            rounds.push(samples.map(|s| s.expect("every contender measured")));
        }
    }
    Ok(rounds)
}

fn print_row(label: &str, unit: Unit, rounds: &[[Sample; 3]]) {
    let unit_name = match unit {
        Unit::Requests(..) => "/s",
        Unit::Bytes => " MiB/s",
    };
    let spread = |values: Vec<f64>, digits: usize| {
        let (median, low, high) = median_spread(values);
        format!("{median:.digits$}{unit_name} [{low:.digits$}–{high:.digits$}]")
    };
    let ratio = |a: usize, b: usize| {
        let (median, low, high) = median_spread(rounds.iter().map(|r| r[a].rate / r[b].rate).collect());
        format!("{median:.2}× [{low:.2}–{high:.2}]")
    };
    let per_request = |cpu: Vec<Option<Duration>>, counts: Vec<usize>| {
        let values: Vec<f64> = cpu.iter().zip(&counts).filter_map(|(c, n)| c.map(|c| c.as_secs_f64() * 1e6 / *n as f64)).collect();
        if values.is_empty() {
            return "–".to_owned();
        }
        let (median, low, high) = median_spread(values);
        match unit {
            Unit::Requests(..) => format!("{median:.0} µs [{low:.0}–{high:.0}]"),
            Unit::Bytes => format!("{:.2} s [{:.2}–{:.2}]", median / 1e6, low / 1e6, high / 1e6),
        }
    };
    let digits = if matches!(unit, Unit::Bytes) { 1 } else { 0 };
    println!(
        "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        spread(rounds.iter().map(|r| r[0].rate).collect(), digits),
        spread(rounds.iter().map(|r| r[1].rate).collect(), digits),
        spread(rounds.iter().map(|r| r[2].rate).collect(), digits),
        ratio(1, 0),
        ratio(2, 0),
        ratio(1, 2),
        per_request(rounds.iter().map(|r| r[1].proxy_cpu).collect(), rounds.iter().map(|r| r[1].count).collect()),
        per_request(rounds.iter().map(|r| r[2].proxy_cpu).collect(), rounds.iter().map(|r| r[2].count).collect()),
        per_request(rounds.iter().map(|r| Some(r[0].dockerd_cpu)).collect(), rounds.iter().map(|r| r[0].count).collect()),
    );
}

/// The median, lowest and highest of `values`.
fn median_spread(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
    (median, values[0], values[n - 1])
}

/// User and system time of a process so far (all its threads), from `/proc/PID/stat`.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    // utime and stime are fields 14 and 15, so 11 and 12 after the state (field 3).
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok())).sum();
    // The kernel's USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// A container that wrote `mb` MiB to stdout and exited; its id.
fn logging_container(host: &str, mb: u64) -> Result<String, String> {
    let docker = |args: &[&str]| -> Result<String, String> {
        let out = Command::new("/usr/local/bin/docker").args(args).env("DOCKER_HOST", host).output().map_err(|e| format!("docker: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(format!("docker {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
        }
    };
    let name = format!("bench-proxy-logs-{mb}");
    if let Ok(state) = docker(&["inspect", &name, "--format", "{{.State.Status}} {{.State.ExitCode}} {{.Id}}"]) {
        if let Some(id) = state.strip_prefix("exited 0 ") {
            return Ok(id.to_owned());
        }
        docker(&["rm", "-f", &name])?;
    }
    eprintln!("writing {mb} MiB of logs");
    let script = format!("yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklm | head -c {}", mb * 1024 * 1024);
    let id = docker(&["run", "-d", "--name", &name, "--network", "none", "busybox:test", "sh", "-c", &script])?;
    let code = docker(&["wait", &id])?;
    if code != "0" {
        return Err(format!("the logging container exited with {code}"));
    }
    Ok(id)
}

/// `connections` keep-alive connections sending `each` GETs of `path` one after the other;
/// the number of answers (all 200s, or an error).
fn requests(socket: &Path, path: &str, connections: usize, each: usize) -> Result<usize, String> {
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (socket, path) = (socket.to_owned(), path.to_owned());
            std::thread::spawn(move || -> Result<usize, String> {
                let stream = UnixStream::connect(&socket).map_err(|e| format!("{}: {e}", socket.display()))?;
                let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
                let mut reader = BufReader::new(stream);
                let request = format!("GET {path} HTTP/1.1\r\nHost: docker\r\n\r\n");
                for _ in 0..each {
                    writer.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
                    let status = read_answer(&mut reader)?;
                    if status != 200 {
                        return Err(format!("GET {path} on {}: status {status}", socket.display()));
                    }
                }
                Ok(each)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().map_err(|_| "a load thread panicked".to_owned())?).sum()
}

/// Reads one HTTP/1.1 answer whole (content length or chunked); its status.
fn read_answer(reader: &mut BufReader<UnixStream>) -> Result<u16, String> {
    let mut line = String::new();
    let read_line = |reader: &mut BufReader<UnixStream>, line: &mut String| -> Result<(), String> {
        line.clear();
        match reader.read_line(line) {
            Ok(0) => Err("the connection closed mid-answer".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    };
    read_line(reader, &mut line)?;
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("not an HTTP answer: {line:?}"))?;
    let (mut length, mut chunked) = (0usize, false);
    loop {
        read_line(reader, &mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().map_err(|_| format!("bad length {value:?}"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        }
    }
    let skip = |reader: &mut BufReader<UnixStream>, n: usize| {
        std::io::copy(&mut reader.by_ref().take(n as u64), &mut std::io::sink()).map_err(|e| e.to_string())
    };
    if !chunked {
        skip(reader, length)?;
        return Ok(status);
    }
    loop {
        read_line(reader, &mut line)?;
        let size =
            usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        skip(reader, size + 2)?;
        if size == 0 {
            return Ok(status);
        }
    }
}

/// GETs `path` over HTTP/1.0 and reads the answer to its end; the bytes of its body.
fn read_stream(socket: &Path, path: &str) -> Result<u64, String> {
    let mut stream = UnixStream::connect(socket).map_err(|e| format!("{}: {e}", socket.display()))?;
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n").as_bytes()).map_err(|e| e.to_string())?;
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        reader.read_exact(&mut byte).map_err(|e| format!("reading the head: {e}"))?;
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 200") && !head.starts_with(b"HTTP/1.0 200") {
        return Err(format!("GET {path} on {}: {}", socket.display(), String::from_utf8_lossy(&head)));
    }
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| e.to_string())
}
