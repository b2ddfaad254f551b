//! `cargo xtask load`: the example engine (release build) under load on loopback, with
//! streams held open: wrk (Debian's, installed with apt when missing) sends rounds of
//! requests over 100 connections while 200 streams (100 `docker events`, 100
//! `docker logs -f` of one container) stay open on the unix socket; the engine's resident
//! memory is sampled every second. Prints requests, errors and RSS per round, then checks
//! that every stream is still open and that SIGTERM ends the engine. A measurement, bounded
//! in rounds and time: nothing about speed is asserted.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::root;

/// What to run.
pub struct Options {
    pub connections: usize,
    pub streams: usize,
    pub rounds: usize,
    pub seconds: u64,
}

pub fn run(options: &Options) -> Result<(), String> {
    ensure_wrk()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building the example engine (release)");
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "moby-api-example-engine"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the example engine failed ({status})"));
    }
    let dir = std::env::temp_dir().join(format!("moby-api-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = measure(options, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn ensure_wrk() -> Result<(), String> {
    let works = || Command::new("wrk").arg("--version").output().is_ok();
    if works() {
        return Ok(());
    }
    eprintln!("installing wrk with apt-get");
    for args in [&["update", "-q"][..], &["install", "-y", "-q", "--no-install-recommends", "wrk"]] {
        let ok = Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").status().is_ok_and(|s| s.success());
        if !ok {
            return Err("wrk is missing and `apt-get install wrk` failed (run as root, or install it)".into());
        }
    }
    Ok(())
}

struct Engine {
    child: Child,
    socket: PathBuf,
    port: u16,
}

impl Engine {
    fn start(dir: &Path) -> Result<Engine, String> {
        let socket = dir.join("docker.sock");
        // A free loopback port for wrk, which speaks TCP only.
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let child = Command::new(root().join("target/release/moby-api-example-engine"))
            .arg("--socket")
            .arg(&socket)
            .args(["--tcp", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the engine: {e}"))?;
        let engine = Engine { child, socket, port };
        let started = Instant::now();
        while engine.request("GET", "/_ping", "").is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                return Err("the engine did not answer /_ping within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(engine)
    }

    /// One request with a JSON body (or none) on a connection of its own; the whole answer.
    fn request(&self, method: &str, path: &str, body: &str) -> Result<String, String> {
        let mut conn = UnixStream::connect(&self.socket).map_err(|e| e.to_string())?;
        conn.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: load\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(format!("{head}{body}").as_bytes()).map_err(|e| e.to_string())?;
        let mut answer = String::new();
        conn.read_to_string(&mut answer).map_err(|e| e.to_string())?;
        Ok(answer)
    }

    /// A stream held open: the request sent, the head read.
    fn open_stream(&self, path: &str) -> Result<UnixStream, String> {
        let mut conn = UnixStream::connect(&self.socket).map_err(|e| e.to_string())?;
        write!(conn, "GET {path} HTTP/1.1\r\nHost: load\r\n\r\n").map_err(|e| e.to_string())?;
        conn.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
        let mut head = [0u8; 12];
        conn.read_exact(&mut head).map_err(|e| format!("{path}: {e}"))?;
        if &head != b"HTTP/1.1 200" {
            return Err(format!("{path} answered {:?}", String::from_utf8_lossy(&head)));
        }
        Ok(conn)
    }

    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one wrk round reported.
struct Round {
    requests: u64,
    rate: String,
    errors: u64,
    rss_after: u64,
}

fn measure(options: &Options, dir: &Path) -> Result<(), String> {
    let mut engine = Engine::start(dir)?;
    let body = r#"{"Image":"busybox","Cmd":["sleep","100000"]}"#;
    let created = engine.request("POST", "/v1.41/containers/create?name=talker", body)?;
    if !created.starts_with("HTTP/1.1 201") {
        return Err(format!("creating the container failed: {created}"));
    }
    engine.request("POST", "/v1.41/containers/talker/start", "")?;
    let idle_rss = engine.rss_kib().unwrap_or(0);

    let mut streams = Vec::new();
    for i in 0..options.streams {
        let path = if i % 2 == 0 { "/v1.41/events" } else { "/v1.41/containers/talker/logs?follow=1&stdout=1&stderr=1" };
        streams.push(engine.open_stream(path)?);
    }
    let with_streams_rss = engine.rss_kib().unwrap_or(0);

    // RSS every second while wrk runs.
    let samples = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (samples, done, pid) = (Arc::clone(&samples), Arc::clone(&done), engine.child.id());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !done.load(Ordering::Relaxed) {
                let rss = std::fs::read_to_string(format!("/proc/{pid}/status")).ok().and_then(|s| {
                    s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                });
                if let Some(rss) = rss {
                    samples.lock().unwrap().push((started.elapsed().as_secs(), rss));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };

    let mut rounds = Vec::new();
    let paths = ["/v1.41/containers/json?all=1", "/_ping", "/v1.41/containers/talker/json"];
    for round in 0..options.rounds {
        let path = paths[round % paths.len()];
        let out = Command::new("wrk")
            .args(["-t", "2", "-c", &options.connections.to_string(), "-d", &format!("{}s", options.seconds), "--timeout", "5s"])
            .arg(format!("http://127.0.0.1:{}{path}", engine.port))
            .output()
            .map_err(|e| format!("cannot run wrk: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let requests = text
            .lines()
            .find(|l| l.contains("requests in"))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| format!("wrk printed no request count:\n{text}"))?;
        let rate = text
            .lines()
            .find(|l| l.starts_with("Requests/sec:"))
            .map(|l| l.trim_start_matches("Requests/sec:").trim().to_owned())
            .unwrap_or_default();
        // "Socket errors: connect 0, read 0, write 0, timeout 0" and "Non-2xx or 3xx responses: N".
        let errors: u64 = text
            .lines()
            .filter(|l| l.contains("Socket errors") || l.contains("Non-2xx"))
            .flat_map(|l| l.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u64>().ok()).collect::<Vec<_>>())
            .sum();
        eprintln!("round {}: {path}: {requests} requests, {errors} errors", round + 1);
        rounds.push((path, Round { requests, rate, errors, rss_after: engine.rss_kib().unwrap_or(0) }));
    }
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();

    // Every stream is still open: a read times out rather than ending.
    let mut open = 0;
    for stream in &mut streams {
        stream.set_read_timeout(Some(Duration::from_millis(5))).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 65536];
        let still_open = loop {
            match stream.read(&mut buf) {
                Ok(0) => break false,
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => break true,
                Err(_) => break false,
            }
        };
        open += usize::from(still_open);
    }

    // SIGTERM ends the streams and the engine.
    let term = Instant::now();
    let _ = Command::new("kill").args(["-TERM", &engine.child.id().to_string()]).status();
    let exited = loop {
        if let Ok(Some(status)) = engine.child.try_wait() {
            break Some(status);
        }
        if term.elapsed() > Duration::from_secs(20) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };

    let total: u64 = rounds.iter().map(|(_, r)| r.requests).sum();
    let errors: u64 = rounds.iter().map(|(_, r)| r.errors).sum();
    println!(
        "## Example engine under load (wrk, {} connections, {} s rounds, {} streams open)\n",
        options.connections, options.seconds, options.streams
    );
    println!("| round | path | requests | requests/s | errors | RSS after (MiB) |");
    println!("|---|---|---|---|---|---|");
    for (i, (path, r)) in rounds.iter().enumerate() {
        println!("| {} | `{path}` | {} | {} | {} | {:.1} |", i + 1, r.requests, r.rate, r.errors, r.rss_after as f64 / 1024.0);
    }
    println!(
        "\nRSS: {:.1} MiB idle, {:.1} MiB with the streams open; every second during the rounds:",
        idle_rss as f64 / 1024.0,
        with_streams_rss as f64 / 1024.0
    );
    let samples = samples.lock().unwrap();
    let line: Vec<String> = samples.iter().map(|(t, rss)| format!("{t}s {:.1}", *rss as f64 / 1024.0)).collect();
    println!("{}", line.join(", "));
    println!("\n{total} requests, {errors} errors; {open} of {} streams open at the end", options.streams);
    match exited {
        Some(status) => println!("SIGTERM: the engine exited ({status}) after {:.2?}", term.elapsed()),
        None => println!("SIGTERM: the engine did not exit within 20 s"),
    }
    if errors > 0 || open < options.streams || exited.is_none() {
        return Err("the engine did not hold up: see above".into());
    }
    Ok(())
}
