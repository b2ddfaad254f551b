//! v1.24 has no Swagger file: it is v1.25.yaml with spec/derive/v1.24.yaml applied. These
//! tests hold the derived specification to the two documents that describe v1.24:
//!
//! - `v1.24.md`, the v1.24 reference: the derived spec has exactly the endpoints it documents;
//! - `CHANGELOG.md`, section "v1.25 API changes": what v1.25 added is absent from v1.24 and
//!   present in v1.25 (a hand-written table, since the changelog is prose).

use std::collections::BTreeSet;

use moby_api_codegen::ir::{ApiSpec, Operation, Status, TypeKind};
use moby_api_codegen::ApiVersion;
use moby_api_tests::{history, inputs};

/// `(method, path)` with every path parameter written `{}`.
type Endpoint = (String, String);

fn v24() -> &'static ApiSpec {
    history().spec(ApiVersion::new(24)).expect("v1.24 is generated")
}

fn v25() -> &'static ApiSpec {
    history().spec(ApiVersion::new(25)).expect("v1.25 is generated")
}

// ------------------------------------------------------------------ reading v1.24.md

/// `/containers/(id or name)/json` and `/containers/{id}/json` both become `/containers/{}/json`.
fn normalise_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut closing = None;
    for c in path.chars() {
        match (closing, c) {
            (None, '(') => closing = Some(')'),
            (None, '{') => closing = Some('}'),
            (None, c) => out.push(c),
            (Some(end), c) if c == end => {
                out.push_str("{}");
                closing = None;
            }
            (Some(_), _) => {}
        }
    }
    assert!(closing.is_none(), "unbalanced path parameter in `{path}`");
    out
}

/// Drops `<!-- … -->` (v1.24.md keeps an undocumented plugin push endpoint in one).
fn strip_html_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("-->").unwrap_or_else(|| panic!("unclosed HTML comment in v1.24.md"));
        rest = &rest[start + end + 3..];
    }
    out.push_str(rest);
    out
}

/// An endpoint line as v1.24.md writes them under each heading: "`GET /containers/json`",
/// "`POST /plugins/pull?name=<plugin name>`", "`GET /containers/(id or name)/json`".
fn endpoint_line(line: &str) -> Option<Endpoint> {
    let inner = line.trim().strip_prefix('`')?.strip_suffix('`')?;
    let (method, rest) = inner.split_once(' ')?;
    if !["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"].contains(&method) {
        return None;
    }
    let path = rest.trim().trim_end_matches(" HTTP/1.1");
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let path = path.strip_prefix("/v1.24").unwrap_or(path);
    path.starts_with('/').then(|| (method.to_string(), normalise_path(path)))
}

/// The endpoints a v1.24-style Markdown reference documents: a `####` heading whose next
/// non-blank line is an endpoint line. Also returns the headings that have none.
fn documented_endpoints(markdown: &str) -> (BTreeSet<Endpoint>, Vec<String>) {
    let text = strip_html_comments(markdown);
    let mut endpoints = BTreeSet::new();
    let mut without = Vec::new();
    let mut heading: Option<&str> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(h) = line.strip_prefix("#### ") {
            heading = Some(h.trim());
            continue;
        }
        if let Some(h) = heading.take() {
            match endpoint_line(line) {
                Some(e) => assert!(endpoints.insert(e.clone()), "{} {} is documented twice", e.0, e.1),
                None => without.push(h.to_string()),
            }
        }
    }
    (endpoints, without)
}

fn spec_endpoints(spec: &ApiSpec) -> BTreeSet<Endpoint> {
    spec.operations.iter().map(|o| (o.method.as_str().to_string(), normalise_path(&o.path))).collect()
}

fn show(set: &BTreeSet<&Endpoint>) -> String {
    if set.is_empty() {
        return "  (none)\n".into();
    }
    set.iter().map(|(m, p)| format!("  {m} {p}\n")).collect()
}

#[test]
fn the_markdown_reader_finds_endpoint_lines_only_under_headings() {
    let md = "## 3. Endpoints\n\n#### Inspect a container\n\n`GET /containers/(id or name)/json`\n\nText `GET /not/an/endpoint`\n\n\
              #### Install a plugin\n\n`POST /plugins/pull?name=<plugin name>`\n\n#### Image tarball format\n\nAn image tarball …\n\n\
              <!-- TODO\n\n#### Push a plugin\n\n`POST /v1.24/plugins/tiborvass/(plugin name)/push HTTP/1.1`\n\n-->\n\n\
              #### Inspect an exec\n\n`GET /exec/{id}/json`\n";
    let (found, without) = documented_endpoints(md);
    let expected: BTreeSet<Endpoint> = [("GET", "/containers/{}/json"), ("POST", "/plugins/pull"), ("GET", "/exec/{}/json")]
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(without, ["Image tarball format"]);
    assert_eq!(endpoint_line("`POST /v1.24/plugins/x/(plugin name)/push HTTP/1.1`"), Some(("POST".into(), "/plugins/x/{}/push".into())));
}

#[test]
fn derived_v1_24_has_exactly_the_endpoints_v1_24_md_documents() {
    let path = inputs().upstream.join("v1.24.md");
    let markdown = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let (documented, without) = documented_endpoints(&markdown);
    // Every `####` heading of v1.24.md is an endpoint but this one (a format description);
    // another one here would mean an endpoint written in a way the reader does not know.
    assert_eq!(without, ["Image tarball format"], "headings of v1.24.md without an endpoint line");

    let derived = spec_endpoints(v24());
    let missing: BTreeSet<_> = documented.difference(&derived).collect();
    let extra: BTreeSet<_> = derived.difference(&documented).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the derived v1.24 ({} operations) does not match v1.24.md ({} endpoints)\n\
         documented in v1.24.md, missing from the derived spec:\n{}\
         in the derived spec, not documented in v1.24.md:\n{}",
        derived.len(),
        documented.len(),
        show(&missing),
        show(&extra),
    );
    assert_eq!(derived.len(), v24().operations.len(), "two operations of v1.24 share a method and path");
}

// ------------------------------------------------------------------ the v1.25 changelog

/// Endpoints the changelog's v1.25 section names as new, plus those NOTES.md lists as new in
/// 1.25 that the changelog leaves out (`/system/df`, swarm unlock, service logs, plugin privileges).
const NEW_IN_1_25: &[(&str, &str)] = &[
    ("POST", "/containers/prune"),
    ("POST", "/images/prune"),
    ("POST", "/volumes/prune"),
    ("POST", "/networks/prune"),
    ("GET", "/secrets"),
    ("POST", "/secrets/create"),
    ("GET", "/secrets/{}"),
    ("DELETE", "/secrets/{}"),
    ("POST", "/plugins/create"),
    ("POST", "/plugins/{}/set"),
    ("POST", "/plugins/{}/push"),
    ("GET", "/plugins/{}/json"),
    ("GET", "/system/df"),
    ("GET", "/swarm/unlockkey"),
    ("POST", "/swarm/unlock"),
    ("GET", "/services/{}/logs"),
    ("GET", "/plugins/privileges"),
];

/// Fields of the v1.25 changelog: `(type, wire name)`. `allOf` is merged, so HostConfig
/// carries the Resources fields too.
const FIELDS_NEW_IN_1_25: &[(&str, &str)] = &[
    ("SystemVersionResponse", "MinAPIVersion"), // GET /version now returns MinAPIVersion
    ("HostConfig", "AutoRemove"),               // POST /containers/create now takes AutoRemove
    ("HostConfig", "Mounts"),                   // … a Mounts field in HostConfig
    ("Config", "StopTimeout"),                  // … now takes StopTimeout field
    ("HostConfig", "CpuRealtimePeriod"),        // hostConfig accepts CpuRealtimePeriod and CpuRtRuntime
    ("HostConfig", "CpuRealtimeRuntime"),
    ("HostConfig", "NanoCpus"), // HostConfig now includes NanoCpus
    ("HostConfig", "CpuCount"), // HostConfig now includes CpuCount (Windows)
    ("Resources", "NanoCpus"),
    ("Resources", "CpuRealtimePeriod"),
    ("Resources", "CpuRealtimeRuntime"),
    ("Resources", "CpuCount"),
    ("ContainerUpdateBody", "NanoCpus"),
    ("ContainerExecBody", "Env"),   // exec now accepts an Env field
    ("ExecInspectResponse", "Pid"), // GET /exec/(id)/json now returns Pid
    ("Volume", "Options"),          // volumes now return the Options field
    ("Volume", "UsageData"),        // (with /system/df)
    ("Network", "Created"),         // GET /networks/(name) now returns Created
    ("ImageSummary", "SharedSize"), // (with /system/df)
    ("ImageSummary", "Containers"),
    ("TaskSpecContainerSpec", "TTY"),       // services now accept TTY
    ("TaskSpecContainerSpec", "DNSConfig"), // … and DNSConfig
    ("ServiceSpecUpdateConfig", "Monitor"), // … Monitor and MaxFailureRatio
    ("ServiceSpecUpdateConfig", "MaxFailureRatio"),
    ("TaskSpec", "ForceUpdate"), // … ForceUpdate inside the TaskTemplate
    // … now return Warnings (v1.25.yaml spells it `Warning` on create; spec/corrections fixes
    // that). ServiceUpdateResponse is defined, unused, in v1.25.yaml, so 1.24 keeps it.
    ("ServiceCreateResponse", "Warnings"),
    ("SwarmSpec", "EncryptionConfig"), // swarm autolock
    ("Plugin", "Enabled"),             // the 1.25 plugin model
    ("Plugin", "Settings"),
];

/// Fields v1.25 removed: present in v1.24, absent in v1.25.
const FIELDS_GONE_IN_1_25: &[(&str, &str)] = &[
    ("ImageRootFs", "BaseLayer"), // GET /images/(name)/json no longer contains RootFS.BaseLayer
    ("Plugin", "Active"),         // the experimental 1.24 plugin model (v1.24.md, 3.6 Plugins)
    ("Plugin", "Tag"),
    ("Plugin", "Manifest"),
];

/// Parameters `(operationId, wire name)` new in v1.25: the changelog's, and those v1.24.md's
/// parameter lists do not have.
const PARAMETERS_NEW_IN_1_25: &[(&str, &str)] = &[
    ("ImageBuild", "networkmode"), // POST /build accepts networkmode
    ("ImageBuild", "cachefrom"),   // POST /build accepts cachefrom
    ("ImageBuild", "squash"),
    ("VolumeDelete", "force"), // DELETE /volumes/(name) now accepts force
    ("SwarmUpdate", "rotateManagerUnlockKey"),
    ("ServiceUpdate", "registryAuthFrom"),
    ("PluginPull", "remote"),
    ("PluginDelete", "force"),
    ("PluginEnable", "timeout"),
];

/// Parameters v1.24.md documents that v1.25.yaml leaves out.
const PARAMETERS_ONLY_IN_1_24_MD: &[(&str, &str)] = &[
    ("ContainerList", "since"),
    ("ContainerList", "before"),
    ("ContainerLogs", "details"),
    ("ContainerDelete", "link"),
    ("ImageList", "filter"),
];

/// Filter values named in parameter descriptions: `(operationId, parameter, text)`.
const FILTERS_NEW_IN_1_25: &[(&str, &str, &str)] = &[
    ("ContainerList", "filters", "`removing`"), // the removing status (State.Status is a plain string until 1.30)
    ("ContainerList", "filters", "health"),     // filtering containers by health status
    ("ContainerList", "filters", "is-task"),    // the is-task filter
    ("ImageList", "filters", "reference"),      // GET /images/json now supports a reference filter
];

fn fields_of<'a>(spec: &'a ApiSpec, ty: &str) -> Vec<&'a str> {
    let (_, def) = spec.type_named(ty).unwrap_or_else(|| panic!("v{}: no type {ty}", spec.version));
    match &def.kind {
        TypeKind::Struct { fields, .. } => fields.iter().map(|f| f.wire_name.as_str()).collect(),
        other => panic!("v{}: {ty} is not a struct: {other:?}", spec.version),
    }
}

fn operation<'a>(spec: &'a ApiSpec, id: &str) -> &'a Operation {
    spec.operation(id).unwrap_or_else(|| panic!("v{}: no operation {id}", spec.version))
}

fn has_parameter(spec: &ApiSpec, op: &str, wire: &str) -> bool {
    operation(spec, op).parameters.iter().any(|p| p.wire_name == wire)
}

/// Checks `present` in one version and absent in the other; returns the failures.
fn check<T: std::fmt::Debug>(items: &[T], has: impl Fn(&ApiSpec, &T) -> bool, old: bool, new: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for item in items {
        for (spec, want) in [(v24(), old), (v25(), new)] {
            let got = has(spec, item);
            if got != want {
                problems.push(format!("{item:?} is {} in v{}", if got { "present" } else { "absent" }, spec.version));
            }
        }
    }
    problems
}

#[test]
fn what_v1_25_added_is_absent_from_v1_24() {
    let endpoints_24 = spec_endpoints(v24());
    let endpoints_25 = spec_endpoints(v25());
    let has_endpoint = |spec: &ApiSpec, (m, p): &(&str, &str)| {
        let set = if spec.version.minor == 24 { &endpoints_24 } else { &endpoints_25 };
        set.contains(&(m.to_string(), p.to_string()))
    };
    let has_field = |spec: &ApiSpec, (ty, wire): &(&str, &str)| fields_of(spec, ty).contains(wire);
    let has_param = |spec: &ApiSpec, (op, wire): &(&str, &str)| has_parameter(spec, op, wire);
    let mentions = |spec: &ApiSpec, (op, param, text): &(&str, &str, &str)| {
        let p = operation(spec, op).parameters.iter().find(|p| p.wire_name == *param);
        let p = p.unwrap_or_else(|| panic!("v{}: {op} has no parameter {param}", spec.version));
        p.description.as_deref().unwrap_or_default().contains(text)
    };

    let mut problems = Vec::new();
    problems.extend(check(NEW_IN_1_25, has_endpoint, false, true));
    problems.extend(check(FIELDS_NEW_IN_1_25, has_field, false, true));
    problems.extend(check(FIELDS_GONE_IN_1_25, has_field, true, false));
    problems.extend(check(PARAMETERS_NEW_IN_1_25, has_param, false, true));
    problems.extend(check(PARAMETERS_ONLY_IN_1_24_MD, has_param, true, false));
    problems.extend(check(FILTERS_NEW_IN_1_25, mentions, false, true));
    assert!(problems.is_empty(), "v1.24 does not revert the v1.25 changes:\n  {}", problems.join("\n  "));
}

#[test]
fn v1_24_plugins_follow_the_experimental_model() {
    // v1.24.md, 3.6 Plugins: inspect is `GET /plugins/(plugin name)`, pull answers the
    // privileges, remove answers an empty 200.
    let spec = v24();
    let inspect = operation(spec, "PluginInspect");
    assert_eq!((inspect.method.as_str(), inspect.path.as_str()), ("GET", "/plugins/{name}"));
    let pull = operation(spec, "PluginPull");
    assert!(pull.request_body.is_none(), "1.24's pull takes no body");
    let name = pull.parameters.iter().find(|p| p.wire_name == "name").expect("PluginPull has `name`");
    assert!(name.required, "1.24's pull requires `name`");
    assert!(pull.responses.iter().any(|r| r.status == Status::Code(200) && r.ty.is_some()), "1.24's pull answers 200 with the privileges");
    let delete = operation(spec, "PluginDelete");
    let ok = delete.responses.iter().find(|r| r.status == Status::Code(200)).expect("PluginDelete answers 200");
    assert!(ok.ty.is_none(), "1.24's remove answers an empty 200");
    for (ty, fields) in [
        ("Plugin", &["Id", "Name", "Tag", "Active", "Config", "Manifest"][..]),
        ("PluginConfig", &["Mounts", "Env", "Args", "Devices"][..]),
    ] {
        assert_eq!(fields_of(spec, ty), fields, "v1.24 {ty}");
    }
    assert!(spec.type_named("PluginInterfaceType").is_none(), "1.24 interface types are strings");
}
