//! Running a client command against one engine, with a deadline.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longer than any command here takes; a hang fails the test instead of blocking it.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// A client command for the daemon at `host`: an empty client configuration in
/// `config_dir`, no inherited DOCKER_* settings.
pub fn client(program: &str, args: &[&str], host: &str, config_dir: &Path) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    for var in ["DOCKER_CONTEXT", "DOCKER_API_VERSION", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS", "COMPOSE_API_VERSION"] {
        command.env_remove(var);
    }
    command.env("DOCKER_HOST", host).env("DOCKER_CONFIG", config_dir).env("NO_COLOR", "1");
    command
}

/// One engine (or something in front of one) that sessions run against: its `DOCKER_HOST`,
/// the client configuration directory, and the API version clients are pinned to
/// (`DOCKER_API_VERSION`, `COMPOSE_API_VERSION`), if any.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub config: PathBuf,
    pub api_version: Option<String>,
}

impl Target {
    pub fn new(host: impl Into<String>, config: impl Into<PathBuf>) -> Target {
        Target { host: host.into(), config: config.into(), api_version: None }
    }

    /// The same target with clients pinned to `version`.
    pub fn pinned(&self, version: &str) -> Target {
        Target { api_version: Some(version.to_owned()), ..self.clone() }
    }

    /// `program args…` for this target (see [`client`]), pinned to its version.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = client(program, args, &self.host, &self.config);
        if let Some(version) = &self.api_version {
            command.env("DOCKER_API_VERSION", version).env("COMPOSE_API_VERSION", version);
        }
        command
    }

    /// Runs `cli args…` (see [`run_command`]).
    pub fn run(&self, cli: &str, args: &[&str]) -> Out {
        run_command(self.command(cli, args), None, &format!("{cli} {}", args.join(" ")))
    }

    /// Runs `cli args…` with `stdin` as its input, closed at the end.
    pub fn run_in(&self, cli: &str, args: &[&str], stdin: &str) -> Out {
        run_command(self.command(cli, args), Some(stdin), &format!("{cli} {}", args.join(" ")))
    }
}

/// What a command did.
#[derive(Clone, Debug)]
pub struct Out {
    pub what: String,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
    /// It was killed at the deadline ([`run_command_within`]).
    pub timed_out: bool,
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

/// Runs `command` (with `stdin`, then EOF), panicking when it takes longer than
/// [`COMMAND_TIMEOUT`].
pub fn run_command(command: Command, stdin: Option<&str>, what: &str) -> Out {
    let out = run_command_within(command, stdin, what, COMMAND_TIMEOUT);
    assert!(!out.timed_out, "{what}: no answer within {COMMAND_TIMEOUT:?}");
    out
}

/// Runs `command` (with `stdin`, then EOF); one still running after `deadline` is killed and
/// its [`Out::timed_out`] set, with what it printed until then.
pub fn run_command_within(mut command: Command, stdin: Option<&str>, what: &str, deadline: Duration) -> Out {
    let started = Instant::now();
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("piped stdin");
        // A client that exits without reading its input is no error here.
        let _ = pipe.write_all(input.as_bytes());
        // Dropping the pipe is the EOF the client passes on.
    }
    let mut stdout_pipe = child.stdout.take().expect("piped stdout");
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let stdout = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout_pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let stderr = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the client") {
            break status;
        }
        if started.elapsed() > deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("waiting for the killed client");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Out {
        what: what.to_owned(),
        status: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        took: started.elapsed(),
        timed_out,
    }
}

pub fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs()
}

pub fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
}
