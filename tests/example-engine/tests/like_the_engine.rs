//! The same client sessions against the example engine and against a real Docker Engine
//! (the private 20.10 engine `cargo xtask test` starts, `MOBY_API_TEST_ENGINE_20_10`), with
//! what the clients print compared: label filters (repeated terms ANDed), `label!`, `until`
//! and keys the daemon refuses, in lists, events and prunes, with both docker CLIs and
//! Debian's docker-compose (v1); interactive shells through a real pseudo-terminal; and
//! `--entrypoint ""`.
//!
//! Everything a session creates on the real engine carries a label unique to the run, and
//! every prune is scoped by it, so other tests' objects are never touched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;
use common::{client, real_engine, require, run_command, unix_seconds, Daemon, Out, CLI_20_10, CLI_28};

/// One engine the sessions run against.
struct Target {
    host: String,
    config: PathBuf,
}

impl Target {
    fn run(&self, cli: &str, args: &[&str]) -> Out {
        run_command(client(cli, args, &self.host, &self.config), None, &format!("{cli} {}", args.join(" ")))
    }
}

/// The example engine (with `busybox:test`, the real engine's one image) and the real one.
fn targets(daemon: &Daemon, real: String, dir: &Path) -> [Target; 2] {
    let example = Target { host: daemon.host(), config: daemon.dir.path().join("client-config") };
    example.run(CLI_28, &["tag", "busybox", "busybox:test"]).ok();
    [example, Target { host: real, config: dir.join("client-config") }]
}

/// A name unique to this run and session, valid as a container, volume and network name.
fn unique_tag() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("mae{}x{}x{}", std::process::id(), unix_seconds() % 100_000, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// What a command showed: exit status, then its output lines sorted (the two engines list in
/// different orders), with the session's tag replaced by `T`.
fn shown(tag: &str, out: &Out) -> String {
    let mut lines: Vec<String> = out.stdout.lines().chain(out.stderr.lines()).map(|l| l.trim().replace(tag, "T")).collect();
    lines.retain(|l| !l.is_empty());
    lines.sort();
    format!("[{}] {}", out.status.unwrap_or(-1), lines.join(" | "))
}

/// Label filters in `ps`, `events`, `volume ls`, `network ls` and the prunes.
fn filter_session(cli: &str, target: &Target, tag: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let scope = format!("label=moby-api-test={tag}");
    let step = |what: &str, args: &[&str]| format!("{what}: {}", shown(tag, &target.run(cli, args)));
    let since = (unix_seconds() - 1).to_string();
    for (name, labels) in [("a", &["a=1"][..]), ("b", &["b=1"]), ("ab", &["a=1", "b=1"]), ("none", &[])] {
        let name = format!("{tag}-{name}");
        let mut args = vec!["create", "--name", &name, "--network", "none", "--label"];
        let own = format!("moby-api-test={tag}");
        args.push(&own);
        for label in labels {
            args.extend(["--label", label]);
        }
        args.extend(["busybox:test", "true"]);
        let out = target.run(cli, &args);
        assert_eq!(out.status, Some(0), "{}: {}", out.what, out.stderr);
    }
    let names = ["ps", "-a", "--format", "{{.Names}}", "--filter", &scope];
    let with = |extra: &[&'static str]| -> Vec<String> {
        names.iter().map(|s| s.to_string()).chain(extra.iter().map(|s| s.to_string())).collect()
    };
    for (what, extra) in [
        ("ps label=a label=b", &["--filter", "label=a", "--filter", "label=b"][..]),
        ("ps label=a=1", &["--filter", "label=a=1"]),
        ("ps label=a=2", &["--filter", "label=a=2"]),
        ("ps status=created status=exited label=b", &["--filter", "status=created", "--filter", "status=exited", "--filter", "label=b"]),
        ("ps label!=a", &["--filter", "label!=a"]),
        ("ps unknown key", &["--filter", "colour=blue"]),
    ] {
        let args = with(extra);
        seen.push(step(what, &strs(&args)));
    }
    let until = (unix_seconds() + 1).to_string();
    seen.push(step(
        "events label=a label=b",
        &[
            "events",
            "--since",
            &since,
            "--until",
            &until,
            "--filter",
            &scope,
            "--filter",
            "label=a",
            "--filter",
            "label=b",
            "--format",
            "{{.Actor.Attributes.name}} {{.Action}}",
        ],
    ));
    let prune = |extra: &[&str]| -> Vec<String> {
        ["container", "prune", "--force", "--filter", &scope].iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let ps = with(&[]);
    for (what, extra) in [
        ("prune label=a label=b", &["--filter", "label=a", "--filter", "label=b"][..]),
        ("prune until=1h (all newer)", &["--filter", "until=1h"]),
        ("prune label!=a", &["--filter", "label!=a"]),
        ("prune unknown key", &["--filter", "colour=blue"]),
        ("prune label=a", &["--filter", "label=a"]),
    ] {
        let status = target.run(cli, &strs(&prune(extra))).status;
        let out = target.run(cli, &strs(&ps));
        seen.push(format!("{what}: [{}] then {}", status.unwrap_or(-1), shown(tag, &out)));
    }

    // Volumes and networks: lists and prunes by label.
    for kind in ["volume", "network"] {
        for (name, label) in [("a", "a=1"), ("b", "b=1")] {
            let name = format!("{tag}-{kind}-{name}");
            let own = format!("moby-api-test={tag}");
            assert_eq!(target.run(cli, &[kind, "create", "--label", &own, "--label", label, &name]).status, Some(0));
        }
        let list = |extra: &[&str]| -> Vec<String> {
            let mut args: Vec<String> = [kind, "ls", "--format", "{{.Name}}", "--filter", &scope].iter().map(|s| s.to_string()).collect();
            args.extend(extra.iter().map(|s| s.to_string()));
            args
        };
        seen.push(step(&format!("{kind} ls label=a"), &strs(&list(&["--filter", "label=a"]))));
        seen.push(step(&format!("{kind} ls label=a label=b"), &strs(&list(&["--filter", "label=a", "--filter", "label=b"]))));
        let status = target.run(cli, &[kind, "prune", "--force", "--filter", &scope, "--filter", "label!=a"]).status;
        let out = target.run(cli, &strs(&list(&[])));
        seen.push(format!("{kind} prune label!=a: [{}] then {}", status.unwrap_or(-1), shown(tag, &out)));
        let _ = target.run(cli, &[kind, "rm", &format!("{tag}-{kind}-a")]);
    }
    seen
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn compare(what: &str, example: Vec<String>, real: Vec<String>) {
    let diff: Vec<String> =
        example.iter().zip(&real).filter(|(e, r)| e != r).map(|(e, r)| format!("  example engine: {e}\n  real engine:    {r}")).collect();
    assert!(diff.is_empty() && example.len() == real.len(), "{what} differs from the real engine:\n{}", diff.join("\n"));
    eprintln!("{what}, the same on both engines:\n  {}", example.join("\n  "));
}

#[test]
fn label_filters_and_prunes_like_the_engine() {
    let Some(real) = real_engine() else { return };
    with_each_cli("filter session", real, filter_session);
}

/// Runs `session` with each docker CLI against both engines and compares what they showed.
fn with_each_cli(what: &str, real: String, session: fn(&str, &Target, &str) -> Vec<String>) {
    let daemon = Daemon::start();
    let dir = tempfile::tempdir().unwrap();
    let targets = targets(&daemon, real, dir.path());
    for cli in [CLI_28, CLI_20_10] {
        if !require(Path::new(cli).exists(), &format!("{cli} not found")) {
            continue;
        }
        let tag = unique_tag();
        let [example, real] = [&targets[0], &targets[1]].map(|target| session(cli, target, &tag));
        compare(&format!("{cli}'s {what}"), example, real);
    }
}

/// Debian's docker-compose (v1), installed with apt when missing (as root).
fn docker_compose() -> Option<&'static str> {
    const PATH: &str = "/usr/bin/docker-compose";
    let works = || Command::new(PATH).arg("version").output().is_ok_and(|o| o.status.success());
    if !works() && Path::new("/usr/bin/apt-get").exists() {
        let apt = |args: &[&str]| {
            Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive").output().is_ok_and(|o| o.status.success())
        };
        let _ = apt(&["update", "-q"]) && apt(&["install", "-y", "-q", "--no-install-recommends", "docker-compose"]);
    }
    require(works(), "docker-compose is not installed and `apt-get install docker-compose` failed").then_some(PATH)
}

const COMPOSE_FILE: &str = r#"version: "2.4"
services:
  web:
    image: busybox:test
    command: sleep 300
    network_mode: none
  worker:
    image: busybox:test
    command: sleep 300
    network_mode: none
"#;

/// Scaling up and down and taking a project down: docker-compose finds its containers with
/// two label filters (project and service) and numbers them from what it finds.
fn compose_session(compose: &str, target: &Target, tag: &str, dir: &Path) -> Vec<String> {
    let mut seen = Vec::new();
    let ps = ["ps", "-a", "--format", "{{.Names}} {{.State}}", "--filter", &format!("label=com.docker.compose.project={tag}")];
    for (what, args) in [
        ("up web=3", &["up", "-d", "--scale", "web=3"][..]),
        ("up web=1", &["up", "-d", "-t", "1", "--scale", "web=1"]),
        ("up web=2", &["up", "-d", "-t", "1", "--scale", "web=2"]),
        ("down", &["down", "-t", "1"]),
    ] {
        let mut command = client(compose, &["-p", tag, "-f"], &target.host, &target.config);
        command.arg(dir.join("docker-compose.yml")).args(args);
        let out = run_command(command, None, &format!("docker-compose {what}"));
        let listed = target.run(CLI_28, &ps);
        seen.push(format!("{what}: [{}] then {}", out.status.unwrap_or(-1), shown(tag, &listed)));
    }
    seen
}

#[test]
fn docker_compose_like_the_engine() {
    let Some(real) = real_engine() else { return };
    let Some(compose) = docker_compose() else { return };
    let daemon = Daemon::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docker-compose.yml"), COMPOSE_FILE).unwrap();
    let targets = targets(&daemon, real, dir.path());
    let tag = unique_tag();
    let [example, real] = [&targets[0], &targets[1]].map(|target| compose_session(compose, target, &tag, dir.path()));
    compare("docker-compose's session", example, real);
}

/// Types keys into a client on a pseudo-terminal, each once the shell has prompted for it,
/// and prints what the terminal showed and the exit status, as JSON.
const PTY_DRIVER: &str = r#"
import json, os, pty, select, sys, time
keys, program = json.loads(sys.argv[1]), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(program[0], program)
out = b''
def read_until(done, seconds):
    global out
    end = time.time() + seconds
    while time.time() < end and not done():
        if select.select([fd], [], [], 0.05)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            out += data
for i, key in enumerate(keys):
    read_until(lambda: out.count(b'# ') > i, 15)
    os.write(fd, key.encode())
read_until(lambda: False, 15)
_, status = os.waitpid(pid, 0)
print(json.dumps({'shown': out.decode('utf-8', 'replace'), 'status': os.waitstatus_to_exitcode(status)}))
"#;

/// What the terminal showed from the first prompt on, without the cursor-position queries
/// busybox's line editor sends (`ESC [6n`, which no terminal answers here), and the status.
fn on_a_terminal(cli: &str, target: &Target, keys: &[&str], args: &[&str]) -> String {
    let keys = serde_json::to_string(keys).unwrap();
    let mut command = client("python3", &["-c", PTY_DRIVER, &keys, cli], &target.host, &target.config);
    command.args(args);
    let out = run_command(command, None, &format!("{cli} {} on a terminal", args.join(" ")));
    let result: serde_json::Value =
        serde_json::from_str(out.ok()).unwrap_or_else(|e| panic!("the terminal driver printed no JSON ({e}): {}", out.stderr));
    let shown = result["shown"].as_str().unwrap_or_default().replace("\u{1b}[6n", "");
    let from_prompt = shown.find("/ # ").map_or(shown.as_str(), |at| &shown[at..]);
    format!("[{}] {from_prompt:?}", result["status"])
}

fn terminal_session(cli: &str, target: &Target, tag: &str) -> Vec<String> {
    let name = format!("{tag}-shell");
    let own = format!("moby-api-test={tag}");
    assert_eq!(
        target.run(cli, &["run", "-d", "--name", &name, "--label", &own, "--network", "none", "busybox:test", "sleep", "300"]).status,
        Some(0)
    );
    let seen = vec![
        on_a_terminal(cli, target, &["echo hi\r", "exit 3\r"], &["run", "-it", "--rm", "--network", "none", "busybox:test", "sh"]),
        on_a_terminal(cli, target, &["echo hi\r", "\u{4}"], &["exec", "-it", &name, "sh"]),
        on_a_terminal(cli, target, &["false\r", "\u{4}"], &["exec", "-it", &name, "sh"]),
        shown(tag, &target.run(cli, &["run", "--rm", "--network", "none", "--entrypoint", "", "busybox:test", "echo", "entry"])),
    ];
    target.run(cli, &["rm", "-f", &name]);
    seen
}

#[test]
fn interactive_shells_like_the_engine() {
    let Some(real) = real_engine() else { return };
    let python = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    if !require(python, "python3 not found (it drives the pseudo-terminal)") {
        return;
    }
    with_each_cli("session on a terminal", real, terminal_session);
}
