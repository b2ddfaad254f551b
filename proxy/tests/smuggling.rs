//! The forms that get requests past path-matching proxies (PROXY-THREATS.md, "Reaching a
//! denied operation anyway"), each sent to Engine 28.5.2 directly and through the proxy:
//! the proxy classifies it as the engine reads it (and then allows or denies that
//! operation), or answers exactly what the engine answers without forwarding it.

mod common;

use common::{engine, raw, socket_of, Proxy};
use moby_api_runtime::server::ApiVersion;

/// Only listing containers (and the version look-up) is allowed.
const POLICY: &str = r#"allow = ["ContainerList", "SystemPing"]"#;

#[test]
fn each_form_is_read_as_the_engine_reads_it() {
    let Some(engine) = engine() else { return };
    let proxy = Proxy::start(&engine, Some(POLICY));
    let direct = socket_of(&engine);
    let through = socket_of(&proxy.host);

    // (path, what the engine does with it, what the proxy must answer)
    let cases: &[(&str, u16, u16)] = &[
        // Read by the engine as ContainerList: allowed.
        ("/containers/json", 200, 200),
        ("/v1.41/containers/json", 200, 200),
        ("/v1.41.0/containers/json", 200, 200),
        ("/v01.041/containers/json", 200, 200),
        ("/v1.41%2Fcontainers/json", 200, 200),
        ("/v1.41/containers%2Fjson", 200, 200),
        ("/v1.41/containers%2fjson", 200, 200),
        // Read by the engine as ImageList: denied, however it is spelled.
        ("/v1.41/images/json", 200, 403),
        ("/v1.41.0/images/json", 200, 403),
        ("/v1.41.1/images/json", 200, 403),
        ("/v1.41%2Fimages/json", 200, 403),
        ("/v1.41/images%2Fjson", 200, 403),
        ("/images/json", 200, 403),
        // Not clean: the engine redirects without routing; so does the proxy.
        ("//images/json", 301, 301),
        ("/v1.41//images/json", 301, 301),
        ("/v1.41/containers/../images/json", 301, 301),
        ("/v1.41/containers/%2e%2e/images/json", 301, 301),
        ("/v1.41/containers/%2E%2E/images/json", 301, 301),
        ("/v1.41/containers/json/./", 301, 301),
        // Versions out of range, and paths that are no route: the engine's own answers.
        ("/v1.999/containers/json", 400, 400),
        ("/v1.23/containers/json", 400, 400),
        ("/V1.41/containers/json", 404, 404),
        ("/v1.41/containers/json/", 404, 404),
        ("/v1.41/containers/json%3F", 404, 404),
        ("/v1.41/containers/%zz/json", 400, 400),
    ];
    let mut failures = Vec::new();
    for (path, engine_status, proxy_status) in cases {
        let (e, e_location, e_body) = raw(&direct, "GET", path);
        let (p, p_location, p_body) = raw(&through, "GET", path);
        if e != *engine_status {
            failures.push(format!("{path}: the engine answered {e}, not {engine_status}: {e_body}"));
        }
        if p != *proxy_status {
            failures.push(format!("{path}: the proxy answered {p}, not {proxy_status}: {p_body}"));
        }
        if e == p && e_location != p_location {
            failures.push(format!("{path}: redirected to {p_location:?}, the engine to {e_location:?}"));
        }
        if e == p && (400..500).contains(&e) && e_body.trim() != p_body.trim() {
            failures.push(format!("{path}: the proxy said {p_body:?}, the engine {e_body:?}"));
        }
        if p == 403 && !p_body.contains("ImageList") {
            failures.push(format!("{path}: denied, but not as ImageList: {p_body}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Nothing unclassified reached the engine: every refusal is in the audit as such.
    let audit = proxy.audit();
    let refused = audit.iter().filter(|l| l["decision"] == "refuse").count();
    assert_eq!(refused, cases.iter().filter(|(_, _, p)| *p == 301 || *p == 400 || *p == 404).count(), "{audit:#?}");
}

/// A client that negotiates settles on a version the proxy can check: the engine's, or the
/// newest the proxy knows when the engine is newer.
#[test]
fn clients_negotiate_a_version_the_proxy_knows() {
    let Some(engine) = engine() else { return };
    let proxy = Proxy::start(&engine, None);
    let version =
        |host: &str| common::docker(host, proxy.dir.path(), &["version", "--format", "{{.Server.APIVersion}}"]).stdout.trim().to_owned();
    let direct: ApiVersion = version(&engine).parse().expect("the engine's version");
    let newest = moby_api_proxy::tables::all().into_iter().map(|(v, _)| v).max().expect("a version");
    assert_eq!(version(&proxy.host), direct.min(newest).to_string());
    assert!(proxy.audit().iter().all(|line| line["decision"] == "allow"), "{}", proxy.log());
}
