//! A proxy binary (`moby-proxy`'s command line: `--listen unix:///PATH [--config F]
//! [--typed]`, the engine from `DOCKER_HOST`) started on a private unix socket in front of an
//! engine, for the proxy's differential suite and its policy tests.
//!
//! ```no_run
//! # use moby_api_test_harness::{proxy::Proxy, CLI_28};
//! # let (binary, engine, dir) = (std::path::Path::new("moby-proxy"), "unix:///run/docker.sock", std::path::Path::new("/tmp/p"));
//! # let policy = "";
//! // `policy`: the text of a policy file; a refused one is a `StartError` with what the proxy said.
//! let proxy = Proxy::with_config(binary, engine, dir, "no-privileged", policy, &[]).expect("the proxy starts");
//! let out = proxy.docker(CLI_28, &["run", "--rm", "--privileged", "--network", "none", "busybox:test", "true"]);
//! assert_eq!(out.status, Some(125), "{}", out.stderr); // the CLI's status for a daemon error
//! assert!(out.stderr.contains("Error response from daemon"), "{}", out.stderr);
//! assert!(proxy.log().contains("ContainerCreate"), "the audit line names the operation");
//! ```

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::command::{Out, Target};

/// How long a proxy may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running proxy, killed when dropped.
pub struct Proxy {
    child: Child,
    /// Its socket, and `unix://` + that for `DOCKER_HOST`.
    pub socket: PathBuf,
    pub host: String,
    /// What it printed on stdout and stderr (audit lines, errors).
    log_path: PathBuf,
    /// Its clients' configuration directory.
    client_config: PathBuf,
}

/// Why a proxy did not start: it exited (a refused configuration) or never listened.
#[derive(Debug)]
pub struct StartError {
    /// Its exit status, `None` when it was still running at the deadline (then killed).
    pub status: Option<i32>,
    /// What it printed.
    pub output: String,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(code) => write!(f, "the proxy exited with status {code}:\n{}", self.output),
            None => write!(f, "the proxy did not listen within {START_TIMEOUT:?}:\n{}", self.output),
        }
    }
}

impl Proxy {
    /// Starts `binary --listen unix://DIR/NAME.sock ARGS…` with `DOCKER_HOST=upstream`, its
    /// output to `DIR/NAME.log`, and waits until it accepts connections.
    pub fn start(binary: &Path, upstream: &str, dir: &Path, name: &str, args: &[&str]) -> Result<Proxy, StartError> {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let socket = dir.join(format!("{name}.sock"));
        let log_path = dir.join(format!("{name}.log"));
        let _ = std::fs::remove_file(&socket);
        let log = std::fs::File::create(&log_path).unwrap_or_else(|e| panic!("{}: {e}", log_path.display()));
        let mut child = Command::new(binary)
            .arg("--listen")
            .arg(format!("unix://{}", socket.display()))
            .args(args)
            .env("DOCKER_HOST", upstream)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let started = Instant::now();
        let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
        while UnixStream::connect(&socket).is_err() {
            if let Some(status) = child.try_wait().expect("waiting for the proxy") {
                return Err(StartError { status: status.code(), output: read_log() });
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(StartError { status: None, output: read_log() });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let client_config = dir.join(format!("{name}-client-config"));
        Ok(Proxy { child, host: format!("unix://{}", socket.display()), socket, log_path, client_config })
    }

    /// Writes `config` to `DIR/NAME.conf` and starts the proxy with `--config` it (and
    /// `args`).
    pub fn with_config(binary: &Path, upstream: &str, dir: &Path, name: &str, config: &str, args: &[&str]) -> Result<Proxy, StartError> {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let path = dir.join(format!("{name}.conf"));
        std::fs::write(&path, config).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let path = path.to_str().expect("a UTF-8 path").to_owned();
        let args: Vec<&str> = ["--config", path.as_str()].into_iter().chain(args.iter().copied()).collect();
        Proxy::start(binary, upstream, dir, name, &args)
    }

    /// Clients of this proxy (an empty client configuration of their own).
    pub fn target(&self) -> Target {
        Target::new(self.host.clone(), self.client_config.clone())
    }

    /// Runs `cli args…` through the proxy: status, stdout, stderr.
    pub fn docker(&self, cli: &str, args: &[&str]) -> Out {
        self.target().run(cli, args)
    }

    /// What the proxy printed so far (its audit lines and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Whether it is still running (a proxy that died under a client fails the test that sees it).
    pub fn running(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}
