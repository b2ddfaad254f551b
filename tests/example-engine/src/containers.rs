//! The `Container` operations: create, list, inspect, start/stop/kill/restart, pause,
//! rename, attach, wait, logs, stats, top, remove, prune; and the views of a container that the
//! CLIs read (inspect, summary, network settings).

use std::collections::HashMap;
use std::time::Duration;

use moby_api::v1_41::models::{
    ContainerConfig, ContainerInspectResponse, ContainerPruneResponse, ContainerState, ContainerStateStatus, ContainerSummary,
    ContainerSummaryHostConfig, ContainerSummaryNetworkSettings, ContainerTopResponse, ContainerWaitCondition, ContainerWaitResponse,
    EndpointSettings, GraphDriverData, HostConfig, HostConfigLogConfig, HostConfigLogConfigType, MountPoint, MountType, NetworkSettings,
};
use moby_api::v1_41::server::*;
use moby_api_runtime::server::{ApiError, Context, Deferred, Hijack};

use crate::clock::{elapsed, human_duration, now_nanos, rfc3339_nanos, ZERO_TIME};
use crate::engine::{generated_name, valid_name, Container, Endpoint, Engine, State, Status};
use crate::process;

impl ContainerApi for Engine {
    async fn container_list(&self, _context: &Context, request: ContainerListRequest) -> Result<ContainerListReply, ApiError> {
        let params = request.params;
        let filters = crate::checked_filters(params.filters, &LIST_FILTERS)?;
        let all = params.all.unwrap_or(false) || params.limit.is_some_and(|l| l > 0) || filters.contains_key("status");
        let size = params.size.unwrap_or(false);
        let mut list: Vec<(i64, ContainerSummary)> = self.read(|state| {
            state
                .containers
                .values()
                .filter(|c| all || c.status.is_running())
                .filter(|c| matches_filters(state, c, &filters))
                .map(|c| (c.created, summary(state, c, size)))
                .collect()
        });
        // Newest first, like `docker ps`.
        list.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        let mut list: Vec<ContainerSummary> = list.into_iter().map(|(_, s)| s).collect();
        if let Some(limit) = params.limit.filter(|l| *l > 0) {
            list.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        Ok(ContainerListReply::Ok(list))
    }

    async fn container_create(&self, _context: &Context, request: ContainerCreateRequest) -> Result<ContainerCreateReply, ApiError> {
        let id = self.random_id();
        let name = request.params.name.filter(|n| !n.is_empty());
        self.update(|state| create(self, state, id.clone(), name, request.body))?;
        Ok(ContainerCreateReply::Created(moby_api::v1_41::models::ContainerCreateResponse {
            id,
            warnings: Vec::new(),
            ..Default::default()
        }))
    }

    async fn container_inspect(&self, _context: &Context, request: ContainerInspectRequest) -> Result<ContainerInspectReply, ApiError> {
        let size = request.params.size.unwrap_or(false);
        self.read(|state| Ok(ContainerInspectReply::Ok(inspect(state, state.container(&request.id)?, size))))
    }

    async fn container_top(&self, _context: &Context, request: ContainerTopRequest) -> Result<ContainerTopReply, ApiError> {
        self.read(|state| {
            let c = state.container(&request.id)?;
            if !c.status.is_running() {
                return Err(ApiError::conflict(format!("Container {} is not running", c.id)));
            }
            let row = |pid: i64, argv: &[String]| {
                let started = c.started_at.map(|t| rfc3339_nanos(t)[11..16].to_owned()).unwrap_or_default();
                vec![
                    "root".to_owned(),
                    pid.to_string(),
                    (c.pid - 13).to_string(),
                    "0".to_owned(),
                    started,
                    "?".to_owned(),
                    "00:00:00".to_owned(),
                    argv.join(" "),
                ]
            };
            let mut processes = vec![row(c.pid, &c.argv)];
            for exec in state.running_execs(c) {
                processes.push(row(exec.pid, &exec.argv));
            }
            let titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"].map(str::to_owned).to_vec();
            Ok(ContainerTopReply::Ok(ContainerTopResponse { titles: Some(titles), processes: Some(processes), ..Default::default() }))
        })
    }

    async fn container_logs(&self, _context: &Context, request: ContainerLogsRequest) -> Result<ContainerLogsReply, ApiError> {
        crate::logs::logs(self, &request.id, request.params).map(ContainerLogsReply::Ok)
    }

    async fn container_stats(&self, _context: &Context, request: ContainerStatsRequest) -> Result<ContainerStatsReply, ApiError> {
        crate::stats::stats(self, &request.id, request.params).map(ContainerStatsReply::Ok)
    }

    async fn container_resize(&self, _context: &Context, request: ContainerResizeRequest) -> Result<ContainerResizeReply, ApiError> {
        // No terminal to resize; the container must exist though.
        self.read(|state| state.container(&request.id).map(|_| ContainerResizeReply::Ok))
    }

    async fn container_start(&self, _context: &Context, request: ContainerStartRequest) -> Result<ContainerStartReply, ApiError> {
        match process::start(self, &request.id)? {
            true => Ok(ContainerStartReply::NoContent),
            false => Ok(ContainerStartReply::NotModified),
        }
    }

    async fn container_stop(&self, _context: &Context, request: ContainerStopRequest) -> Result<ContainerStopReply, ApiError> {
        match process::stop(self, &request.id, request.params.t).await? {
            true => Ok(ContainerStopReply::NoContent),
            false => Ok(ContainerStopReply::NotModified),
        }
    }

    async fn container_restart(&self, _context: &Context, request: ContainerRestartRequest) -> Result<ContainerRestartReply, ApiError> {
        process::stop(self, &request.id, request.params.t).await?;
        process::start(self, &request.id)?;
        self.update(|state| {
            if let Ok(id) = state.container_id(&request.id) {
                state.container_event(&id, "restart", []);
            }
        });
        Ok(ContainerRestartReply::NoContent)
    }

    async fn container_kill(&self, _context: &Context, request: ContainerKillRequest) -> Result<ContainerKillReply, ApiError> {
        let name = request.params.signal.filter(|s| !s.is_empty()).unwrap_or_else(|| "SIGKILL".to_owned());
        let signal = process::parse_signal(&name).ok_or_else(|| ApiError::invalid_argument(format!("Invalid signal: {name}")))?;
        process::kill(self, &request.id, signal, Duration::from_secs(10)).await?;
        Ok(ContainerKillReply::NoContent)
    }

    async fn container_rename(&self, _context: &Context, request: ContainerRenameRequest) -> Result<ContainerRenameReply, ApiError> {
        let new_name = request.params.name.trim_start_matches('/').to_owned();
        self.update(|state| {
            let id = state.container_id(&request.id)?;
            if !valid_name(&new_name) {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid container name ({new_name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )));
            }
            let old = state.containers[&id].name.clone();
            if old == new_name {
                return Err(ApiError::conflict("Renaming a container with the same name as its current name"));
            }
            if let Some(other) = state.containers.values().find(|c| c.name == new_name) {
                return Err(name_conflict(&new_name, &other.id));
            }
            state.containers.get_mut(&id).expect("looked up above").name = new_name;
            state.container_event(&id, "rename", [("oldName", format!("/{old}"))]);
            Ok(ContainerRenameReply::NoContent)
        })
    }

    async fn container_pause(&self, _context: &Context, request: ContainerPauseRequest) -> Result<ContainerPauseReply, ApiError> {
        self.update(|state| {
            let c = state.container_mut(&request.id)?;
            match c.status {
                Status::Running => {}
                Status::Paused => return Err(ApiError::conflict(format!("Container {} is already paused", c.id))),
                _ => return Err(ApiError::conflict(format!("Container {} is not running", c.id))),
            }
            c.status = Status::Paused;
            c.paused.send_replace(true);
            let id = c.id.clone();
            state.container_event(&id, "pause", []);
            Ok(ContainerPauseReply::NoContent)
        })
    }

    async fn container_unpause(&self, _context: &Context, request: ContainerUnpauseRequest) -> Result<ContainerUnpauseReply, ApiError> {
        self.update(|state| {
            let c = state.container_mut(&request.id)?;
            if c.status != Status::Paused {
                return Err(ApiError::conflict(format!("Container {} is not paused", c.id)));
            }
            c.status = Status::Running;
            c.paused.send_replace(false);
            let id = c.id.clone();
            state.container_event(&id, "unpause", []);
            Ok(ContainerUnpauseReply::NoContent)
        })
    }

    async fn container_attach(&self, _context: &Context, request: ContainerAttachRequest) -> Result<ContainerAttachReply, ApiError> {
        let attached = process::attach(self, &request.id, &request.params)?;
        let (output, stdin) = (attached.output, attached.stdin);
        let hijack = Hijack::new(attached.multiplexed, move |conn| process::pump(conn, output, stdin));
        Ok(ContainerAttachReply::SwitchingProtocols(hijack))
    }

    async fn container_wait(&self, _context: &Context, request: ContainerWaitRequest) -> Result<ContainerWaitReply, ApiError> {
        // Errors (no such container, bad condition) are answered before the head; the
        // document follows when the condition is met. `docker run` sends this wait before it
        // starts the container and needs the head first.
        let waiting = wait_for(self, &request.id, request.params.condition)?;
        Ok(ContainerWaitReply::Ok(Deferred::new(waiting)))
    }

    async fn container_delete(&self, _context: &Context, request: ContainerDeleteRequest) -> Result<ContainerDeleteReply, ApiError> {
        let force = request.params.force.unwrap_or(false);
        let remove_volumes = request.params.v.unwrap_or(false);
        let (id, status) = self.read(|state| state.container(&request.id).map(|c| (c.id.clone(), c.status)))?;
        match status {
            Status::Paused if !force => {
                return Err(ApiError::conflict(format!(
                "You cannot remove a paused container {id}. Unpause and then stop the container before attempting removal or force remove"
            )))
            }
            Status::Running if !force => {
                return Err(ApiError::conflict(format!(
                    "You cannot remove a running container {id}. Stop the container before attempting removal or force remove"
                )))
            }
            Status::Running | Status::Paused => {
                let _ = process::kill(self, &id, process::SIGKILL, Duration::from_secs(10)).await;
            }
            Status::Created | Status::Exited => {}
        }
        self.update(|state| {
            let volumes = if remove_volumes { anonymous_volumes(state, &id) } else { Vec::new() };
            process::remove(state, &id);
            crate::volumes::remove_unused(state, &volumes);
        });
        Ok(ContainerDeleteReply::NoContent)
    }

    async fn container_prune(&self, _context: &Context, request: ContainerPruneRequest) -> Result<ContainerPruneReply, ApiError> {
        let filters = crate::checked_filters(request.params.filters, &["label", "label!", "until"])?;
        let until = crate::clock::prune_until(&filters)?;
        let deleted = self.update(|state| {
            let ids: Vec<String> = state
                .containers
                .values()
                .filter(|c| !c.status.is_running())
                .filter(|c| filters.matches_labels(crate::labels(c.config.labels.as_ref())))
                .filter(|c| until.is_none_or(|until| c.created < until))
                .map(|c| c.id.clone())
                .collect();
            for id in &ids {
                process::remove(state, id);
            }
            state.event(
                moby_api::v1_41::models::EventMessageType::Container,
                "prune",
                "",
                crate::engine::attrs([("reclaimed", "0".to_owned())]),
            );
            ids
        });
        Ok(ContainerPruneReply::Ok(ContainerPruneResponse {
            containers_deleted: Some(deleted),
            space_reclaimed: Some(0),
            ..Default::default()
        }))
    }
}

fn name_conflict(name: &str, id: &str) -> ApiError {
    ApiError::conflict(format!(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    ))
}

/// The anonymous volumes a container mounts (removed with it on `rm -v` and auto-remove).
pub(crate) fn anonymous_volumes(state: &State, id: &str) -> Vec<String> {
    let Some(c) = state.containers.get(id) else {
        return Vec::new();
    };
    c.mounts.iter().filter_map(|m| m.name.clone()).filter(|name| state.volumes.get(name).is_some_and(|v| v.anonymous)).collect()
}

/// `wait`'s condition, checked against the state: resolves with the exit code once met.
/// For `next-exit` the exit count is taken now, so an exit that happens after this call
/// (even before the client reads the answer) counts.
pub(crate) fn wait_for(
    engine: &Engine,
    key: &str,
    condition: Option<ContainerWaitCondition>,
) -> Result<impl std::future::Future<Output = ContainerWaitResponse> + Send + 'static, ApiError> {
    let condition = condition.unwrap_or(ContainerWaitCondition::NotRunning);
    if let ContainerWaitCondition::Other(other) = &condition {
        if !other.is_empty() {
            return Err(ApiError::invalid_argument(format!("invalid condition: \"{other}\"")));
        }
    }
    let (id, exits) = engine.read(|state| state.container(key).map(|c| (c.id.clone(), c.exits)))?;
    let engine = engine.clone();
    Ok(async move {
        let status_code = engine
            .wait_until(|state| {
                if engine.is_shutting_down() {
                    // The server is going away: answer with what is known rather than never.
                    return Some(state.containers.get(&id).map_or(0, |c| c.exit_code));
                }
                let Some(c) = state.containers.get(&id) else {
                    // Removed meanwhile: every condition is met, with its last exit code.
                    return Some(state.removed.get(&id).copied().unwrap_or(0));
                };
                match condition {
                    ContainerWaitCondition::Removed => None,
                    ContainerWaitCondition::NextExit => (c.exits > exits).then_some(c.exit_code),
                    _ => (!c.status.is_running()).then_some(c.exit_code),
                }
            })
            .await;
        ContainerWaitResponse { status_code, error: None, ..Default::default() }
    })
}

/// Creates the container in `state` (events, volumes and all), or explains why not.
fn create(
    engine: &Engine,
    state: &mut State,
    id: String,
    name: Option<String>,
    mut body: moby_api::v1_41::models::ContainerCreateBody,
) -> Result<(), ApiError> {
    let image_ref = body.image.clone().filter(|i| !i.is_empty()).ok_or_else(|| ApiError::invalid_argument("No image specified"))?;
    let image_id = crate::images::resolve(state, &image_ref)
        .ok_or_else(|| ApiError::not_found(format!("No such image: {}", crate::images::normalize(&image_ref))))?;
    let name = match name {
        Some(name) => {
            let name = name.trim_start_matches('/').to_owned();
            if !valid_name(&name) {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )));
            }
            if let Some(other) = state.containers.values().find(|c| c.name == name) {
                return Err(name_conflict(&name, &other.id));
            }
            name
        }
        None => generated_name(&id, |candidate| state.containers.values().any(|c| c.name == candidate)),
    };
    let image = &state.images[&image_id];
    let image_config = image.config.clone();
    let non_empty = |v: Option<Vec<String>>| v.filter(|v| !v.is_empty());
    // `--entrypoint ""` arrives as `[""]`: no entrypoint at all, not even the image's (and,
    // being given, it replaces the image's command like any entrypoint).
    let reset_entrypoint = body.entrypoint.as_deref() == Some(&[String::new()][..]);
    let given_entrypoint = non_empty(body.entrypoint.clone()).filter(|_| !reset_entrypoint);
    let cmd = match non_empty(body.cmd.clone()) {
        Some(cmd) => Some(cmd),
        // An entrypoint given on create replaces the image's command too.
        None if given_entrypoint.is_some() || reset_entrypoint => None,
        None => non_empty(image_config.cmd.clone()),
    };
    let entrypoint = if reset_entrypoint { None } else { given_entrypoint.or_else(|| non_empty(image_config.entrypoint.clone())) };
    let argv: Vec<String> = entrypoint.iter().flatten().chain(cmd.iter().flatten()).cloned().collect();
    if argv.is_empty() {
        return Err(ApiError::invalid_argument("No command specified"));
    }

    let mut env = image_config.env.clone().unwrap_or_default();
    for kv in body.env.clone().unwrap_or_default() {
        let key = kv.split('=').next().unwrap_or_default().to_owned();
        env.retain(|existing| existing.split('=').next() != Some(key.as_str()));
        env.push(kv);
    }
    let mut labels = image_config.labels.clone().unwrap_or_default();
    labels.extend(body.labels.clone().unwrap_or_default());
    let hostname = body.hostname.clone().filter(|h| !h.is_empty()).unwrap_or_else(|| id[..12].to_owned());
    let working_dir = body.working_dir.clone().filter(|w| !w.is_empty()).or(image_config.working_dir.clone());
    let config = ContainerConfig {
        hostname: Some(hostname),
        domainname: Some(body.domainname.clone().unwrap_or_default()),
        user: Some(body.user.clone().unwrap_or_default()),
        attach_stdin: Some(body.attach_stdin.unwrap_or(false)),
        attach_stdout: Some(body.attach_stdout.unwrap_or(false)),
        attach_stderr: Some(body.attach_stderr.unwrap_or(false)),
        exposed_ports: body.exposed_ports.clone(),
        tty: Some(body.tty.unwrap_or(false)),
        open_stdin: Some(body.open_stdin.unwrap_or(false)),
        stdin_once: Some(body.stdin_once.unwrap_or(false)),
        env: Some(env),
        cmd,
        healthcheck: body.healthcheck.clone(),
        args_escaped: body.args_escaped,
        image: Some(image_ref.clone()),
        volumes: body.volumes.clone(),
        working_dir: Some(working_dir.unwrap_or_default()),
        entrypoint: entrypoint.clone(),
        network_disabled: body.network_disabled,
        mac_address: body.mac_address.clone(),
        on_build: body.on_build.clone(),
        labels: Some(labels),
        stop_signal: body.stop_signal.clone(),
        stop_timeout: body.stop_timeout,
        shell: body.shell.clone(),
        ..Default::default()
    };

    let host_config = normalize_host_config(body.host_config.take().unwrap_or_default());
    let endpoints = endpoints(engine, state, &host_config, body.networking_config.take())?;
    let mounts = mounts(engine, state, &host_config, config.volumes.as_ref());

    let (paused, _) = tokio::sync::watch::channel(false);
    let mut container = Container {
        id: id.clone(),
        name,
        created: now_nanos(),
        config,
        host_config,
        image_id,
        argv,
        status: Status::Created,
        pid: 0,
        exit_code: 0,
        started_at: None,
        finished_at: None,
        exits: 0,
        run: 0,
        restart_count: 0,
        logs: Vec::new(),
        attachments: Vec::new(),
        stdin_tx: None,
        stdin_rx: None,
        signal: None,
        paused,
        mounts,
        endpoints,
        exec_ids: Vec::new(),
    };
    container.reset_stdin();
    state.containers.insert(id.clone(), container);
    state.container_event(&id, "create", []);
    Ok(())
}

/// The defaults the daemon fills into a HostConfig that the client left empty.
fn normalize_host_config(mut hc: HostConfig) -> HostConfig {
    if hc.network_mode.as_deref().is_none_or(str::is_empty) {
        hc.network_mode = Some("default".to_owned());
    }
    let log_type = hc.log_config.as_ref().and_then(|l| l.r#type.clone());
    if matches!(log_type, None | Some(HostConfigLogConfigType::Other(_))) {
        let config = hc.log_config.take().and_then(|l| l.config).unwrap_or_default();
        hc.log_config =
            Some(HostConfigLogConfig { r#type: Some(HostConfigLogConfigType::JsonFile), config: Some(config), ..Default::default() });
    }
    if hc.shm_size.is_none_or(|s| s == 0) {
        hc.shm_size = Some(64 * 1024 * 1024);
    }
    if hc.ipc_mode.as_deref().is_none_or(str::is_empty) {
        hc.ipc_mode = Some("private".to_owned());
    }
    if hc.runtime.as_deref().is_none_or(str::is_empty) {
        hc.runtime = Some("runc".to_owned());
    }
    hc.console_size.get_or_insert_with(|| vec![0, 0]);
    hc
}

/// The networks a container joins: its NetworkMode (`default` is `bridge`) and any extra
/// endpoints of the create body. An unknown network is a 404, like the daemon's.
fn endpoints(
    engine: &Engine,
    state: &State,
    hc: &HostConfig,
    networking: Option<moby_api::v1_41::models::NetworkingConfig>,
) -> Result<Vec<Endpoint>, ApiError> {
    let mode = hc.network_mode.clone().unwrap_or_default();
    if mode.starts_with("container:") {
        return Ok(Vec::new());
    }
    // `default` is the default bridge, as a mode and as a key of EndpointsConfig (CLI 28
    // sends the mode's settings under it).
    let resolve = |name: String| if name == "default" { "bridge".to_owned() } else { name };
    let extra = networking.and_then(|n| n.endpoints_config).unwrap_or_default();
    let mut names = vec![(resolve(mode), None)];
    names.extend(extra.into_iter().map(|(name, settings)| (resolve(name), Some(settings))));
    let mut endpoints: Vec<Endpoint> = Vec::new();
    for (key, settings) in names {
        let network = crate::networks::find(state, &key)?;
        if let Some(existing) = endpoints.iter_mut().find(|e| e.network_id == network.id) {
            existing.aliases.extend(settings.and_then(|s| s.aliases).unwrap_or_default());
            continue;
        }
        let (prefix_len, gateway) = match &network.subnet {
            Some((subnet, gateway)) => (subnet.rsplit('/').next().and_then(|p| p.parse().ok()).unwrap_or(16), gateway.clone()),
            None => (0, String::new()),
        };
        endpoints.push(Endpoint {
            network_id: network.id.clone(),
            network_name: network.name.clone(),
            endpoint_id: engine.random_id(),
            ip: None,
            prefix_len,
            gateway,
            mac: String::new(),
            aliases: settings.and_then(|s| s.aliases).unwrap_or_default(),
        });
    }
    Ok(endpoints)
}

/// The mounts of `-v`/`--mount`/image-style anonymous volumes; named volumes that do not
/// exist yet are created, as the daemon does.
fn mounts(
    engine: &Engine,
    state: &mut State,
    hc: &HostConfig,
    anonymous: Option<&HashMap<String, HashMap<String, serde_json::Value>>>,
) -> Vec<MountPoint> {
    let mut mounts = Vec::new();
    let volume = |state: &mut State, name: Option<String>, destination: String, rw: bool, mode: String| {
        let anonymous = name.is_none();
        let name = name.unwrap_or_else(|| engine.random_id());
        crate::volumes::ensure(state, &name, anonymous);
        MountPoint {
            r#type: Some(MountType::Volume),
            source: Some(crate::volumes::mountpoint(&name)),
            name: Some(name),
            destination: Some(destination),
            driver: Some("local".to_owned()),
            mode: Some(mode),
            rw: Some(rw),
            propagation: Some(String::new()),
            ..Default::default()
        }
    };
    let bind = |source: String, destination: String, rw: bool, mode: String| MountPoint {
        r#type: Some(MountType::Bind),
        name: None,
        source: Some(source),
        destination: Some(destination),
        driver: None,
        mode: Some(mode),
        rw: Some(rw),
        propagation: Some("rprivate".to_owned()),
        ..Default::default()
    };
    for spec in hc.binds.iter().flatten() {
        let parts: Vec<&str> = spec.split(':').collect();
        let (source, destination, mode) = match parts.as_slice() {
            [destination] => (None, (*destination).to_owned(), String::new()),
            [source, destination] => (Some((*source).to_owned()), (*destination).to_owned(), String::new()),
            [source, destination, mode, ..] => (Some((*source).to_owned()), (*destination).to_owned(), (*mode).to_owned()),
            [] => continue,
        };
        let rw = !mode.split(',').any(|m| m == "ro");
        mounts.push(match source {
            Some(source) if source.starts_with('/') => bind(source, destination, rw, mode),
            source => {
                let mode = if mode.is_empty() { "z".to_owned() } else { mode };
                volume(state, source, destination, rw, mode)
            }
        });
    }
    for m in hc.mounts.iter().flatten() {
        let destination = m.target.clone().unwrap_or_default();
        let rw = m.read_only != Some(true);
        let source = m.source.clone().filter(|s| !s.is_empty());
        match m.r#type {
            Some(MountType::Bind) => mounts.push(bind(source.unwrap_or_default(), destination, rw, String::new())),
            Some(MountType::Volume) | None => mounts.push(volume(state, source, destination, rw, "z".to_owned())),
            _ => {}
        }
    }
    for destination in anonymous.into_iter().flat_map(HashMap::keys) {
        if !mounts.iter().any(|m| m.destination.as_deref() == Some(destination.as_str())) {
            mounts.push(volume(state, None, destination.clone(), true, String::new()));
        }
    }
    mounts
}

/// The keys `docker ps` accepts (the daemon's `acceptedPsFilterTags`).
const LIST_FILTERS: [&str; 15] = [
    "ancestor",
    "before",
    "exited",
    "health",
    "expose",
    "id",
    "is-task",
    "isolation",
    "label",
    "name",
    "network",
    "publish",
    "since",
    "status",
    "volume",
];

/// `docker ps` filters: label (all terms), and one term of each other key.
fn matches_filters(state: &State, c: &Container, filters: &moby_api_runtime::server::Filters) -> bool {
    let created_than = |reference: &str| state.container(reference).map(|other| other.created).ok();
    filters.matches_labels(crate::labels(c.config.labels.as_ref()))
        && filters.matches_any("status", |value| c.status.as_str() == value)
        && filters.matches_any("name", |value| name_matches(&c.name, value))
        && filters.matches_any("id", |value| c.id.starts_with(value))
        && filters.matches_any("ancestor", |value| {
            crate::images::resolve(state, value).is_some_and(|image| image == c.image_id) || c.image_name() == value
        })
        && filters.matches_any("exited", |value| c.status == Status::Exited && value.parse::<i64>().ok() == Some(c.exit_code))
        && filters.matches_any("network", |value| c.endpoints.iter().any(|e| e.network_name == value || e.network_id.starts_with(value)))
        && filters.matches_any("volume", |value| {
            c.mounts.iter().any(|m| m.name.as_deref() == Some(value) || m.destination.as_deref() == Some(value))
        })
        && filters.matches_any("before", |value| created_than(value).is_some_and(|t| c.created < t))
        && filters.matches_any("since", |value| created_than(value).is_some_and(|t| c.created > t))
        // No health checks, tasks, exposed or published ports here: those terms select nothing.
        && ["health", "is-task", "expose", "publish"].iter().all(|key| !filters.contains_key(key))
}

/// The daemon matches `name` filters as regular expressions against `/name`; this covers
/// what clients send: a substring, optionally anchored with `^` and `$` (`^/web$`).
fn name_matches(name: &str, pattern: &str) -> bool {
    let full = format!("/{name}");
    let (anchored_start, rest) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (anchored_end, needle) = match rest.strip_suffix('$') {
        Some(needle) => (true, needle),
        None => (false, rest),
    };
    let candidates = [full.as_str(), name];
    candidates.iter().any(|text| match (anchored_start, anchored_end) {
        (true, true) => *text == needle,
        (true, false) => text.starts_with(needle),
        (false, true) => text.ends_with(needle),
        (false, false) => text.contains(needle),
    })
}

/// The command line of `docker ps`: the daemon quotes words that need it.
fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn status_text(c: &Container) -> String {
    let now = now_nanos();
    match c.status {
        Status::Created => "Created".to_owned(),
        Status::Running => format!("Up {}", human_duration(elapsed(c.started_at.unwrap_or(now), now))),
        Status::Paused => format!("Up {} (Paused)", human_duration(elapsed(c.started_at.unwrap_or(now), now))),
        Status::Exited => format!("Exited ({}) {} ago", c.exit_code, human_duration(elapsed(c.finished_at.unwrap_or(now), now))),
    }
}

fn endpoint_settings(c: &Container, e: &Endpoint) -> EndpointSettings {
    // Addresses exist only while the container runs, as on the daemon.
    let running = c.status.is_running();
    let when = |value: &str| if running { value.to_owned() } else { String::new() };
    EndpointSettings {
        ipam_config: None,
        links: None,
        aliases: (!e.aliases.is_empty()).then(|| e.aliases.clone()),
        network_id: Some(e.network_id.clone()),
        endpoint_id: Some(when(&e.endpoint_id)),
        gateway: Some(when(&e.gateway)),
        ip_address: Some(when(e.ip.as_deref().unwrap_or_default())),
        ip_prefix_len: Some(if running && e.ip.is_some() { e.prefix_len } else { 0 }),
        ipv6_gateway: Some(String::new()),
        global_ipv6_address: Some(String::new()),
        global_ipv6_prefix_len: Some(0),
        mac_address: Some(when(&e.mac)),
        driver_opts: None,
        ..Default::default()
    }
}

fn networks_map(c: &Container) -> HashMap<String, EndpointSettings> {
    c.endpoints.iter().map(|e| (e.network_name.clone(), endpoint_settings(c, e))).collect()
}

pub(crate) fn summary(state: &State, c: &Container, size: bool) -> ContainerSummary {
    let image_size = state.images.get(&c.image_id).map_or(0, |i| i.size);
    ContainerSummary {
        id: Some(c.id.clone()),
        names: Some(vec![format!("/{}", c.name)]),
        image: Some(c.image_name()),
        image_id: Some(c.image_id.clone()),
        command: Some(command_line(&c.argv)),
        created: Some(c.created.div_euclid(1_000_000_000)),
        ports: Some(Vec::new()),
        size_rw: size.then_some(0),
        size_root_fs: size.then_some(image_size),
        labels: Some(c.config.labels.clone().unwrap_or_default()),
        state: Some(c.status.as_str().to_owned()),
        status: Some(status_text(c)),
        host_config: Some(ContainerSummaryHostConfig { network_mode: c.host_config.network_mode.clone(), ..Default::default() }),
        network_settings: Some(ContainerSummaryNetworkSettings { networks: Some(networks_map(c)), ..Default::default() }),
        mounts: Some(c.mounts.clone()),
        ..Default::default()
    }
}

fn inspect(state: &State, c: &Container, size: bool) -> ContainerInspectResponse {
    let running = c.status.is_running();
    let state_status = match c.status {
        Status::Created => ContainerStateStatus::Created,
        Status::Running => ContainerStateStatus::Running,
        Status::Paused => ContainerStateStatus::Paused,
        Status::Exited => ContainerStateStatus::Exited,
    };
    let time = |t: Option<i64>| t.map_or_else(|| ZERO_TIME.to_owned(), rfc3339_nanos);
    let dir = format!("/var/lib/docker/containers/{}", c.id);
    let short = &c.id[..12];
    // The default bridge is mirrored into the top-level fields, like the daemon does.
    let bridge = c.endpoints.iter().find(|e| e.network_name == "bridge").map(|e| endpoint_settings(c, e));
    let top = |f: fn(&EndpointSettings) -> Option<String>| Some(bridge.as_ref().and_then(f).unwrap_or_default());
    ContainerInspectResponse {
        id: Some(c.id.clone()),
        created: Some(rfc3339_nanos(c.created)),
        path: c.argv.first().cloned(),
        args: Some(c.argv.iter().skip(1).cloned().collect()),
        state: Some(ContainerState {
            status: Some(state_status),
            running: Some(running),
            paused: Some(c.status == Status::Paused),
            restarting: Some(false),
            oom_killed: Some(false),
            dead: Some(false),
            pid: Some(c.pid),
            exit_code: Some(c.exit_code),
            error: Some(String::new()),
            started_at: Some(time(c.started_at)),
            finished_at: Some(time(c.finished_at)),
            health: None,
            ..Default::default()
        }),
        image: Some(c.image_id.clone()),
        resolv_conf_path: Some(format!("{dir}/resolv.conf")),
        hostname_path: Some(format!("{dir}/hostname")),
        hosts_path: Some(format!("{dir}/hosts")),
        log_path: Some(format!("{dir}/{}-json.log", c.id)),
        name: Some(format!("/{}", c.name)),
        restart_count: Some(c.restart_count),
        driver: Some("overlay2".to_owned()),
        platform: Some("linux".to_owned()),
        mount_label: Some(String::new()),
        process_label: Some(String::new()),
        app_armor_profile: Some(String::new()),
        exec_ids: (!c.exec_ids.is_empty()).then(|| c.exec_ids.clone()),
        host_config: Some(c.host_config.clone()),
        graph_driver: Some(GraphDriverData { name: "overlay2".to_owned(), data: HashMap::new(), ..Default::default() }),
        size_rw: size.then_some(0),
        size_root_fs: size.then(|| state.images.get(&c.image_id).map_or(0, |i| i.size)),
        mounts: Some(c.mounts.clone()),
        config: Some(c.config.clone()),
        network_settings: Some(NetworkSettings {
            bridge: Some(String::new()),
            sandbox_id: Some(if running { crate::engine::hex(&c.id.as_bytes()[..16]) } else { String::new() }),
            hairpin_mode: Some(false),
            link_local_ipv6_address: Some(String::new()),
            link_local_ipv6_prefix_len: Some(0),
            ports: Some(HashMap::new()),
            sandbox_key: Some(if running { format!("/var/run/docker/netns/{short}") } else { String::new() }),
            secondary_ip_addresses: None,
            secondary_ipv6_addresses: None,
            endpoint_id: top(|e| e.endpoint_id.clone()),
            gateway: top(|e| e.gateway.clone()),
            global_ipv6_address: Some(String::new()),
            global_ipv6_prefix_len: Some(0),
            ip_address: top(|e| e.ip_address.clone()),
            ip_prefix_len: Some(bridge.as_ref().and_then(|e| e.ip_prefix_len).unwrap_or(0)),
            ipv6_gateway: Some(String::new()),
            mac_address: top(|e| e.mac_address.clone()),
            networks: Some(networks_map(c)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_filters() {
        assert!(name_matches("web", "we"));
        assert!(name_matches("web", "^/web$"));
        assert!(name_matches("web", "^web"));
        assert!(!name_matches("web2", "^/web$"));
    }

    #[test]
    fn command_lines() {
        let argv = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(command_line(&argv(&["sleep", "10"])), "sleep 10");
        assert_eq!(command_line(&argv(&["sh", "-c", "echo hi; exit 3"])), "sh -c 'echo hi; exit 3'");
        assert_eq!(command_line(&argv(&["echo", "it's"])), "echo 'it'\\''s'");
    }
}
