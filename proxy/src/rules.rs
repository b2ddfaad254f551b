//! The typed rules on request bodies and parameters: what a create, update, exec or
//! volume body may ask for, read through the newest version's generated models.
//!
//! One rule serves every version: the newest models are a superset of the older ones in
//! practice. A member that even the newest model does not define, in a part of a body a
//! rule reads (the body itself, `HostConfig`, a mount and its options, a device), cannot be
//! judged and is refused.

use std::path::{Path, PathBuf};

use moby_api_runtime::json::UnknownMembers;

use crate::config::{absolute_path, capability_name, Rules};
use crate::newest::models::{
    ContainerCreateBody, ContainerExecBody, ContainerUpdateBody, HostConfig, Mount, PluginPrivilege, ServiceCreateBody, VolumeCreateOptions,
};

/// A refusal: the rule that fired (its key in the configuration) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub rule: String,
    pub reason: String,
}

impl Denial {
    pub fn new(rule: impl Into<String>, reason: impl Into<String>) -> Denial {
        Denial { rule: rule.into(), reason: reason.into() }
    }
}

type Checked = Result<(), Denial>;

fn known_members(members: &UnknownMembers, place: &str) -> Checked {
    known_members_but(members, place, &[])
}

/// [`known_members`], tolerating `tolerated`: members the Go client sends that the spec
/// leaves out, which the engine reads without any effect on the host.
fn known_members_but(members: &UnknownMembers, place: &str, tolerated: &[&str]) -> Checked {
    match members.keys().find(|name| !tolerated.contains(&name.as_str())) {
        None => Ok(()),
        Some(name) => Err(Denial::new(
            "unknown_members",
            format!("{place} has a member {name:?} that no API version this proxy knows defines, so no rule can judge it"),
        )),
    }
}

/// `ContainerCreate`: the container's image, and its host configuration.
pub fn container_create(rules: &Rules, body: &ContainerCreateBody) -> Checked {
    known_members(&body.unknown_members, "the body")?;
    if let Some(image) = &body.image {
        image_reference(rules, image, "Image")?;
    }
    // No HostConfig at all is judged as an empty one (limits are required of it too).
    let empty = HostConfig::default();
    host_config(rules, body.host_config.as_ref().unwrap_or(&empty))
}

/// `ContainerUpdate`: the resources that reach the host (devices).
pub fn container_update(rules: &Rules, body: &ContainerUpdateBody) -> Checked {
    known_members(&body.unknown_members, "the body")?;
    // Absent or 0 leaves a limit as it is; -1 (or below) lifts it.
    if rules.require_limits {
        let lifted = [("Memory", body.memory), ("PidsLimit", body.pids_limit)];
        if let Some((name, _)) = lifted.iter().find(|(_, v)| v.is_some_and(|v| v < 0)) {
            return Err(Denial::new("containers.require_limits", format!("{name} lifts the limit")));
        }
        if body.oom_kill_disable == Some(true) {
            return Err(Denial::new("containers.require_limits", "OomKillDisable is true"));
        }
    }
    devices(
        rules,
        body.devices.as_ref().is_some_and(|d| !d.is_empty()),
        body.device_cgroup_rules.as_ref().is_some_and(|d| !d.is_empty()),
        false,
    )
}

/// `HostConfig` of a create.
pub fn host_config(rules: &Rules, host: &HostConfig) -> Checked {
    // `DiskQuota` (1.24–1.41 specs) is the one member newer models dropped: a storage
    // quota, no host access.
    known_members_but(&host.unknown_members, "HostConfig", &["DiskQuota"])?;
    if host.privileged == Some(true) && !rules.allow_privileged {
        return Err(Denial::new("containers.allow_privileged", "HostConfig.Privileged is true"));
    }
    for (i, bind) in host.binds.iter().flatten().enumerate() {
        // `source:target[:options]`; a source that is not a path names a volume.
        let source = bind.split(':').next().unwrap_or_default();
        if source.starts_with('/') {
            host_path(rules, source, &format!("HostConfig.Binds[{i}] {bind:?}"))?;
        }
    }
    for (i, mount) in host.mounts.iter().flatten().enumerate() {
        self::mount(rules, mount, &format!("HostConfig.Mounts[{i}]"))?;
    }
    if host.volume_driver.as_deref().is_some_and(|d| !d.is_empty() && d != "local") {
        // A plugin's volumes may be anything, host paths included.
        return Err(Denial::new("containers.bind_prefixes", format!("HostConfig.VolumeDriver is {:?}", host.volume_driver)));
    }
    if host.volumes_from.as_ref().is_some_and(|v| !v.is_empty()) && !rules.allow_volumes_from {
        return Err(Denial::new(
            "containers.allow_volumes_from",
            "HostConfig.VolumesFrom takes the mounts of another container, binds included",
        ));
    }
    if !rules.allow_host_namespaces {
        let modes = [
            ("NetworkMode", host.network_mode.as_deref()),
            ("PidMode", host.pid_mode.as_deref()),
            ("IpcMode", host.ipc_mode.as_deref()),
            ("UTSMode", host.uts_mode.as_deref()),
            ("UsernsMode", host.userns_mode.as_deref()),
            ("CgroupnsMode", host.cgroupns_mode.as_ref().map(|m| m.as_str())),
        ];
        for (name, mode) in modes {
            let mode = mode.unwrap_or_default();
            if mode == "host" || mode.starts_with("container:") {
                return Err(Denial::new(
                    "containers.allow_host_namespaces",
                    format!("HostConfig.{name} is {mode:?}: the container would share the namespace of the host or of another container"),
                ));
            }
        }
    }
    devices(
        rules,
        host.devices.as_ref().is_some_and(|d| !d.is_empty()),
        host.device_cgroup_rules.as_ref().is_some_and(|d| !d.is_empty()),
        host.device_requests.as_ref().is_some_and(|d| !d.is_empty()),
    )?;
    for cap in host.cap_add.iter().flatten() {
        let name = capability_name(cap);
        if !rules.capabilities.contains(&name) {
            return Err(Denial::new("containers.capabilities", format!("HostConfig.CapAdd adds {cap:?}, which is not allowed")));
        }
    }
    for option in host.security_opt.iter().flatten() {
        if !rules.security_options.contains(option) {
            return Err(Denial::new("containers.security_options", format!("HostConfig.SecurityOpt has {option:?}, which is not allowed")));
        }
    }
    if rules.require_limits {
        if host.memory.unwrap_or(0) <= 0 {
            return Err(Denial::new("containers.require_limits", "HostConfig.Memory sets no memory limit"));
        }
        if host.pids_limit.unwrap_or(0) <= 0 {
            return Err(Denial::new("containers.require_limits", "HostConfig.PidsLimit sets no process limit"));
        }
        if host.oom_kill_disable == Some(true) {
            return Err(Denial::new("containers.require_limits", "HostConfig.OomKillDisable is true"));
        }
    }
    // Emptied (or changed) lists unmask /proc and /sys paths; the CLI sends them only for
    // `--security-opt systempaths=unconfined`.
    if (host.masked_paths.is_some() || host.readonly_paths.is_some()) && !rules.security_options.contains("systempaths=unconfined") {
        return Err(Denial::new("containers.security_options", "HostConfig.MaskedPaths or ReadonlyPaths is set (systempaths=unconfined)"));
    }
    Ok(())
}

fn devices(rules: &Rules, devices: bool, cgroup_rules: bool, requests: bool) -> Checked {
    if rules.allow_devices {
        return Ok(());
    }
    let which = [(devices, "Devices"), (cgroup_rules, "DeviceCgroupRules"), (requests, "DeviceRequests")];
    match which.iter().find(|(set, _)| *set) {
        Some((_, name)) => Err(Denial::new("containers.allow_devices", format!("{name} gives the container host devices"))),
        None => Ok(()),
    }
}

fn mount(rules: &Rules, mount: &Mount, place: &str) -> Checked {
    known_members(&mount.unknown_members, place)?;
    let kind = mount.r#type.as_ref().map(|t| t.as_str()).unwrap_or_default();
    match kind {
        "bind" => host_path(rules, mount.source.as_deref().unwrap_or_default(), &format!("{place} (type bind)")),
        "volume" => {
            let Some(options) = &mount.volume_options else { return Ok(()) };
            known_members(&options.unknown_members, &format!("{place}.VolumeOptions"))?;
            let Some(driver) = &options.driver_config else { return Ok(()) };
            known_members(&driver.unknown_members, &format!("{place}.VolumeOptions.DriverConfig"))?;
            let name = driver.name.as_deref().unwrap_or_default();
            if !name.is_empty() && name != "local" {
                return Err(Denial::new(
                    "containers.bind_prefixes",
                    format!("{place} uses the volume driver {name:?}, which may mount anything"),
                ));
            }
            driver_options(rules, driver.options.iter().flatten(), &format!("{place}.VolumeOptions.DriverConfig.Options"))
        }
        "tmpfs" | "npipe" | "cluster" | "image" => Ok(()),
        other => Err(Denial::new("unknown_members", format!("{place} has the mount type {other:?}, which no rule can judge"))),
    }
}

/// The local driver's options: a `device` that is a host path is mounted into the
/// container, a directory with `o=bind` or a block device with a file system `type`
/// (`/dev/sda1`); an NFS export (`:/export`) or `tmpfs` is not the host's.
fn driver_options<'a>(rules: &Rules, options: impl Iterator<Item = (&'a String, &'a String)>, place: &str) -> Checked {
    match options.into_iter().find(|(key, _)| key.as_str() == "device") {
        Some((_, device)) if device.starts_with('/') => host_path(rules, device, &format!("{place} device {device:?}")),
        _ => Ok(()),
    }
}

/// `VolumeCreate`: a volume of the local driver that binds a host path.
pub fn volume_create(rules: &Rules, body: &VolumeCreateOptions) -> Checked {
    known_members(&body.unknown_members, "the body")?;
    let driver = body.driver.as_deref().unwrap_or_default();
    if !driver.is_empty() && driver != "local" {
        return Err(Denial::new("containers.bind_prefixes", format!("Driver {driver:?} may mount anything")));
    }
    driver_options(rules, body.driver_opts.iter().flatten(), "DriverOpts")
}

/// `ContainerExec`: privileged, or as root. `container_user` is the container's own user
/// (`Config.User`), which an exec without `User` runs as.
pub fn exec_create(rules: &Rules, body: &ContainerExecBody, container_user: Option<&str>) -> Checked {
    known_members(&body.unknown_members, "the body")?;
    if body.privileged == Some(true) && !rules.exec_allow_privileged {
        return Err(Denial::new("exec.allow_privileged", "Privileged is true"));
    }
    if !rules.exec_allow_root {
        let user = body.user.as_deref().filter(|u| !u.is_empty());
        let effective = user.or(container_user).unwrap_or_default();
        let name = effective.split(':').next().unwrap_or_default();
        if name.is_empty() || name == "root" || name == "0" {
            let how = if user.is_some() { format!("User is {effective:?}") } else { "the container's user is root".to_owned() };
            return Err(Denial::new("exec.allow_root", format!("the process would run as root ({how})")));
        }
    }
    Ok(())
}

/// `ServiceCreate`, `ServiceUpdate`: the containers a swarm service runs, judged like a
/// create (`TaskTemplate.ContainerSpec`: image, mounts, capabilities, privileges; networks).
/// A plugin service (`TaskTemplate.PluginSpec`) is judged by nothing and refused.
pub fn service(rules: &Rules, body: &ServiceCreateBody) -> Checked {
    known_members(&body.unknown_members, "the body")?;
    let Some(task) = &body.task_template else { return Ok(()) };
    known_members(&task.unknown_members, "TaskTemplate")?;
    if task.plugin_spec.is_some() {
        return Err(Denial::new("allow", "TaskTemplate.PluginSpec installs a plugin, which runs as root"));
    }
    let networks = task.networks.iter().flatten().chain(body.networks.iter().flatten());
    for network in networks {
        if network.target.as_deref() == Some("host") && !rules.allow_host_namespaces {
            return Err(Denial::new("containers.allow_host_namespaces", "the service attaches to the host's network"));
        }
    }
    let Some(spec) = &task.container_spec else { return Ok(()) };
    known_members(&spec.unknown_members, "TaskTemplate.ContainerSpec")?;
    if let Some(image) = &spec.image {
        image_reference(rules, image, "TaskTemplate.ContainerSpec.Image")?;
    }
    for (i, mount) in spec.mounts.iter().flatten().enumerate() {
        self::mount(rules, mount, &format!("TaskTemplate.ContainerSpec.Mounts[{i}]"))?;
    }
    for cap in spec.capability_add.iter().flatten() {
        if !rules.capabilities.contains(&capability_name(cap)) {
            return Err(Denial::new("containers.capabilities", format!("TaskTemplate.ContainerSpec.CapabilityAdd adds {cap:?}")));
        }
    }
    if let Some(privileges) = &spec.privileges {
        known_members(&privileges.unknown_members, "TaskTemplate.ContainerSpec.Privileges")?;
        // The same effects as these create options.
        let seccomp = privileges.seccomp.as_ref().and_then(|s| s.mode.as_ref()).is_some_and(|m| m.as_str() == "unconfined");
        let apparmor = privileges.app_armor.as_ref().and_then(|a| a.mode.as_ref()).is_some_and(|m| m.as_str() == "disabled");
        let selinux = privileges.se_linux_context.as_ref().is_some_and(|c| c.disable == Some(true));
        let options = [(seccomp, "seccomp=unconfined"), (apparmor, "apparmor=unconfined"), (selinux, "label=disable")];
        for (set, option) in options {
            if set && !rules.security_options.contains(option) {
                return Err(Denial::new(
                    "containers.security_options",
                    format!("TaskTemplate.ContainerSpec.Privileges amount to {option:?}"),
                ));
            }
        }
    }
    Ok(())
}

/// `PluginPull`, `PluginUpgrade`: the privileges a plugin asks for (the engine installs it
/// only when the body grants exactly those). Plugins run as root; each privilege is judged
/// by the rule a container asking for the same would meet.
pub fn plugin_privileges(rules: &Rules, privileges: &[PluginPrivilege]) -> Checked {
    for (i, privilege) in privileges.iter().enumerate() {
        known_members(&privilege.unknown_members, &format!("privilege {i}"))?;
        let name = privilege.name.as_deref().unwrap_or_default();
        let values = privilege.value.iter().flatten();
        match name {
            "network" if values.clone().any(|v| v == "host") && !rules.allow_host_namespaces => {
                return Err(Denial::new("containers.allow_host_namespaces", "the plugin asks for the host's network"));
            }
            "network" => {}
            "host pid" if !rules.allow_host_namespaces => {
                return Err(Denial::new("containers.allow_host_namespaces", "the plugin asks for the host's process namespace"));
            }
            "host pid" => {}
            "mount" => {
                for source in values {
                    host_path(rules, source, &format!("the plugin's mount {source:?}"))?;
                }
            }
            "device" | "allow-all-devices" => devices(rules, true, false, false)?,
            "capabilities" => {
                for cap in values {
                    if !rules.capabilities.contains(&capability_name(cap)) {
                        return Err(Denial::new("containers.capabilities", format!("the plugin asks for the capability {cap:?}")));
                    }
                }
            }
            other => {
                return Err(Denial::new("unknown_members", format!("the plugin asks for the privilege {other:?}, which no rule can judge")))
            }
        }
    }
    Ok(())
}

/// An image reference: the registry it comes from must be on the list, when there is one.
/// An image id (`sha256:…`) names an image already on the engine and passes.
pub fn image_reference(rules: &Rules, reference: &str, place: &str) -> Checked {
    let Some(registries) = &rules.registries else { return Ok(()) };
    if reference.starts_with("sha256:") || (reference.len() >= 12 && reference.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Ok(());
    }
    let registry = registry_of(reference);
    let allowed = registries.contains(&registry) || (registry == "docker.io" && registries.contains("index.docker.io"));
    if allowed {
        Ok(())
    } else {
        Err(Denial::new("containers.registries", format!("{place} {reference:?} comes from {registry}, which is not on the list")))
    }
}

/// An image made on the engine (loaded from a tarball, imported, built, committed) comes
/// from no registry: with a registry list, `operation` is denied unless `local_images`
/// allows it. Otherwise `docker load` of an image named `registry.example.com/app` would
/// pass the list at create time, and a build would pull its `FROM` images from anywhere.
pub fn image_made_locally(rules: &Rules, operation: &str, imports: bool) -> Checked {
    if rules.registries.is_none() || rules.local_images {
        return Ok(());
    }
    let made = match operation {
        "ImageLoad" => "loaded from a tarball",
        "ImageCreate" if imports => "imported from a tarball",
        "ImageBuild" => "built (its FROM images pulled from any registry)",
        "ImageCommit" => "committed from a container",
        _ => return Ok(()),
    };
    Err(Denial::new(
        "containers.registries",
        format!("an image {made} comes from no registry on the list (`containers.local_images` allows it)"),
    ))
}

/// The registry of a reference as the engine reads it: the first component when it has a
/// `.` or a `:` or is `localhost`, else Docker Hub.
pub fn registry_of(reference: &str) -> String {
    match reference.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            let first = first.to_ascii_lowercase();
            if first == "index.docker.io" || first == "registry-1.docker.io" {
                "docker.io".to_owned()
            } else {
                first
            }
        }
        _ => "docker.io".to_owned(),
    }
}

/// A host path a container would get: under an allowed prefix, and never the engine's
/// socket or a directory above it, read lexically and after symbolic links are resolved
/// (the proxy runs on the engine's host).
fn host_path(rules: &Rules, raw: &str, place: &str) -> Checked {
    let Some(lexical) = absolute_path(raw) else {
        return Err(Denial::new("containers.bind_prefixes", format!("{place} is not an absolute host path")));
    };
    for path in [lexical.clone(), resolve(&lexical)] {
        for socket in &rules.sockets {
            let resolved_socket = resolve(socket);
            if socket.starts_with(&path) || resolved_socket.starts_with(&path) {
                return Err(Denial::new(
                    "containers.docker_socket",
                    format!("{place} would give the container the engine's socket {}", socket.display()),
                ));
            }
        }
        if !rules.bind_prefixes.iter().any(|prefix| path.starts_with(prefix) || path.starts_with(resolve(prefix))) {
            return Err(Denial::new("containers.bind_prefixes", format!("{place} is outside the allowed host paths")));
        }
    }
    Ok(())
}

/// The path with symbolic links resolved as far as it exists; the rest appended.
fn resolve(path: &Path) -> PathBuf {
    let mut existing = path.to_owned();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            return rest.iter().rev().fold(real, |acc: PathBuf, part| acc.join(part));
        }
        match (existing.parent().map(Path::to_owned), existing.file_name().map(|n| n.to_owned())) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules { bind_prefixes: vec![PathBuf::from("/srv/app")], sockets: vec![PathBuf::from("/var/run/docker.sock")], ..Rules::default() }
    }

    fn create(json: &str) -> Checked {
        let body: ContainerCreateBody = serde_json::from_str(json).unwrap();
        container_create(&rules(), &body)
    }

    fn rule_of(result: Checked) -> String {
        result.unwrap_err().rule
    }

    #[test]
    fn host_paths() {
        assert_eq!(create(r#"{"HostConfig":{"Binds":["/srv/app/data:/data:ro"]}}"#), Ok(()));
        assert_eq!(create(r#"{"HostConfig":{"Binds":["named:/data"]}}"#), Ok(()));
        assert_eq!(rule_of(create(r#"{"HostConfig":{"Binds":["/:/host"]}}"#)), "containers.docker_socket");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"Binds":["/etc:/etc:ro"]}}"#)), "containers.bind_prefixes");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"Binds":["/srv/app/../../etc:/x"]}}"#)), "containers.bind_prefixes");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"Binds":["/srv/app2:/x"]}}"#)), "containers.bind_prefixes");
        let socket = r#"{"HostConfig":{"Binds":["/var/run/docker.sock:/var/run/docker.sock"]}}"#;
        assert_eq!(rule_of(create(socket)), "containers.docker_socket");
        let mount = r#"{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/etc","Target":"/x"}]}}"#;
        assert_eq!(rule_of(create(mount)), "containers.bind_prefixes");
        let volume = r#"{"HostConfig":{"Mounts":[{"Type":"volume","Target":"/x","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"none","o":"bind","device":"/etc"}}}}]}}"#;
        assert_eq!(rule_of(create(volume)), "containers.bind_prefixes");
        let volume = |json: &str| volume_create(&rules(), &serde_json::from_str(json).unwrap());
        assert_eq!(rule_of(volume(r#"{"DriverOpts":{"type":"none","o":"bind","device":"/"}}"#)), "containers.docker_socket");
        assert_eq!(rule_of(volume(r#"{"DriverOpts":{"type":"ext4","device":"/dev/sda1"}}"#)), "containers.bind_prefixes");
        assert_eq!(volume(r#"{"DriverOpts":{"type":"nfs","o":"addr=10.0.0.1","device":":/export"}}"#), Ok(()));
        assert_eq!(volume(r#"{"DriverOpts":{"type":"tmpfs","device":"tmpfs"}}"#), Ok(()));
    }

    #[test]
    fn host_access() {
        assert_eq!(rule_of(create(r#"{"HostConfig":{"Privileged":true}}"#)), "containers.allow_privileged");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"PidMode":"host"}}"#)), "containers.allow_host_namespaces");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"NetworkMode":"container:abc"}}"#)), "containers.allow_host_namespaces");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"CgroupnsMode":"host"}}"#)), "containers.allow_host_namespaces");
        assert_eq!(create(r#"{"HostConfig":{"NetworkMode":"none"}}"#), Ok(()));
        assert_eq!(rule_of(create(r#"{"HostConfig":{"CapAdd":["cap_sys_admin"]}}"#)), "containers.capabilities");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"SecurityOpt":["seccomp=unconfined"]}}"#)), "containers.security_options");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"Devices":[{"PathOnHost":"/dev/sda"}]}}"#)), "containers.allow_devices");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"MaskedPaths":[]}}"#)), "containers.security_options");
        assert_eq!(rule_of(create(r#"{"HostConfig":{"Privileged2":true}}"#)), "unknown_members");
        assert_eq!(create(r#"{"HostConfig":{"DiskQuota":0}}"#), Ok(()));
        let limited = Rules { require_limits: true, ..rules() };
        let judge = |json: &str| container_create(&limited, &serde_json::from_str(json).unwrap());
        assert_eq!(rule_of(judge(r#"{}"#)), "containers.require_limits");
        assert_eq!(rule_of(judge(r#"{"HostConfig":{"Memory":67108864}}"#)), "containers.require_limits");
        assert_eq!(judge(r#"{"HostConfig":{"Memory":67108864,"PidsLimit":64}}"#), Ok(()));
        assert_eq!(
            rule_of(judge(r#"{"HostConfig":{"Memory":67108864,"PidsLimit":64,"OomKillDisable":true}}"#)),
            "containers.require_limits"
        );
        let update = |json: &str| container_update(&limited, &serde_json::from_str(json).unwrap());
        assert_eq!(rule_of(update(r#"{"PidsLimit":-1}"#)), "containers.require_limits");
        assert_eq!(update(r#"{"CpuShares":512}"#), Ok(()));
    }

    #[test]
    fn services_meet_the_container_rules() {
        let judge = |json: &str| service(&rules(), &serde_json::from_str::<ServiceCreateBody>(json).unwrap());
        assert_eq!(judge(r#"{"TaskTemplate":{"ContainerSpec":{"Image":"busybox"}}}"#), Ok(()));
        let bind = r#"{"TaskTemplate":{"ContainerSpec":{"Mounts":[{"Type":"bind","Source":"/etc","Target":"/x"}]}}}"#;
        assert_eq!(rule_of(judge(bind)), "containers.bind_prefixes");
        let cap = r#"{"TaskTemplate":{"ContainerSpec":{"CapabilityAdd":["CAP_SYS_ADMIN"]}}}"#;
        assert_eq!(rule_of(judge(cap)), "containers.capabilities");
        let seccomp = r#"{"TaskTemplate":{"ContainerSpec":{"Privileges":{"Seccomp":{"Mode":"unconfined"}}}}}"#;
        assert_eq!(rule_of(judge(seccomp)), "containers.security_options");
        assert_eq!(rule_of(judge(r#"{"TaskTemplate":{"Networks":[{"Target":"host"}]}}"#)), "containers.allow_host_namespaces");
        assert_eq!(rule_of(judge(r#"{"TaskTemplate":{"PluginSpec":{"Name":"x"}}}"#)), "allow");
    }

    #[test]
    fn plugin_privileges_meet_the_container_rules() {
        let judge = |json: &str| plugin_privileges(&rules(), &serde_json::from_str::<Vec<PluginPrivilege>>(json).unwrap());
        assert_eq!(judge(r#"[{"Name":"network","Value":["bridge"]}]"#), Ok(()));
        assert_eq!(rule_of(judge(r#"[{"Name":"network","Value":["host"]}]"#)), "containers.allow_host_namespaces");
        assert_eq!(rule_of(judge(r#"[{"Name":"mount","Value":["/var/lib/docker"]}]"#)), "containers.bind_prefixes");
        assert_eq!(rule_of(judge(r#"[{"Name":"capabilities","Value":["CAP_SYS_ADMIN"]}]"#)), "containers.capabilities");
        assert_eq!(rule_of(judge(r#"[{"Name":"allow-all-devices","Value":["true"]}]"#)), "containers.allow_devices");
        assert_eq!(rule_of(judge(r#"[{"Name":"kernel","Value":["x"]}]"#)), "unknown_members");
    }

    #[test]
    fn exec_and_registries() {
        let exec = |json: &str, user: Option<&str>| exec_create(&rules(), &serde_json::from_str(json).unwrap(), user);
        assert_eq!(rule_of(exec(r#"{"Cmd":["sh"],"Privileged":true,"User":"app"}"#, None)), "exec.allow_privileged");
        assert_eq!(rule_of(exec(r#"{"Cmd":["sh"],"User":"0:0"}"#, None)), "exec.allow_root");
        assert_eq!(rule_of(exec(r#"{"Cmd":["sh"]}"#, Some(""))), "exec.allow_root");
        assert_eq!(exec(r#"{"Cmd":["sh"]}"#, Some("1000")), Ok(()));
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("registry:5000/team/app:1.2"), "registry:5000");
        assert_eq!(registry_of("localhost/app"), "localhost");
        assert_eq!(registry_of("team/app"), "docker.io");
        let only = Rules { registries: Some(["registry:5000".to_owned()].into()), ..rules() };
        assert!(image_reference(&only, "registry:5000/team/app", "fromImage").is_ok());
        assert_eq!(image_reference(&only, "busybox", "fromImage").unwrap_err().rule, "containers.registries");
        for (operation, imports) in [("ImageLoad", false), ("ImageCreate", true), ("ImageBuild", false), ("ImageCommit", false)] {
            assert_eq!(image_made_locally(&only, operation, imports).unwrap_err().rule, "containers.registries", "{operation}");
            assert!(image_made_locally(&Rules { local_images: true, ..only.clone() }, operation, imports).is_ok());
            assert!(image_made_locally(&rules(), operation, imports).is_ok(), "no list: {operation}");
        }
        assert!(image_made_locally(&only, "ImageCreate", false).is_ok(), "a pull is judged by its reference");
        assert!(image_made_locally(&only, "ImageTag", false).is_ok());
    }
}
