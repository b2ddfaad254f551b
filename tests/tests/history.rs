//! The IR relates versions: where each operation, parameter, field and enum value exists.

use moby_api_codegen::{ApiVersion, VersionSet};
use moby_api_tests::history;

/// A set of the generated versions: `1.25..` is 1.25 to the newest.
fn set(text: &str) -> VersionSet {
    VersionSet::parse(text).unwrap().intersection(history().covered())
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
    // The types: the files of `shared/`, not the operation items in its subdirectories.
    let all: String = std::fs::read_dir(shared)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    // A field newer than its type, a value newer than its enum, a type that was removed.
    assert!(all.contains("        /// Since API 1.25.\n        #[wire(\"AutoRemove\""), "AutoRemove");
    assert!(all.contains("    /// `sctp`\n    ///\n    /// Since API 1.37.\n    Sctp,"), "the `sctp` port type");
    assert!(all.contains("Until API 1.24 (removed in 1.25).\n"), "something that existed only in 1.24");
    // Nothing that exists in every version says so.
    assert!(!all.contains("Since API 1.24."));
}

#[test]
fn operation_items_partition_their_versions_and_unchanged_ones_are_shared() {
    let h = history();
    let ops = &h.ops;
    for (kind, classes) in [("params", &ops.params), ("requests", &ops.requests), ("replies", &ops.replies), ("services", &ops.services)] {
        let mut names: Vec<&str> = classes.classes.iter().map(|c| c.name.as_str()).collect();
        names.dedup();
        for name in names {
            let sets: Vec<VersionSet> = classes.classes.iter().filter(|c| c.name == name).map(|c| c.versions).collect();
            let union = sets.iter().fold(VersionSet::EMPTY, |a, b| a.union(*b));
            let disjoint = sets.iter().all(|a| sets.iter().filter(|b| !a.intersection(**b).is_empty()).count() == 1);
            assert!(disjoint, "{kind} {name}: {sets:?}");
            assert!(!union.is_empty() && union.is_subset(h.covered()), "{kind} {name}");
        }
    }
    let versions_of = |classes: &moby_api_codegen::ir::history::operations::ItemClasses, name: &str| {
        classes.classes.iter().filter(|c| c.name == name).map(|c| c.versions).collect::<Vec<_>>()
    };
    // The ping never changed; the container list's parameters did once (1.24 has no `filters` … ).
    assert_eq!(versions_of(&ops.requests, "SystemPingRequest"), [set("all")]);
    assert_eq!(versions_of(&ops.params, "ContainerListParams").last(), Some(&set("1.25..")));
    // A trait whose operations did not change is one trait over many versions.
    assert!(
        versions_of(&ops.services, "ConfigApi").iter().any(|v| v.iter().count() >= 10),
        "{:?}",
        versions_of(&ops.services, "ConfigApi")
    );
    // Every version's operation has exactly one class of each item it has.
    for (s, spec) in h.specs.iter().enumerate() {
        for o in 0..spec.operations.len() {
            for classes in [&ops.requests, &ops.replies, &ops.services] {
                assert!(classes.of(s, o).is_some_and(|c| c.versions.contains(spec.version)), "{} {}", spec.version, spec.operations[o].id);
            }
        }
    }
}
