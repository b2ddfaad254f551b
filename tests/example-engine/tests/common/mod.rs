//! What the tests that drive the example engine with real clients share: an engine served
//! in-process on a private socket, and the real engine to compare it with. Running clients
//! (deadlines, the CI rule for a missing one) is `moby_api_test_harness`'s.

#![allow(dead_code)] // Each test file uses a part.

use std::path::PathBuf;

use moby_api_example_engine::{router, Engine};
use moby_api_test_harness::{client, run_command, Out};

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

/// The real engine the test command started (`MOBY_API_TEST_ENGINE_20_10`); `None` skips,
/// except under CI, where it fails.
pub fn real_engine() -> Option<String> {
    moby_api_test_harness::test_engine("20.10")
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Open attach connections and streams belong to the engine; do not wait for them.
            runtime.shutdown_background();
        }
    }
}
