//! The IR relates versions: where each operation, parameter, field and enum value exists.

use moby_api_codegen::{ApiVersion, VersionSet};
use moby_api_tests::history;

fn set(text: &str) -> VersionSet {
    VersionSet::parse(text).unwrap()
}

#[test]
fn operations_parameters_fields_and_values_know_their_versions() {
    let h = history();
    assert_eq!(h.operations["GET /system/df"].versions, set("1.25.."));
    assert_eq!(h.operations["GET /containers/json"].versions, set("all"));
    assert_eq!(h.operations["GET /plugins/{name}"].versions, set("1.24"));
    assert_eq!(h.operations["GET /plugins/{name}/json"].versions, set("1.25.."));
    // Renamed in 1.28 (NOTES.md): one operation, two ids.
    let archive = &h.operations["GET /containers/{id}/archive"];
    assert_eq!(archive.ids["ContainerGetArchive"], set("..=1.27"));
    assert_eq!(archive.ids["ContainerArchive"], set("1.28.."));
    assert_eq!(h.operations["DELETE /volumes/{name}"].parameters["query:force"], set("1.25.."));
    assert_eq!(h.types["HostConfig"].fields["AutoRemove"], set("1.25.."));
    assert_eq!(h.types["HostConfig"].fields["Binds"], set("all"));
    assert!(h.types["MountType"].values["npipe"].first().is_some());
    assert!(h.types["MountType"].values["bind"].contains(ApiVersion::new(49)));
}

#[test]
fn identical_types_are_shared_and_changed_ones_are_not() {
    let h = history();
    let classes_named = |name: &str| h.shared.iter().filter(|c| c.name == name).map(|c| c.versions).collect::<Vec<_>>();
    // Every version of a name is covered exactly once.
    for name in ["HostConfig", "Volume", "ContainerSummary", "ErrorResponse"] {
        let sets = classes_named(name);
        let union = sets.iter().fold(VersionSet::EMPTY, |a, b| a.union(*b));
        assert_eq!(union, h.types[name].versions, "{name}");
        assert!(sets.iter().all(|a| sets.iter().filter(|b| !a.intersection(**b).is_empty()).count() == 1), "{name}: {sets:?}");
    }
    assert_eq!(classes_named("ErrorResponse"), [set("all")]);
    assert!(classes_named("HostConfig").len() > 5);
}

#[test]
fn generated_docs_say_since_and_until() {
    let shared = moby_api_tests::root().join("generated/src/shared");
    let all: String = std::fs::read_dir(shared).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    // A field newer than its type, a value newer than its enum, a type that was removed.
    assert!(all.contains("    /// Since API 1.25.\n    #[serde(rename = \"AutoRemove\""), "AutoRemove");
    assert!(all.contains("    /// `sctp`\n    ///\n    /// Since API 1.37.\n    Sctp,"), "the `sctp` port type");
    assert!(all.contains("Until API 1.24 (removed in 1.25).\n"), "something that existed only in 1.24");
    // Nothing that exists in every version says so.
    assert!(!all.contains("Since API 1.24."));
}
