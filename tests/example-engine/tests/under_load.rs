//! The example engine's binary with its default connection settings, under clients that
//! misbehave: a flood of idle connections larger than its open-file limit leaves
//! `docker version` answering, and SIGTERM with a half-sent request and an endless
//! `docker events` open still ends the process, by the shutdown deadline.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{client, require, run_command, CLI_28};

/// The engine binary under `sh -c 'ulimit -n 256; exec …'`: 256 descriptors, so 128
/// connections by default (half the limit).
fn start_engine(socket: &Path) -> Child {
    let binary = env!("CARGO_BIN_EXE_moby-api-example-engine");
    let child = Command::new("sh")
        .args(["-c", "ulimit -n 256 && exec \"$0\" --socket \"$1\"", binary])
        .arg(socket)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting the engine");
    let started = Instant::now();
    while UnixStream::connect(socket).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "the engine never listened on {}", socket.display());
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Waits up to `within` for the process to exit; its status, or `None`.
fn exited_within(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Some(status) = child.try_wait().expect("waiting for the engine") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn idle_flood_and_shutdown() {
    if !require(Path::new(CLI_28).exists(), &format!("{CLI_28} not found")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let mut engine = start_engine(&socket);
    let host = format!("unix://{}", socket.display());

    // Four times the engine's descriptors in idle connections: some silent, some with half
    // a request, some idle after a whole one.
    let mut flood = Vec::new();
    for i in 0..1024 {
        let mut conn = UnixStream::connect(&socket).expect("connect");
        let _ = match i % 3 {
            0 => Ok(()),
            1 => conn.write_all(b"GET /_ping HTTP/1.1\r\nHost: x"),
            _ => conn.write_all(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"),
        };
        flood.push(conn);
    }
    let version =
        run_command(client(CLI_28, &["version", "--format", "{{.Server.APIVersion}}"], &host, dir.path()), None, "docker version");
    assert_eq!(version.ok().trim(), "1.41");
    assert!(version.took < Duration::from_secs(10), "docker version took {:?} during the flood", version.took);
    drop(flood);

    // SIGTERM with a half-sent request and an event stream open: the engine ends the stream,
    // closes the idle connection and exits, well within its 10 s shutdown deadline.
    let mut half = UnixStream::connect(&socket).unwrap();
    half.write_all(b"GET /_ping HTTP/1.1\r\nHost: x").unwrap();
    let mut events = client(CLI_28, &["events"], &host, dir.path()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let term = Command::new("kill").args(["-TERM", &engine.id().to_string()]).status().unwrap();
    assert!(term.success());
    let started = Instant::now();
    let status = exited_within(&mut engine, Duration::from_secs(15));
    let _ = events.kill();
    let _ = events.wait();
    match status {
        Some(status) => assert!(status.success(), "the engine exited with {status}"),
        None => {
            let _ = engine.kill();
            panic!("the engine did not exit within 15 s of SIGTERM");
        }
    }
    assert!(started.elapsed() < Duration::from_secs(10), "the engine took {:?} to exit", started.elapsed());
}
