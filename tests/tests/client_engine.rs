//! The whole client against real Docker Engines: every generated client runs one scenario
//! on every engine that spec/engines.yaml lists for its version (Engine 20.10 for 1.24–1.41,
//! Engine 28.5.2 for 1.24–1.51), at its own version, and the v1.49 client once more on
//! 20.10, negotiating down to the engine's 1.41.
//!
//! Every version runs the same scenario (module `vX_Y`, test `scenario`, which runs it on
//! all its engines at once): ping, version, info; an image imported from a tar built here,
//! inspected, tagged, listed, untagged; containers created, started, listed, inspected,
//! topped, logged (plain and followed to the exit), attached with stdin, exec'd with stdin,
//! waited for, measured (one stats sample, then a stream cut after two), written into and
//! read from (archive put, get, head), exported, diffed (unchanged, then changed),
//! committed, renamed, paused, unpaused, killed, restarted, updated and removed; a
//! container whose start fails (inspected, waited for: exit code 127 and the error); the
//! engine's refusals (409 for a name in use, for removing a running container, for the
//! processes of a stopped one; 404s); volumes and networks through their whole life
//! (network connect and disconnect included); prunes by label; the events of the
//! scenario's own window; system df. Each answer is read into the version's typed models
//! and checked against what the scenario did. A body the models cannot read
//! (`Error::Json`, a stream's `StreamError::Json`) fails the test naming the version, the
//! engine and the operation.
//!
//! What differs between versions is passed to the `scenario!` macro: operations that do
//! not exist yet (prune and df arrive in 1.25, `one-shot` stats in 1.41), signatures that
//! change (`ContainerWait` takes parameters from 1.30, `VolumeDelete` from 1.25,
//! `NetworkInspect` from 1.28, `SystemDataUsage` from 1.42, `ImageInspect`/`ImageHistory`
//! from 1.48) and renamed body types (`VolumeCreateOptions` from 1.39, `ContainerConfig` for
//! commit from 1.30). The archive operations, which upstream renamed in 1.28, have one name
//! in every version (spec/annotations/operation-names.yaml), so they need no switch here.
//! What differs between engines at one version is said once, in `Behaviour`; what the
//! engine does by the version it speaks (a negotiated client speaks the engine's) is
//! decided from that version.
//!
//! Everything is named and labelled per version and engine
//! (`moby-api-test.scenario=v1_24-28.5.2`), so the runs never meet, and prunes never touch
//! anything else on the engine; whatever a failed run leaves is removed before and after
//! each scenario.
//!
//! The engines come from `cargo xtask test`, one variable each (`MOBY_API_TEST_ENGINE_20_10`,
//! `MOBY_API_TEST_ENGINE_28_5_2`); without one, its runs are skipped, except under CI. The
//! engines run with `--bridge=none --iptables=false`: containers use `NetworkMode: none`,
//! and the one network test container joins a user-defined internal bridge network, which
//! the engines still create.

// Struct literals end in `..Default::default()` even where a version's struct has no
// other field: the same literal must compile for every version, whose structs grow.
#![allow(clippy::needless_update)]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::stream::Stream;
use futures_util::{FutureExt as _, StreamExt as _};
use moby_api_runtime::client::{ApiVersion, Endpoint, Error, Host, Transport};
use moby_api_runtime::filters::Filters;
use moby_api_runtime::stream::{LogChunk, StdStream, StreamError};
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;

/// The image the engine of `cargo xtask test` provides.
const IMAGE: &str = "busybox:test";
/// The label on everything a scenario creates; its value is the version (`v1_24`).
const LABEL: &str = "moby-api-test.scenario";
/// Repository of the imported image; the tag is the version.
const IMPORT_REPO: &str = "moby-api-test-import";
/// Repository of the image's second tag.
const TAG_REPO: &str = "moby-api-test-tagged";
/// The most a stream that should end by itself may take.
const STREAM_LIMIT: Duration = Duration::from_secs(30);
/// The most one version's scenario may take.
const SCENARIO_LIMIT: Duration = Duration::from_secs(150);

/// One engine of spec/engines.yaml this run can reach.
struct Target {
    /// `28.5.2`.
    name: String,
    endpoint: Endpoint,
    /// The oldest and the newest version it serves; newer clients negotiate down to the newest.
    min_api: ApiVersion,
    api: ApiVersion,
    behaviour: Behaviour,
}

/// What one engine does differently from the other at the same API version, as measured
/// (../shared/design/ENGINES.md); everything else is checked alike.
#[derive(Clone, Copy)]
struct Behaviour {
    /// `stats?stream=false&one-shot=true` leaves `id` and `name` out of the sample.
    one_shot_stats_without_id: bool,
    /// The 409 of removing a running container says so in its own words.
    running_delete_message: &'static str,
    /// ContainerUpdate warns when IPv4 forwarding is off in the engine's network namespace,
    /// whatever the container's network.
    update_warns_without_ipv4_forwarding: bool,
}

fn behaviour(engine: &str) -> Behaviour {
    match engine {
        "20.10" => Behaviour {
            one_shot_stats_without_id: false,
            running_delete_message: "You cannot remove a running container",
            update_warns_without_ipv4_forwarding: false,
        },
        "28.5.2" => Behaviour {
            one_shot_stats_without_id: true,
            running_delete_message: "container is running",
            update_warns_without_ipv4_forwarding: true,
        },
        other => panic!("spec/engines.yaml lists Engine {other}: say in client_engine.rs how it behaves"),
    }
}

/// Whether this machine forwards IPv4 (the engines run in the tests' network namespace).
fn ipv4_forwarding() -> bool {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").is_ok_and(|v| v.trim() == "1")
}

/// The engines spec/engines.yaml runs `version`'s scenario on. One the run cannot reach is
/// skipped with a note, except under CI, where that fails the test.
fn targets(version: ApiVersion) -> Vec<Target> {
    let engines = moby_api_codegen::engines::load(&moby_api_tests::root().join("spec")).expect("spec/engines.yaml");
    let minor = u8::try_from(version.minor()).expect("a minor version");
    let listed: Vec<_> = engines.iter().filter(|e| e.clients().contains(moby_api_codegen::ApiVersion::new(minor))).collect();
    assert!(!listed.is_empty(), "{version} has a scenario, but spec/engines.yaml runs it on no engine");
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let api = |v: moby_api_codegen::engines::EngineApi| ApiVersion::new(v.major.into(), v.minor.into());
    listed
        .into_iter()
        .filter_map(|e| match std::env::var(e.env_var()) {
            Ok(host) if !host.is_empty() => Some(Target {
                name: e.name.clone(),
                endpoint: Endpoint::new(Host::parse(&host).unwrap_or_else(|err| panic!("{}: {err}", e.env_var()))),
                min_api: api(e.accepts.0),
                api: api(e.accepts.1),
                behaviour: behaviour(&e.name),
            }),
            _ if ci => panic!("{} is not set; under CI the engine tests must run (cargo xtask test starts Engine {})", e.env_var(), e.name),
            _ => {
                println!("skipped on Engine {}: not running (set {}=unix:///…/docker.sock)", e.name, e.env_var());
                None
            }
        })
        .collect()
}

/// The text of a panic, for the summary of a failed run.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("a panic")
}

/// A typed answer as JSON, with the wire names of its serde attributes: the checks read
/// the models the same way in every version, whatever a field's Rust type there.
macro_rules! j {
    ($e:expr) => {
        serde_json::to_value(&$e).expect("a model serializes")
    };
}

/// `assert_eq!` whose message names the version and the checked expression.
macro_rules! check_eq {
    ($v:expr, $left:expr, $right:expr) => {
        assert_eq!($left, $right, "{}: {}", $v, stringify!($left))
    };
}

/// The version and engine being run, for every message; names and labels derived from
/// them; the last operation sent, to tell where a failed check was.
struct Ctx<'a> {
    /// `v1_24 on 28.5.2`, for messages.
    v: String,
    /// `v1_24-28.5.2`: the label value, the image tag and part of every name.
    id: String,
    engine: &'a Target,
    last: RefCell<&'static str>,
}

impl<'a> Ctx<'a> {
    fn new(version: &str, engine: &'a Target) -> Ctx<'a> {
        Ctx {
            v: format!("{version} on {}", engine.name),
            id: format!("{version}-{}", engine.name),
            engine,
            last: RefCell::new("nothing yet"),
        }
    }

    /// The answer, or a panic naming the version and the operation; a body the models
    /// cannot read is called out as such.
    fn ok<T>(&self, op: &'static str, result: Result<T, Error>) -> T {
        *self.last.borrow_mut() = op;
        match result {
            Ok(value) => value,
            Err(Error::Json(e)) => panic!("{} {op}: DESERIALIZATION FAILURE: {e}", self.v),
            Err(e) => panic!("{} {op}: {e}", self.v),
        }
    }

    /// The daemon's refusal with `status`; its message.
    fn refused<T>(&self, op: &'static str, result: Result<T, Error>, status: u16) -> String {
        *self.last.borrow_mut() = op;
        match result {
            Ok(_) => panic!("{} {op}: succeeded, expected the engine to answer {status}", self.v),
            Err(Error::Api { status: s, message }) if s == status => message,
            Err(e) => panic!("{} {op}: expected a {status} from the engine, got {e}", self.v),
        }
    }

    fn stream_failed(&self, op: &str, e: StreamError) -> ! {
        match e {
            StreamError::Json { line, source } => {
                panic!("{} {op}: DESERIALIZATION FAILURE of a streamed item: {source}; the line: {line}", self.v)
            }
            e => panic!("{} {op}: stream failed: {e}", self.v),
        }
    }

    /// `moby-api-test-v1_24-28.5.2-<what>`.
    fn name(&self, what: &str) -> String {
        format!("moby-api-test-{}-{what}", self.id)
    }

    fn labels(&self) -> HashMap<String, String> {
        HashMap::from([(LABEL.to_owned(), self.id.clone())])
    }

    fn label_filter(&self) -> Filters {
        Filters::new().with("label", format!("{LABEL}={}", self.id))
    }

    fn import_ref(&self) -> String {
        format!("{IMPORT_REPO}:{}", self.id)
    }

    fn tagged_ref(&self) -> String {
        format!("{TAG_REPO}:{}", self.id)
    }
}

/// stdout (stdin echoes included) and stderr of a log or hijacked stream, read to its end.
async fn read_output<S>(ctx: &Ctx<'_>, op: &str, mut stream: S) -> (String, String)
where
    S: Stream<Item = Result<LogChunk, StreamError>> + Unpin,
{
    let (mut out, mut err) = (String::new(), String::new());
    let read = async {
        while let Some(item) = stream.next().await {
            let chunk = item.unwrap_or_else(|e| ctx.stream_failed(op, e));
            let text = String::from_utf8_lossy(&chunk.bytes);
            match chunk.stream {
                StdStream::Stderr => err.push_str(&text),
                StdStream::Stdout | StdStream::Stdin => out.push_str(&text),
            }
        }
    };
    tokio::time::timeout(STREAM_LIMIT, read).await.unwrap_or_else(|_| panic!("{} {op}: the stream did not end", ctx.v));
    (out, err)
}

/// The items of a JSON-lines or progress stream: all of them, or the first `limit` (the
/// stream is then dropped, which closes the connection).
async fn read_items<T, S>(ctx: &Ctx<'_>, op: &str, mut stream: S, limit: Option<usize>) -> Vec<T>
where
    S: Stream<Item = Result<T, StreamError>> + Unpin,
{
    let mut items = Vec::new();
    let read = async {
        while limit.is_none_or(|n| items.len() < n) {
            match stream.next().await {
                Some(item) => items.push(item.unwrap_or_else(|e| ctx.stream_failed(op, e))),
                None => break,
            }
        }
    };
    tokio::time::timeout(STREAM_LIMIT, read).await.unwrap_or_else(|_| panic!("{} {op}: the stream did not end", ctx.v));
    items
}

/// A tar of `entries`; a path ending in `/` is a directory.
fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1_700_000_000);
        if path.ends_with('/') {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
        } else {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
        }
        builder.append_data(&mut header, path, *data).expect("tar entry");
    }
    builder.into_inner().expect("tar")
}

/// The regular files of a tar, path → content.
fn tar_files(ctx: &Ctx<'_>, op: &str, bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().unwrap_or_else(|e| panic!("{} {op}: not a tar: {e}", ctx.v)) {
        let mut entry = entry.unwrap_or_else(|e| panic!("{} {op}: bad tar entry: {e}", ctx.v));
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().expect("tar path").to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("tar content");
        files.insert(path, data);
    }
    files
}

fn sh(script: &str) -> Option<Vec<String>> {
    Some(vec!["sh".into(), "-c".into(), script.into()])
}

fn contains_str(list: &Value, wanted: &str) -> bool {
    list.as_array().is_some_and(|items| items.iter().any(|item| item == wanted))
}

/// The element of a JSON array whose `key` is `value`.
fn find<'a>(list: &'a Value, key: &str, value: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|item| item[key] == value)
}

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970")
}

async fn pause(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Emits its tokens unless the flag is `no` (`yes`, or the form an operation takes).
macro_rules! when {
    (no, $body:block) => {};
    ($flag:ident, $body:block) => {
        $body
    };
}

/// Whether the flag is set (`yes`, or the form an operation takes) rather than `no`.
macro_rules! flag {
    (no) => {
        false
    };
    ($flag:ident) => {
        true
    };
}

/// Emits its tokens only when the flag is `no`.
macro_rules! unless {
    (no, $body:block) => {
        $body
    };
    ($flag:ident, $body:block) => {};
}

/// `$probe` (an expression that may `.await`) again every 100 ms until `$done` holds of its
/// value, 50 times at most: the engine applies some changes after it has replied. The last
/// value either way, for the checks that follow to judge.
macro_rules! until {
    ($probe:expr, |$value:ident| $done:expr) => {{
        let mut $value = $probe;
        for _ in 0..50 {
            if $done {
                break;
            }
            pause(100).await;
            $value = $probe;
        }
        $value
    }};
}

/// Sends again while the engine refuses because another operation of the kind is running:
/// it runs one df (500) and one prune of each kind (409) at a time, and the versions run
/// side by side (other users of the engine may prune too).
macro_rules! one_at_a_time {
    ($call:expr) => {{
        let mut result = $call;
        for _ in 0..100 {
            match &result {
                Err(Error::Api { status: 409 | 500, message }) if message.contains("already running") => pause(100).await,
                _ => break,
            }
            result = $call;
        }
        result
    }};
}

/// ContainerWait takes `condition` from 1.30.
macro_rules! wait_for {
    (plain, $c:expr, $id:expr) => {
        $c.container_wait($id)
    };
    (params, $c:expr, $id:expr) => {
        $c.container_wait($id, &params::ContainerWaitParams::default())
    };
}
/// VolumeDelete takes `force` from 1.25.
macro_rules! volume_delete {
    (plain, $c:expr, $name:expr) => {
        $c.volume_delete($name)
    };
    (params, $c:expr, $name:expr) => {
        $c.volume_delete($name, &params::VolumeDeleteParams::default())
    };
}
/// NetworkInspect takes `verbose` and `scope` from 1.28.
macro_rules! network_inspect {
    (plain, $c:expr, $id:expr) => {
        $c.network_inspect($id)
    };
    (params, $c:expr, $id:expr) => {
        $c.network_inspect($id, &params::NetworkInspectParams::default())
    };
}
/// ImageInspect and ImageHistory take parameters (`manifests`, `platform`) in 1.49.
macro_rules! image_inspect {
    (no, $c:expr, $name:expr) => {
        $c.image_inspect($name)
    };
    (yes, $c:expr, $name:expr) => {
        $c.image_inspect($name, &params::ImageInspectParams::default())
    };
}
macro_rules! image_history {
    (no, $c:expr, $name:expr) => {
        $c.image_history($name)
    };
    (yes, $c:expr, $name:expr) => {
        $c.image_history($name, &params::ImageHistoryParams::default())
    };
}
/// SystemDataUsage exists from 1.25 and takes `type` in 1.49.
macro_rules! data_usage {
    (plain, $c:expr) => {
        $c.system_data_usage()
    };
    (params, $c:expr) => {
        $c.system_data_usage(&params::SystemDataUsageParams::default())
    };
}

macro_rules! scenario {
    ($v:ident {
        wait: $wait:ident,
        volume_delete: $vol_delete:ident,
        network_inspect: $net_inspect:ident,
        image_params: $img_params:ident,
        one_shot: $one_shot:ident,
        prune: $prune:ident,
        df: $df:ident,
        volume_body: $volume_body:ident,
        commit_body: $commit_body:ident $(,)?
    }) => {
        mod $v {
            use super::*;
            use moby_api::$v::client::{Client, ContainerStartOutcome, ContainerStopOutcome};
            use moby_api::$v::{models, params, API_VERSION};

            /// This module's version, for the list of scenarios.
            pub const API: ApiVersion = API_VERSION;

            /// The scenario on every engine spec/engines.yaml lists for this version, at once.
            #[tokio::test]
            async fn scenario() {
                let version = stringify!($v);
                let targets = targets(API_VERSION);
                let runs = targets.iter().map(|engine| async move {
                    let ctx = Ctx::new(version, engine);
                    let client = Client::new(Transport::new(engine.endpoint.clone(), API_VERSION).expect("transport"));
                    let started = std::time::Instant::now();
                    remove_leftovers(&client, &ctx).await;
                    let outcome = AssertUnwindSafe(tokio::time::timeout(SCENARIO_LIMIT, run(&client, &ctx))).catch_unwind().await;
                    remove_leftovers(&client, &ctx).await;
                    let failure = match outcome {
                        Err(panic) => Some(format!("{}", panic_text(&*panic))),
                        Ok(Err(_)) => Some(format!("the scenario took longer than {SCENARIO_LIMIT:?}")),
                        Ok(Ok(())) => None,
                    };
                    match &failure {
                        Some(why) => eprintln!("{}: FAILED (the last operation was {}): {why}", ctx.v, ctx.last.borrow()),
                        None => println!("{}: scenario passed in {:.1?}", ctx.v, started.elapsed()),
                    }
                    failure.map(|why| format!("{}: {why}", ctx.v))
                });
                let failures: Vec<String> = futures_util::future::join_all(runs).await.into_iter().flatten().collect();
                assert!(failures.is_empty(), "{}", failures.join("\n"));
            }

            async fn run(c: &Client, ctx: &Ctx<'_>) {
                let (v, id) = (ctx.v.as_str(), ctx.id.as_str());

                // --- The engine.
                check_eq!(v, ctx.ok("SystemPing", c.system_ping().await), "OK");
                let engine = ctx.engine;
                let version = j!(ctx.ok("SystemVersion", c.system_version().await));
                // The engine is the one spec/engines.yaml describes.
                assert_eq!(version["ApiVersion"], engine.api.to_string(), "{v}: {version}");
                if API_VERSION >= ApiVersion::new(1, 25) {
                    assert_eq!(version["MinAPIVersion"], engine.min_api.to_string(), "{v}: {version}");
                }
                assert!(version["Version"].as_str().is_some_and(|s| s.starts_with(&engine.name)), "{v}: {version}");
                check_eq!(v, version["Os"], "linux");
                // A client the engine serves speaks its own version; a newer one negotiates down.
                let speaks = c.transport().known_api_version().unwrap_or_else(|| panic!("{v}: no version after a request"));
                assert_eq!(speaks, API_VERSION.min(engine.api), "{v}: negotiated version");
                let info = j!(ctx.ok("SystemInfo", c.system_info().await));
                check_eq!(v, info["OSType"], "linux");
                assert!(info["NCPU"].as_i64().is_some_and(|n| n >= 1), "{v}: NCPU {}", info["NCPU"]);
                assert!(info["Images"].as_i64().is_some_and(|n| n >= 1), "{v}: Images {}", info["Images"]);
                assert!(info["ID"].as_str().is_some_and(|s| !s.is_empty()), "{v}: ID");
                // The events window opens here (whole seconds, so one back).
                let since = unix_now().as_secs() - 1;

                // --- Images: import a one-file root filesystem, inspect, tag, list, untag.
                let rootfs = tar_of(&[("etc/", b"".as_slice()), ("etc/moby-api-test", id.as_bytes())]);
                let import = ctx.ok(
                    "ImageCreate",
                    c.image_create(
                        &params::ImageCreateParams {
                            from_src: Some("-".into()),
                            repo: Some(IMPORT_REPO.into()),
                            tag: Some(id.into()),
                            ..Default::default()
                        },
                        rootfs,
                    )
                    .await,
                );
                let messages = read_items(ctx, "ImageCreate", import, None).await;
                let image_id = messages
                    .iter()
                    .filter_map(|m| m.status.clone())
                    .find(|s| s.starts_with("sha256:"))
                    .unwrap_or_else(|| panic!("{v} ImageCreate: no image id among {messages:?}"));
                let image = j!(ctx.ok("ImageInspect", image_inspect!($img_params, c, &ctx.import_ref()).await));
                check_eq!(v, image["Id"], image_id);
                // No container made it: 20.10 sends `Container: ""`, 28.5.2 leaves the member out
                // (which the 1.28–1.38 specs require).
                assert!(image["Container"].as_str().is_none_or(str::is_empty), "{v}: Container {}", image["Container"]);
                assert!(contains_str(&image["RepoTags"], &ctx.import_ref()), "{v}: {}", image["RepoTags"]);
                check_eq!(v, image["Os"], "linux");
                check_eq!(v, image["RootFS"]["Type"], "layers");
                assert_eq!(image["RootFS"]["Layers"].as_array().map(Vec::len), Some(1), "{v}: {}", image["RootFS"]);
                assert!(image["Size"].as_i64().is_some_and(|n| n > 0), "{v}: Size {}", image["Size"]);
                let history = j!(ctx.ok("ImageHistory", image_history!($img_params, c, &image_id).await));
                assert_eq!(history.as_array().map(Vec::len), Some(1), "{v}: {history}");
                check_eq!(v, history[0]["Id"], image_id);
                check_eq!(v, history[0]["Comment"], "Imported from -");
                assert!(contains_str(&history[0]["Tags"], &ctx.import_ref()), "{v}: {history}");
                ctx.ok(
                    "ImageTag",
                    c.image_tag(
                        &image_id,
                        &params::ImageTagParams { repo: Some(TAG_REPO.into()), tag: Some(id.into()), ..Default::default() },
                    )
                    .await,
                );
                let images = j!(ctx.ok("ImageList", c.image_list(&Default::default()).await));
                let listed = find(&images, "Id", &image_id).unwrap_or_else(|| panic!("{v} ImageList: {image_id} missing"));
                assert!(contains_str(&listed["RepoTags"], &ctx.import_ref()), "{v}: {listed}");
                assert!(contains_str(&listed["RepoTags"], &ctx.tagged_ref()), "{v}: {listed}");
                assert!(listed["Created"].as_i64().is_some_and(|t| t > 0), "{v}: {listed}");
                assert!(
                    images.as_array().is_some_and(|all| all.iter().any(|i| contains_str(&i["RepoTags"], IMAGE))),
                    "{v}: {IMAGE} not listed"
                );
                let untagged = j!(ctx.ok("ImageDelete", c.image_delete(&ctx.tagged_ref(), &Default::default()).await));
                check_eq!(v, untagged, serde_json::json!([{ "Untagged": ctx.tagged_ref() }]));
                let missing = ctx.refused("ImageInspect", image_inspect!($img_params, c, &ctx.tagged_ref()).await, 404);
                assert!(missing.contains("No such image"), "{v}: {missing}");

                // --- A volume.
                let volume_name = ctx.name("volume");
                let volume = j!(ctx.ok(
                    "VolumeCreate",
                    c.volume_create(&models::$volume_body {
                        name: Some(volume_name.clone()),
                        labels: Some(ctx.labels()),
                        ..Default::default()
                    })
                    .await
                ));
                check_eq!(v, volume["Name"], volume_name.as_str());
                check_eq!(v, volume["Driver"], "local");
                check_eq!(v, volume["Labels"][LABEL], id);
                assert!(volume["Mountpoint"].as_str().is_some_and(|p| p.ends_with("/_data")), "{v}: {volume}");
                let volumes = j!(ctx.ok(
                    "VolumeList",
                    c.volume_list(&params::VolumeListParams { filters: Some(ctx.label_filter()), ..Default::default() }).await
                ));
                assert!(find(&volumes["Volumes"], "Name", &volume_name).is_some(), "{v}: {volumes}");
                let volume = j!(ctx.ok("VolumeInspect", c.volume_inspect(&volume_name).await));
                check_eq!(v, volume["Name"], volume_name.as_str());
                check_eq!(v, volume["Scope"], "local");

                // --- The main container: a shell that writes one line to each stream, then sleeps.
                let main_name = ctx.name("main");
                let created = create(c, ctx, "main", &container(ctx, sh("echo main-out; echo main-err >&2; exec sleep 600"), "none")).await;
                let main = created.id;
                assert!(created.warnings.is_empty(), "{v}: {:?}", created.warnings);
                let inspect = j!(ctx.ok("ContainerInspect", c.container_inspect(&main, &Default::default()).await));
                check_eq!(v, inspect["Id"], main.as_str());
                check_eq!(v, inspect["Name"], format!("/{main_name}"));
                check_eq!(v, inspect["State"]["Status"], "created");
                check_eq!(v, inspect["Config"]["Image"], IMAGE);
                check_eq!(v, inspect["Config"]["Labels"][LABEL], id);
                check_eq!(v, inspect["HostConfig"]["NetworkMode"], "none");
                let taken = ctx.refused(
                    "ContainerCreate",
                    c.container_create(
                        &params::ContainerCreateParams { name: Some(main_name.clone()), ..Default::default() },
                        &models::ContainerCreateBody { image: Some(IMAGE.into()), ..Default::default() },
                    )
                    .await,
                    409,
                );
                assert!(taken.contains("is already in use"), "{v}: {taken}");
                check_eq!(
                    v,
                    ctx.ok("ContainerStart", c.container_start(&main, &Default::default()).await),
                    ContainerStartOutcome::NoContent
                );
                assert_eq!(
                    ctx.ok("ContainerStart", c.container_start(&main, &Default::default()).await),
                    ContainerStartOutcome::NotModified,
                    "{v}: starting a running container"
                );
                let inspect = j!(ctx.ok("ContainerInspect", c.container_inspect(&main, &Default::default()).await));
                check_eq!(v, inspect["State"]["Status"], "running");
                check_eq!(v, inspect["State"]["Running"], true);
                assert!(inspect["State"]["Pid"].as_i64().is_some_and(|p| p > 0), "{v}: {}", inspect["State"]);
                let first_start = inspect["State"]["StartedAt"].clone();
                let listed = j!(ctx.ok(
                    "ContainerList",
                    c.container_list(&params::ContainerListParams { filters: Some(ctx.label_filter()), ..Default::default() }).await
                ));
                let entry = find(&listed, "Id", &main).unwrap_or_else(|| panic!("{v} ContainerList: {listed}"));
                check_eq!(v, entry["State"], "running");
                assert!(contains_str(&entry["Names"], &format!("/{main_name}")), "{v}: {entry}");
                check_eq!(v, entry["Image"], IMAGE);
                check_eq!(v, entry["HostConfig"]["NetworkMode"], "none");

                let running = ctx.refused("ContainerDelete", c.container_delete(&main, &Default::default()).await, 409);
                assert!(running.contains(engine.behaviour.running_delete_message), "{v}: {running}");
                // Nothing written yet: the engine answers `null`, which reads as no changes.
                let changes = j!(ctx.ok("ContainerChanges", c.container_changes(&main).await));
                check_eq!(v, changes, serde_json::json!([]));

                // The shell execs `sleep 600` last; until it has, ps shows it as `[sh]`.
                let runs_sleep = |top: &Value| {
                    top["Processes"].as_array().is_some_and(|rows| {
                        rows.iter().any(|row| {
                            row.as_array().and_then(|r| r.last()).and_then(Value::as_str).is_some_and(|cmd| cmd.contains("sleep 600"))
                        })
                    })
                };
                let top = until!(j!(ctx.ok("ContainerTop", c.container_top(&main, &Default::default()).await)), |top| runs_sleep(&top));
                assert!(contains_str(&top["Titles"], "PID"), "{v}: {top}");
                assert!(runs_sleep(&top), "{v}: {top}");

                // Logs, once both lines are written.
                let both = params::ContainerLogsParams { stdout: Some(true), stderr: Some(true), ..Default::default() };
                let logs = until!(read_output(ctx, "ContainerLogs", ctx.ok("ContainerLogs", c.container_logs(&main, &both).await)).await, |logs| {
                    !logs.0.is_empty() && !logs.1.is_empty()
                });
                assert_eq!(logs, ("main-out\n".to_owned(), "main-err\n".to_owned()), "{v}: logs");

                // Exec with stdin: cat echoes it, then the command fails on purpose.
                let exec = ctx
                    .ok(
                        "ContainerExec",
                        c.container_exec(
                            &main,
                            &models::ContainerExecBody {
                                attach_stdin: Some(true),
                                attach_stdout: Some(true),
                                attach_stderr: Some(true),
                                cmd: sh("cat; echo exec-err >&2; exit 5"),
                                ..Default::default()
                            },
                        )
                        .await,
                    )
                    .id;
                let hijacked = ctx.ok(
                    "ExecStart",
                    c.exec_start(&exec, &models::ExecStartBody { detach: Some(false), tty: Some(false), ..Default::default() }).await,
                );
                let (output, mut input) = hijacked.split();
                input.write_all(format!("exec-in-{id}\n").as_bytes()).await.expect("exec stdin");
                input.shutdown().await.expect("exec stdin close");
                let (out, err) = read_output(ctx, "ExecStart", output).await;
                assert_eq!((out.as_str(), err.as_str()), (format!("exec-in-{id}\n").as_str(), "exec-err\n"), "{v}: exec output");
                let exec_info = until!(j!(ctx.ok("ExecInspect", c.exec_inspect(&exec).await)), |info| info["Running"] == false);
                assert_eq!(exec_info["Running"], false, "{v}: {exec_info}");
                assert_eq!(exec_info["ExitCode"], 5, "{v}: {exec_info}");
                check_eq!(v, exec_info["ContainerID"], main.as_str());
                check_eq!(v, exec_info["OpenStdin"], true);
                assert_eq!(exec_info["ProcessConfig"]["entrypoint"], "sh", "{v}: {exec_info}");

                // Stats: one sample, then a stream dropped after two.
                #[allow(unused_mut)]
                let mut one_sample = params::ContainerStatsParams { stream: Some(false), ..Default::default() };
                let one_shot = flag!($one_shot);
                // From 1.41 the engine need not wait a second for the CPU delta.
                when!($one_shot, {
                    one_sample.one_shot = Some(true);
                });
                let stats = ctx.ok("ContainerStats", c.container_stats(&main, &one_sample).await);
                let sample = read_items(ctx, "ContainerStats", stats, None).await;
                assert_eq!(sample.len(), 1, "{v}: stream=false answers one object");
                // Typed in every version (spec/corrections/container-stats-typed.yaml).
                let typed = &sample[0];
                check_eq!(v, typed.pids_stats.as_ref().and_then(|p| p.current), Some(1));
                assert!(typed.memory_stats.as_ref().and_then(|m| m.usage).is_some_and(|u| u > 0), "{v}: {typed:?}");
                assert!(typed.cpu_stats.as_ref().and_then(|c| c.cpu_usage.as_ref()?.total_usage).is_some_and(|u| u > 0), "{v}: {typed:?}");
                let sample = j!(sample[0]);
                if one_shot && engine.behaviour.one_shot_stats_without_id {
                    assert!(sample["id"].is_null() && sample["name"].is_null(), "{v}: a one-shot sample without id and name: {sample}");
                } else {
                    check_eq!(v, sample["id"], main.as_str());
                    check_eq!(v, sample["name"], format!("/{main_name}"));
                }
                assert!(sample["memory_stats"].is_object() && sample["cpu_stats"].is_object(), "{v}: {sample}");
                assert_eq!(sample["pids_stats"]["current"], 1, "{v}: {sample}");
                let stream = ctx.ok(
                    "ContainerStats",
                    c.container_stats(&main, &params::ContainerStatsParams { stream: Some(true), ..Default::default() }).await,
                );
                let samples = read_items(ctx, "ContainerStats (stream)", stream, Some(2)).await;
                check_eq!(v, samples.len(), 2);
                let (a, b) = (j!(samples[0]), j!(samples[1]));
                check_eq!(v, a["id"], main.as_str());
                assert_ne!(a["read"], b["read"], "{v}: two samples, two times");

                // Archive: put a file, stat it, get it back; a missing path is a 404.
                let greeting = format!("hello from {id}\n");
                ctx.ok(
                    "PutContainerArchive",
                    c.put_container_archive(
                        &main,
                        &params::PutContainerArchiveParams { path: "/tmp".into(), ..Default::default() },
                        tar_of(&[("greeting.txt", greeting.as_bytes())]),
                    )
                    .await,
                );
                let stat_of = |path: &str| params::ContainerArchiveInfoParams { path: path.into() };
                let stat = ctx.ok("ContainerArchiveInfo", c.container_archive_info(&main, &stat_of("/tmp/greeting.txt")).await);
                assert_eq!(stat.name, "greeting.txt", "{v}: {stat:?}");
                assert_eq!(stat.size, greeting.len() as i64, "{v}: {stat:?}");
                assert_eq!(stat.mode & (1 << 31), 0, "{v}: a file, not a directory: {stat:?}");
                let stat = ctx.ok("ContainerArchiveInfo", c.container_archive_info(&main, &stat_of("/tmp")).await);
                assert_ne!(stat.mode & (1 << 31), 0, "{v}: /tmp is a directory: {stat:?}");
                let archive_of = |path: &str| params::ContainerArchiveParams { path: path.into() };
                let tar = ctx.ok(
                    "ContainerArchive",
                    ctx.ok("ContainerArchive", c.container_archive(&main, &archive_of("/tmp/greeting.txt")).await).collect().await,
                );
                let files = tar_files(ctx, "ContainerArchive", &tar);
                assert_eq!(files.get("greeting.txt").map(Vec::as_slice), Some(greeting.as_bytes()), "{v}: {:?}", files.keys());
                let missing = ctx.refused("ContainerArchive", c.container_archive(&main, &archive_of("/tmp/no-such-file")).await, 404);
                assert!(missing.contains("no-such-file"), "{v}: {missing}");

                let changes = j!(ctx.ok("ContainerChanges", c.container_changes(&main).await));
                assert!(
                    changes.as_array().is_some_and(|all| all.contains(&serde_json::json!({ "Path": "/tmp/greeting.txt", "Kind": 1 }))),
                    "{v}: {changes}"
                );
                let export = ctx.ok("ContainerExport", ctx.ok("ContainerExport", c.container_export(&main).await).collect().await);
                let files = tar_files(ctx, "ContainerExport", &export);
                check_eq!(v, files.get("tmp/greeting.txt").map(Vec::as_slice), Some(greeting.as_bytes()));
                assert!(files.contains_key("bin/busybox"), "{v}: {} files exported", files.len());

                // Commit: a dangling, labelled image (pruned below).
                let committed = ctx
                    .ok(
                        "ImageCommit",
                        c.image_commit(
                            &params::ImageCommitParams {
                                container: Some(main.clone()),
                                comment: Some(format!("commit by {id}")),
                                ..Default::default()
                            },
                            &models::$commit_body { labels: Some(ctx.labels()), ..Default::default() },
                        )
                        .await,
                    )
                    .id;
                let commit = j!(ctx.ok("ImageInspect", image_inspect!($img_params, c, &committed).await));
                check_eq!(v, commit["Comment"], format!("commit by {id}"));
                check_eq!(v, commit["Config"]["Labels"][LABEL], id);
                assert_eq!(commit["RepoTags"].as_array().map(Vec::len).unwrap_or(0), 0, "{v}: dangling");
                assert_eq!(commit["RootFS"]["Layers"].as_array().map(Vec::len), Some(2), "{v}: busybox's layer and the change");

                let renamed = ctx.name("renamed");
                ctx.ok(
                    "ContainerRename",
                    c.container_rename(&main, &params::ContainerRenameParams { name: renamed.clone(), ..Default::default() }).await,
                );
                let inspect = j!(ctx.ok("ContainerInspect", c.container_inspect(&main, &Default::default()).await));
                check_eq!(v, inspect["Name"], format!("/{renamed}"));

                // The engine records pause and unpause from containerd's events, after the
                // reply (a late "paused" event was seen in CI right after an unpause): wait
                // for the state, up to five seconds, then check it.
                ctx.ok("ContainerPause", c.container_pause(&main).await);
                let inspect = until!(j!(ctx.ok("ContainerInspect", c.container_inspect(&main, &Default::default()).await)), |inspect| {
                    inspect["State"]["Paused"] == true
                });
                check_eq!(v, (&inspect["State"]["Status"], &inspect["State"]["Paused"]), (&Value::from("paused"), &Value::from(true)));
                ctx.ok("ContainerUnpause", c.container_unpause(&main).await);
                let inspect = until!(j!(ctx.ok("ContainerInspect", c.container_inspect(&main, &Default::default()).await)), |inspect| {
                    inspect["State"]["Status"] == "running" && inspect["State"]["Paused"] == false
                });
                check_eq!(v, (&inspect["State"]["Status"], &inspect["State"]["Paused"]), (&Value::from("running"), &Value::from(false)));

                when!($df, {
                    let df = j!(ctx.ok("SystemDataUsage", one_at_a_time!(data_usage!($df, c).await)));
                    assert!(df["LayersSize"].as_i64().is_some_and(|n| n > 0), "{v}: LayersSize {}", df["LayersSize"]);
                    assert!(find(&df["Images"], "Id", &image_id).is_some(), "{v}: df images");
                    assert!(find(&df["Containers"], "Id", &main).is_some(), "{v}: df containers");
                    let df_volume =
                        find(&df["Volumes"], "Name", &volume_name).unwrap_or_else(|| panic!("{v}: df volumes {}", df["Volumes"]));
                    assert_eq!(df_volume["UsageData"]["RefCount"], 0, "{v}: {df_volume}");
                });

                // --- Logs followed to the exit, and the exit code.
                let short = create(c, ctx, "short", &container(ctx, sh("echo first; sleep 0.3; echo second >&2; exit 3"), "none")).await.id;
                ctx.ok("ContainerStart", c.container_start(&short, &Default::default()).await);
                let output = ctx.ok(
                    "ContainerLogs",
                    c.container_logs(
                        &short,
                        &params::ContainerLogsParams { follow: Some(true), stdout: Some(true), stderr: Some(true), ..Default::default() },
                    )
                    .await,
                );
                let followed = read_output(ctx, "ContainerLogs (follow)", output).await;
                assert_eq!(followed, ("first\n".to_owned(), "second\n".to_owned()), "{v}: followed logs");
                let waited = ctx.ok("ContainerWait", wait_for!($wait, c, &short).await);
                check_eq!(v, waited.status_code, 3);
                let inspect = j!(ctx.ok("ContainerInspect", c.container_inspect(&short, &Default::default()).await));
                check_eq!(v, (&inspect["State"]["Status"], &inspect["State"]["ExitCode"]), (&Value::from("exited"), &Value::from(3)));
                let stopped = ctx.refused("ContainerTop", c.container_top(&short, &Default::default()).await, 409);
                assert!(stopped.contains("is not running"), "{v}: {stopped}");

                // --- A container whose start fails: its command does not exist. It stays
                // `created`, with exit code 127 and the runtime's error, and waiting for it
                // answers at once with both.
                let broken = create(c, ctx, "broken", &container(ctx, Some(vec!["no-such-binary".into()]), "none")).await.id;
                let failed = ctx.refused("ContainerStart", c.container_start(&broken, &Default::default()).await, 400);
                assert!(failed.contains("\"no-such-binary\": executable file not found"), "{v}: {failed}");
                let inspect = j!(ctx.ok("ContainerInspect", c.container_inspect(&broken, &Default::default()).await));
                check_eq!(v, (&inspect["State"]["Status"], &inspect["State"]["ExitCode"]), (&Value::from("created"), &Value::from(127)));
                assert!(inspect["State"]["Error"].as_str().is_some_and(|e| e.contains("executable file not found")), "{v}: {}", inspect["State"]);
                let waited = j!(ctx.ok("ContainerWait", wait_for!($wait, c, &broken).await));
                check_eq!(v, waited["StatusCode"], 127);
                // The wait answer has `Error` in the models from 1.34 (the engines send it from 1.30).
                if API_VERSION >= ApiVersion::new(1, 34) {
                    assert!(
                        waited["Error"]["Message"].as_str().is_some_and(|e| e.contains("executable file not found")),
                        "{v}: {waited}"
                    );
                }
                let changes = j!(ctx.ok("ContainerChanges", c.container_changes(&broken).await));
                check_eq!(v, changes, serde_json::json!([]));
                ctx.ok("ContainerDelete", c.container_delete(&broken, &Default::default()).await);

                // --- Attach with stdin: cat echoes one line and exits at end of input.
                let stdin_cat = models::ContainerCreateBody {
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    open_stdin: Some(true),
                    stdin_once: Some(true),
                    ..container(ctx, Some(vec!["cat".into()]), "none")
                };
                let cat = create(c, ctx, "cat", &stdin_cat).await.id;
                let attached = ctx.ok(
                    "ContainerAttach",
                    c.container_attach(
                        &cat,
                        &params::ContainerAttachParams {
                            stream: Some(true),
                            stdin: Some(true),
                            stdout: Some(true),
                            stderr: Some(true),
                            ..Default::default()
                        },
                    )
                    .await,
                );
                let (output, mut input) = attached.split();
                ctx.ok("ContainerStart", c.container_start(&cat, &Default::default()).await);
                input.write_all(format!("attach-in-{id}\n").as_bytes()).await.expect("attach stdin");
                input.shutdown().await.expect("attach stdin close");
                let echoed = read_output(ctx, "ContainerAttach", output).await;
                assert_eq!(echoed, (format!("attach-in-{id}\n"), String::new()), "{v}: attach output");
                check_eq!(v, ctx.ok("ContainerWait", wait_for!($wait, c, &cat).await).status_code, 0);

                // --- Networks: an internal bridge network (the engine has no default bridge).
                let network_name = ctx.name("network");
                let network = j!(ctx.ok(
                    "NetworkCreate",
                    c.network_create(&models::NetworkCreateBody {
                        name: network_name.clone(),
                        driver: Some("bridge".into()),
                        internal: Some(true),
                        labels: Some(ctx.labels()),
                        ..Default::default()
                    })
                    .await
                ));
                let network_id = network["Id"].as_str().unwrap_or_else(|| panic!("{v} NetworkCreate: {network}")).to_owned();
                let inspect = j!(ctx.ok("NetworkInspect", network_inspect!($net_inspect, c, &network_id).await));
                check_eq!(v, inspect["Name"], network_name.as_str());
                check_eq!(v, inspect["Driver"], "bridge");
                check_eq!(v, inspect["Internal"], true);
                check_eq!(v, inspect["Scope"], "local");
                check_eq!(v, inspect["Labels"][LABEL], id);
                assert!(inspect["IPAM"]["Config"].as_array().is_some_and(|c| !c.is_empty()), "{v}: {}", inspect["IPAM"]);
                let networks = j!(ctx.ok(
                    "NetworkList",
                    c.network_list(&params::NetworkListParams { filters: Some(ctx.label_filter()), ..Default::default() }).await
                ));
                assert_eq!(networks.as_array().map(Vec::len), Some(1), "{v}: {networks}");
                check_eq!(v, networks[0]["Id"], network_id.as_str());
                // A container in network mode `none` cannot join another network: the engine refuses.
                let refused = ctx.refused(
                    "NetworkConnect",
                    c.network_connect(&network_id, &models::NetworkConnectBody { container: Some(main.clone()), ..Default::default() })
                        .await,
                    400,
                );
                assert!(refused.contains("private (none) mode"), "{v}: {refused}");
                let joiner = create(c, ctx, "joiner", &container(ctx, Some(vec!["sleep".into(), "600".into()]), &network_name)).await.id;
                ctx.ok("ContainerStart", c.container_start(&joiner, &Default::default()).await);
                let inspect = j!(ctx.ok("NetworkInspect", network_inspect!($net_inspect, c, &network_id).await));
                assert!(inspect["Containers"].get(&joiner).is_some(), "{v}: {}", inspect["Containers"]);
                ctx.ok(
                    "NetworkDisconnect",
                    c.network_disconnect(
                        &network_id,
                        &models::NetworkDisconnectBody { container: Some(joiner.clone()), force: Some(false), ..Default::default() },
                    )
                    .await,
                );
                let inspect = j!(ctx.ok("NetworkInspect", network_inspect!($net_inspect, c, &network_id).await));
                assert!(inspect["Containers"].get(&joiner).is_none(), "{v}: {}", inspect["Containers"]);
                let container = j!(ctx.ok("ContainerInspect", c.container_inspect(&joiner, &Default::default()).await));
                assert!(container["NetworkSettings"]["Networks"].get(&network_name).is_none(), "{v}: {}", container["NetworkSettings"]);
                ctx.ok(
                    "NetworkConnect",
                    c.network_connect(&network_id, &models::NetworkConnectBody { container: Some(joiner.clone()), ..Default::default() })
                        .await,
                );
                let inspect = j!(ctx.ok("NetworkInspect", network_inspect!($net_inspect, c, &network_id).await));
                let endpoint = &inspect["Containers"][&joiner];
                assert!(endpoint["IPv4Address"].as_str().is_some_and(|a| a.contains('/')), "{v}: {endpoint}");
                let container = j!(ctx.ok("ContainerInspect", c.container_inspect(&joiner, &Default::default()).await));
                check_eq!(v, container["NetworkSettings"]["Networks"][&network_name]["NetworkID"], network_id.as_str());
                check_eq!(
                    v,
                    ctx.ok(
                        "ContainerStop",
                        c.container_stop(&joiner, &params::ContainerStopParams { t: Some(0), ..Default::default() }).await
                    ),
                    ContainerStopOutcome::NoContent
                );
                assert_eq!(
                    ctx.ok(
                        "ContainerStop",
                        c.container_stop(&joiner, &params::ContainerStopParams { t: Some(0), ..Default::default() }).await
                    ),
                    ContainerStopOutcome::NotModified,
                    "{v}: stopping a stopped container"
                );
                ctx.ok("ContainerDelete", c.container_delete(&joiner, &Default::default()).await);
                ctx.ok("NetworkDelete", c.network_delete(&network_id).await);
                ctx.refused("NetworkInspect", network_inspect!($net_inspect, c, &network_id).await, 404);

                // --- The main container's end: kill, wait, restart, update, remove.
                ctx.ok("ContainerKill", c.container_kill(&main, &Default::default()).await);
                assert_eq!(ctx.ok("ContainerWait", wait_for!($wait, c, &main).await).status_code, 137, "{v}: SIGKILL");
                let inspect = j!(ctx.ok("ContainerInspect", c.container_inspect(&main, &Default::default()).await));
                check_eq!(v, (&inspect["State"]["Running"], &inspect["State"]["ExitCode"]), (&Value::from(false), &Value::from(137)));
                ctx.ok(
                    "ContainerRestart",
                    c.container_restart(&main, &params::ContainerRestartParams { t: Some(1), ..Default::default() }).await,
                );
                let inspect = j!(ctx.ok("ContainerInspect", c.container_inspect(&main, &Default::default()).await));
                check_eq!(v, inspect["State"]["Running"], true);
                assert_ne!(inspect["State"]["StartedAt"], first_start, "{v}: restarted");
                let updated = j!(ctx.ok(
                    "ContainerUpdate",
                    c.container_update(
                        &main,
                        &models::ContainerUpdateBody {
                            restart_policy: Some(models::RestartPolicy {
                                name: Some("on-failure".into()),
                                maximum_retry_count: Some(2),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }
                    )
                    .await
                ));
                let warnings = updated["Warnings"].as_array().cloned().unwrap_or_default();
                if engine.behaviour.update_warns_without_ipv4_forwarding && !ipv4_forwarding() {
                    check_eq!(v, warnings, [Value::from("IPv4 forwarding is disabled. Networking will not work.")]);
                } else {
                    assert!(warnings.is_empty(), "{v}: {updated}");
                }
                let inspect = j!(ctx.ok("ContainerInspect", c.container_inspect(&main, &Default::default()).await));
                check_eq!(v, inspect["HostConfig"]["RestartPolicy"], serde_json::json!({ "Name": "on-failure", "MaximumRetryCount": 2 }));
                ctx.ok(
                    "ContainerDelete",
                    c.container_delete(&main, &params::ContainerDeleteParams { force: Some(true), v: Some(true), ..Default::default() })
                        .await,
                );
                let missing = ctx.refused("ContainerInspect", c.container_inspect(&main, &Default::default()).await, 404);
                assert!(missing.contains("No such container"), "{v}: {missing}");

                ctx.ok("VolumeDelete", volume_delete!($vol_delete, c, &volume_name).await);
                ctx.refused("VolumeInspect", c.volume_inspect(&volume_name).await, 404);

                // --- Prunes, by label: the two exited containers, a spare volume and
                // network, the committed image. 1.24 removes them one by one.
                when!($prune, {
                    let pruned = j!(ctx.ok(
                        "ContainerPrune",
                        one_at_a_time!(
                            c.container_prune(&params::ContainerPruneParams { filters: Some(ctx.label_filter()), ..Default::default() })
                                .await
                        )
                    ));
                    let mut deleted: Vec<_> = pruned["ContainersDeleted"].as_array().cloned().unwrap_or_default();
                    deleted.sort_by_key(|id| id.as_str().map(str::to_owned));
                    let mut expected = vec![Value::from(short.as_str()), Value::from(cat.as_str())];
                    expected.sort_by_key(|id| id.as_str().map(str::to_owned));
                    assert_eq!(deleted, expected, "{v}: {pruned}");
                    let spare = ctx.name("spare");
                    ctx.ok(
                        "VolumeCreate",
                        c.volume_create(&models::$volume_body {
                            name: Some(spare.clone()),
                            labels: Some(ctx.labels()),
                            ..Default::default()
                        })
                        .await,
                    );
                    // From 1.42 a prune removes named volumes only when the filter says `all`
                    // (CHANGELOG, v1.42); before, it removes them anyway.
                    let named_too =
                        if speaks >= ApiVersion::new(1, 42) { ctx.label_filter().with("all", "true") } else { ctx.label_filter() };
                    let pruned = j!(ctx.ok(
                        "VolumePrune",
                        one_at_a_time!(
                            c.volume_prune(&params::VolumePruneParams { filters: Some(named_too.clone()), ..Default::default() }).await
                        )
                    ));
                    assert_eq!(pruned["VolumesDeleted"], serde_json::json!([spare]), "{v}: {pruned}");
                    ctx.ok(
                        "NetworkCreate",
                        c.network_create(&models::NetworkCreateBody {
                            name: spare.clone(),
                            internal: Some(true),
                            labels: Some(ctx.labels()),
                            ..Default::default()
                        })
                        .await,
                    );
                    let pruned = j!(ctx.ok(
                        "NetworkPrune",
                        one_at_a_time!(
                            c.network_prune(&params::NetworkPruneParams { filters: Some(ctx.label_filter()), ..Default::default() }).await
                        )
                    ));
                    assert_eq!(pruned["NetworksDeleted"], serde_json::json!([spare]), "{v}: {pruned}");
                    let pruned = j!(ctx.ok(
                        "ImagePrune",
                        one_at_a_time!(
                            c.image_prune(&params::ImagePruneParams {
                                filters: Some(ctx.label_filter().with("dangling", "true")),
                                ..Default::default()
                            })
                            .await
                        )
                    ));
                    assert!(find(&pruned["ImagesDeleted"], "Deleted", &committed).is_some(), "{v}: {pruned}");
                });
                unless!($prune, {
                    for id in [&short, &cat] {
                        ctx.ok("ContainerDelete", c.container_delete(id, &Default::default()).await);
                    }
                    let deleted = j!(ctx.ok("ImageDelete", c.image_delete(&committed, &Default::default()).await));
                    assert!(find(&deleted, "Deleted", &committed).is_some(), "{v}: {deleted}");
                });
                ctx.refused("ImageInspect", image_inspect!($img_params, c, &committed).await, 404);

                // --- The events of the window: the short container's life in order, and
                // what happened to the main one.
                let now = unix_now();
                let events = ctx.ok(
                    "SystemEvents",
                    c.system_events(&params::SystemEventsParams {
                        since: Some(since.to_string()),
                        until: Some(format!("{}.{:09}", now.as_secs(), now.subsec_nanos())),
                        filters: Some(ctx.label_filter().with("type", "container")),
                        ..Default::default()
                    })
                    .await,
                );
                let events: Vec<Value> = read_items(ctx, "SystemEvents", events, None).await.iter().map(|e| j!(e)).collect();
                let actions_of = |id: &str| -> Vec<String> {
                    events
                        .iter()
                        .filter(|e| e["Actor"]["ID"] == id)
                        .filter_map(|e| e["Action"].as_str())
                        .filter(|a| !a.starts_with("exec_"))
                        .map(str::to_owned)
                        .collect()
                };
                assert!(events.iter().all(|e| e["Type"] == "container"), "{v}: {events:?}");
                let short_life = actions_of(&short);
                assert!(short_life.starts_with(&["create".into(), "start".into(), "die".into()]), "{v}: {short_life:?}");
                let died = events.iter().find(|e| e["Actor"]["ID"] == short.as_str() && e["Action"] == "die").expect("die");
                assert_eq!(died["Actor"]["Attributes"]["exitCode"], "3", "{v}: {died}");
                assert_eq!(died["Actor"]["Attributes"][LABEL], id, "{v}: {died}");
                assert!(died["timeNano"].as_i64().is_some_and(|t| t as u128 / 1_000_000_000 >= u128::from(since)), "{v}: {died}");
                let main_life = actions_of(&main);
                for action in
                    ["create", "start", "top", "commit", "rename", "pause", "unpause", "kill", "die", "restart", "update", "destroy"]
                {
                    assert!(main_life.iter().any(|a| a == action), "{v}: no `{action}` event for the main container: {main_life:?}");
                }
                assert!(actions_of(&cat).iter().any(|a| a == "attach"), "{v}: {:?}", actions_of(&cat));

                // --- The image last, and nothing left behind.
                let deleted = j!(ctx.ok("ImageDelete", c.image_delete(&ctx.import_ref(), &Default::default()).await));
                assert!(find(&deleted, "Untagged", &ctx.import_ref()).is_some(), "{v}: {deleted}");
                assert!(find(&deleted, "Deleted", &image_id).is_some(), "{v}: {deleted}");
                ctx.refused("ImageInspect", image_inspect!($img_params, c, &image_id).await, 404);
                let left = j!(ctx.ok(
                    "ContainerList",
                    c.container_list(&params::ContainerListParams {
                        all: Some(true),
                        filters: Some(ctx.label_filter()),
                        ..Default::default()
                    })
                    .await
                ));
                assert_eq!(left, serde_json::json!([]), "{v}: containers left");
                let left = j!(ctx.ok(
                    "VolumeList",
                    c.volume_list(&params::VolumeListParams { filters: Some(ctx.label_filter()), ..Default::default() }).await
                ));
                assert!(left["Volumes"].as_array().is_none_or(Vec::is_empty), "{v}: volumes left: {left}");
                let left = j!(ctx.ok(
                    "NetworkList",
                    c.network_list(&params::NetworkListParams { filters: Some(ctx.label_filter()), ..Default::default() }).await
                ));
                assert_eq!(left, serde_json::json!([]), "{v}: networks left");
            }

            /// The body of a container of this run: the test image running `cmd`, labelled, in
            /// network mode `network`.
            fn container(ctx: &Ctx<'_>, cmd: Option<Vec<String>>, network: &str) -> models::ContainerCreateBody {
                models::ContainerCreateBody {
                    image: Some(IMAGE.into()),
                    cmd,
                    labels: Some(ctx.labels()),
                    host_config: Some(models::HostConfig { network_mode: Some(network.into()), ..Default::default() }),
                    ..Default::default()
                }
            }

            /// Creates the run's container `what` (named by `Ctx::name`).
            async fn create(c: &Client, ctx: &Ctx<'_>, what: &str, body: &models::ContainerCreateBody) -> models::ContainerCreateResponse {
                let params = params::ContainerCreateParams { name: Some(ctx.name(what)), ..Default::default() };
                ctx.ok("ContainerCreate", c.container_create(&params, body).await)
            }

            /// Removes whatever carries this run's label or names (a failed run's
            /// leftovers); errors are ignored, the scenario reports its own.
            async fn remove_leftovers(c: &Client, ctx: &Ctx<'_>) {
                let everything = params::ContainerListParams { all: Some(true), filters: Some(ctx.label_filter()), ..Default::default() };
                if let Ok(containers) = c.container_list(&everything).await {
                    for container in j!(containers).as_array().into_iter().flatten() {
                        if let Some(id) = container["Id"].as_str() {
                            let _ = c
                                .container_delete(
                                    id,
                                    &params::ContainerDeleteParams { force: Some(true), v: Some(true), ..Default::default() },
                                )
                                .await;
                        }
                    }
                }
                if let Ok(networks) =
                    c.network_list(&params::NetworkListParams { filters: Some(ctx.label_filter()), ..Default::default() }).await
                {
                    for network in j!(networks).as_array().into_iter().flatten() {
                        if let Some(id) = network["Id"].as_str() {
                            let _ = c.network_delete(id).await;
                        }
                    }
                }
                if let Ok(volumes) =
                    c.volume_list(&params::VolumeListParams { filters: Some(ctx.label_filter()), ..Default::default() }).await
                {
                    for volume in j!(volumes)["Volumes"].as_array().into_iter().flatten() {
                        if let Some(name) = volume["Name"].as_str() {
                            let _ = volume_delete!($vol_delete, c, name).await;
                        }
                    }
                }
                let force = params::ImageDeleteParams { force: Some(true), ..Default::default() };
                for name in [ctx.import_ref(), ctx.tagged_ref()] {
                    let _ = c.image_delete(&name, &force).await;
                }
                if let Ok(images) = c.image_list(&params::ImageListParams { filters: Some(ctx.label_filter()), ..Default::default() }).await
                {
                    for image in j!(images).as_array().into_iter().flatten() {
                        if let Some(id) = image["Id"].as_str() {
                            let _ = c.image_delete(id, &force).await;
                        }
                    }
                }
            }
        }
    };
}

scenario!(v1_24 {
    wait: plain,
    volume_delete: plain,
    network_inspect: plain,
    image_params: no,
    one_shot: no,
    prune: no,
    df: no,
    volume_body: VolumeCreateBody,
    commit_body: Config
});
scenario!(v1_25 {
    wait: plain,
    volume_delete: params,
    network_inspect: plain,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: Config
});
scenario!(v1_26 {
    wait: plain,
    volume_delete: params,
    network_inspect: plain,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: Config
});
scenario!(v1_27 {
    wait: plain,
    volume_delete: params,
    network_inspect: plain,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: Config
});
scenario!(v1_28 {
    wait: plain,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: Config
});
scenario!(v1_29 {
    wait: plain,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: Config
});
scenario!(v1_30 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: ContainerConfig
});
scenario!(v1_31 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: ContainerConfig
});
scenario!(v1_32 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: ContainerConfig
});
scenario!(v1_33 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: ContainerConfig
});
scenario!(v1_34 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: ContainerConfig
});
scenario!(v1_35 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: ContainerConfig
});
scenario!(v1_36 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: ContainerConfig
});
scenario!(v1_37 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: ContainerConfig
});
scenario!(v1_38 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateBody,
    commit_body: ContainerConfig
});
scenario!(v1_39 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_40 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: no,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_41 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: yes,
    prune: yes,
    df: plain,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_42 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_43 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_44 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_45 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_46 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_47 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: no,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_48 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: yes,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_49 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: yes,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_50 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: yes,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});
scenario!(v1_51 {
    wait: params,
    volume_delete: params,
    network_inspect: params,
    image_params: yes,
    one_shot: yes,
    prune: yes,
    df: params,
    volume_body: VolumeCreateOptions,
    commit_body: ContainerConfig
});

/// Every version with a scenario above; spec/engines.yaml must run exactly these.
const SCENARIOS: &[ApiVersion] = &[
    v1_24::API,
    v1_25::API,
    v1_26::API,
    v1_27::API,
    v1_28::API,
    v1_29::API,
    v1_30::API,
    v1_31::API,
    v1_32::API,
    v1_33::API,
    v1_34::API,
    v1_35::API,
    v1_36::API,
    v1_37::API,
    v1_38::API,
    v1_39::API,
    v1_40::API,
    v1_41::API,
    v1_42::API,
    v1_43::API,
    v1_44::API,
    v1_45::API,
    v1_46::API,
    v1_47::API,
    v1_48::API,
    v1_49::API,
    v1_50::API,
    v1_51::API,
];

#[test]
fn spec_engines_yaml_runs_every_scenario_and_no_other() {
    let engines = moby_api_codegen::engines::load(&moby_api_tests::root().join("spec")).expect("spec/engines.yaml");
    let listed: Vec<String> = engines.iter().flat_map(|e| e.clients().iter()).map(|v| v.to_string()).collect();
    let compiled: Vec<String> = SCENARIOS.iter().map(ApiVersion::to_string).collect();
    let mut missing: Vec<_> = listed.iter().filter(|v| !compiled.contains(v)).collect();
    missing.dedup();
    assert!(missing.is_empty(), "spec/engines.yaml runs {missing:?}, which have no scenario! here");
    // The other direction: a scenario that no engine runs fails in its own test (`targets`).
}
