//! The engine's state: containers, images, volumes, networks, execs and the event log
//! behind one mutex, with a change counter that waiters (wait, `logs -f`, events) watch.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use moby_api::v1_41::models::{
    ContainerConfig, EventActor, EventMessage, EventMessageScope, EventMessageType, HostConfig, ImageConfig, MountPoint,
};
use moby_api_runtime::server::ApiError;
use moby_api_runtime::stream::StdStream;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};

use crate::clock::now_nanos;

/// The in-memory engine. Cheap to clone: every clone shares one state.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Bumped after every change, so that anything waiting for a condition re-checks it.
    changes: watch::Sender<u64>,
    shutting_down: AtomicBool,
    /// Mixed into ids so that two engines started together do not hand out the same ones.
    seed: u64,
    counter: AtomicU64,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Engine")
            .field("containers", &state.containers.len())
            .field("images", &state.images.len())
            .field("volumes", &state.volumes.len())
            .field("networks", &state.networks.len())
            .finish()
    }
}

impl Engine {
    /// An engine with the image `busybox:latest` and the networks `bridge`, `host` and `none`.
    pub fn new() -> Engine {
        let engine = Engine {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changes: watch::channel(0).0,
                shutting_down: AtomicBool::new(false),
                seed: u64::try_from(now_nanos()).unwrap_or_default(),
                counter: AtomicU64::new(0),
            }),
        };
        engine.update(|state| {
            state.add_image("busybox:latest", crate::images::BUSYBOX_SIZE, now_nanos());
            for (name, driver) in [("bridge", "bridge"), ("host", "host"), ("none", "null")] {
                let id = engine.random_id();
                state.networks.insert(id.clone(), crate::networks::builtin(id, name, driver));
            }
        });
        engine
    }

    /// Prepares a graceful shutdown, which waits for the requests in flight: like a daemon
    /// without live-restore it stops the running containers (SIGTERM), which ends their
    /// attach connections, and it ends the endless answers (`logs -f`, events without
    /// `until`, waits).
    pub fn shutdown(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        self.update(|state| {
            for c in state.containers.values() {
                if let Some(signal) = &c.signal {
                    signal.send_replace(Some(crate::process::SIGTERM));
                }
            }
        });
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shared.shutting_down.load(Ordering::SeqCst)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as it was at that point; serving on
        // is better for an example engine than poisoning every later request.
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the state.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.lock())
    }

    /// Changes the state, then wakes everything waiting for a change.
    pub(crate) fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let result = f(&mut self.lock());
        self.notify();
        result
    }

    pub(crate) fn notify(&self) {
        self.shared.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every later change. Subscribe *before* checking a condition so
    /// that a change between the check and the wait is not missed.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    /// Waits until `check` returns something.
    pub(crate) async fn wait_until<T>(&self, mut check: impl FnMut(&State) -> Option<T>) -> T {
        let mut changes = self.subscribe();
        loop {
            if let Some(value) = check(&self.lock()) {
                return value;
            }
            // The sender lives as long as the engine, so this only fails if it is gone, and
            // then nothing will ever change: wait forever like a dropped client would.
            if changes.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// 64 hex digits, unique within this engine (a sha256 of a seed, a counter and the clock).
    pub(crate) fn random_id(&self) -> String {
        let n = self.shared.counter.fetch_add(1, Ordering::Relaxed);
        let mut hasher = Sha256::new();
        hasher.update(self.shared.seed.to_le_bytes());
        hasher.update(n.to_le_bytes());
        hasher.update(now_nanos().to_le_bytes());
        hex(&hasher.finalize())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of `data` as `sha256:<hex>`.
pub(crate) fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(data)))
}

/// Everything the engine knows.
#[derive(Default)]
pub(crate) struct State {
    pub containers: BTreeMap<String, Container>,
    /// Exit codes of removed containers, for a `wait` that sees the removal after the fact.
    pub removed: HashMap<String, i64>,
    pub images: BTreeMap<String, Image>,
    pub volumes: BTreeMap<String, Volume>,
    pub networks: BTreeMap<String, Network>,
    pub execs: HashMap<String, Exec>,
    pub events: Vec<EventMessage>,
    pub next_pid: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Created,
    Running,
    Paused,
    Exited,
}

impl Status {
    pub fn is_running(self) -> bool {
        matches!(self, Status::Running | Status::Paused)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Exited => "exited",
        }
    }
}

/// One line (or unterminated piece) of output, kept for `logs`.
#[derive(Debug, Clone)]
pub(crate) struct LogRecord {
    pub time: i64,
    pub stream: StdStream,
    pub bytes: Bytes,
}

/// An attached client's output channel and the streams it asked for.
pub(crate) struct Attachment {
    pub tx: mpsc::UnboundedSender<(StdStream, Bytes)>,
    pub stdout: bool,
    pub stderr: bool,
}

/// A container's network endpoint; its address exists from create on, but is shown only
/// while the container runs, like the daemon's.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub network_id: String,
    pub network_name: String,
    pub endpoint_id: String,
    pub ip: Option<String>,
    pub prefix_len: i64,
    pub gateway: String,
    pub mac: String,
    pub aliases: Vec<String>,
}

pub(crate) struct Container {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub created: i64,
    /// The Config that inspect shows: the body merged with the image's defaults.
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    pub image_id: String,
    pub argv: Vec<String>,
    pub status: Status,
    pub pid: i64,
    pub exit_code: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// How many times the container has exited; `wait?condition=next-exit` waits for it to grow.
    pub exits: u64,
    /// Which start the running process belongs to, so that a late exit of an earlier run is
    /// not taken for the current one.
    pub run: u64,
    pub restart_count: i64,
    pub logs: Vec<LogRecord>,
    pub attachments: Vec<Attachment>,
    pub stdin_tx: Option<mpsc::UnboundedSender<Bytes>>,
    pub stdin_rx: Option<mpsc::UnboundedReceiver<Bytes>>,
    /// Set while running: sending a signal number ends the emulated process.
    pub signal: Option<watch::Sender<Option<i64>>>,
    pub paused: watch::Sender<bool>,
    pub mounts: Vec<MountPoint>,
    pub endpoints: Vec<Endpoint>,
    pub exec_ids: Vec<String>,
}

impl Container {
    pub fn tty(&self) -> bool {
        self.config.tty == Some(true)
    }

    pub fn open_stdin(&self) -> bool {
        self.config.open_stdin == Some(true)
    }

    pub fn image_name(&self) -> String {
        self.config.image.clone().unwrap_or_default()
    }

    /// A fresh stdin for the next start; one that the client already closed stays closed
    /// only for the run it was meant for.
    pub fn reset_stdin(&mut self) {
        if self.open_stdin() {
            let (tx, rx) = mpsc::unbounded_channel();
            self.stdin_tx = Some(tx);
            self.stdin_rx = Some(rx);
        } else {
            self.stdin_tx = None;
            self.stdin_rx = None;
        }
    }

    /// Output of the main process: kept for `logs` line by line and copied to every
    /// attached client that asked for that stream.
    pub fn output(&mut self, stream: StdStream, data: Bytes) {
        let tty = self.tty();
        // A TTY has one output stream, and its line discipline turns "\n" into "\r\n".
        let (stream, data) = if tty { (StdStream::Stdout, crlf(&data)) } else { (stream, data) };
        let time = now_nanos();
        let mut rest = data.clone();
        while !rest.is_empty() {
            let end = rest.iter().position(|b| *b == b'\n').map_or(rest.len(), |i| i + 1);
            self.logs.push(LogRecord { time, stream, bytes: rest.split_to(end) });
        }
        self.attachments.retain(|a| {
            let wanted = match stream {
                StdStream::Stderr => a.stderr,
                _ => a.stdout,
            };
            if wanted {
                a.tx.send((stream, data.clone())).is_ok()
            } else {
                !a.tx.is_closed()
            }
        });
    }
}

/// `\n` → `\r\n`, what a TTY does to output.
pub(crate) fn crlf(data: &Bytes) -> Bytes {
    if !data.contains(&b'\n') {
        return data.clone();
    }
    let mut out = Vec::with_capacity(data.len() + 8);
    let mut previous = 0u8;
    for &b in data.iter() {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    Bytes::from(out)
}

pub(crate) struct Image {
    pub id: String,
    /// `name:tag`, normalized (`busybox:latest`, not `docker.io/library/busybox`).
    pub tags: Vec<String>,
    pub digest: String,
    pub created: i64,
    pub last_tag: i64,
    pub size: i64,
    pub config: ImageConfig,
}

pub(crate) struct Volume {
    pub name: String,
    /// Created for a container's `-v /path` or `--mount` without a source: removed with the
    /// container when it is removed with `v=1` or auto-removed.
    pub anonymous: bool,
    pub driver: String,
    pub created: i64,
    pub labels: HashMap<String, String>,
    pub options: HashMap<String, String>,
}

pub(crate) struct Network {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub created: i64,
    /// `(subnet, gateway)` for networks with addresses (not `host` and `none`).
    pub subnet: Option<(String, String)>,
    pub internal: bool,
    pub attachable: bool,
    pub enable_ipv6: bool,
    pub options: HashMap<String, String>,
    pub labels: HashMap<String, String>,
    /// `bridge`, `host` and `none`: they cannot be removed.
    pub builtin: bool,
    /// The last host number handed out in the subnet.
    pub last_host: u32,
}

pub(crate) struct Exec {
    pub id: String,
    pub container_id: String,
    pub argv: Vec<String>,
    pub tty: bool,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub env: Vec<String>,
    pub user: String,
    pub privileged: bool,
    pub working_dir: String,
    pub detach_keys: String,
    pub started: bool,
    pub running: bool,
    pub exit_code: Option<i64>,
    pub pid: i64,
}

impl State {
    pub fn next_pid(&mut self) -> i64 {
        self.next_pid = if self.next_pid < 1000 { 4000 } else { self.next_pid + 7 };
        self.next_pid
    }

    /// A container by full id, name (with or without `/`) or unique id prefix, like the
    /// daemon's lookup.
    pub fn container_id(&self, key: &str) -> Result<String, ApiError> {
        let key = key.strip_prefix('/').unwrap_or(key);
        if self.containers.contains_key(key) {
            return Ok(key.to_owned());
        }
        if let Some(c) = self.containers.values().find(|c| c.name == key) {
            return Ok(c.id.clone());
        }
        unique_prefix(self.containers.keys(), key).ok_or_else(|| ApiError::not_found(format!("No such container: {key}")))
    }

    pub fn container(&self, key: &str) -> Result<&Container, ApiError> {
        let id = self.container_id(key)?;
        Ok(&self.containers[&id])
    }

    pub fn container_mut(&mut self, key: &str) -> Result<&mut Container, ApiError> {
        let id = self.container_id(key)?;
        self.containers.get_mut(&id).ok_or_else(|| ApiError::not_found(format!("No such container: {key}")))
    }

    pub fn exec(&self, id: &str) -> Result<&Exec, ApiError> {
        self.execs.get(id).ok_or_else(|| ApiError::not_found(format!("No such exec instance: {id}")))
    }

    /// The execs of `container` whose process is running (what `top` lists besides the
    /// container's own, and what stats counts).
    pub fn running_execs<'a>(&'a self, container: &'a Container) -> impl Iterator<Item = &'a Exec> + 'a {
        container.exec_ids.iter().filter_map(|id| self.execs.get(id)).filter(|e| e.running)
    }

    /// Records an event, with the legacy `status`/`id`/`from` fields the daemon still sends
    /// for containers and images.
    pub fn event(&mut self, kind: EventMessageType, action: &str, actor: &str, attributes: HashMap<String, String>) {
        let time = now_nanos();
        let legacy = matches!(kind, EventMessageType::Container | EventMessageType::Image);
        let from = match kind {
            EventMessageType::Container => attributes.get("image").cloned(),
            _ => None,
        };
        self.events.push(EventMessage {
            r#type: Some(kind),
            action: Some(action.to_owned()),
            actor: Some(EventActor { id: Some(actor.to_owned()), attributes: Some(attributes), ..Default::default() }),
            scope: Some(EventMessageScope::Local),
            time: Some(time.div_euclid(1_000_000_000)),
            time_nano: Some(time),
            status: legacy.then(|| action.to_owned()),
            id: legacy.then(|| actor.to_owned()),
            from,
            ..Default::default()
        });
    }

    /// A container event with the attributes the daemon adds: its labels, image and name.
    pub fn container_event<const N: usize>(&mut self, id: &str, action: &str, extra: [(&str, String); N]) {
        let Some(c) = self.containers.get(id) else {
            return;
        };
        let mut attributes = c.config.labels.clone().unwrap_or_default();
        attributes.extend(attrs([("image", c.image_name()), ("name", c.name.clone())]));
        attributes.extend(attrs(extra));
        self.event(EventMessageType::Container, action, id, attributes);
    }
}

/// Event attributes from pairs.
pub(crate) fn attrs<const N: usize>(pairs: [(&str, String); N]) -> HashMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The one key that starts with `prefix`, if exactly one does.
pub(crate) fn unique_prefix<'a>(keys: impl Iterator<Item = &'a String>, prefix: &str) -> Option<String> {
    if prefix.is_empty() {
        return None;
    }
    let mut found = keys.filter(|k| k.starts_with(prefix));
    let first = found.next()?;
    found.next().is_none().then(|| first.clone())
}

/// A container name the daemon would accept (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A random-looking name like the daemon's `adjective_scientist`, derived from the id.
pub(crate) fn generated_name(id: &str, taken: impl Fn(&str) -> bool) -> String {
    const ADJECTIVES: [&str; 16] = [
        "admiring",
        "brave",
        "clever",
        "dazzling",
        "eager",
        "focused",
        "gallant",
        "happy",
        "jolly",
        "keen",
        "lucid",
        "modest",
        "nifty",
        "optimistic",
        "quirky",
        "vibrant",
    ];
    const NAMES: [&str; 16] = [
        "babbage", "curie", "darwin", "euclid", "fermi", "galileo", "hopper", "johnson", "kepler", "lovelace", "meitner", "newton",
        "pasteur", "ritchie", "thompson", "turing",
    ];
    let n = u64::from_str_radix(&id[..12.min(id.len())], 16).unwrap_or(0);
    let base = format!("{}_{}", ADJECTIVES[(n % 16) as usize], NAMES[(n / 16 % 16) as usize]);
    if !taken(&base) {
        return base;
    }
    (1..).map(|i| format!("{base}{i}")).find(|name| !taken(name)).unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_prefixes() {
        assert!(valid_name("web-1.a_b"));
        assert!(!valid_name("-x"));
        assert!(!valid_name("a"));
        assert!(!valid_name("a/b"));
        let keys = ["abc1".to_owned(), "abd2".to_owned()];
        assert_eq!(unique_prefix(keys.iter(), "abc"), Some("abc1".to_owned()));
        assert_eq!(unique_prefix(keys.iter(), "ab"), None);
        assert_eq!(generated_name("000000000000", |_| false), "admiring_babbage");
        assert_eq!(generated_name("000000000000", |n| n == "admiring_babbage"), "admiring_babbage1");
    }

    #[test]
    fn tty_output() {
        assert_eq!(crlf(&Bytes::from_static(b"a\nb\r\n")), Bytes::from_static(b"a\r\nb\r\n"));
        let engine = Engine::new();
        assert!(engine.read(|s| s.images.values().any(|i| i.tags == ["busybox:latest"])));
        assert_eq!(engine.read(|s| s.networks.len()), 3);
        assert_ne!(engine.random_id(), engine.random_id());
    }
}
