//! Every generated type that holds a credential (the parameters and members marked
//! `x-moby-secret` in spec/annotations/secrets.yaml), filled with a known secret: its `Debug`
//! output must not show it. The types come from every version this crate is built with, and
//! the test checks it covered every marked parameter and member the IR knows of, so a new
//! annotation cannot go unscanned. Unredacted controls show the scan finds the secret.

use std::collections::BTreeSet;

use moby_api_runtime::secret::Secret;
use moby_api_tests::history;

const SECRET: &str = "s3cr3t-hunter2-Zq9";

/// What was scanned: `(version, Rust type, field)`.
type Covered = BTreeSet<(String, String, String)>;

fn shows_secret(debug: &str) -> bool {
    debug.contains(SECRET)
}

fn assert_redacted(what: &str, debug: &str) {
    assert!(!shows_secret(debug), "the Debug output of {what} shows the secret:\n{debug}");
    assert!(debug.contains("Secret(<redacted>)"), "{what} holds no redacted secret:\n{debug}");
}

/// The secret as a required (`Secret`) or optional (`Option<Secret>`) parameter.
trait Filled {
    fn filled() -> Self;
}

impl Filled for Secret<String> {
    fn filled() -> Self {
        Secret::from(SECRET)
    }
}

impl Filled for Option<Secret<String>> {
    fn filled() -> Self {
        Some(Secret::from(SECRET))
    }
}

/// A model filled through serde with the secret in `wire` members.
fn model<T: serde::de::DeserializeOwned>(members: &[&str]) -> T {
    let body: serde_json::Map<String, serde_json::Value> = members.iter().map(|m| ((*m).to_owned(), SECRET.into())).collect();
    serde_json::from_value(body.into()).expect("the model reads its members")
}

macro_rules! scan {
    ($covered:ident, $version:literal, $module:ident, params: [$($params:ident { $($field:ident),+ }),*], models: [$($model:ident { $($member:literal => $mfield:ident),+ }),*]) => {{
        $(
            #[allow(clippy::needless_update)] // Some structs have no other field.
            let value = moby_api::$module::params::$params { $($field: Filled::filled(),)+ ..Default::default() };
            assert_redacted(concat!($version, " ", stringify!($params)), &format!("{value:?}"));
            $( $covered.insert(($version.to_owned(), stringify!($params).to_owned(), stringify!($field).to_owned())); )+
        )*
        $(
            let value: moby_api::$module::models::$model = model(&[$($member),+]);
            assert_redacted(concat!($version, " ", stringify!($model)), &format!("{value:?}"));
            $( $covered.insert(($version.to_owned(), stringify!($model).to_owned(), stringify!($mfield).to_owned())); )+
        )*
    }};
}

/// What every version marks.
macro_rules! scan_1_24 {
    ($covered:ident, $version:literal, $module:ident) => {
        scan!($covered, $version, $module,
            params: [
                ImageBuildParams { buildargs, x_registry_config },
                ImageCreateParams { x_registry_auth },
                ImagePushParams { x_registry_auth },
                PluginPullParams { x_registry_auth },
                ServiceCreateParams { x_registry_auth },
                ServiceUpdateParams { x_registry_auth }
            ],
            models: [
                AuthConfig { "password" => password },
                SystemAuthResponse { "IdentityToken" => identity_token },
                SwarmJoinBody { "JoinToken" => join_token }
            ])
    };
}

/// From 1.25: swarm unlock keys and secrets.
macro_rules! scan_1_25 {
    ($covered:ident, $version:literal, $module:ident) => {
        scan_1_24!($covered, $version, $module);
        scan!($covered, $version, $module,
            params: [],
            models: [
                SwarmUnlockBody { "UnlockKey" => unlock_key },
                SwarmUnlockkeyResponse { "UnlockKey" => unlock_key },
                SecretSpec { "Data" => data },
                SecretCreateBody { "Data" => data }
            ])
    };
}

/// From 1.26: plugin upgrades.
macro_rules! scan_from_1_26 {
    ($covered:ident, $version:literal, $module:ident) => {
        scan_1_25!($covered, $version, $module);
        scan!($covered, $version, $module, params: [PluginUpgradeParams { x_registry_auth }], models: []);
    };
}

/// From 1.30: the swarm's signing CA key.
macro_rules! scan_from_1_30 {
    ($covered:ident, $version:literal, $module:ident) => {
        scan_from_1_26!($covered, $version, $module);
        scan!($covered, $version, $module, params: [], models: [SwarmSpecCaConfig { "SigningCAKey" => signing_ca_key }]);
    };
}

#[test]
fn generated_types_keep_credentials_out_of_debug() {
    let mut covered = Covered::new();
    scan_1_24!(covered, "1.24", v1_24);
    scan_1_25!(covered, "1.25", v1_25);
    scan_from_1_26!(covered, "1.26", v1_26);
    scan_from_1_26!(covered, "1.27", v1_27);
    scan_from_1_26!(covered, "1.28", v1_28);
    scan_from_1_26!(covered, "1.29", v1_29);
    scan_from_1_30!(covered, "1.30", v1_30);
    scan_from_1_30!(covered, "1.31", v1_31);
    scan_from_1_30!(covered, "1.32", v1_32);
    scan_from_1_30!(covered, "1.33", v1_33);
    scan_from_1_30!(covered, "1.34", v1_34);
    scan_from_1_30!(covered, "1.35", v1_35);
    scan_from_1_30!(covered, "1.36", v1_36);
    scan_from_1_30!(covered, "1.37", v1_37);
    scan_from_1_30!(covered, "1.38", v1_38);
    scan_from_1_30!(covered, "1.39", v1_39);
    scan_from_1_30!(covered, "1.40", v1_40);
    scan_from_1_30!(covered, "1.41", v1_41);
    scan_from_1_30!(covered, "1.49", v1_49);

    // Every parameter and member the IR marks secret in those versions was scanned.
    let built: BTreeSet<String> = covered.iter().map(|(version, _, _)| version.clone()).collect();
    let h = history();
    let mut marked = Covered::new();
    for spec in h.specs.iter().filter(|spec| built.contains(&spec.version.to_string())) {
        for op in &spec.operations {
            for p in op.parameters.iter().filter(|p| p.secret) {
                let params = op.rust.params.clone();
                marked.insert((spec.version.to_string(), params, p.name.clone()));
            }
        }
        for ty in &spec.types {
            if let moby_api_codegen::ir::TypeKind::Struct { fields, .. } = &ty.kind {
                for f in fields.iter().filter(|f| f.secret) {
                    marked.insert((spec.version.to_string(), ty.name.clone(), f.name.clone()));
                }
            }
        }
    }
    let missed: Vec<_> = marked.difference(&covered).collect();
    assert!(missed.is_empty(), "marked secret but not scanned: {missed:?}");
    let unmarked: Vec<_> = covered.difference(&marked).collect();
    assert!(unmarked.is_empty(), "scanned but not marked secret in the IR: {unmarked:?}");
}

#[test]
fn the_scan_finds_an_unredacted_secret() {
    // The same members as plain strings, as they were before: the scan must see them.
    let header = moby_api_runtime::client::RegistryAuth::with_password("someone", SECRET, "registry.example.com").to_header();
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Unredacted {
        x_registry_auth: Option<String>,
        password: Option<String>,
    }
    let debug = format!("{:?}", Unredacted { x_registry_auth: Some(header.clone()), password: Some(SECRET.to_owned()) });
    assert!(shows_secret(&debug), "the scan did not find the secret in {debug}");
    // What the header form hides is the password.
    assert_eq!(moby_api_runtime::client::RegistryAuth::from_header(&header).unwrap().password, SECRET);
}
