//! A downstream crate: it sees only `moby_api::v1_41`, and its tests use the models as a
//! user of the library would (the README's example is the first test).

use moby_api::v1_41::models::{ContainerSummary, SystemVersion};

/// Names of running containers, from a `GET /containers/json` body.
pub fn running_names(list_json: &str) -> serde_json::Result<Vec<String>> {
    let containers: Vec<ContainerSummary> = serde_json::from_str(list_json)?;
    Ok(containers
        .into_iter()
        .filter(|c| c.state.as_deref() == Some("running"))
        .flat_map(|c| c.names.unwrap_or_default())
        .map(|n| n.trim_start_matches('/').to_string())
        .collect())
}

/// The engine's API version, from a `GET /version` body.
pub fn api_version(version_json: &str) -> serde_json::Result<Option<String>> {
    Ok(serde_json::from_str::<SystemVersion>(version_json)?.api_version)
}

#[cfg(test)]
mod tests {
    use moby_api::v1_41::models::{ContainerSummary, MountType, Volume, VolumeScope};

    #[test]
    fn readme_example() {
        let json = r#"[{"Id": "4f1c", "Names": ["/web"], "State": "running", "Labels": null}]"#;
        let containers: Vec<ContainerSummary> = serde_json::from_str(json).unwrap();
        assert_eq!(containers[0].state.as_deref(), Some("running"));
        assert_eq!(super::running_names(json).unwrap(), ["web"]);
    }

    #[test]
    fn reads_a_real_engine_answer() {
        let body = include_str!("../../fixtures/engine/20.10/v1.41/SystemVersion.json");
        assert_eq!(super::api_version(body).unwrap().as_deref(), Some("1.41"));
        let list = include_str!("../../fixtures/engine/20.10/v1.41/ContainerList.json");
        assert!(!super::running_names(list).unwrap().is_empty());
    }

    #[test]
    fn newer_engine_values_are_kept() {
        let v: Volume = serde_json::from_str(
            r#"{"Name": "v", "Driver": "local", "Mountpoint": "/m", "Labels": null, "Scope": "cluster", "Options": null}"#,
        )
        .unwrap();
        assert_eq!(v.scope, VolumeScope::Other("cluster".into()));
        let t: MountType = serde_json::from_str(r#""image""#).unwrap();
        assert_eq!(t, MountType::Other("image".into()));
        assert_eq!(serde_json::to_string(&t).unwrap(), r#""image""#);
    }
}
