//! The `Exec` operations: create an exec in a running container, start it on a hijacked
//! connection (or detached), inspect it for its exit code, resize (a no-op).

use futures_util::stream;
use moby_api::v1_41::models::{ExecInspectResponse, IdResponse, ProcessConfig};
use moby_api::v1_41::server::*;
use moby_api_runtime::server::{ApiError, Context, Hijack, StreamBody};

use crate::engine::{Engine, Exec};
use crate::process::{self, StdinTarget};

/// How long an exec's process takes to "start" after its connection is upgraded.
const PROCESS_START_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

impl ExecApi for Engine {
    async fn container_exec(&self, _context: &Context, request: ContainerExecRequest) -> Result<ContainerExecReply, ApiError> {
        let body = request.body;
        let argv = body.cmd.clone().unwrap_or_default();
        if argv.is_empty() {
            return Err(ApiError::invalid_argument("No exec command specified"));
        }
        let id = self.random_id();
        self.update(|state| {
            let c = state.container_mut(&request.id)?;
            if !c.status.is_running() {
                return Err(ApiError::conflict(format!("Container {} is not running", c.id)));
            }
            c.exec_ids.push(id.clone());
            let container_id = c.id.clone();
            let exec = Exec {
                id: id.clone(),
                container_id: container_id.clone(),
                argv: argv.clone(),
                tty: body.tty.unwrap_or(false),
                attach_stdin: body.attach_stdin.unwrap_or(false),
                attach_stdout: body.attach_stdout.unwrap_or(false),
                attach_stderr: body.attach_stderr.unwrap_or(false),
                env: body.env.clone().unwrap_or_default(),
                user: body.user.clone().unwrap_or_default(),
                privileged: body.privileged.unwrap_or(false),
                working_dir: body.working_dir.clone().unwrap_or_default(),
                detach_keys: body.detach_keys.clone().unwrap_or_default(),
                started: false,
                running: false,
                exit_code: None,
                pid: 0,
            };
            state.execs.insert(id.clone(), exec);
            let action = format!("exec_create: {}", argv.join(" "));
            state.container_event(&container_id, &action, [("execID", id.clone())]);
            Ok(ContainerExecReply::Created(IdResponse { id: id.clone(), ..Default::default() }))
        })
    }

    async fn exec_start(&self, _context: &Context, request: ExecStartRequest) -> Result<ExecStartReply, ApiError> {
        let detach = request.body.as_ref().and_then(|b| b.detach).unwrap_or(false);
        let exec = process::start_exec(self, &request.id, detach)?;
        if detach {
            (exec.launch)();
            // The daemon answers a detached start at once, with an empty body.
            return Ok(ExecStartReply::Ok(StreamBody::raw(stream::empty())));
        }
        let stdin = exec.stdin.map(|tx| StdinTarget { tx, on_eof: Box::new(|| {}) });
        let (output, launch) = (exec.output, exec.launch);
        Ok(ExecStartReply::SwitchingProtocols(Hijack::new(exec.multiplexed, move |conn| async move {
            // A real process takes a moment to start. docker-py relies on that: it reads the
            // 101 through a buffered reader and then switches to the raw socket, so output
            // that arrives in the same read as the headers would be lost to it.
            tokio::time::sleep(PROCESS_START_DELAY).await;
            launch();
            process::pump(conn, output, stdin).await;
        })))
    }

    async fn exec_resize(&self, _context: &Context, request: ExecResizeRequest) -> Result<ExecResizeReply, ApiError> {
        self.read(|state| state.exec(&request.id).map(|_| ExecResizeReply::Ok))
    }

    async fn exec_inspect(&self, _context: &Context, request: ExecInspectRequest) -> Result<ExecInspectReply, ApiError> {
        self.read(|state| {
            let exec = state.exec(&request.id)?;
            Ok(ExecInspectReply::Ok(ExecInspectResponse {
                can_remove: Some(false),
                detach_keys: Some(exec.detach_keys.clone()),
                id: Some(exec.id.clone()),
                running: Some(exec.running),
                // The daemon sends 0 until the process has exited and been waited for.
                exit_code: Some(exec.exit_code.unwrap_or(0)),
                process_config: Some(ProcessConfig {
                    privileged: Some(exec.privileged),
                    user: (!exec.user.is_empty()).then(|| exec.user.clone()),
                    tty: Some(exec.tty),
                    entrypoint: exec.argv.first().cloned(),
                    arguments: Some(exec.argv.iter().skip(1).cloned().collect()),
                    ..Default::default()
                }),
                open_stdin: Some(exec.attach_stdin),
                open_stderr: Some(exec.attach_stderr),
                open_stdout: Some(exec.attach_stdout),
                container_id: Some(exec.container_id.clone()),
                pid: Some(exec.pid),
                ..Default::default()
            }))
        })
    }
}
