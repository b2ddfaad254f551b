//! The real clients against the example engine: each test starts an engine in-process on
//! a private unix socket and drives it with `docker` CLI 28.x, Debian's CLI 20.10 or the
//! Python `docker` SDK, checking output and exit codes.
//!
//! A missing client skips its test ("skipped: …"), except under `CI`, where it fails.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod common;
use common::{lines, require, run_command, unix_seconds, Daemon, CLI_20_10, CLI_28};

/// Everything the brief asks of a CLI, in one session against one engine.
fn cli_session(cli: &str) {
    let daemon = Daemon::start();
    let docker = |args: &[&str]| daemon.run(cli, args, None);
    let docker_in = |args: &[&str], stdin: &str| daemon.run(cli, args, Some(stdin));
    // Event times are whole seconds on the command line: start one second early.
    let t0 = (unix_seconds() - 1).to_string();

    // System.
    assert_eq!(docker(&["version", "--format", "{{.Server.APIVersion}}"]).ok().trim(), "1.41");
    let info = docker(&["info"]);
    assert!(info.ok().contains("Server Version: 20.10.24-moby-api-example"), "{}", info.stdout);
    assert!(docker(&["ps", "-a"]).ok().starts_with("CONTAINER ID"));

    // create, start, wait, logs.
    let id = docker(&["create", "--name", "c1", "busybox", "echo", "hello"]).ok().trim().to_owned();
    assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(docker(&["start", "c1"]).ok().trim(), "c1");
    assert_eq!(docker(&["wait", "c1"]).ok().trim(), "0");
    assert_eq!(docker(&["logs", "c1"]).ok(), "hello\n");

    // logs -f follows a running container until it exits.
    docker(&["run", "-d", "--name", "follow", "busybox", "sh", "-c", "sleep 1; echo done"]).ok();
    let followed = docker(&["logs", "-f", "follow"]);
    assert_eq!(followed.ok(), "done\n");
    assert!(followed.took >= Duration::from_millis(500), "logs -f returned after {:?}", followed.took);

    // run --rm with attached output and the exit code through wait.
    let run = docker(&["run", "--rm", "busybox", "sh", "-c", "echo hi; exit 3"]);
    assert_eq!(run.code(3), "hi\n");
    let run = docker(&["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2"]);
    assert_eq!((run.ok(), run.stderr.as_str()), ("out\n", "err\n"));
    assert!(docker(&["run", "--rm", "busybox", "nosuchcommand"]).code(127).is_empty());

    // run -i: stdin over the attach connection, half-closed at EOF.
    assert_eq!(docker_in(&["run", "-i", "--rm", "busybox", "cat"], "data\n").ok(), "data\n");

    // run -d and exec (also -i, and the exit code through exec inspect).
    docker(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "100"]).ok();
    assert_eq!(docker(&["exec", "sleeper", "echo", "inexec"]).ok(), "inexec\n");
    assert_eq!(docker_in(&["exec", "-i", "sleeper", "cat"], "piped\n").ok(), "piped\n");
    docker(&["exec", "sleeper", "sh", "-c", "exit 4"]).code(4);
    assert!(docker(&["top", "sleeper"]).ok().contains("sleep 100"));
    // stats: a sample of the emulated process (no exec is left running): 1 MiB of the
    // engine's 2 GiB, no CPU time.
    let stats = docker(&["stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", "sleeper"]);
    assert_eq!(stats.ok().trim(), "sleeper 0.00% 1MiB / 2GiB 1");

    // pause, unpause, stop, rename, start, kill.
    assert_eq!(docker(&["pause", "sleeper"]).ok().trim(), "sleeper");
    assert_eq!(docker(&["ps", "--filter", "status=paused", "--format", "{{.Names}}"]).ok().trim(), "sleeper");
    assert_eq!(docker(&["unpause", "sleeper"]).ok().trim(), "sleeper");
    assert_eq!(docker(&["stop", "sleeper"]).ok().trim(), "sleeper");
    let state = |name: &str| docker(&["inspect", name, "--format", "{{.State.Status}} {{.State.ExitCode}}"]).ok().trim().to_owned();
    assert_eq!(state("sleeper"), "exited 143");
    docker(&["rename", "sleeper", "sleeper2"]).ok();
    assert_eq!(docker(&["start", "sleeper2"]).ok().trim(), "sleeper2");
    assert_eq!(state("sleeper2"), "running 0");
    assert_eq!(docker(&["kill", "sleeper2"]).ok().trim(), "sleeper2");
    assert_eq!(state("sleeper2"), "exited 137");

    // inspect: the JSON the CLI prints has the shapes it relies on.
    let inspected: serde_json::Value = serde_json::from_str(docker(&["inspect", "c1"]).ok()).expect("inspect prints JSON");
    let c1 = &inspected[0];
    assert_eq!(c1["Id"], id.as_str());
    assert_eq!(c1["Name"], "/c1");
    assert_eq!(c1["Mounts"], serde_json::json!([]));
    assert_eq!(c1["Config"]["Cmd"], serde_json::json!(["echo", "hello"]));
    assert!(c1["Created"].as_str().is_some_and(|t| t.ends_with('Z')), "{}", c1["Created"]);
    assert!(c1["Image"].as_str().is_some_and(|i| i.starts_with("sha256:")));

    // rm, including a running container only with -f.
    docker(&["run", "-d", "--name", "busy", "busybox", "sleep", "100"]).ok();
    assert!(docker(&["rm", "busy"]).code(1).is_empty());
    docker(&["rm", "-f", "busy"]).ok();
    assert_eq!(lines(docker(&["rm", "c1", "follow", "sleeper2"]).ok()), ["c1", "follow", "sleeper2"]);
    assert!(docker(&["ps", "-aq"]).ok().trim().is_empty());

    // Volumes.
    assert_eq!(docker(&["volume", "create", "v1"]).ok().trim(), "v1");
    assert!(lines(docker(&["volume", "ls", "-q"]).ok()).contains(&"v1"));
    assert_eq!(docker(&["volume", "inspect", "v1", "--format", "{{.Mountpoint}}"]).ok().trim(), "/var/lib/docker/volumes/v1/_data");
    assert_eq!(docker(&["volume", "rm", "v1"]).ok().trim(), "v1");
    assert!(docker(&["volume", "ls", "-q"]).ok().trim().is_empty());

    // Networks.
    let network = docker(&["network", "create", "n1"]).ok().trim().to_owned();
    assert_eq!(network.len(), 64);
    let names = docker(&["network", "ls", "--format", "{{.Name}}"]).ok().to_owned();
    assert_eq!(lines(&names), ["bridge", "host", "n1", "none"]);
    assert_eq!(docker(&["network", "inspect", "n1", "--format", "{{.Driver}} {{.Id}}"]).ok().trim(), format!("bridge {network}"));
    assert_eq!(docker(&["network", "rm", "n1"]).ok().trim(), "n1");
    assert!(docker(&["network", "rm", "bridge"]).status != Some(0));

    // Images: list, inspect, tag, rmi, and a pull that creates what it names.
    assert_eq!(docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]).ok().trim(), "busybox:latest");
    let image = docker(&["image", "inspect", "busybox", "--format", "{{.Id}}"]).ok().trim().to_owned();
    assert!(image.starts_with("sha256:") && image.len() == 71, "{image}");
    docker(&["tag", "busybox", "mybox:1"]).ok();
    // Both tags name one image, so their order is up to the CLI.
    let mut tags = lines(docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]).ok()).join(" ");
    tags = tags.replace("mybox:1 busybox:latest", "busybox:latest mybox:1");
    assert_eq!(tags, "busybox:latest mybox:1");
    assert_eq!(docker(&["rmi", "mybox:1"]).ok().trim(), "Untagged: mybox:1");
    assert!(docker(&["pull", "alpine:3.19"]).ok().contains("Downloaded newer image for alpine:3.19"));
    assert_eq!(docker(&["run", "--rm", "alpine:3.19", "echo", "pulled"]).ok(), "pulled\n");
    assert!(docker(&["rmi", "alpine:3.19"]).ok().contains("Deleted: sha256:"));

    // System df.
    let df = docker(&["system", "df"]);
    assert!(df.ok().contains("Images") && df.stdout.contains("Local Volumes"), "{}", df.stdout);

    // What is not emulated answers 501 with the operation's name, also when the client is
    // still sending a body (the answer waits for it rather than breaking the pipe).
    let swarm = docker(&["swarm", "init"]);
    assert_eq!((swarm.status, swarm.stderr.trim()), (Some(1), "Error response from daemon: SwarmInit is not implemented by this server"));
    let build = docker_in(&["build", "-"], "FROM busybox\nRUN true\n");
    assert!(build.stderr.contains("ImageBuild is not implemented by this server"), "{}", build.stderr);

    // Events of the session, bounded by --since and --until.
    let t1 = (unix_seconds() + 1).to_string();
    let events = docker(&["events", "--since", &t0, "--until", &t1, "--format", "{{.Type}} {{.Action}}"]);
    let seen = lines(events.ok());
    for expected in [
        "container create",
        "container attach",
        "container start",
        "container die",
        "container destroy",
        "container pause",
        "container unpause",
        "container kill",
        "container stop",
        "container rename",
        "volume create",
        "volume destroy",
        "network create",
        "network destroy",
        "image tag",
        "image untag",
        "image pull",
        "image delete",
    ] {
        assert!(seen.contains(&expected), "no \"{expected}\" event in:\n{}", events.stdout);
    }
    let volume_events =
        docker(&["events", "--since", &t0, "--until", &t1, "--filter", "type=volume", "--format", "{{.Action}} {{.Actor.ID}}"]);
    assert_eq!(lines(volume_events.ok()), ["create v1", "destroy v1"]);
}

#[test]
fn docker_cli_28() {
    if require(Path::new(CLI_28).exists(), &format!("{CLI_28} not found")) {
        cli_session(CLI_28);
    }
}

#[test]
fn docker_cli_20_10() {
    if require(Path::new(CLI_20_10).exists(), &format!("{CLI_20_10} not found")) {
        cli_session(CLI_20_10);
    }
}

const DOCKER_PY_SCRIPT: &str = r#"
import sys
import docker

client = docker.DockerClient(base_url='unix://' + sys.argv[1])
assert client.version()['ApiVersion'] == '1.41'

out = client.containers.run('busybox', 'echo hi', remove=False)
assert out == b'hi\n', out
containers = client.containers.list(all=True)
assert len(containers) == 1, containers
container = containers[0]
assert container.logs() == b'hi\n', container.logs()
# docker-py sends a float `since` as `seconds.fraction`; the daemon accepts it, so must we.
assert container.logs(since=1.5) == b'hi\n'
assert container.logs(until=4102444800.25) == b'hi\n'
assert container.status == 'exited' and container.attrs['State']['ExitCode'] == 0
container.remove()
assert client.containers.list(all=True) == []

volume = client.volumes.create(name='pyvol', labels={'made-by': 'docker-py'})
assert [v.name for v in client.volumes.list()] == ['pyvol']
assert client.volumes.get('pyvol').attrs['Labels'] == {'made-by': 'docker-py'}
volume.remove()
assert client.volumes.list() == []

sleeper = client.containers.run('busybox', 'sleep 30', detach=True)
result = sleeper.exec_run('sh -c "echo exec; exit 5"')
sample = sleeper.stats(stream=False)
assert sample['pids_stats']['current'] == 1 and sample['memory_stats']['limit'] == 2 << 30, sample
assert result.exit_code == 5 and result.output == b'exec\n', result
sleeper.kill()
sleeper.reload()
assert sleeper.status == 'exited', sleeper.status
sleeper.remove()
print('docker-py ok')
"#;

#[test]
fn docker_py() {
    let python_works = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    if !require(python_works, "python3 not found") {
        return;
    }
    let import = || Command::new("python3").args(["-c", "import docker"]).output().is_ok_and(|o| o.status.success());
    let available = import()
        || (Command::new("python3").args(["-m", "pip", "install", "--quiet", "docker"]).output().is_ok_and(|o| o.status.success())
            && import());
    if !require(available, "the Python docker SDK is not installed and `pip install docker` failed") {
        return;
    }
    let daemon = Daemon::start();
    let script = daemon.dir.path().join("session.py");
    std::fs::write(&script, DOCKER_PY_SCRIPT).expect("writing the script");
    let mut command = Command::new("python3");
    command.arg(&script).arg(&daemon.socket);
    let out = run_command(command, None, "python3 session.py");
    assert_eq!(out.ok().trim(), "docker-py ok", "stderr: {}", out.stderr);
}
