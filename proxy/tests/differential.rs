//! The differential suite: the same client sessions run directly against a real engine and
//! through the proxy (`moby-proxy`, plain and with `--typed`), what the clients show
//! compared with ids, times and a session's own names masked. Zero differences pass; every
//! difference is reported with the session, the step, the command and both outputs.
//!
//! - the docker CLI sessions: the 28.x CLI pinned by `DOCKER_API_VERSION` on Engine 28.5.2,
//!   the 20.10 CLI on Engine 20.10; the whole sequence ([`full_sequence`]) at 1.24, 1.41 and
//!   the newest version the engine accepts, the short one ([`short_sequence`]: every kind of
//!   answer) at every other version from 1.25 on 28.5.2;
//! - docker-py and Debian's docker-compose on both engines at 1.24, 1.41 and the newest.
//!
//! The engines are those `cargo xtask test` starts (`MOBY_API_TEST_ENGINE_28_5_2`,
//! `MOBY_API_TEST_ENGINE_20_10`). The three runs of a session (direct, proxy, typed proxy)
//! go at once, each with a tag of its own that names and labels everything it creates, so
//! they cannot see each other's objects; several sessions run side by side.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use moby_api_test_harness::mask::{mask, mask_json, mask_numbers};
use moby_api_test_harness::proxy::Proxy;
use moby_api_test_harness::terminal::on_a_terminal;
use moby_api_test_harness::{
    docker_compose, docker_py, python3, require, run_command_within, test_engine, unix_seconds, Out, Target, CLI_20_10, CLI_28,
};

const PROXY: &str = env!("CARGO_BIN_EXE_moby-proxy");
/// Longer than any step takes; a step that hangs is a difference, not a stuck test.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// Members of inspect answers that differ between two runs of the same session.
const VOLATILE: &[&str] = &[
    "Pid",
    "IPAddress",
    "IPv4Address",
    "IPv6Address",
    "GlobalIPv6Address",
    "Gateway",
    "IPv6Gateway",
    "MacAddress",
    "HostPort",
    "Subnet",
    "IPRange",
    "SandboxKey",
    "Key",
];
/// What the engine answers a prune while another runs (the three runs of a session, and
/// sessions side by side, prune at about the same time): such a step is tried again.
const PRUNE_RUNNING: &str = "a prune operation is already running";

/// A real engine and the CLI that goes with it.
struct Engine {
    name: &'static str,
    cli: &'static str,
    host: String,
    /// The newest API version it accepts (`/version`'s `ApiVersion`).
    newest: String,
}

impl Engine {
    /// The engine `cargo xtask test` started, or `None` (a skip outside CI, a failure under it).
    fn get(name: &'static str) -> Option<Engine> {
        let cli = if name == "28.5.2" { CLI_28 } else { CLI_20_10 };
        let host = test_engine(name)?;
        if !require(Path::new(cli).exists(), &format!("{cli} not found")) {
            return None;
        }
        let dir = tempfile::tempdir().expect("temporary directory");
        let out = Target::new(host.clone(), dir.path()).run(cli, &["version", "--format", "{{.Server.APIVersion}}"]);
        let newest = out.ok().trim().to_owned();
        Some(Engine { name, cli, host, newest })
    }

    /// The versions from 1.24 to the newest, as `1.N`.
    fn versions(&self) -> Vec<String> {
        let newest: u32 = self.newest.strip_prefix("1.").and_then(|m| m.parse().ok()).expect("an API version 1.N");
        (24..=newest).map(|m| format!("1.{m}")).collect()
    }

    /// 1.24, 1.41 and the newest: the versions of the whole sequence.
    fn full_versions(&self) -> Vec<String> {
        let mut versions = vec!["1.24".to_owned(), "1.41".to_owned(), self.newest.clone()];
        versions.dedup();
        versions
    }
}

/// The engine directly, and the proxy in front of it in both modes.
struct Contenders {
    targets: Vec<(&'static str, Target)>,
    proxies: Vec<Proxy>,
    _dir: tempfile::TempDir,
}

impl Contenders {
    fn start(engine: &Engine) -> Contenders {
        let dir = tempfile::Builder::new().prefix("proof-").tempdir().expect("temporary directory");
        let start = |name: &str, args: &[&str]| {
            Proxy::start(Path::new(PROXY), &engine.host, dir.path(), name, args).unwrap_or_else(|e| panic!("moby-proxy {args:?}: {e}"))
        };
        let proxies = vec![start("plain", &[]), start("typed", &["--typed"])];
        let targets = vec![
            ("direct", Target::new(engine.host.clone(), dir.path().join("direct-client-config"))),
            ("proxy", proxies[0].target()),
            ("proxy --typed", proxies[1].target()),
        ];
        Contenders { targets, proxies, _dir: dir }
    }

    /// A proxy that died under the clients is a failure of its own.
    fn check_alive(&mut self) -> Vec<String> {
        self.proxies.iter_mut().filter_map(|p| (!p.running()).then(|| format!("the proxy at {} died:\n{}", p.host, p.log()))).collect()
    }

    /// A body the typed proxy's models could not read went on as it came, so the clients
    /// show no difference: its log line is one.
    fn check_typed_decodes(&self) -> Vec<String> {
        self.proxies
            .iter()
            .flat_map(|p| p.log().lines().filter(|l| l.contains("decode failed")).map(str::to_owned).collect::<Vec<_>>())
            .map(|line| format!("the typed proxy's models could not read a body: {line}"))
            .collect()
    }
}

/// One step of a session: what it did, the command line, and what it showed (masked).
#[derive(Clone)]
struct Step {
    what: String,
    command: String,
    shown: String,
}

/// One run of a session against one contender.
struct Session {
    cli: &'static str,
    target: Target,
    /// Names and labels everything this run creates; shown as `T`.
    tag: String,
    /// Scratch files of this run (build context, copies, saved images).
    dir: PathBuf,
    steps: Vec<Step>,
}

/// How a step's output is shown.
#[derive(Clone, Copy)]
enum Show {
    /// Status, stdout, stderr, masked.
    Text,
    /// Status and the output lines sorted (their order may vary), masked.
    Sorted,
    /// [`Show::Sorted`] without repeated lines: `rmi`, whose count of deleted layers
    /// depends on whether a concurrent run's image shares one (layers are content-addressed).
    Distinct,
    /// Status and stdout as JSON with volatile members masked; stderr masked.
    Json,
    /// [`Show::Text`] with every number masked too (pids, clock readings, host ports).
    Numbers,
}

impl Session {
    fn new(cli: &'static str, target: Target, dir: &Path) -> Session {
        let tag = unique_tag();
        let dir = dir.join(&tag);
        std::fs::create_dir_all(&dir).expect("session directory");
        Session { cli, target, tag, dir, steps: Vec::new() }
    }

    /// `{t}` in an argument is the tag, `{dir}` the session's directory.
    fn expand(&self, arg: &str) -> String {
        arg.replace("{t}", &self.tag).replace("{dir}", self.dir.to_str().expect("a UTF-8 path"))
    }

    fn command_line(&self, program: &str, args: &[String]) -> String {
        let pin = self.target.api_version.as_deref().map_or(String::new(), |v| format!("DOCKER_API_VERSION={v} "));
        format!("{pin}{program} {}", args.join(" "))
    }

    fn run(&mut self, program: &str, what: &str, args: &[&str], stdin: Option<&str>, show: Show) -> Out {
        let args: Vec<String> = args.iter().map(|a| self.expand(a)).collect();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let command = self.command_line(program, &args);
        let mut out = run_command_within(self.target.command(program, &argv), stdin, &command, STEP_TIMEOUT);
        for _ in 0..100 {
            if !out.stderr.contains(PRUNE_RUNNING) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            out = run_command_within(self.target.command(program, &argv), stdin, &command, STEP_TIMEOUT);
        }
        let shown = self.show(&out, show);
        self.steps.push(Step { what: what.to_owned(), command: self.mask(&command), shown });
        out
    }

    fn docker(&mut self, what: &str, args: &[&str], show: Show) -> Out {
        self.run(self.cli, what, args, None, show)
    }

    fn docker_in(&mut self, what: &str, args: &[&str], stdin: &str, show: Show) -> Out {
        self.run(self.cli, what, args, Some(stdin), show)
    }

    /// A step whose result the session computed itself (a file's content, a tar's entries).
    fn record(&mut self, what: &str, command: &str, shown: String) {
        let (command, shown) = (self.mask(&self.expand(command)), self.mask(&shown));
        self.steps.push(Step { what: what.to_owned(), command, shown });
    }

    /// `run -it`, `exec -it`: the client on a pseudo-terminal.
    fn terminal(&mut self, what: &str, keys: &[&str], args: &[&str]) {
        let args: Vec<String> = args.iter().map(|a| self.expand(a)).collect();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let shown = without_cli_race(&on_a_terminal(self.cli, &self.target, keys, &argv));
        let command = format!("{} (on a terminal, typing {keys:?})", self.command_line(self.cli, &args));
        self.record(what, &command, shown);
    }

    fn mask(&self, text: &str) -> String {
        mask(&text.replace(self.dir.to_str().expect("a UTF-8 path"), "{dir}"), &self.tag)
    }

    fn show(&self, out: &Out, show: Show) -> String {
        let status = match (out.timed_out, out.status) {
            (true, _) => format!("timed out after {STEP_TIMEOUT:?}"),
            (false, Some(code)) => code.to_string(),
            (false, None) => "killed by a signal".into(),
        };
        let dir = self.dir.to_str().expect("a UTF-8 path");
        let stdout = out.stdout.replace(dir, "{dir}");
        let stderr: String = out.stderr.replace(dir, "{dir}").lines().filter(|l| !cli_race(l)).map(|l| format!("{l}\n")).collect();
        match show {
            Show::Text => format!("[{status}] stdout: {:?} stderr: {:?}", mask(&stdout, &self.tag), mask(&stderr, &self.tag)),
            Show::Numbers => {
                format!("[{status}] stdout: {:?} stderr: {:?}", mask_numbers(&stdout, &self.tag), mask_numbers(&stderr, &self.tag))
            }
            Show::Sorted | Show::Distinct => {
                // Whitespace runs are one space: progress lines pad names to the longest yet.
                let mut lines: Vec<String> = stdout
                    .lines()
                    .chain(stderr.lines())
                    .map(|l| mask(&l.split_whitespace().collect::<Vec<_>>().join(" "), &self.tag))
                    .collect();
                lines.retain(|l| !l.is_empty());
                lines.sort();
                if matches!(show, Show::Distinct) {
                    lines.dedup();
                }
                format!("[{status}] {}", lines.join(" | "))
            }
            Show::Json => format!("[{status}] {} stderr: {:?}", mask_json(&stdout, &self.tag, VOLATILE), mask(&stderr, &self.tag)),
        }
    }

    /// Waits (up to 10 s, not a step) until the container `name` is no longer running: the
    /// engine records the exit a moment after it has answered `wait`.
    fn settle(&self, name: &str) {
        let name = self.expand(name);
        let args = ["inspect", name.as_str(), "--format", "{{.State.Status}}"];
        for _ in 0..100 {
            let out = run_command_within(self.target.command(self.cli, &args), None, "settle", STEP_TIMEOUT);
            if out.stdout.trim() != "running" {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Removes what the session left (not a step: a failed step may have left anything),
    /// through `engine` (directly: a proxy that refused the session would refuse this too).
    fn clean_up(&self, engine: &Target) {
        let label = format!("label=moby-api-test={}", self.tag);
        let engine = engine.pinned(self.target.api_version.as_deref().unwrap_or("1.41"));
        let quiet = |args: &[&str]| run_command_within(engine.command(self.cli, args), None, "clean-up", STEP_TIMEOUT);
        let ids = |args: &[&str]| quiet(args).stdout.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        let containers = ids(&["ps", "-aq", "--filter", &label]);
        if !containers.is_empty() {
            let args: Vec<&str> = ["rm", "-f"].into_iter().chain(containers.iter().map(String::as_str)).collect();
            quiet(&args);
        }
        for kind in ["network", "volume"] {
            for name in ids(&[kind, "ls", "-q", "--filter", &label]) {
                quiet(&[kind, "rm", &name]);
            }
        }
        let images = ids(&["images", "-q", "--filter", &label]);
        for image in images {
            quiet(&["rmi", "-f", &image]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A line the docker CLI logs when it cancels its own request on the way out: at API 1.24 it
/// removes a `--rm` container and watches events itself, and whether that request was still
/// in flight when it exits is a matter of timing, not of the engine's answer.
fn cli_race(line: &str) -> bool {
    line.contains("level=error") && line.trim_end().ends_with("context canceled\"")
}

/// A terminal's output (as `on_a_terminal` shows it, escaped) without the [`cli_race`] line.
fn without_cli_race(shown: &str) -> String {
    let Some(start) = shown.find("time=\\\"") else { return shown.to_owned() };
    let end_mark = "context canceled\\\"\\r\\n";
    match shown[start..].find(end_mark) {
        Some(len) if shown[start..start + len].contains("level=error") => {
            format!("{}{}", &shown[..start], &shown[start + len + end_mark.len()..])
        }
        _ => shown.to_owned(),
    }
}

/// The start of an events window (`events --since`, whole seconds): the next whole second,
/// so that the window holds no event of the steps before, after which this waits 0.5 s more.
/// The engine replays past events from a buffer of its last 256, in the order they were
/// published, and stops at the first one older than `since`: an event of a session running
/// beside this one, published late with an earlier time, would hide this session's first
/// events, and so would a long window (the sessions side by side fill the buffer): the steps
/// in a window are few.
fn events_window() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970");
    std::thread::sleep(Duration::from_millis(1500) - Duration::from_nanos(u64::from(now.subsec_nanos())));
    now.as_secs() + 1
}

/// A tag unique to this process and run, of fixed length (names of different lengths would
/// move columns and build-context sizes), valid as a container, image and project name.
fn unique_tag() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("px{:05}{:04}", std::process::id() % 100_000, NEXT.fetch_add(1, Ordering::Relaxed) % 10_000)
}

/// The names in a tar file, sorted (their order and times are the engine's business).
fn tar_entries(path: &Path) -> String {
    let Ok(file) = std::fs::File::open(path) else { return format!("no file {}", path.display()) };
    let mut archive = tar::Archive::new(file);
    let Ok(entries) = archive.entries() else { return "not a tar".into() };
    // Masked before sorting: entries named by ids come in the order of the ids.
    let mut names: Vec<String> = entries
        .map(|e| e.ok().and_then(|e| e.path().ok().map(|p| mask(&p.display().to_string(), ""))).unwrap_or_else(|| "<bad entry>".into()))
        .collect();
    names.sort();
    format!("{} entries: {}", names.len(), names.join(" "))
}

/// Everything people do with the docker CLI, in one session.
fn full_sequence(s: &mut Session) {
    use Show::*;
    let own = "moby-api-test={t}";
    let label = "label=moby-api-test={t}";
    let until = || (unix_seconds() + 2).to_string();

    // run: attach (an upgrade), frames split into stdout and stderr, the exit code by wait.
    s.docker(
        "run",
        &["run", "--name", "{t}-run", "--label", own, "--network", "none", "busybox:test", "sh", "-c", "echo out; echo err >&2; exit 3"],
        Text,
    );
    s.docker("run --rm -t (raw TTY)", &["run", "--rm", "-t", "--label", own, "--network", "none", "busybox:test", "echo", "tty"], Text);
    s.terminal(
        "run -it on a terminal",
        &["echo hi\r", "exit 3\r"],
        &["run", "-it", "--rm", "--label", own, "--network", "none", "busybox:test", "sh"],
    );
    s.docker("run -d", &["run", "-d", "--name", "{t}-box", "--label", own, "--network", "none", "busybox:test", "sleep", "300"], Text);
    s.terminal("exec -it on a terminal", &["echo hi\r", "\u{4}"], &["exec", "-it", "{t}-box", "sh"]);
    s.docker("exec", &["exec", "{t}-box", "sh", "-c", "echo exec; echo eerr >&2; sleep 0.2; exit 4"], Text);
    s.docker_in("exec -i (stdin half-closed)", &["exec", "-i", "{t}-box", "cat"], "piped\n", Text);

    // attach: stdin through the attach connection; its end ends `cat`.
    s.docker("create -i", &["create", "-i", "--name", "{t}-cat", "--label", own, "--network", "none", "busybox:test", "cat"], Text);
    s.docker("start", &["start", "{t}-cat"], Text);
    s.docker_in("attach", &["attach", "{t}-cat"], "attached\n", Text);
    s.docker("wait", &["wait", "{t}-cat"], Text);

    // logs -f follows until the container ends.
    s.docker(
        "run -d",
        &[
            "run",
            "-d",
            "--name",
            "{t}-logs",
            "--label",
            own,
            "--network",
            "none",
            "busybox:test",
            "sh",
            "-c",
            "echo one; sleep 1; echo two >&2; sleep 0.3; echo three",
        ],
        Text,
    );
    s.docker("logs -f", &["logs", "-f", "{t}-logs"], Text);
    s.docker("logs --tail", &["logs", "--tail", "1", "{t}-logs"], Text);
    s.docker("logs -t", &["logs", "-t", "{t}-logs"], Text);

    // cp both ways.
    std::fs::write(s.dir.join("in.txt"), "copied in\n").expect("scratch file");
    s.docker("cp into", &["cp", "{dir}/in.txt", "{t}-box:/tmp/in.txt"], Text);
    s.docker("exec cat", &["exec", "{t}-box", "cat", "/tmp/in.txt"], Text);
    s.docker("cp out", &["cp", "{t}-box:/tmp/in.txt", "{dir}/out.txt"], Text);
    let copied = std::fs::read_to_string(s.dir.join("out.txt")).unwrap_or_else(|e| format!("no file: {e}"));
    s.record("the copy", "cat {dir}/out.txt", copied);
    s.docker("cp a directory out", &["cp", "{t}-box:/etc", "{dir}/etc"], Text);
    let mut names: Vec<String> = std::fs::read_dir(s.dir.join("etc"))
        .map_or(Vec::new(), |d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect());
    names.sort();
    s.record("the copied directory", "ls {dir}/etc", names.join(" "));
    s.docker("diff", &["diff", "{t}-box"], Sorted);

    // build (legacy builder: a small context, no network), commit, save, load, export.
    let context = s.dir.join("context");
    std::fs::create_dir_all(&context).expect("build context");
    std::fs::write(context.join("Dockerfile"), format!("FROM busybox:test\nLABEL moby-api-test={}\nCOPY file /file\n", s.tag))
        .expect("Dockerfile");
    std::fs::write(context.join("file"), "built\n").expect("context file");
    s.docker("build", &["build", "-t", "{t}-img:1", "{dir}/context"], Text);
    s.docker("run the built image", &["run", "--rm", "--network", "none", "{t}-img:1", "cat", "/file"], Text);
    s.docker("images", &["images", "--filter", label, "--format", "{{.Repository}}:{{.Tag}}"], Sorted);
    s.docker("commit", &["commit", "--change", "LABEL committed=1", "{t}-box", "{t}-img:2"], Text);
    s.docker("image inspect", &["image", "inspect", "{t}-img:2", "--format", "{{json .Config.Labels}}"], Text);
    s.docker("save", &["save", "-o", "{dir}/saved.tar", "{t}-img:2"], Text);
    let saved = tar_entries(&s.dir.join("saved.tar"));
    s.record("the saved image", "tar -t {dir}/saved.tar", saved);
    s.docker("rmi", &["rmi", "{t}-img:2"], Distinct);
    s.docker("load", &["load", "-i", "{dir}/saved.tar"], Text);
    s.docker("export", &["export", "-o", "{dir}/exported.tar", "{t}-box"], Text);
    let exported = tar_entries(&s.dir.join("exported.tar"));
    s.record("the exported file system", "tar -t {dir}/exported.tar", exported);

    // stats, top, update, inspect.
    s.docker("stats --no-stream", &["stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "{t}-box"], Text);
    s.docker("top", &["top", "{t}-box"], Numbers);
    s.docker("update", &["update", "--memory", "64m", "--memory-swap", "128m", "--cpu-shares", "512", "{t}-box"], Text);
    s.docker("inspect after update", &["inspect", "{t}-box", "--format", "{{.HostConfig.Memory}} {{.HostConfig.CpuShares}}"], Text);
    s.docker("inspect", &["inspect", "{t}-box"], Json);

    // Networks with disconnect and connect, and a published port; one network a session:
    // address pools are few (other engines on the machine take some), and sessions run side
    // by side.
    s.docker("network create", &["network", "create", "--label", own, "{t}-net"], Text);
    s.docker(
        "run on a network",
        &["run", "-d", "--name", "{t}-web", "--label", own, "--network", "{t}-net", "-p", "127.0.0.1::80", "busybox:test", "sleep", "300"],
        Text,
    );
    s.docker("port", &["port", "{t}-web"], Numbers);
    s.docker("network disconnect", &["network", "disconnect", "{t}-net", "{t}-web"], Text);
    let networks = "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}";
    s.docker("networks of the container", &["inspect", "{t}-web", "--format", networks], Text);
    s.docker("network connect", &["network", "connect", "{t}-net", "{t}-web"], Text);
    s.docker("networks of the container", &["inspect", "{t}-web", "--format", networks], Text);
    s.docker("network ls", &["network", "ls", "--filter", label, "--format", "{{.Name}} {{.Driver}}"], Sorted);
    s.docker("network inspect", &["network", "inspect", "{t}-net"], Json);

    // Volumes.
    s.docker("volume create", &["volume", "create", "--label", own, "{t}-vol"], Text);
    s.docker(
        "write to the volume",
        &["run", "--rm", "--network", "none", "-v", "{t}-vol:/data", "busybox:test", "sh", "-c", "echo kept > /data/f"],
        Text,
    );
    s.docker("read the volume", &["run", "--rm", "--network", "none", "-v", "{t}-vol:/data", "busybox:test", "cat", "/data/f"], Text);
    s.docker("volume ls", &["volume", "ls", "--filter", label, "--format", "{{.Name}} {{.Driver}}"], Sorted);
    s.docker("volume inspect", &["volume", "inspect", "{t}-vol"], Json);

    // rename, kill, wait (also a long poll that waits for the exit).
    s.docker("rename", &["rename", "{t}-box", "{t}-renamed"], Text);
    s.docker("kill", &["kill", "{t}-renamed"], Text);
    s.docker("wait a killed container", &["wait", "{t}-renamed"], Text);
    s.docker(
        "run -d",
        &["run", "-d", "--name", "{t}-w", "--label", own, "--network", "none", "busybox:test", "sh", "-c", "sleep 1; exit 7"],
        Text,
    );
    s.docker("wait (long poll)", &["wait", "{t}-w"], Text);
    s.settle("{t}-w");
    s.docker("ps", &["ps", "-a", "--filter", label, "--format", "{{.Names}} {{.State}}"], Sorted);

    // Prunes with filters: only what carries both labels goes.
    s.docker("create", &["create", "--name", "{t}-pa", "--label", own, "--label", "keep=no", "busybox:test", "true"], Text);
    s.docker("create", &["create", "--name", "{t}-pb", "--label", own, "--label", "keep=yes", "busybox:test", "true"], Text);
    s.docker("container prune", &["container", "prune", "-f", "--filter", label, "--filter", "label=keep=no"], Sorted);
    s.docker("ps after prune", &["ps", "-a", "--filter", label, "--format", "{{.Names}}"], Sorted);
    s.docker("network prune", &["network", "prune", "-f", "--filter", label], Sorted);
    s.docker("volume prune", &["volume", "prune", "-f", "--filter", label], Sorted);
    s.docker("image prune", &["image", "prune", "-f", "--filter", label], Sorted);

    // Events, bounded (a stream that ends at --until), of the last steps only: the engine
    // replays at most its last 256 events, and the sessions side by side make many.
    let since = events_window().to_string();
    s.docker("run", &["run", "--name", "{t}-ev", "--label", own, "--network", "none", "busybox:test", "true"], Text);
    s.docker("rm", &["rm", "{t}-ev"], Text);
    let until = until();
    s.docker("events", &["events", "--since", &since, "--until", &until, "--filter", label, "--format", "{{.Type}} {{.Action}}"], Sorted);
    if let Some(step) = s.steps.last_mut() {
        step.command = step.command.replace(&since, "SINCE").replace(&until, "UNTIL");
    }

    s.docker("rm -f", &["rm", "-f", "{t}-run", "{t}-cat", "{t}-logs", "{t}-renamed", "{t}-web", "{t}-w", "{t}-pb"], Sorted);
    s.docker("network rm", &["network", "rm", "{t}-net"], Text);
    s.docker("volume rm", &["volume", "rm", "{t}-vol"], Text);
    s.docker("rmi", &["rmi", "{t}-img:1", "{t}-img:2"], Distinct);
}

/// Every kind of answer, briefly: JSON, JSON lines, multiplexed frames, raw TTY, tar, the
/// attach upgrade and the long polls of wait and events.
fn short_sequence(s: &mut Session) {
    use Show::*;
    let own = "moby-api-test={t}";
    let label = "label=moby-api-test={t}";
    let since = events_window().to_string();
    s.docker(
        "run (upgrade, frames, wait)",
        &["run", "--name", "{t}-s", "--label", own, "--network", "none", "busybox:test", "sh", "-c", "echo out; echo err >&2; exit 3"],
        Text,
    );
    // At once, while few events have passed: the engine replays only its last 256, and the
    // sessions beside this one make many. Until a second after the next whole one: the `die`
    // event may be published just after `run` has returned.
    let until = (unix_seconds() + 2).to_string();
    s.docker(
        "events (JSON lines, long poll)",
        &["events", "--since", &since, "--until", &until, "--filter", label, "--format", "{{.Type}} {{.Action}}"],
        Sorted,
    );
    if let Some(step) = s.steps.last_mut() {
        step.command = step.command.replace(&since, "SINCE").replace(&until, "UNTIL");
    }
    s.docker("logs (frames)", &["logs", "{t}-s"], Text);
    s.docker(
        "run -t (raw TTY)",
        &["run", "-t", "--name", "{t}-tty", "--label", own, "--network", "none", "busybox:test", "echo", "tty"],
        Text,
    );
    s.docker("logs of a TTY (raw)", &["logs", "{t}-tty"], Text);
    s.docker("inspect (JSON)", &["inspect", "{t}-s"], Json);
    s.docker("ps (JSON list)", &["ps", "-a", "--filter", label, "--format", "{{.Names}} {{.State}}"], Sorted);
    s.docker("cp out (tar)", &["cp", "{t}-s:/etc/passwd", "{dir}/passwd"], Text);
    let copied = std::fs::read_to_string(s.dir.join("passwd")).unwrap_or_else(|e| format!("no file: {e}"));
    s.record("the copy", "cat {dir}/passwd", copied);
    s.docker("rm", &["rm", "{t}-s", "{t}-tty"], Sorted);
}

/// docker-py: a short script of what its users do; each line it prints is a step.
const DOCKER_PY_SCRIPT: &str = r#"
import io, json, sys, tarfile, time
import docker
host, version, tag = sys.argv[1:4]
own = {'moby-api-test': tag}
scope = {'label': 'moby-api-test=' + tag}
client = docker.DockerClient(base_url=host, version=version, timeout=60)
def step(what, f):
    try:
        value = f()
    except Exception as e:
        value = 'error: %s: %s' % (type(e).__name__, e)
    print(what + ': ' + json.dumps(value, sort_keys=True, default=str), flush=True)
    return value
step('ping', client.ping)
# Lines of stdout and stderr together come in the order the engine read them: sorted.
step('run', lambda: sorted(client.containers.run('busybox:test', ['sh', '-c', 'echo out; echo err >&2'], name=tag + '-py', labels=own, network_mode='none', stdout=True, stderr=True).decode().splitlines()))
step('logs', lambda: [client.containers.get(tag + '-py').logs(stdout=True, stderr=False).decode(), client.containers.get(tag + '-py').logs(stdout=False, stderr=True).decode()])
box = step('run detached', lambda: client.containers.run('busybox:test', 'sleep 300', name=tag + '-pybox', labels=own, network_mode='none', detach=True).name)
box = client.containers.get(tag + '-pybox')
# The output comes a moment after the answer's head: docker-py reads the hijacked stream from
# the raw socket, and bytes that arrived with the head stay in the HTTP layer's buffer.
step('exec', lambda: (lambda r: [r.exit_code, [x.decode() if x else None for x in r.output]])(box.exec_run(['sh', '-c', 'sleep 0.3; echo exec; echo eerr >&2; exit 5'], demux=True)))
def archive():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tf:
        info = tarfile.TarInfo('put.txt'); info.size = 4
        tf.addfile(info, io.BytesIO(b'put\n'))
    return box.put_archive('/tmp', buf.getvalue())
step('put_archive', archive)
def get_archive():
    stream, stat = box.get_archive('/tmp/put.txt')
    raw = b''.join(stream)
    return [stat['name'], stat['size'], tarfile.open(fileobj=io.BytesIO(raw)).extractfile('put.txt').read().decode()]
step('get_archive', get_archive)
step('stats keys', lambda: sorted(box.stats(stream=False)))
step('top titles', lambda: box.top()['Titles'])
step('volume', lambda: client.volumes.create(name=tag + '-pyvol', labels=own).name)
step('volumes', lambda: [v.name for v in client.volumes.list(filters=scope)])
step('network', lambda: client.networks.create(tag + '-pynet', labels=own).name)
step('connect', lambda: client.networks.get(tag + '-pynet').connect(box))
step('networks', lambda: (box.reload(), sorted(box.attrs['NetworkSettings']['Networks']))[1])
step('disconnect', lambda: client.networks.get(tag + '-pynet').disconnect(box))
step('networks', lambda: (box.reload(), sorted(box.attrs['NetworkSettings']['Networks']))[1])
step('build', lambda: (lambda r: [r[0].labels, [l['stream'].strip() for l in r[1] if 'stream' in l]])(client.images.build(fileobj=io.BytesIO(('FROM busybox:test\nLABEL moby-api-test=%s\n' % tag).encode()), tag=tag + '-pyimg:1', rm=True)))
step('images', lambda: sorted(t for i in client.images.list(filters=scope) for t in i.tags))
# Events from the next whole second on (`since` counts in seconds): none of the steps before;
# and 0.5 s more, so that a late event of another session cannot end the engine's replay early.
began = int(time.time()) + 1
time.sleep(began - time.time() + 0.5)
step('kill', lambda: box.kill())
step('wait', lambda: box.wait()['StatusCode'])
# Only the kill's own events: a legacy build's intermediate containers and commits are
# recorded late enough to fall into the window or not.
step('events', lambda: sorted(e['Type'] + ' ' + e['Action'] for e in client.events(since=began, until=int(time.time()) + 2, filters=dict(scope, container=box.id), decode=True) if e['Action'] in ('kill', 'die')))
def prune():
    # The engine runs one prune at a time; the other runs of the session prune too.
    for _ in range(100):
        try:
            return client.containers.prune(filters=scope).get('ContainersDeleted')
        except docker.errors.APIError as e:
            if 'prune operation is already running' not in str(e):
                raise
            time.sleep(0.1)
step('prune', prune)
step('remove', lambda: [c.remove(force=True) for c in client.containers.list(all=True, filters=scope)] and None)
step('volume remove', lambda: client.volumes.get(tag + '-pyvol').remove())
step('network remove', lambda: client.networks.get(tag + '-pynet').remove())
step('image remove', lambda: client.images.remove(tag + '-pyimg:1'))
"#;

fn docker_py_session(s: &mut Session) {
    let script = s.dir.join("session.py");
    std::fs::write(&script, DOCKER_PY_SCRIPT).expect("the script");
    let version = s.target.api_version.clone().unwrap_or_default();
    let (host, tag) = (s.target.host.clone(), s.tag.clone());
    let out = run_command_within(
        s.target.command("python3", &[script.to_str().expect("UTF-8"), &host, &version, &tag]),
        None,
        "python3 session.py",
        STEP_TIMEOUT * 2,
    );
    for line in out.stdout.lines() {
        let (what, value) = line.split_once(": ").unwrap_or(("output", line));
        s.record(&format!("docker-py {what}"), &format!("docker-py {what}"), value.to_owned());
    }
    s.record("docker-py exit", "python3 session.py", format!("[{:?}] {}", out.status, out.stderr.trim()));
}

const COMPOSE_FILE: &str = r#"version: "2.0"
services:
  talk:
    image: busybox:test
    command: sh -c "echo hello from compose"
    network_mode: none
  web:
    image: busybox:test
    command: sleep 300
    network_mode: none
    volumes: ["data:/data"]
volumes:
  data: {}
"#;

fn compose_session(s: &mut Session, compose: &'static str) {
    use Show::*;
    std::fs::write(s.dir.join("docker-compose.yml"), COMPOSE_FILE).expect("the compose file");
    let project = ["-p", "{t}", "-f", "{dir}/docker-compose.yml"];
    let with = |args: &[&'static str]| -> Vec<&'static str> { project.iter().chain(args).copied().collect() };
    s.run(compose, "compose up", &with(&["up", "-d"]), None, Sorted);
    s.docker("wait for the one-shot service", &["wait", "{t}_talk_1"], Text);
    s.run(compose, "compose ps", &with(&["ps"]), None, Text);
    s.run(compose, "compose logs", &with(&["logs", "--no-color", "talk"]), None, Text);
    s.run(compose, "compose run --rm", &with(&["run", "--rm", "talk", "sh", "-c", "sleep 0.3; echo ran"]), None, Sorted);
    s.run(compose, "compose down -v", &with(&["down", "-v", "-t", "1"]), None, Sorted);
    s.docker("nothing left", &["ps", "-a", "--filter", "label=com.docker.compose.project={t}", "--format", "{{.Names}}"], Sorted);
    s.docker("no volume left", &["volume", "ls", "-q", "--filter", "label=com.docker.compose.project={t}"], Sorted);
}

/// One session at one version, to run against every contender.
struct Case {
    label: String,
    cli: &'static str,
    version: String,
    session: Box<dyn Fn(&mut Session) + Send + Sync>,
}

/// Runs every case against every contender (a case's three runs at once, `parallel` cases
/// side by side) and returns the differences from the direct run, and how many steps were
/// compared.
fn run_cases(contenders: &Contenders, cases: Vec<Case>, parallel: usize) -> (Vec<String>, usize) {
    let work = Mutex::new(cases);
    let differences = Mutex::new(Vec::new());
    let compared = AtomicUsize::new(0);
    let scratch = tempfile::Builder::new().prefix("proof-").tempdir().expect("temporary directory");
    std::thread::scope(|scope| {
        for _ in 0..parallel {
            scope.spawn(|| loop {
                let Some(case) = work.lock().expect("work list").pop() else { break };
                let started = Instant::now();
                let runs: Vec<(&str, Vec<Step>)> = std::thread::scope(|runs| {
                    let handles: Vec<_> = contenders
                        .targets
                        .iter()
                        .map(|(name, target)| {
                            let target = target.pinned(&case.version);
                            let dir = scratch.path();
                            let case = &case;
                            runs.spawn(move || {
                                let mut session = Session::new(case.cli, target, dir);
                                (case.session)(&mut session);
                                session.clean_up(&contenders.targets[0].1);
                                (*name, session.steps)
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().expect("a session panicked")).collect()
                });
                let found = compare(&case.label, &runs);
                eprintln!("{}: {} steps, {} differences ({:.1?})", case.label, runs[0].1.len(), found.len(), started.elapsed());
                compared.fetch_add(runs[0].1.len(), Ordering::Relaxed);
                differences.lock().expect("differences").extend(found);
            });
        }
    });
    (differences.into_inner().expect("differences"), compared.into_inner())
}

/// Every step where a proxied run showed something else than the direct one.
fn compare(label: &str, runs: &[(&str, Vec<Step>)]) -> Vec<String> {
    let (_, direct) = &runs[0];
    let mut found = Vec::new();
    for (name, steps) in &runs[1..] {
        for (i, (d, p)) in direct.iter().zip(steps).enumerate() {
            if d.shown != p.shown || d.command != p.command {
                found.push(format!(
                    "{label}, step {} ({}): {}\n    direct:     {}\n    {name:<12}{}",
                    i + 1,
                    d.what,
                    d.command,
                    d.shown,
                    p.shown
                ));
            }
        }
        if direct.len() != steps.len() {
            found.push(format!("{label}: {} steps direct, {} through {name}", direct.len(), steps.len()));
        }
    }
    found
}

/// Runs the cases on one engine through freshly started proxies; every difference.
fn differential(what: &str, engine: &Engine, cases: Vec<Case>, parallel: usize) -> Vec<String> {
    let started = Instant::now();
    let mut contenders = Contenders::start(engine);
    let (mut differences, compared) = run_cases(&contenders, cases, parallel);
    differences.extend(contenders.check_alive());
    differences.extend(contenders.check_typed_decodes());
    eprintln!(
        "{what} on Engine {}: {compared} steps compared, {} differences, in {:.1?}",
        engine.name,
        differences.len(),
        started.elapsed()
    );
    differences
}

/// Runs `cases_for` each engine that is there, the engines side by side, and fails with
/// every difference.
fn on_engines(what: &str, names: &[&'static str], parallel: usize, cases_for: impl Fn(&Engine) -> Vec<Case> + Sync) {
    let engines: Vec<Engine> = names.iter().filter_map(|name| Engine::get(name)).collect();
    let differences: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = engines.iter().map(|engine| scope.spawn(|| differential(what, engine, cases_for(engine), parallel))).collect();
        runs.into_iter().flat_map(|run| run.join().expect("a differential run panicked")).collect()
    });
    assert!(
        differences.is_empty(),
        "{what}: {} differences between direct and proxied runs:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// One docker CLI case per version, all running `session`.
fn cli_cases(engine: &Engine, versions: Vec<String>, what: &str, session: fn(&mut Session)) -> Vec<Case> {
    versions
        .into_iter()
        .map(|version| Case { label: format!("{} at {version}, {what}", engine.cli), cli: engine.cli, version, session: Box::new(session) })
        .collect()
}

#[test]
fn docker_cli_whole_sequence() {
    if python3().is_none() {
        return;
    }
    on_engines("the docker CLI's whole sequence", &["28.5.2", "20.10"], 3, |engine| {
        cli_cases(engine, engine.full_versions(), "whole sequence", full_sequence)
    });
}

#[test]
fn docker_cli_short_sequence_at_every_other_version() {
    on_engines("the docker CLI's short sequence", &["28.5.2"], 3, |engine| {
        let full = engine.full_versions();
        let others = engine.versions().into_iter().filter(|v| !full.contains(v)).collect();
        cli_cases(engine, others, "short sequence", short_sequence)
    });
}

#[test]
fn docker_py_and_compose() {
    let (Some(_), Some(compose)) = (docker_py(), docker_compose()) else { return };
    on_engines("docker-py and docker-compose", &["28.5.2", "20.10"], 2, |engine| {
        let mut cases = Vec::new();
        for version in engine.full_versions() {
            cases.push(Case {
                label: format!("docker-py at {version} on Engine {}", engine.name),
                cli: engine.cli,
                version: version.clone(),
                session: Box::new(docker_py_session),
            });
            cases.push(Case {
                label: format!("docker-compose at {version} on Engine {}", engine.name),
                cli: engine.cli,
                version,
                session: Box::new(move |s| compose_session(s, compose)),
            });
        }
        cases
    });
}
