//! What the tests that drive the example engine with real clients share: an engine served
//! in-process on a private socket, running a client command with a deadline, and the rule
//! that a missing client skips outside CI and fails under it.

#![allow(dead_code)] // Each test file uses a part.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use moby_api_example_engine::{router, Engine};

pub const CLI_28: &str = "/usr/local/bin/docker";
pub const CLI_20_10: &str = "/usr/bin/docker";
/// Longer than any command here takes; a hang fails the test instead of blocking it.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Whether to go on: a missing prerequisite fails under CI and skips elsewhere.
pub fn require(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    assert!(!in_ci(), "{what} (CI is set, so this is a failure, not a skip)");
    eprintln!("skipped: {what}");
    false
}

/// An engine served on a socket in a temporary directory, with its own runtime.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Daemon {
    pub fn start() -> Daemon {
        let dir = tempfile::Builder::new().prefix("mae-").tempdir().expect("temporary directory");
        let socket = dir.path().join("docker.sock");
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
        let listener = runtime
            .block_on(async { moby_api_runtime::server::bind_unix(&socket, 0o660) })
            .unwrap_or_else(|e| panic!("cannot listen on {}: {e}", socket.display()));
        runtime.spawn(moby_api_runtime::server::serve_unix_listener(router(Engine::new()), listener, std::future::pending()));
        Daemon { dir, socket, runtime: Some(runtime) }
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Runs a client command against this engine (see [`client`]).
    pub fn run(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Out {
        let command = client(program, args, &self.host(), &self.dir.path().join("client-config"));
        run_command(command, stdin, &format!("{program} {}", args.join(" ")))
    }
}

/// A client command for the daemon at `host`: an empty client configuration in
/// `config_dir`, no inherited DOCKER_* settings.
pub fn client(program: &str, args: &[&str], host: &str, config_dir: &std::path::Path) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    for var in ["DOCKER_CONTEXT", "DOCKER_API_VERSION", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS"] {
        command.env_remove(var);
    }
    command.env("DOCKER_HOST", host).env("DOCKER_CONFIG", config_dir).env("NO_COLOR", "1");
    command
}

/// The real engine the test command started (`MOBY_API_TEST_ENGINE_20_10`); `None` skips,
/// except under CI, where it fails.
pub fn real_engine() -> Option<String> {
    let host = std::env::var("MOBY_API_TEST_ENGINE_20_10").ok().filter(|h| !h.is_empty());
    require(host.is_some(), "MOBY_API_TEST_ENGINE_20_10 is not set: no real engine to compare with").then(|| host.unwrap_or_default())
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Open attach connections and streams belong to the engine; do not wait for them.
            runtime.shutdown_background();
        }
    }
}

/// What a command did.
pub struct Out {
    pub what: String,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Out {
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.status, Some(0), "{} failed\nstdout: {}\nstderr: {}", self.what, self.stdout, self.stderr);
        &self.stdout
    }

    pub fn code(&self, expected: i32) -> &str {
        assert_eq!(self.status, Some(expected), "{}: exit status\nstdout: {}\nstderr: {}", self.what, self.stdout, self.stderr);
        &self.stdout
    }
}

pub fn run_command(mut command: Command, stdin: Option<&str>, what: &str) -> Out {
    let started = Instant::now();
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("piped stdin");
        pipe.write_all(input.as_bytes()).expect("writing stdin");
        // Dropping the pipe is the EOF the client passes on.
    }
    let mut stdout_pipe = child.stdout.take().expect("piped stdout");
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let stdout = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout_pipe.read_to_string(&mut s);
        s
    });
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the client") {
            break status;
        }
        if started.elapsed() > COMMAND_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: no answer within {COMMAND_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Out {
        what: what.to_owned(),
        status: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        took: started.elapsed(),
    }
}

pub fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs()
}

pub fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}
