//! The `Network` operations: the built-in `bridge`, `host` and `none`, and user networks
//! with a /16 each (create, list, inspect, remove, prune); addresses for containers.

use std::collections::HashMap;

use moby_api::v1_41::models::{
    ConfigReference, EventMessageType, Ipam, IpamConfig, Network as NetworkModel, NetworkContainer, NetworkCreateResponse,
    NetworkPruneResponse,
};
use moby_api::v1_41::server::*;
use moby_api_runtime::server::{ApiError, Context};

use crate::clock::{now_nanos, rfc3339_nanos};
use crate::engine::{attrs, unique_prefix, Engine, Network, State};

/// One of the networks every engine has.
pub(crate) fn builtin(id: String, name: &str, driver: &str) -> Network {
    let bridge = name == "bridge";
    let options = if bridge {
        [
            ("com.docker.network.bridge.default_bridge", "true"),
            ("com.docker.network.bridge.enable_icc", "true"),
            ("com.docker.network.bridge.enable_ip_masquerade", "true"),
            ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
            ("com.docker.network.bridge.name", "docker0"),
            ("com.docker.network.driver.mtu", "1500"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    } else {
        HashMap::new()
    };
    Network {
        id,
        name: name.to_owned(),
        driver: driver.to_owned(),
        created: now_nanos(),
        subnet: bridge.then(|| ("172.17.0.0/16".to_owned(), "172.17.0.1".to_owned())),
        internal: false,
        attachable: false,
        enable_ipv6: false,
        options,
        labels: HashMap::new(),
        builtin: true,
        last_host: 1,
    }
}

/// A network by full id, name or unique id prefix.
pub(crate) fn find<'a>(state: &'a State, key: &str) -> Result<&'a Network, ApiError> {
    if let Some(n) = state.networks.get(key) {
        return Ok(n);
    }
    if let Some(n) = state.networks.values().find(|n| n.name == key) {
        return Ok(n);
    }
    unique_prefix(state.networks.keys(), key)
        .map(|id| &state.networks[&id])
        .ok_or_else(|| ApiError::not_found(format!("network {key} not found")))
}

/// The next free address of the network's /16 (`None` for networks without addresses).
pub(crate) fn allocate(network: &mut Network) -> Option<String> {
    let (subnet, _) = network.subnet.as_ref()?;
    let base: Vec<u32> = subnet.split('/').next()?.split('.').filter_map(|p| p.parse().ok()).collect();
    if base.len() != 4 {
        return None;
    }
    network.last_host += 1;
    let host = network.last_host;
    Some(format!("{}.{}.{}.{}", base[0], base[1], base[2] + host / 256, host % 256))
}

/// The MAC address the daemon derives from an IPv4 address (`02:42` and the four bytes).
pub(crate) fn mac_for(ip: &str) -> String {
    let bytes: Vec<u8> = ip.split('.').filter_map(|p| p.parse().ok()).collect();
    let mut parts = vec!["02".to_owned(), "42".to_owned()];
    parts.extend(bytes.iter().map(|b| format!("{b:02x}")));
    parts.join(":")
}

fn model(state: &State, n: &Network) -> NetworkModel {
    let containers: HashMap<String, NetworkContainer> = state
        .containers
        .values()
        .filter(|c| c.status.is_running())
        .filter_map(|c| c.endpoints.iter().find(|e| e.network_id == n.id).map(|e| (c, e)))
        .map(|(c, e)| {
            let container = NetworkContainer {
                name: Some(c.name.clone()),
                endpoint_id: Some(e.endpoint_id.clone()),
                mac_address: Some(e.mac.clone()),
                ipv4_address: Some(e.ip.as_ref().map(|ip| format!("{ip}/{}", e.prefix_len)).unwrap_or_default()),
                ipv6_address: Some(String::new()),
                ..Default::default()
            };
            (c.id.clone(), container)
        })
        .collect();
    let config = n
        .subnet
        .iter()
        .map(|(subnet, gateway)| IpamConfig {
            subnet: Some(subnet.clone()),
            ip_range: None,
            gateway: Some(gateway.clone()),
            auxiliary_addresses: None,
            ..Default::default()
        })
        .collect();
    NetworkModel {
        name: Some(n.name.clone()),
        id: Some(n.id.clone()),
        created: Some(rfc3339_nanos(n.created)),
        scope: Some("local".to_owned()),
        driver: Some(n.driver.clone()),
        enable_ipv6: Some(n.enable_ipv6),
        ipam: Some(Ipam { driver: Some("default".to_owned()), config: Some(config), options: None, ..Default::default() }),
        internal: Some(n.internal),
        attachable: Some(n.attachable),
        ingress: Some(false),
        config_from: Some(ConfigReference { network: Some(String::new()), ..Default::default() }),
        config_only: Some(false),
        containers: Some(containers),
        options: Some(n.options.clone()),
        labels: Some(n.labels.clone()),
        peers: None,
        ..Default::default()
    }
}

fn event(state: &mut State, action: &str, n_id: &str, name: &str, driver: &str) {
    state.event(EventMessageType::Network, action, n_id, attrs([("name", name.to_owned()), ("type", driver.to_owned())]));
}

/// Whether a running container is attached (a stopped one's endpoint is released).
fn in_use(state: &State, id: &str) -> bool {
    state.containers.values().any(|c| c.status.is_running() && c.endpoints.iter().any(|e| e.network_id == id))
}

impl NetworkApi for Engine {
    async fn network_list(&self, _context: &Context, request: NetworkListRequest) -> Result<NetworkListReply, ApiError> {
        let filters = crate::checked_filters(request.params.filters, &["name", "id", "driver", "scope", "type", "label", "dangling"])?;
        let list = self.read(|state| {
            state
                .networks
                .values()
                .filter(|n| {
                    filters.matches_labels(&n.labels)
                        && filters.matches_any("name", |value| n.name.contains(value))
                        && filters.matches_any("id", |value| n.id.starts_with(value))
                        && filters.matches_any("driver", |value| n.driver == value)
                        && filters.matches_any("scope", |value| value == "local")
                        && filters.matches_any("type", |value| (value == "builtin") == n.builtin)
                        && filters
                            .matches_any("dangling", |value| (value == "true" || value == "1") == (!n.builtin && !in_use(state, &n.id)))
                })
                .map(|n| model(state, n))
                .collect()
        });
        Ok(NetworkListReply::Ok(list))
    }

    async fn network_inspect(&self, _context: &Context, request: NetworkInspectRequest) -> Result<NetworkInspectReply, ApiError> {
        self.read(|state| Ok(NetworkInspectReply::Ok(model(state, find(state, &request.id)?))))
    }

    async fn network_create(&self, _context: &Context, request: NetworkCreateRequest) -> Result<NetworkCreateReply, ApiError> {
        let body = request.body;
        let driver = body.driver.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| "bridge".to_owned());
        if driver == "host" || driver == "null" {
            return Err(ApiError::forbidden(format!("only one instance of \"{driver}\" network is allowed")));
        }
        if !matches!(driver.as_str(), "bridge" | "macvlan" | "ipvlan") {
            return Err(ApiError::not_found(format!("plugin \"{driver}\" not found")));
        }
        let id = self.random_id();
        self.update(|state| {
            if state.networks.values().any(|n| n.name == body.name) {
                return Err(ApiError::conflict(format!("network with name {} already exists", body.name)));
            }
            let given = body
                .ipam
                .as_ref()
                .and_then(|i| i.config.as_ref())
                .and_then(|c| c.first())
                .and_then(|c| c.subnet.clone().zip(c.gateway.clone()));
            let subnet = given.or_else(|| {
                // 172.18.0.0/16, 172.19.0.0/16 …: the next /16 no network has.
                (18..=31)
                    .map(|b| (format!("172.{b}.0.0/16"), format!("172.{b}.0.1")))
                    .find(|(s, _)| !state.networks.values().any(|n| n.subnet.as_ref().is_some_and(|(other, _)| other == s)))
            });
            let network = Network {
                id: id.clone(),
                name: body.name.clone(),
                driver: driver.clone(),
                created: now_nanos(),
                subnet,
                internal: body.internal.unwrap_or(false),
                attachable: body.attachable.unwrap_or(false),
                enable_ipv6: body.enable_ipv6.unwrap_or(false),
                options: body.options.clone().unwrap_or_default(),
                labels: body.labels.clone().unwrap_or_default(),
                builtin: false,
                last_host: 1,
            };
            state.networks.insert(id.clone(), network);
            event(state, "create", &id, &body.name, &driver);
            Ok(NetworkCreateReply::Created(NetworkCreateResponse {
                id: Some(id.clone()),
                warning: Some(String::new()),
                ..Default::default()
            }))
        })
    }

    async fn network_delete(&self, _context: &Context, request: NetworkDeleteRequest) -> Result<NetworkDeleteReply, ApiError> {
        self.update(|state| {
            let n = find(state, &request.id)?;
            if n.builtin {
                return Err(ApiError::forbidden(format!("{} is a pre-defined network and cannot be removed", n.name)));
            }
            if in_use(state, &n.id) {
                return Err(ApiError::forbidden(format!(
                    "error while removing network: network {} id {} has active endpoints",
                    n.name, n.id
                )));
            }
            let (id, name, driver) = (n.id.clone(), n.name.clone(), n.driver.clone());
            state.networks.remove(&id);
            event(state, "destroy", &id, &name, &driver);
            Ok(NetworkDeleteReply::NoContent)
        })
    }

    async fn network_prune(&self, _context: &Context, request: NetworkPruneRequest) -> Result<NetworkPruneReply, ApiError> {
        let filters = crate::checked_filters(request.params.filters, &["label", "label!", "until"])?;
        let until = crate::clock::prune_until(&filters)?;
        let deleted = self.update(|state| {
            let unused: Vec<(String, String, String)> = state
                .networks
                .values()
                .filter(|n| !n.builtin && !in_use(state, &n.id))
                .filter(|n| filters.matches_labels(&n.labels) && until.is_none_or(|until| n.created < until))
                .map(|n| (n.id.clone(), n.name.clone(), n.driver.clone()))
                .collect();
            for (id, name, driver) in &unused {
                state.networks.remove(id);
                event(state, "destroy", id, name, driver);
            }
            unused.into_iter().map(|(_, name, _)| name).collect()
        });
        Ok(NetworkPruneReply::Ok(NetworkPruneResponse { networks_deleted: Some(deleted), ..Default::default() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let mut bridge = builtin("x".to_owned(), "bridge", "bridge");
        assert_eq!(allocate(&mut bridge).as_deref(), Some("172.17.0.2"));
        assert_eq!(allocate(&mut bridge).as_deref(), Some("172.17.0.3"));
        assert_eq!(mac_for("172.17.0.2"), "02:42:ac:11:00:02");
        assert_eq!(allocate(&mut builtin("y".to_owned(), "host", "host")), None);
    }
}
