//! Running the emulated processes: a container's main process from start to exit (output
//! to logs and attachments, signals, pause, auto-remove), exec processes, and the pump that
//! connects a hijacked attach or exec connection to them.

use std::time::Duration;

use bytes::Bytes;
use moby_api::v1_41::params::ContainerAttachParams;
use moby_api_runtime::server::{ApiError, Upgraded};
use moby_api_runtime::stream::StdStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

use crate::clock::now_nanos;
use crate::engine::{crlf, Engine, State, Status};
use crate::shell::{self, Io, Sink};

/// Output of a container's main process: into the container (logs and attachments).
struct ContainerSink {
    engine: Engine,
    id: String,
}

impl Sink for ContainerSink {
    fn write(&self, stream: StdStream, data: Bytes) {
        self.engine.update(|state| {
            if let Some(c) = state.containers.get_mut(&self.id) {
                c.output(stream, data);
            }
        });
    }
}

/// Output of an exec: straight to its connection (exec output is not logged).
struct ExecSink {
    tx: mpsc::UnboundedSender<(StdStream, Bytes)>,
    tty: bool,
    stdout: bool,
    stderr: bool,
}

impl Sink for ExecSink {
    fn write(&self, stream: StdStream, data: Bytes) {
        let (stream, data) = if self.tty { (StdStream::Stdout, crlf(&data)) } else { (stream, data) };
        let wanted = if stream == StdStream::Stderr { self.stderr } else { self.stdout };
        if wanted {
            // The client may be gone; the process runs to its end regardless.
            let _ = self.tx.send((stream, data));
        }
    }
}

/// Starts a container's process: `Ok(false)` when it is already running (the daemon's 304).
pub(crate) fn start(engine: &Engine, key: &str) -> Result<bool, ApiError> {
    engine.update(|state| {
        let id = state.container_id(key)?;
        let pid = state.next_pid();
        let c = state.containers.get_mut(&id).expect("looked up above");
        match c.status {
            Status::Running => return Ok(false),
            Status::Paused => return Err(ApiError::conflict("cannot start a paused container, try unpause instead")),
            Status::Created | Status::Exited => {}
        }
        c.status = Status::Running;
        c.exit_code = 0;
        c.pid = pid;
        c.started_at = Some(now_nanos());
        c.run += 1;
        let (signal_tx, signal_rx) = watch::channel(None);
        c.signal = Some(signal_tx);
        let io = Io {
            sink: Box::new(ContainerSink { engine: engine.clone(), id: id.clone() }),
            stdin: c.stdin_rx.take(),
            paused: c.paused.subscribe(),
            env: c.config.env.clone().unwrap_or_default(),
            hostname: c.config.hostname.clone().unwrap_or_default(),
            workdir: workdir(c.config.working_dir.as_deref()),
            tty: c.tty(),
            line_discipline: Default::default(),
        };
        let argv = c.argv.clone();
        let run = c.run;
        assign_addresses(state, &id);
        state.container_event(&id, "start", []);
        tokio::spawn(run_main(engine.clone(), id, run, argv, io, signal_rx));
        Ok(true)
    })
}

fn workdir(dir: Option<&str>) -> String {
    match dir {
        Some(dir) if !dir.is_empty() => dir.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Gives the container's endpoints their addresses on first start.
fn assign_addresses(state: &mut State, id: &str) {
    let Some(c) = state.containers.get_mut(id) else {
        return;
    };
    for endpoint in &mut c.endpoints {
        if endpoint.ip.is_none() {
            if let Some(network) = state.networks.get_mut(&endpoint.network_id) {
                endpoint.ip = crate::networks::allocate(network);
                if let Some(ip) = &endpoint.ip {
                    endpoint.mac = crate::networks::mac_for(ip);
                }
            }
        }
    }
}

async fn run_main(engine: Engine, id: String, run: u64, argv: Vec<String>, mut io: Io, mut signal: watch::Receiver<Option<i64>>) {
    let status = tokio::select! {
        status = shell::run(&argv, &mut io) => status,
        signal = signalled(&mut signal) => 128 + signal,
    };
    // Output is already in the attachment channels (the sink sends synchronously), so the
    // attached clients get all of it before their connections close below.
    drop(io);
    engine.update(|state| exited(state, &id, run, status));
}

/// The signal that ends a process; a dropped sender (the container was removed) is SIGKILL.
async fn signalled(signal: &mut watch::Receiver<Option<i64>>) -> i64 {
    match signal.wait_for(Option::is_some).await {
        Ok(value) => value.unwrap_or(SIGKILL),
        Err(_) => SIGKILL,
    }
}

/// The bookkeeping of an exit: state, exit code, `die` event, attachments closed, a fresh
/// stdin for a later start, and the removal of an auto-remove container.
fn exited(state: &mut State, id: &str, run: u64, status: i64) {
    let Some(c) = state.containers.get_mut(id) else {
        return;
    };
    if c.run != run || !c.status.is_running() {
        return;
    }
    c.status = Status::Exited;
    c.exit_code = status;
    c.pid = 0;
    c.finished_at = Some(now_nanos());
    c.exits += 1;
    c.signal = None;
    // Dropping the senders ends the attach connections once they have written what is queued.
    c.attachments.clear();
    c.reset_stdin();
    c.paused.send_replace(false);
    let auto_remove = c.host_config.auto_remove == Some(true);
    let exec_ids = c.exec_ids.clone();
    for exec_id in exec_ids {
        if let Some(exec) = state.execs.get_mut(&exec_id) {
            exec.running = false;
        }
    }
    state.container_event(id, "die", [("exitCode", status.to_string())]);
    if auto_remove {
        // Like `docker rm -v`: the daemon's auto-remove takes anonymous volumes along.
        let volumes = crate::containers::anonymous_volumes(state, id);
        remove(state, id);
        crate::volumes::remove_unused(state, &volumes);
    }
}

/// Removes a container that is not running (the caller stopped it first).
pub(crate) fn remove(state: &mut State, id: &str) {
    state.container_event(id, "destroy", []);
    if let Some(c) = state.containers.remove(id) {
        state.removed.insert(c.id.clone(), c.exit_code);
        for exec_id in &c.exec_ids {
            state.execs.remove(exec_id);
        }
    }
}

pub(crate) const SIGKILL: i64 = 9;
pub(crate) const SIGTERM: i64 = 15;

/// A signal by name (`SIGKILL`, `KILL`) or number. The emulated processes have no handlers:
/// every signal that would end a process without one ends them (see [`terminates`]).
pub(crate) fn parse_signal(value: &str) -> Option<i64> {
    const NAMES: [(&str, i64); 15] = [
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("ABRT", 6),
        ("KILL", 9),
        ("USR1", 10),
        ("SEGV", 11),
        ("USR2", 12),
        ("PIPE", 13),
        ("ALRM", 14),
        ("TERM", 15),
        ("CHLD", 17),
        ("CONT", 18),
        ("STOP", 19),
        ("WINCH", 28),
    ];
    let value = value.trim();
    if let Ok(n) = value.parse::<i64>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let upper = value.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, number)| *number)
}

/// Whether a signal ends a process that does not handle it (not CHLD, CONT, STOP, WINCH).
pub(crate) fn terminates(signal: i64) -> bool {
    !matches!(signal, 17 | 18 | 19 | 28)
}

/// Sends `signal` to a running container and, when it ends the process, waits (up to
/// `timeout`) until the exit is recorded. Errors: not running (409).
pub(crate) async fn kill(engine: &Engine, key: &str, signal: i64, timeout: Duration) -> Result<(), ApiError> {
    let (id, exits) = engine.update(|state| {
        let id = state.container_id(key)?;
        let c = state.containers.get_mut(&id).expect("looked up above");
        if !c.status.is_running() {
            return Err(ApiError::conflict(format!("Container {id} is not running")));
        }
        if terminates(signal) {
            if let Some(tx) = &c.signal {
                tx.send_replace(Some(signal));
            }
        }
        let exits = c.exits;
        state.container_event(&id, "kill", [("signal", signal.to_string())]);
        Ok((id, exits))
    })?;
    if terminates(signal) {
        let exited = engine.wait_until(|state| state.containers.get(&id).is_none_or(|c| c.exits > exits).then_some(()));
        let _ = tokio::time::timeout(timeout, exited).await;
    }
    Ok(())
}

/// `docker stop`: the stop signal, then SIGKILL after `timeout`. `Ok(false)` when the
/// container was not running (304).
pub(crate) async fn stop(engine: &Engine, key: &str, timeout: Option<i64>) -> Result<bool, ApiError> {
    let (id, running, signal, default_timeout) = engine.read(|state| {
        let c = state.container(key)?;
        let signal = c.config.stop_signal.as_deref().and_then(parse_signal).unwrap_or(SIGTERM);
        Ok::<_, ApiError>((c.id.clone(), c.status.is_running(), signal, c.config.stop_timeout.unwrap_or(10)))
    })?;
    if !running {
        return Ok(false);
    }
    let grace = Duration::from_secs(u64::try_from(timeout.unwrap_or(default_timeout)).unwrap_or(0));
    let exits = engine.read(|state| state.containers.get(&id).map_or(0, |c| c.exits));
    // Racing with an exit of its own is fine: "not running" now means stopped.
    let _ = kill(engine, &id, signal, grace).await;
    let still_running = engine.read(|state| state.containers.get(&id).is_some_and(|c| c.exits == exits && c.status.is_running()));
    if still_running {
        let _ = kill(engine, &id, SIGKILL, Duration::from_secs(10)).await;
    }
    engine.update(|state| state.container_event(&id, "stop", []));
    Ok(true)
}

/// Where what a client types goes, and what its EOF does.
pub(crate) struct StdinTarget {
    pub tx: mpsc::UnboundedSender<Bytes>,
    pub on_eof: Box<dyn FnOnce() + Send>,
}

/// Connects a hijacked connection to a process: output from `output` is written (framed
/// when `multiplexed`) until the channel closes, which is when the process has exited;
/// meanwhile what the client sends goes to `stdin`.
pub(crate) async fn pump(mut conn: Upgraded, mut output: OutputRx, stdin: Option<StdinTarget>) {
    let multiplexed = conn.multiplexed();
    // Without an upgrade there is no stdin (reading is at EOF at once), and that EOF must not
    // close the container's stdin for everyone.
    let mut stdin = if conn.is_connection() { stdin } else { None };
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        tokio::select! {
            item = output.recv() => match item {
                Some((stream, data)) => {
                    let written = if multiplexed {
                        conn.write_frame(stream, &data).await
                    } else {
                        match conn.write_all(&data).await {
                            Ok(()) => conn.flush().await,
                            Err(e) => Err(e),
                        }
                    };
                    if written.is_err() {
                        break;
                    }
                }
                None => break,
            },
            read = conn.read(&mut buf), if stdin.is_some() => match read {
                Ok(n) if n > 0 => {
                    if let Some(target) = &stdin {
                        let _ = target.tx.send(Bytes::copy_from_slice(&buf[..n]));
                    }
                }
                // EOF (the client half-closed) or a broken connection: stdin is over.
                _ => {
                    if let Some(target) = stdin.take() {
                        (target.on_eof)();
                    }
                }
            },
        }
    }
    let _ = conn.shutdown().await;
}

/// Output for a hijacked connection: what a process writes, on the stream it wrote to.
pub(crate) type OutputRx = mpsc::UnboundedReceiver<(StdStream, Bytes)>;

/// What an attach hands to its hijacked connection.
pub(crate) struct Attached {
    pub multiplexed: bool,
    pub output: OutputRx,
    pub stdin: Option<StdinTarget>,
}

/// Attaches to a container: registers the output channel now (so nothing written after
/// the `101` is missed, even before the connection is handed over) and returns what the
/// hijacked connection needs. `logs`: replay what is logged first.
pub(crate) fn attach(engine: &Engine, key: &str, params: &ContainerAttachParams) -> Result<Attached, ApiError> {
    let flag = |value: Option<bool>| value.unwrap_or(false);
    let (stdin, stdout, stderr) = (flag(params.stdin), flag(params.stdout), flag(params.stderr));
    let (logs, stream) = (flag(params.logs), flag(params.stream));
    engine.update(|state| {
        let id = state.container_id(key)?;
        let c = state.containers.get_mut(&id).expect("looked up above");
        // A stopped container can be attached to: `docker start -a` attaches before it starts.
        if c.status == Status::Paused {
            return Err(ApiError::conflict(format!("Container {id} is paused, unpause the container before attach.")));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        if logs {
            for record in &c.logs {
                let wanted = if record.stream == StdStream::Stderr { stderr } else { stdout };
                if wanted {
                    let _ = tx.send((record.stream, record.bytes.clone()));
                }
            }
        }
        let target = match (&c.stdin_tx, stdin && stream) {
            (Some(stdin_tx), true) => {
                let once = c.config.stdin_once == Some(true);
                let (engine, id) = (engine.clone(), id.clone());
                Some(StdinTarget {
                    tx: stdin_tx.clone(),
                    on_eof: Box::new(move || {
                        // StdinOnce: the first attached client's EOF is the process's EOF.
                        if once {
                            engine.update(|state| {
                                if let Some(c) = state.containers.get_mut(&id) {
                                    c.stdin_tx = None;
                                }
                            });
                        }
                    }),
                })
            }
            _ => None,
        };
        if stream {
            c.attachments.push(crate::engine::Attachment { tx, stdout, stderr });
        }
        let tty = c.tty();
        state.container_event(&id, "attach", []);
        Ok(Attached { multiplexed: !tty, output: rx, stdin: target })
    })
}

/// A started exec, not yet running: `launch` sets its process going.
pub(crate) struct ExecLaunch {
    pub multiplexed: bool,
    pub output: OutputRx,
    pub stdin: Option<mpsc::UnboundedSender<Bytes>>,
    pub launch: Box<dyn FnOnce() + Send>,
}

/// Starts an exec: marks it running and prepares its process. Its output goes to the
/// returned channel; the exit code is recorded before that channel closes, so a client that
/// reads to the end and then inspects the exec sees it.
pub(crate) fn start_exec(engine: &Engine, exec_id: &str, detach: bool) -> Result<ExecLaunch, ApiError> {
    engine.update(|state| {
        let exec = state.exec(exec_id)?;
        if exec.started {
            return Err(ApiError::conflict(format!("Error: Exec command {exec_id} is already running")));
        }
        let container_id = exec.container_id.clone();
        let pid = state.next_pid();
        let c = state.containers.get(&container_id).ok_or_else(|| ApiError::not_found(format!("No such container: {container_id}")))?;
        if !c.status.is_running() {
            return Err(ApiError::conflict(format!("Container {container_id} is not running")));
        }
        if c.status == Status::Paused {
            return Err(ApiError::conflict(format!("Container {container_id} is paused, unpause the container before exec")));
        }
        let signal = c.signal.as_ref().map(watch::Sender::subscribe);
        let paused = c.paused.subscribe();
        let mut env = c.config.env.clone().unwrap_or_default();
        let hostname = c.config.hostname.clone().unwrap_or_default();
        let container_workdir = c.config.working_dir.clone();
        let exec = state.execs.get_mut(exec_id).expect("looked up above");
        exec.started = true;
        exec.running = true;
        exec.pid = pid;
        env.extend(exec.env.iter().cloned());
        let (tx, rx) = mpsc::unbounded_channel();
        let (stdin_tx, stdin_rx) = if exec.attach_stdin && !detach {
            let (tx, rx) = mpsc::unbounded_channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let workdir = workdir(if exec.working_dir.is_empty() { container_workdir.as_deref() } else { Some(&exec.working_dir) });
        let io = Io {
            sink: Box::new(ExecSink { tx, tty: exec.tty, stdout: exec.attach_stdout, stderr: exec.attach_stderr }),
            stdin: stdin_rx,
            paused,
            env,
            hostname,
            workdir,
            tty: exec.tty,
            line_discipline: Default::default(),
        };
        let argv = exec.argv.clone();
        let multiplexed = !exec.tty;
        let action = format!("exec_start: {}", argv.join(" "));
        state.container_event(&container_id, &action, [("execID", exec_id.to_owned())]);
        let (engine, exec_id) = (engine.clone(), exec_id.to_owned());
        let launch = Box::new(move || {
            tokio::spawn(run_exec(engine, exec_id, container_id, argv, io, signal));
        });
        Ok(ExecLaunch { multiplexed, output: rx, stdin: stdin_tx, launch })
    })
}

async fn run_exec(
    engine: Engine,
    exec_id: String,
    container_id: String,
    argv: Vec<String>,
    mut io: Io,
    signal: Option<watch::Receiver<Option<i64>>>,
) {
    let status = match signal {
        Some(mut signal) => tokio::select! {
            status = shell::run(&argv, &mut io) => status,
            // The container ended (or was killed): its execs end with it.
            signal = signalled(&mut signal) => 128 + signal,
        },
        None => shell::run(&argv, &mut io).await,
    };
    engine.update(|state| {
        if let Some(exec) = state.execs.get_mut(&exec_id) {
            exec.running = false;
            exec.exit_code = Some(status);
        }
        state.container_event(&container_id, "exec_die", [("execID", exec_id.clone()), ("exitCode", status.to_string())]);
    });
    // Only now does the output channel close, ending the connection.
    drop(io);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(parse_signal("SIGKILL"), Some(9));
        assert_eq!(parse_signal("term"), Some(15));
        assert_eq!(parse_signal("2"), Some(2));
        assert_eq!(parse_signal("SIGNOPE"), None);
        assert_eq!(parse_signal("99"), None);
        assert!(terminates(9) && terminates(1) && !terminates(28));
    }
}
