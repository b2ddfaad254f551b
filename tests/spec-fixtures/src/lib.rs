//! Emitted code of the generator's fixture specs (generator/tests/specs), one module each.
//! The files are written by the snapshot test; this crate proves they compile and behave.

pub mod all_of;
pub mod header_param;
pub mod map;
pub mod nested_inline;
pub mod nullable;
pub mod open_enum;
pub mod streaming;
pub mod upgrade;

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn all_of_merges_fields_in_order() {
        let node: super::all_of::Node =
            serde_json::from_value(json!({"ID": "n1", "Role": "manager", "Version": {"Index": 18446744073709551615u64}, "Extra": 1}))
                .unwrap();
        assert_eq!(node.id, "n1");
        assert_eq!(node.version.unwrap().index, Some(u64::MAX));
        assert_eq!(
            serde_json::to_value(super::all_of::Node { id: "a".into(), role: "r".into(), ..Default::default() }).unwrap(),
            json!({"ID": "a", "Role": "r"})
        );
    }

    #[test]
    fn null_collections_read_as_empty() {
        let s: super::nullable::State =
            serde_json::from_value(json!({"Env": null, "Labels": null, "Pid": 7, "Health": null, "ExitCode": null})).unwrap();
        assert!(s.env.is_empty() && s.labels.is_empty());
        assert_eq!((s.pid, s.health, s.exit_code), (7, None, None));
        assert!(serde_json::from_value::<super::nullable::State>(json!({"Env": [], "Labels": {}})).is_err(), "Pid is required");
    }

    #[test]
    fn enums_are_open_and_round_trip_unknown_values() {
        use super::open_enum::{RestartPolicyName, Scope};
        let known: RestartPolicyName = serde_json::from_value(json!("on-failure")).unwrap();
        assert_eq!(known, RestartPolicyName::OnFailure);
        let empty: RestartPolicyName = serde_json::from_value(json!("")).unwrap();
        assert_eq!(empty, RestartPolicyName::Empty);
        let unknown: RestartPolicyName = serde_json::from_value(json!("on-tuesdays")).unwrap();
        assert_eq!(unknown, RestartPolicyName::Other("on-tuesdays".into()));
        assert_eq!(serde_json::to_value(&unknown).unwrap(), json!("on-tuesdays"));
        assert_eq!(Scope::default(), Scope::Local);
        assert_eq!(Scope::Global.to_string(), "global");
    }

    #[test]
    fn maps_and_extra_members() {
        let a: super::map::Annotated = serde_json::from_value(json!({"Kind": "k", "x": 1, "y": 2})).unwrap();
        assert_eq!(a.additional_properties.len(), 2);
        assert_eq!(serde_json::to_value(&a).unwrap(), json!({"Kind": "k", "x": 1, "y": 2}));
        let n: super::map::Network =
            serde_json::from_value(json!({"Containers": {"abc": {"Name": "web", "IPv4Address": "10.0.0.2/24"}}, "Anything": {"a": [1]}}))
                .unwrap();
        assert_eq!(n.containers.unwrap()["abc"].ipv4_address.as_deref(), Some("10.0.0.2/24"));
    }
}
