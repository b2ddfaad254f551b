//! What the proxy's engine tests share: the real Engine 28.5.2 the test command started,
//! the proxy binary started in front of it with a policy and the docker CLI through it with
//! a deadline (both the test harness's, as in the differential suite), and raw HTTP
//! requests for the forms no client sends.

#![allow(dead_code)] // Each test file uses a part.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const CLI: &str = "/usr/local/bin/docker";
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// `MOBY_API_TEST_ENGINE_28_5_2`, set by `cargo xtask test`; `None` skips the test, except
/// under CI, where it fails.
pub fn engine() -> Option<String> {
    let host = std::env::var("MOBY_API_TEST_ENGINE_28_5_2").ok().filter(|h| !h.is_empty());
    if host.is_none() {
        assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "MOBY_API_TEST_ENGINE_28_5_2 is not set (CI is set, so this fails)");
        eprintln!("skipped: MOBY_API_TEST_ENGINE_28_5_2 is not set: no engine to put the proxy in front of");
        return None;
    }
    if !Path::new(CLI).exists() {
        assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "{CLI} is missing (CI is set, so this fails)");
        eprintln!("skipped: {CLI} is missing");
        return None;
    }
    host
}

/// The socket path of a `unix://` host.
pub fn socket_of(host: &str) -> PathBuf {
    PathBuf::from(host.strip_prefix("unix://").unwrap_or(host))
}

/// A running `moby-proxy` (the test harness's, the same the differential suite starts),
/// in a temporary directory of its own.
pub struct Proxy {
    proxy: moby_api_test_harness::proxy::Proxy,
    pub dir: tempfile::TempDir,
    pub host: String,
}

impl Proxy {
    /// Starts the proxy in front of `engine` with `config` (none: allow everything).
    pub fn start(engine: &str, config: Option<&str>) -> Proxy {
        Proxy::try_start(engine, config).unwrap_or_else(|output| panic!("the proxy did not start:\n{output}"))
    }

    /// Starts the proxy; what it printed if it exited instead of listening.
    pub fn try_start(engine: &str, config: Option<&str>) -> Result<Proxy, String> {
        Proxy::try_start_with(engine, config, &[])
    }

    /// [`Proxy::start`] with more arguments (`--typed`).
    pub fn start_with(engine: &str, config: Option<&str>, args: &[&str]) -> Proxy {
        Proxy::try_start_with(engine, config, args).unwrap_or_else(|output| panic!("the proxy did not start:\n{output}"))
    }

    fn try_start_with(engine: &str, config: Option<&str>, args: &[&str]) -> Result<Proxy, String> {
        use moby_api_test_harness::proxy::Proxy as Started;
        let dir = tempfile::Builder::new().prefix("moby-proxy-").tempdir().expect("temporary directory");
        let binary = Path::new(env!("CARGO_BIN_EXE_moby-proxy"));
        let proxy = match config {
            Some(config) => Started::with_config(binary, engine, dir.path(), "proxy", config, args),
            None => Started::start(binary, engine, dir.path(), "proxy", args),
        }
        .map_err(|e| e.to_string())?;
        let host = proxy.host.clone();
        Ok(Proxy { proxy, dir, host })
    }

    /// What the proxy printed: its audit lines.
    pub fn log(&self) -> String {
        self.proxy.log()
    }

    /// The audit lines, parsed.
    pub fn audit(&self) -> Vec<serde_json::Value> {
        self.log().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The docker CLI through the proxy.
    pub fn docker(&self, args: &[&str]) -> Out {
        docker(&self.host, self.dir.path(), args)
    }
}

/// A finished command.
#[derive(Debug)]
pub struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// The docker CLI against `host`, with an empty client configuration in `dir`, negotiating
/// its version as users run it, under a deadline.
pub fn docker(host: &str, dir: &Path, args: &[&str]) -> Out {
    let target = moby_api_test_harness::Target::new(host, dir.join("client-config"));
    let what = format!("docker {}", args.join(" "));
    let out = moby_api_test_harness::run_command_within(target.command(CLI, args), None, &what, COMMAND_TIMEOUT);
    assert!(!out.timed_out, "{what} did not finish within {COMMAND_TIMEOUT:?}");
    Out { ok: out.status == Some(0), stdout: out.stdout, stderr: out.stderr }
}

/// `docker events …` through a proxy, read line by line as the engine sends them.
pub struct EventStream {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl EventStream {
    pub fn open(proxy: &Proxy, args: &[&str]) -> EventStream {
        let target = moby_api_test_harness::Target::new(&proxy.host, proxy.dir.path().join("client-config"));
        let mut command = target.command(CLI, &[&["events"], args].concat());
        command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
        let mut child = command.spawn().expect("docker events");
        let stdout = child.stdout.take().expect("piped");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        EventStream { child, lines }
    }

    /// The lines up to and including the first that is `last`; panics after `deadline`.
    /// The CLI is stopped when this returns (drop).
    pub fn until(self, last: &str, deadline: Duration) -> Vec<String> {
        let end = std::time::Instant::now() + deadline;
        let mut seen = Vec::new();
        while seen.last().is_none_or(|line: &String| line != last) {
            let left = end.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("no event of {last} within {deadline:?}; seen: {seen:?}"),
            }
        }
        seen
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 request on a unix socket, the path sent exactly as given: the status,
/// the `Location` header and the body.
pub fn raw(socket: &Path, method: &str, path: &str) -> (u16, Option<String>, String) {
    let mut stream = UnixStream::connect(socket).unwrap_or_else(|e| panic!("{}: {e}", socket.display()));
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let location = head.lines().find_map(|l| l.strip_prefix("Location: ").or_else(|| l.strip_prefix("location: "))).map(str::to_owned);
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    (status, location, if chunked { unchunk(body) } else { body.to_owned() })
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
    format!("{prefix}-{}-{nanos}", std::process::id())
}
