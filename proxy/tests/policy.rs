//! The policy against real clients: the docker CLI through the proxy in front of Engine
//! 28.5.2, one test per family of PROXY-THREATS.md. Each shows the rule stopping what it
//! should (a 403 naming the rule, and nothing created on the engine) and letting the rest
//! through.

mod common;

use common::{docker, engine, unique, Proxy};

/// What `docker run`, `docker exec` and `docker volume` call.
const RUN: &str = r#"allow = ["SystemPing", "SystemPingHead", "SystemVersion", "SystemInfo", "SystemEvents", "SystemDataUsage",
  "ContainerCreate", "ContainerStart", "ContainerAttach", "ContainerWait", "ContainerDelete", "ContainerInspect",
  "ContainerList", "ContainerStop", "ContainerKill", "ContainerResize", "ContainerLogs", "ContainerPrune",
  "ContainerExec", "ExecStart", "ExecInspect", "ExecResize", "ImageInspect", "ImageList",
  "VolumeCreate", "VolumeDelete", "VolumeInspect", "VolumeList",
  "NetworkCreate", "NetworkDelete", "NetworkInspect", "NetworkList", "NetworkConnect"]"#;

/// The engine's own view of whether a container exists.
fn exists(engine: &str, dir: &std::path::Path, name: &str) -> bool {
    docker(engine, dir, &["container", "inspect", name]).ok
}

fn denied_by(out: &common::Out, rule: &str) -> bool {
    !out.ok && out.stderr.contains(&format!("rule `{rule}`"))
}

#[test]
fn create_bodies_that_reach_the_host_are_denied() {
    let Some(engine) = engine() else { return };
    let host = tempfile::tempdir().expect("temporary directory");
    let allowed = host.path().join("allowed");
    std::fs::create_dir_all(allowed.join("data")).expect("mkdir");
    std::fs::write(allowed.join("data/greeting"), "hello from the host\n").expect("write");
    // Symbolic links under the allowed prefix lead out of it.
    std::os::unix::fs::symlink("/etc", allowed.join("etc-link")).expect("symlink");
    std::os::unix::fs::symlink("/var/run", allowed.join("run-link")).expect("symlink");
    let allowed = allowed.display().to_string();
    let config = format!("{RUN}\n[containers]\nbind_prefixes = [\"{allowed}\"]\n");
    let proxy = Proxy::start(&engine, Some(&config));
    let engine_socket = common::socket_of(&engine).display().to_string();

    let escape_volume = "type=volume,target=/x,volume-driver=local,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc";
    let cases: Vec<(Vec<String>, &str)> = [
        (vec!["--privileged"], "containers.allow_privileged"),
        (vec!["-v", "/:/host"], "containers.docker_socket"),
        (vec!["-v", "/var/run/docker.sock:/var/run/docker.sock"], "containers.docker_socket"),
        (vec!["-v", "/run:/r:ro"], "containers.docker_socket"),
        (vec!["-v", &format!("{engine_socket}:/docker.sock")], "containers.docker_socket"),
        (vec!["--mount", "type=bind,source=/etc,target=/x"], "containers.bind_prefixes"),
        (vec!["--mount", "type=bind,source=/var/run/docker.sock,target=/x"], "containers.docker_socket"),
        (vec!["-v", &format!("{allowed}/../x:/x")], "containers.bind_prefixes"),
        (vec!["-v", "/etc:/etc:ro"], "containers.bind_prefixes"),
        (vec!["-v", &format!("{allowed}/etc-link:/x")], "containers.bind_prefixes"),
        (vec!["-v", &format!("{allowed}/run-link/docker.sock:/x")], "containers.docker_socket"),
        (vec!["--mount", escape_volume], "containers.bind_prefixes"),
        (vec!["--pid", "host"], "containers.allow_host_namespaces"),
        (vec!["--ipc", "host"], "containers.allow_host_namespaces"),
        (vec!["--uts", "host"], "containers.allow_host_namespaces"),
        (vec!["--userns", "host"], "containers.allow_host_namespaces"),
        (vec!["--cgroupns", "host"], "containers.allow_host_namespaces"),
        (vec!["--network", "host"], "containers.allow_host_namespaces"),
        (vec!["--network", "container:other"], "containers.allow_host_namespaces"),
        (vec!["--cap-add", "SYS_ADMIN"], "containers.capabilities"),
        (vec!["--cap-add", "ALL"], "containers.capabilities"),
        (vec!["--security-opt", "seccomp=unconfined"], "containers.security_options"),
        (vec!["--security-opt", "apparmor=unconfined"], "containers.security_options"),
        (vec!["--security-opt", "systempaths=unconfined"], "containers.security_options"),
        (vec!["--device", "/dev/null"], "containers.allow_devices"),
        (vec!["--device-cgroup-rule", "c 1:3 mr"], "containers.allow_devices"),
        (vec!["--gpus", "all"], "containers.allow_devices"),
        (vec!["--volumes-from", "other"], "containers.allow_volumes_from"),
    ]
    .into_iter()
    .map(|(args, rule)| (args.into_iter().map(str::to_owned).collect(), rule))
    .collect();

    let mut failures = Vec::new();
    for (flags, rule) in &cases {
        let name = unique("denied");
        let mut args = vec!["run", "--rm", "--name", name.as_str()];
        if !flags.iter().any(|f| f == "--network") {
            args.extend(["--network", "none"]);
        }
        args.extend(flags.iter().map(String::as_str));
        args.extend(["busybox:test", "true"]);
        let out = proxy.docker(&args);
        if !denied_by(&out, rule) {
            failures.push(format!("docker {}: not denied by {rule}: {out:?}", flags.join(" ")));
        }
        if exists(&engine, proxy.dir.path(), &name) {
            failures.push(format!("docker {}: the container was created", flags.join(" ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The same host paths under the allowed prefix: allowed, and the file is there.
    let bind = format!("{allowed}/data:/data:ro");
    let out = proxy.docker(&["run", "--rm", "--network", "none", "-v", &bind, "busybox:test", "cat", "/data/greeting"]);
    assert!(out.ok && out.stdout == "hello from the host\n", "{out:?}");
    let mount = format!("type=bind,source={allowed}/data,target=/data,readonly");
    let out = proxy.docker(&["run", "--rm", "--network", "none", "--mount", &mount, "busybox:test", "cat", "/data/greeting"]);
    assert!(out.ok && out.stdout == "hello from the host\n", "{out:?}");
    let out = proxy.docker(&["run", "--rm", "--network", "none", "--cap-drop", "ALL", "busybox:test", "true"]);
    assert!(out.ok, "dropping capabilities is not host access: {out:?}");

    // A named volume bound to a host path is the first half of the same escape.
    let volume = unique("escape");
    let out = proxy.docker(&["volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=/etc", &volume]);
    assert!(denied_by(&out, "containers.bind_prefixes"), "{out:?}");
    assert!(!docker(&engine, proxy.dir.path(), &["volume", "inspect", &volume]).ok, "the volume was created");
    let device = format!("device={allowed}/data");
    let out = proxy.docker(&["volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", &device, &volume]);
    assert!(out.ok, "{out:?}");
    let _ = docker(&engine, proxy.dir.path(), &["volume", "rm", &volume]);

    // Each denial is one audit line naming the operation, the rule and the peer.
    let audit = proxy.audit();
    let denial = audit.iter().find(|l| l["decision"] == "deny" && l["rule"] == "containers.allow_privileged").expect("a denial line");
    assert_eq!(denial["operation"], "ContainerCreate");
    assert!(denial["uid"].is_u64() && denial["pid"].is_i64(), "{denial}");
    assert!(audit.iter().any(|l| l["decision"] == "allow" && l["operation"] == "ContainerCreate" && l["sensitive"] == true));
}

#[test]
fn exec_as_root_or_privileged_is_denied() {
    let Some(engine) = engine() else { return };
    let proxy = Proxy::start(&engine, Some(RUN));
    let name = unique("exec");
    let out = proxy.docker(&["run", "-d", "--name", &name, "--network", "none", "busybox:test", "sleep", "60"]);
    assert!(out.ok, "{out:?}");

    let out = proxy.docker(&["exec", &name, "true"]);
    assert!(denied_by(&out, "exec.allow_root"), "the container's user is root: {out:?}");
    let out = proxy.docker(&["exec", "-u", "0", &name, "true"]);
    assert!(denied_by(&out, "exec.allow_root"), "{out:?}");
    let out = proxy.docker(&["exec", "-u", "root:root", &name, "true"]);
    assert!(denied_by(&out, "exec.allow_root"), "{out:?}");
    let out = proxy.docker(&["exec", "--privileged", "-u", "1000", &name, "true"]);
    assert!(denied_by(&out, "exec.allow_privileged"), "{out:?}");
    let out = proxy.docker(&["exec", "-u", "1000", &name, "id", "-u"]);
    assert!(out.ok && out.stdout == "1000\n", "{out:?}");

    let _ = docker(&engine, proxy.dir.path(), &["rm", "-f", &name]);
}

#[test]
fn images_made_on_the_engine_are_refused_where_registries_are_listed() {
    let Some(engine) = engine() else { return };
    let images = r#"allow = ["SystemPing", "SystemPingHead", "SystemVersion", "SystemInfo", "ImageCreate", "ImageLoad",
  "ImageBuild", "ImageCommit", "ImageInspect", "ImageList", "ContainerCreate", "ContainerInspect"]
[containers]
registries = ["registry.example.com:5000"]
"#;
    let proxy = Proxy::start(&engine, Some(images));
    let dir = proxy.dir.path();
    let tag = unique("made");
    let image_tar = dir.join("image.tar");
    let out = docker(&engine, dir, &["save", "-o", &image_tar.display().to_string(), "busybox:test"]);
    assert!(out.ok, "{out:?}");
    std::fs::create_dir_all(dir.join("context")).expect("mkdir");
    std::fs::write(dir.join("context/Dockerfile"), "FROM busybox:test\nRUN true\n").expect("write");
    let container = unique("commit-source");
    let out = docker(&engine, dir, &["create", "--name", &container, "--network", "none", "busybox:test", "true"]);
    assert!(out.ok, "{out:?}");

    let image_tar = image_tar.display().to_string();
    let context = dir.join("context").display().to_string();
    let refused: [(&str, Vec<&str>); 6] = [
        ("a pull from Docker Hub", vec!["pull", "busybox:latest"]),
        ("a container from Docker Hub's namespace", vec!["create", "--network", "none", "busybox:test"]),
        ("docker load", vec!["load", "-i", &image_tar]),
        ("docker import", vec!["import", &image_tar, &tag]),
        ("docker build", vec!["build", "-q", "-t", &tag, &context]),
        ("docker commit", vec!["commit", &container, &tag]),
    ];
    for (what, args) in &refused {
        let out = proxy.docker(args);
        assert!(denied_by(&out, "containers.registries"), "{what}: {out:?}");
    }
    assert!(!docker(&engine, dir, &["image", "inspect", &tag]).ok, "no image was made");
    let out = proxy.docker(&["image", "inspect", "busybox:test"]);
    assert!(out.ok, "what needs no image passes: {out:?}");

    let local = format!("{images}local_images = true\n");
    let allowing = Proxy::start(&engine, Some(&local));
    let out = allowing.docker(&["commit", &container, &tag]);
    assert!(out.ok, "`containers.local_images` allows it: {out:?}");
    let _ = docker(&engine, dir, &["rm", "-f", &container]);
    let _ = docker(&engine, dir, &["rmi", &tag]);
}

#[test]
fn presets_allow_what_their_tools_call_and_nothing_else() {
    let Some(engine) = engine() else { return };

    let read_only = Proxy::start(&engine, Some(r#"preset = "read-only""#));
    assert!(read_only.docker(&["ps", "-a"]).ok);
    assert!(read_only.docker(&["images"]).ok);
    assert!(read_only.docker(&["version"]).ok);
    let out = read_only.docker(&["run", "--rm", "--network", "none", "busybox:test", "true"]);
    assert!(denied_by(&out, "allow") && out.stderr.contains("ContainerCreate"), "{out:?}");
    assert!(denied_by(&read_only.docker(&["volume", "create"]), "allow"));
    let tar = read_only.dir.path().join("busybox.tar").display().to_string();
    assert!(denied_by(&read_only.docker(&["image", "save", "busybox:test", "-o", &tar]), "allow"), "exports are not read-only");

    let traefik = Proxy::start(&engine, Some(r#"preset = "traefik""#));
    assert!(traefik.docker(&["ps"]).ok);
    assert!(traefik.docker(&["version"]).ok);
    assert!(denied_by(&traefik.docker(&["images"]), "allow"));
    assert!(denied_by(&traefik.docker(&["volume", "ls"]), "allow"));

    let watchtower = Proxy::start(&engine, Some("preset = \"watchtower\"\ndeny = [\"ContainerDelete\"]\n"));
    assert!(watchtower.docker(&["images"]).ok);
    assert!(denied_by(&watchtower.docker(&["volume", "ls"]), "allow"));
    let name = unique("watched");
    let out = watchtower.docker(&["create", "--name", &name, "--network", "none", "busybox:test", "true"]);
    assert!(out.ok, "{out:?}");
    assert!(denied_by(&watchtower.docker(&["rm", &name]), "allow"), "deny wins over the preset");
    let out = watchtower.docker(&["create", "--network", "none", "--privileged", "busybox:test", "true"]);
    assert!(denied_by(&out, "containers.allow_privileged"), "a preset keeps the body rules: {out:?}");
    let _ = docker(&engine, watchtower.dir.path(), &["rm", "-f", &name]);
}

#[test]
fn a_scoped_client_sees_and_touches_only_its_own_objects() {
    let Some(engine) = engine() else { return };
    let owner = unique("owner");
    let config = format!("{RUN}\n[exec]\nallow_root = true\n[scope]\nlabel = \"moby-proxy-test.owner={owner}\"\n");
    let proxy = Proxy::start(&engine, Some(&config));
    let dir = proxy.dir.path();

    // Somebody else's container and volume, made on the engine directly.
    let outsider = unique("outsider");
    let out = docker(&engine, dir, &["run", "-d", "--name", &outsider, "--network", "none", "busybox:test", "sleep", "60"]);
    assert!(out.ok, "{out:?}");
    let outsider_id = out.stdout.trim().to_owned();
    let outsider_volume = unique("outsider-volume");
    assert!(docker(&engine, dir, &["volume", "create", &outsider_volume]).ok);
    let exec = docker(&engine, dir, &["exec", "-d", &outsider, "sleep", "30"]);
    assert!(exec.ok, "{exec:?}");

    // Ours, made through the proxy: it carries the label.
    let mine = unique("mine");
    let out = proxy.docker(&["run", "-d", "--name", &mine, "--network", "none", "busybox:test", "sleep", "60"]);
    assert!(out.ok, "{out:?}");
    let label = proxy.docker(&["container", "inspect", "-f", "{{index .Config.Labels \"moby-proxy-test.owner\"}}", &mine]);
    assert_eq!(label.stdout.trim(), owner);

    let ps = proxy.docker(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(ps.ok && ps.stdout.contains(&mine) && !ps.stdout.contains(&outsider), "{ps:?}");
    let named = proxy.docker(&["ps", "-a", "--format", "{{.Names}}", "--filter", &format!("name={outsider}")]);
    assert!(named.ok && !named.stdout.contains(&outsider), "a client's filter cannot widen the scope: {named:?}");
    // `label!=` is the prune filter that would take the scope's term away: it only narrows.
    let stopped = unique("stopped-outsider");
    assert!(docker(&engine, dir, &["create", "--name", &stopped, "--network", "none", "busybox:test", "true"]).ok);
    let prune = proxy.docker(&["container", "prune", "-f", "--filter", &format!("label!=moby-proxy-test.owner={owner}")]);
    assert!(prune.ok, "{prune:?}");
    assert!(exists(&engine, dir, &stopped), "the prune reached a container without the label");
    let _ = docker(&engine, dir, &["rm", "-f", &stopped]);

    let hidden = |args: &[&str]| {
        let out = proxy.docker(args);
        assert!(!out.ok && out.stderr.contains("No such container"), "docker {}: {out:?}", args.join(" "));
    };
    hidden(&["container", "inspect", &outsider]);
    hidden(&["container", "inspect", &outsider_id[..6]]);
    hidden(&["stop", &outsider]);
    hidden(&["exec", &outsider, "true"]);
    hidden(&["logs", &outsider]);
    assert!(exists(&engine, dir, &outsider), "the outsider is untouched");
    assert_eq!(docker(&engine, dir, &["inspect", "-f", "{{.State.Running}}", &outsider]).stdout.trim(), "true");

    let volumes = proxy.docker(&["volume", "ls", "-q"]);
    assert!(volumes.ok && !volumes.stdout.contains(&outsider_volume), "{volumes:?}");
    let out = proxy.docker(&["volume", "inspect", &outsider_volume]);
    assert!(!out.ok && out.stderr.contains("no such volume"), "{out:?}");
    let df = proxy.docker(&["system", "df", "-v", "--format", "{{json .}}"]);
    assert!(df.ok && df.stdout.contains(&mine) && !df.stdout.contains(&outsider), "{df:?}");

    // The outsider's exec instance is as invisible as its container.
    let exec_id = docker(&engine, dir, &["inspect", "-f", "{{index .ExecIDs 0}}", &outsider]).stdout.trim().to_owned();
    assert!(!exec_id.is_empty(), "the outsider has no exec instance");
    let (status, _, body) = common::raw(&common::socket_of(&proxy.host), "GET", &format!("/v1.49/exec/{exec_id}/json"));
    assert_eq!((status, body.contains("No such exec instance")), (404, true), "{body}");

    // Events: the engine's own label filter, ANDed in. A stream opened before the two execs
    // (with `--since`, so nothing between its start and its subscription is lost) sees the
    // outsider's event before ours, if it sees it at all: reading up to ours is enough.
    let since = (moby_api_test_harness::unix_seconds() - 1).to_string();
    let events = common::EventStream::open(&proxy, &["--since", &since, "--format", "{{.Actor.Attributes.name}}"]);
    assert!(docker(&engine, dir, &["exec", &outsider, "true"]).ok);
    assert!(proxy.docker(&["exec", &mine, "true"]).ok);
    let seen = events.until(&mine, std::time::Duration::from_secs(30));
    assert!(seen.iter().any(|name| name == &mine) && !seen.iter().any(|name| name == &outsider), "{seen:?}");

    // Networks: ours is listed and can take our container; somebody else's is not there.
    let outsider_network = unique("outsider-net");
    assert!(docker(&engine, dir, &["network", "create", &outsider_network]).ok);
    let network = unique("net");
    assert!(proxy.docker(&["network", "create", &network]).ok);
    let networks = proxy.docker(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(networks.ok && networks.stdout.contains(&network) && !networks.stdout.contains(&outsider_network), "{networks:?}");
    let out = proxy.docker(&["network", "inspect", &outsider_network]);
    assert!(!out.ok && out.stderr.contains("not found"), "{out:?}");
    let out = proxy.docker(&["network", "connect", &network, &outsider]);
    assert!(!out.ok && out.stderr.contains("No such container"), "{out:?}");
    let out = proxy.docker(&["run", "--rm", "--network", &outsider_network, "busybox:test", "true"]);
    assert!(denied_by(&out, "scope") && out.stderr.contains(&format!("network {outsider_network} not found")), "{out:?}");
    let out = proxy.docker(&["run", "--rm", "--network", &network, "busybox:test", "true"]);
    assert!(out.ok, "{out:?}");
    assert!(proxy.docker(&["network", "rm", &network]).ok);
    let _ = docker(&engine, dir, &["network", "rm", &outsider_network]);

    // Our own container stays ours to stop and remove.
    assert!(proxy.docker(&["rm", "-f", &mine]).ok);
    let _ = docker(&engine, dir, &["rm", "-f", &outsider]);
    let _ = docker(&engine, dir, &["volume", "rm", &outsider_volume]);
}

#[test]
fn configuration_errors_are_found_at_start_with_their_place() {
    let Some(engine) = engine() else { return };
    let cases = [
        (
            "preset = \"read-only\"\nallow = [\"ContainerList\", \"containerinspect\"]\n",
            ":2:27: `allow[1]`",
            "did you mean ContainerInspect?",
        ),
        ("deny = [\"ContainerFly\"]\n", ":1:9: `deny[0]`", "no API version"),
        ("preset = \"traefic\"\n", ":1:10: `preset`", "read-only, traefik, watchtower"),
        ("[containers]\nbind_prefix = [\"/srv\"]\n", ":2:1:", "unknown field `bind_prefix`"),
        ("[containers]\nbind_prefixes = [\"srv/app\"]\n", ":2:18: `containers.bind_prefixes[0]`", "not an absolute path"),
        ("[scope]\nlabel = \"owner\"\n", ":2:9: `scope.label`", "not `key=value`"),
        ("allow = \"ContainerList\"\n", ":1:9:", "invalid type"),
    ];
    for (config, place, message) in cases {
        let error = match Proxy::try_start(&engine, Some(config)) {
            Ok(_) => panic!("started with {config:?}"),
            Err(output) => output,
        };
        assert!(error.contains(&format!("proxy.conf{place}")) && error.contains(message), "{config:?}: {error}");
    }
}
