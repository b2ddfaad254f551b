//! The `System` operations: version, info, events and disk usage (`/_ping` keeps the
//! generated default, which answers `OK`).

use std::collections::HashMap;

use moby_api::v1_41::models::{
    Commit, IndexInfo, LocalNodeState, PluginsInfo, RegistryServiceConfig, Runtime, SwarmInfo, SystemDataUsageResponse, SystemInfo,
    SystemInfoCgroupDriver, SystemInfoCgroupVersion, SystemVersion, SystemVersionComponentsItem, SystemVersionPlatform,
};
use moby_api::v1_41::server::*;
use moby_api_runtime::server::{ApiError, Context};

use crate::clock::{now_nanos, rfc3339_nanos};
use crate::engine::{Engine, Status};

/// What this engine calls itself in `docker version` and `docker info`.
pub const ENGINE_VERSION: &str = "20.10.24-moby-api-example";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The memory this engine reports (`docker info`), and a container's limit when it sets none.
pub(crate) const MEM_TOTAL: i64 = 2 * 1024 * 1024 * 1024;

/// The CPUs this engine reports (`docker info`, a stats sample's `online_cpus`): the host's.
pub(crate) fn cpus() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

impl SystemApi for Engine {
    async fn system_version(&self, _context: &Context, _request: SystemVersionRequest) -> Result<SystemVersionReply, ApiError> {
        let api = moby_api::v1_41::API_VERSION.to_string();
        let details: HashMap<String, serde_json::Value> = [
            ("ApiVersion", api.as_str()),
            ("Arch", "amd64"),
            ("BuildTime", "2024-01-01T00:00:00.000000000+00:00"),
            ("Experimental", "false"),
            ("GitCommit", "moby-api"),
            ("GoVersion", "go1.19.8"),
            ("KernelVersion", "emulated"),
            ("MinAPIVersion", "1.24"),
            ("Os", "linux"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
        .collect();
        Ok(SystemVersionReply::Ok(SystemVersion {
            platform: Some(SystemVersionPlatform { name: "moby-api example engine".to_owned(), ..Default::default() }),
            components: Some(vec![SystemVersionComponentsItem {
                name: "Engine".to_owned(),
                version: ENGINE_VERSION.to_owned(),
                details: Some(details),
                ..Default::default()
            }]),
            version: Some(ENGINE_VERSION.to_owned()),
            api_version: Some(api),
            min_api_version: Some("1.24".to_owned()),
            git_commit: Some("moby-api".to_owned()),
            go_version: Some("go1.19.8".to_owned()),
            os: Some("linux".to_owned()),
            arch: Some("amd64".to_owned()),
            kernel_version: Some("emulated".to_owned()),
            experimental: Some(false),
            build_time: Some("2024-01-01T00:00:00.000000000+00:00".to_owned()),
            ..Default::default()
        }))
    }

    async fn system_info(&self, _context: &Context, _request: SystemInfoRequest) -> Result<SystemInfoReply, ApiError> {
        let (containers, running, paused, stopped, images) = self.read(|state| {
            let count = |status: Status| state.containers.values().filter(|c| c.status == status).count() as i64;
            (
                state.containers.len() as i64,
                count(Status::Running),
                count(Status::Paused),
                count(Status::Exited) + count(Status::Created),
                state.images.len() as i64,
            )
        });
        let mut registry_index = HashMap::new();
        registry_index.insert(
            "docker.io".to_owned(),
            IndexInfo {
                name: Some("docker.io".to_owned()),
                mirrors: Some(Vec::new()),
                secure: Some(true),
                official: Some(true),
                ..Default::default()
            },
        );
        let commit = |id: &str| Some(Commit { id: Some(id.to_owned()), expected: Some(id.to_owned()), ..Default::default() });
        Ok(SystemInfoReply::Ok(SystemInfo {
            id: Some("MOBY:APIX:EXAM:PLEE:NGIN:E000:0000:0000:0000:0000:0000:0001".to_owned()),
            containers: Some(containers),
            containers_running: Some(running),
            containers_paused: Some(paused),
            containers_stopped: Some(stopped),
            images: Some(images),
            driver: Some("overlay2".to_owned()),
            driver_status: Some(vec![strings(&["Backing Filesystem", "memory"])]),
            docker_root_dir: Some("/var/lib/docker".to_owned()),
            plugins: Some(PluginsInfo {
                volume: Some(strings(&["local"])),
                network: Some(strings(&["bridge", "host", "ipvlan", "macvlan", "null"])),
                authorization: None,
                log: Some(strings(&["json-file"])),
                ..Default::default()
            }),
            memory_limit: Some(true),
            swap_limit: Some(true),
            kernel_memory: Some(false),
            kernel_memory_tcp: Some(false),
            cpu_cfs_period: Some(true),
            cpu_cfs_quota: Some(true),
            cpu_shares: Some(true),
            cpu_set: Some(true),
            pids_limit: Some(true),
            oom_kill_disable: Some(false),
            ipv4_forwarding: Some(true),
            bridge_nf_iptables: Some(true),
            bridge_nf_ip6tables: Some(true),
            debug: Some(false),
            n_fd: Some(24),
            n_goroutines: Some(36),
            system_time: Some(rfc3339_nanos(now_nanos())),
            logging_driver: Some("json-file".to_owned()),
            cgroup_driver: Some(SystemInfoCgroupDriver::Cgroupfs),
            cgroup_version: Some(SystemInfoCgroupVersion::V2),
            n_events_listener: Some(0),
            kernel_version: Some("emulated".to_owned()),
            operating_system: Some("moby-api example engine (in memory)".to_owned()),
            os_version: Some(String::new()),
            os_type: Some("linux".to_owned()),
            architecture: Some("x86_64".to_owned()),
            ncpu: Some(i64::from(cpus())),
            mem_total: Some(MEM_TOTAL),
            index_server_address: Some("https://index.docker.io/v1/".to_owned()),
            registry_config: Some(RegistryServiceConfig {
                allow_nondistributable_artifacts_cidrs: Some(Vec::new()),
                allow_nondistributable_artifacts_hostnames: Some(Vec::new()),
                insecure_registry_cidrs: Some(strings(&["127.0.0.0/8"])),
                index_configs: Some(registry_index),
                mirrors: Some(Vec::new()),
                ..Default::default()
            }),
            generic_resources: None,
            http_proxy: Some(String::new()),
            https_proxy: Some(String::new()),
            no_proxy: Some(String::new()),
            name: Some("moby-api-example".to_owned()),
            labels: Some(Vec::new()),
            experimental_build: Some(false),
            server_version: Some(ENGINE_VERSION.to_owned()),
            cluster_store: None,
            cluster_advertise: None,
            runtimes: Some(HashMap::from([(
                "runc".to_owned(),
                Runtime { path: Some("runc".to_owned()), runtime_args: None, ..Default::default() },
            )])),
            default_runtime: Some("runc".to_owned()),
            swarm: Some(SwarmInfo {
                node_id: Some(String::new()),
                node_addr: Some(String::new()),
                local_node_state: Some(LocalNodeState::Inactive),
                control_available: Some(false),
                error: Some(String::new()),
                remote_managers: None,
                nodes: None,
                managers: None,
                cluster: None,
                ..Default::default()
            }),
            live_restore_enabled: Some(false),
            isolation: None,
            init_binary: Some("docker-init".to_owned()),
            containerd_commit: commit("emulated"),
            runc_commit: commit("emulated"),
            init_commit: commit("emulated"),
            security_options: Some(strings(&["name=seccomp,profile=default"])),
            product_license: None,
            default_address_pools: None,
            warnings: None,
            ..Default::default()
        }))
    }

    async fn system_events(&self, _context: &Context, request: SystemEventsRequest) -> Result<SystemEventsReply, ApiError> {
        crate::events::events(self, request.params).map(SystemEventsReply::Ok)
    }

    async fn system_data_usage(&self, _context: &Context, _request: SystemDataUsageRequest) -> Result<SystemDataUsageReply, ApiError> {
        Ok(SystemDataUsageReply::Ok(self.read(|state| {
            let images: Vec<_> = state.images.values().map(|i| crate::images::summary_with_usage(state, i)).collect();
            let mut containers: Vec<_> =
                state.containers.values().map(|c| (c.created, crate::containers::summary(state, c, true))).collect();
            containers.sort_by_key(|entry| std::cmp::Reverse(entry.0));
            SystemDataUsageResponse {
                layers_size: Some(state.images.values().map(|i| i.size).sum()),
                images: Some(images),
                containers: Some(containers.into_iter().map(|(_, c)| c).collect()),
                volumes: Some(crate::volumes::all_with_usage(state)),
                build_cache: Some(Vec::new()),
                builder_size: Some(0),
                ..Default::default()
            }
        })))
    }
}
