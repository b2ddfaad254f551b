//! Emitted code of the generator's fixture specs (generator/tests/specs), one module each.
//! The files are written by the snapshot test; this crate proves they compile and behave.

pub mod all_of;
pub mod decoding_policy;
pub mod header_param;
pub mod map;
pub mod nested_inline;
pub mod nullable;
pub mod open_enum;
pub mod secret;
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
        assert!(serde_json::from_value::<super::nullable::State>(json!({"Env": "x"})).is_err(), "a wrong type is still an error");
    }

    /// The decoding policy (ARCHITECTURE.md): what engines send never fails to decode, and
    /// decoding then encoding loses no member.
    mod decoding_policy {
        use moby_api_runtime::json::{from_slice, roundtrip};
        use serde_json::json;

        use crate::decoding_policy::{FilesystemChange, GraphDriver, ImageInspect, ImageInspectOs};

        #[test]
        fn a_required_member_left_out_reads_as_its_zero_value() {
            // Engine 28.5.2 leaves out `Container` (and whatever else is empty).
            let image: ImageInspect = serde_json::from_value(json!({"Id": "sha256:1"})).unwrap();
            assert_eq!(image.id, "sha256:1");
            assert_eq!(image.container, "");
            assert_eq!((image.size, image.repo_tags.len()), (0, 0));
            assert_eq!(image.graph_driver, GraphDriver::default());
            assert_eq!(image.os, ImageInspectOs::Other(String::new()));
            assert_eq!(image.os.as_str(), "");
        }

        #[test]
        fn null_inside_reads_as_empty() {
            let image: ImageInspect =
                serde_json::from_value(json!({"Id": "x", "RepoTags": null, "GraphDriver": null, "Os": "linux"})).unwrap();
            assert!(image.repo_tags.is_empty());
            assert_eq!(image.graph_driver, GraphDriver::default());
            assert_eq!(image.os, ImageInspectOs::Linux);
            let driver: GraphDriver = serde_json::from_value(json!({"Name": "vfs", "Data": null})).unwrap();
            assert!(driver.data.is_empty());
        }

        #[test]
        fn null_at_the_top_level_reads_as_empty() {
            // GET /containers/{id}/changes of an unchanged container: `null`, where the spec says array.
            assert_eq!(from_slice::<Vec<FilesystemChange>>(b"null").unwrap(), Vec::new());
            assert_eq!(from_slice::<ImageInspect>(b"null").unwrap(), ImageInspect::default());
            let changes: Vec<FilesystemChange> = from_slice(br#"[{"Path": "/tmp", "Kind": 0}]"#).unwrap();
            assert_eq!(changes[0].path, "/tmp");
        }

        #[test]
        fn optional_members_keep_absent_apart_from_empty() {
            let absent: ImageInspect = serde_json::from_value(json!({"Id": "x"})).unwrap();
            let empty: ImageInspect = serde_json::from_value(json!({"Id": "x", "Comment": ""})).unwrap();
            assert_eq!((absent.comment, empty.comment.as_deref()), (None, Some("")));
        }

        #[test]
        fn members_the_version_does_not_define_are_kept() {
            // Engine 28.5.2 sends members newer than the requested version (`GwPriority` at /v1.42).
            let sent = json!({"Id": "x", "Container": "", "RepoTags": ["a:1"], "GraphDriver": {"Name": "vfs", "Data": {}, "Later": 1},
                "Os": "plan9", "Size": 3, "GwPriority": 10, "Nested": {"deep": [1, null]}});
            let image: ImageInspect = serde_json::from_value(sent.clone()).unwrap();
            assert_eq!(image.unknown_members["GwPriority"], json!(10));
            assert_eq!(image.graph_driver.unknown_members["Later"], json!(1));
            assert_eq!(image.os, ImageInspectOs::Other("plan9".into()));
            assert_eq!(roundtrip::<ImageInspect>(&sent).unwrap(), sent);
        }

        #[test]
        fn wrong_types_are_still_errors() {
            assert!(serde_json::from_value::<ImageInspect>(json!({"Id": 1})).is_err());
            assert!(serde_json::from_value::<ImageInspect>(json!({"RepoTags": {}})).is_err());
            assert!(from_slice::<Vec<FilesystemChange>>(b"{}").is_err());
        }
    }

    #[test]
    fn secrets_travel_as_they_are_and_stay_out_of_debug() {
        use super::secret::AuthConfig;
        let sent = json!({"username": "someone", "password": "hunter2", "serveraddress": "r", "token": "t0k3n"});
        let auth: AuthConfig = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(auth.password.as_deref().map(String::as_str), Some("hunter2"));
        assert_eq!(serde_json::to_value(&auth).unwrap(), sent);
        let debug = format!("{auth:?}");
        assert!(!debug.contains("hunter2") && !debug.contains("t0k3n") && debug.contains("someone"), "{debug}");
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
