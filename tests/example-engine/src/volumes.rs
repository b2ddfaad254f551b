//! The `Volume` operations: create (idempotent, like the daemon), list with filters,
//! inspect, remove (refused while a container uses the volume) and prune.

use std::collections::HashMap;

use moby_api::v1_41::models::{
    EventMessageType, Volume as VolumeModel, VolumeListResponse, VolumePruneResponse, VolumeScope, VolumeUsageData,
};
use moby_api::v1_41::server::*;
use moby_api_runtime::server::{ApiError, Context};

use crate::clock::{now_nanos, rfc3339_secs};
use crate::engine::{attrs, Engine, State, Volume};

pub(crate) fn mountpoint(name: &str) -> String {
    format!("/var/lib/docker/volumes/{name}/_data")
}

/// Creates the volume unless it exists (with its `create` event).
pub(crate) fn ensure(state: &mut State, name: &str, anonymous: bool) {
    if state.volumes.contains_key(name) {
        return;
    }
    state.volumes.insert(
        name.to_owned(),
        Volume {
            name: name.to_owned(),
            anonymous,
            driver: "local".to_owned(),
            created: now_nanos(),
            labels: HashMap::new(),
            options: HashMap::new(),
        },
    );
    event(state, "create", name);
}

fn event(state: &mut State, action: &str, name: &str) {
    state.event(EventMessageType::Volume, action, name, attrs([("driver", "local".to_owned())]));
}

/// The ids of the containers that mount the volume.
fn users(state: &State, name: &str) -> Vec<String> {
    state.containers.values().filter(|c| c.mounts.iter().any(|m| m.name.as_deref() == Some(name))).map(|c| c.id.clone()).collect()
}

/// Removes those of `names` that no container uses any more.
pub(crate) fn remove_unused(state: &mut State, names: &[String]) {
    for name in names {
        if users(state, name).is_empty() && state.volumes.remove(name).is_some() {
            event(state, "destroy", name);
        }
    }
}

fn model(state: &State, v: &Volume, usage: bool) -> VolumeModel {
    VolumeModel {
        name: v.name.clone(),
        driver: v.driver.clone(),
        mountpoint: mountpoint(&v.name),
        created_at: Some(rfc3339_secs(v.created)),
        status: None,
        labels: v.labels.clone(),
        scope: VolumeScope::Local,
        options: v.options.clone(),
        // Only `system df` computes usage; elsewhere the daemon leaves it out.
        usage_data: usage.then(|| VolumeUsageData {
            size: 0,
            ref_count: i64::try_from(users(state, &v.name).len()).unwrap_or(0),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn all_with_usage(state: &State) -> Vec<VolumeModel> {
    state.volumes.values().map(|v| model(state, v, true)).collect()
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("get {name}: no such volume"))
}

impl VolumeApi for Engine {
    async fn volume_list(&self, _context: &Context, request: VolumeListRequest) -> Result<VolumeListReply, ApiError> {
        let filters = crate::checked_filters(request.params.filters, &["name", "driver", "dangling", "label"])?;
        let volumes = self.read(|state| {
            state
                .volumes
                .values()
                .filter(|v| {
                    filters.matches_labels(&v.labels)
                        && filters.matches_any("name", |value| v.name.contains(value))
                        && filters.matches_any("driver", |value| v.driver == value)
                        && filters.matches_any("dangling", |value| (value == "true" || value == "1") == users(state, &v.name).is_empty())
                })
                .map(|v| model(state, v, false))
                .collect()
        });
        Ok(VolumeListReply::Ok(VolumeListResponse { volumes: Some(volumes), warnings: None, ..Default::default() }))
    }

    async fn volume_create(&self, _context: &Context, request: VolumeCreateRequest) -> Result<VolumeCreateReply, ApiError> {
        let body = request.body;
        let driver = body.driver.filter(|d| !d.is_empty()).unwrap_or_else(|| "local".to_owned());
        if driver != "local" {
            return Err(ApiError::not_found(format!("error looking up volume plugin {driver}: plugin \"{driver}\" not found")));
        }
        let name = body.name.filter(|n| !n.is_empty());
        let anonymous = name.is_none();
        let name = name.unwrap_or_else(|| self.random_id());
        self.update(|state| {
            if !state.volumes.contains_key(&name) {
                ensure(state, &name, anonymous);
                let v = state.volumes.get_mut(&name).expect("created above");
                v.labels = body.labels.unwrap_or_default();
                v.options = body.driver_opts.unwrap_or_default();
            }
            Ok(VolumeCreateReply::Created(model(state, &state.volumes[&name], false)))
        })
    }

    async fn volume_inspect(&self, _context: &Context, request: VolumeInspectRequest) -> Result<VolumeInspectReply, ApiError> {
        self.read(|state| {
            let v = state.volumes.get(&request.name).ok_or_else(|| not_found(&request.name))?;
            Ok(VolumeInspectReply::Ok(model(state, v, false)))
        })
    }

    async fn volume_delete(&self, _context: &Context, request: VolumeDeleteRequest) -> Result<VolumeDeleteReply, ApiError> {
        let force = request.params.force.unwrap_or(false);
        self.update(|state| {
            if !state.volumes.contains_key(&request.name) {
                return if force { Ok(VolumeDeleteReply::NoContent) } else { Err(not_found(&request.name)) };
            }
            let users = users(state, &request.name);
            if !users.is_empty() {
                return Err(ApiError::conflict(format!("remove {}: volume is in use - [{}]", request.name, users.join(", "))));
            }
            state.volumes.remove(&request.name);
            event(state, "destroy", &request.name);
            Ok(VolumeDeleteReply::NoContent)
        })
    }

    async fn volume_prune(&self, _context: &Context, request: VolumePruneRequest) -> Result<VolumePruneReply, ApiError> {
        let filters = crate::checked_filters(request.params.filters, &["label", "label!"])?;
        let deleted = self.update(|state| {
            let unused: Vec<String> = state
                .volumes
                .values()
                .filter(|v| filters.matches_labels(&v.labels))
                .map(|v| v.name.clone())
                .filter(|name| users(state, name).is_empty())
                .collect();
            remove_unused(state, &unused);
            state.event(EventMessageType::Volume, "prune", "", attrs([("reclaimed", "0".to_owned())]));
            unused
        });
        Ok(VolumePruneReply::Ok(VolumePruneResponse { volumes_deleted: Some(deleted), space_reclaimed: Some(0), ..Default::default() }))
    }
}
