//! `GET /containers/{id}/stats`: samples of an emulated container, one (`stream=false`) or
//! one a second until the container is removed. There is no real process to measure: pids
//! counts the running emulated processes and memory is 1 MiB for each; CPU time stays at
//! zero while the host's advances, so the CLIs show 0.00% CPU.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use moby_api::v1_41::models::{
    ContainerBlkioStats, ContainerCpuStats, ContainerCpuUsage, ContainerMemoryStats, ContainerPidsStats, ContainerStatsResponse,
    ContainerStorageStats, ContainerThrottlingData,
};
use moby_api::v1_41::params::ContainerStatsParams;
use moby_api_runtime::server::{ApiError, StreamBody};

use crate::clock::{now_nanos, rfc3339_nanos, ZERO_TIME};
use crate::engine::{Container, Engine, State};
use crate::system::{cpus, MEM_TOTAL};

/// What one emulated process is said to use.
const MEMORY_PER_PROCESS: u64 = 1024 * 1024;
/// The interval between streamed samples, the daemon's.
const INTERVAL: Duration = Duration::from_secs(1);

pub(crate) fn stats(engine: &Engine, key: &str, params: ContainerStatsParams) -> Result<StreamBody, ApiError> {
    let id = engine.read(|state| state.container(key).map(|c| c.id.clone()))?;
    if !params.stream.unwrap_or(true) {
        let sample = engine.read(|state| state.containers.get(&id).map(|c| sample(state, c, None)));
        return Ok(StreamBody::json_lines(stream::iter(sample)));
    }
    let engine = engine.clone();
    let samples = stream::unfold(None::<String>, move |previous_read| {
        let (engine, id) = (engine.clone(), id.clone());
        async move {
            if previous_read.is_some() {
                tokio::time::sleep(INTERVAL).await;
            }
            if engine.is_shutting_down() {
                return None;
            }
            let sample = engine.read(|state| state.containers.get(&id).map(|c| sample(state, c, previous_read.as_deref())))?;
            let read = sample.read.clone();
            Some((sample, read))
        }
    });
    Ok(StreamBody::json_lines(samples.boxed()))
}

/// A sample of `container` now; `preread` is the time of the sample before it in a stream.
fn sample(state: &State, container: &Container, preread: Option<&str>) -> ContainerStatsResponse {
    let running = container.status.is_running();
    let execs = state.running_execs(container).count() as u64;
    let processes = if running { 1 + execs } else { 0 };
    let limit = container.host_config.memory.filter(|m| *m > 0).unwrap_or(MEM_TOTAL) as u64;
    let cpus = cpus();
    let cpu = |system: u64| ContainerCpuStats {
        cpu_usage: Some(ContainerCpuUsage {
            total_usage: Some(0),
            percpu_usage: None,
            usage_in_kernelmode: Some(0),
            usage_in_usermode: Some(0),
            ..Default::default()
        }),
        system_cpu_usage: Some(system),
        online_cpus: Some(cpus),
        throttling_data: Some(ContainerThrottlingData {
            periods: Some(0),
            throttled_periods: Some(0),
            throttled_time: Some(0),
            ..Default::default()
        }),
        ..Default::default()
    };
    // The host's CPU time in nanoseconds, as the daemon reads it from /proc/stat: all CPUs busy
    // since the epoch is as good a clock as any for deltas of zero.
    let now = now_nanos();
    let system = (now.max(0) as u64).saturating_mul(u64::from(cpus));
    let interval = INTERVAL.as_nanos() as u64 * u64::from(cpus);
    let empty = || Some(Vec::new());
    ContainerStatsResponse {
        name: Some(format!("/{}", container.name)),
        id: Some(container.id.clone()),
        read: Some(rfc3339_nanos(now)),
        preread: Some(preread.unwrap_or(ZERO_TIME).to_owned()),
        pids_stats: Some(ContainerPidsStats { current: Some(processes), limit: None, ..Default::default() }),
        blkio_stats: Some(ContainerBlkioStats {
            io_service_bytes_recursive: empty(),
            io_serviced_recursive: empty(),
            io_queue_recursive: empty(),
            io_service_time_recursive: empty(),
            io_wait_time_recursive: empty(),
            io_merged_recursive: empty(),
            io_time_recursive: empty(),
            sectors_recursive: empty(),
            ..Default::default()
        }),
        num_procs: Some(0),
        storage_stats: Some(ContainerStorageStats::default()),
        cpu_stats: Some(cpu(system)),
        precpu_stats: Some(cpu(system.saturating_sub(interval))),
        memory_stats: Some(ContainerMemoryStats {
            usage: Some(processes * MEMORY_PER_PROCESS),
            max_usage: None,
            stats: Some(Default::default()),
            failcnt: None,
            limit: Some(limit),
            commitbytes: None,
            commitpeakbytes: None,
            privateworkingset: None,
            ..Default::default()
        }),
        // The emulated containers have no network interfaces to count.
        networks: None,
        ..Default::default()
    }
}
