//! Host parsing, environment and context resolution, registry auth headers, Debug
//! redaction and error bodies: everything of the client feature that needs no socket.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use base64::Engine as _;
use moby_api_runtime::client::{
    context_dir_name, ApiVersion, ApiVersionPolicy, Endpoint, Error, Host, RegistryAuth, RegistryConfig, Request, TcpScheme, TlsSettings,
    Transport, MAX_ERROR_BODY,
};

fn tcp(scheme: TcpScheme, host: &str, port: Option<u16>, prefix: &str) -> Host {
    Host::parse(&format!(
        "{}://{}{}{}",
        match scheme {
            TcpScheme::Tcp => "tcp",
            TcpScheme::Http => "http",
            TcpScheme::Https => "https",
        },
        if host.contains(':') { format!("[{host}]") } else { host.to_owned() },
        port.map(|p| format!(":{p}")).unwrap_or_default(),
        prefix
    ))
    .unwrap()
}

fn is_tcp(host: &Host, want_scheme: TcpScheme, want_host: &str, want_port: Option<u16>, want_prefix: &str) -> bool {
    matches!(host, Host::Tcp { scheme, host, port, path_prefix }
        if *scheme == want_scheme && host == want_host && *port == want_port && path_prefix == want_prefix)
}

// --- hosts ---------------------------------------------------------------------------------

#[test]
fn parses_unix_hosts() {
    assert_eq!(Host::parse("unix:///var/run/docker.sock").unwrap(), Host::Unix("/var/run/docker.sock".into()));
    assert_eq!(Host::parse("unix:///tmp/x/docker.sock").unwrap(), Host::Unix("/tmp/x/docker.sock".into()));
    assert_eq!(Host::parse("unix://").unwrap(), Host::default_socket());
    assert_eq!(Host::parse("  UNIX:///a.sock ").unwrap(), Host::Unix("/a.sock".into()));
}

#[test]
fn parses_tcp_http_https_hosts() {
    assert!(is_tcp(&Host::parse("tcp://10.0.0.5:2375").unwrap(), TcpScheme::Tcp, "10.0.0.5", Some(2375), ""));
    assert!(is_tcp(&Host::parse("tcp://docker.example:2376/").unwrap(), TcpScheme::Tcp, "docker.example", Some(2376), ""));
    assert!(is_tcp(&Host::parse("tcp://h:1/some/prefix/").unwrap(), TcpScheme::Tcp, "h", Some(1), "/some/prefix"));
    assert!(is_tcp(&Host::parse("tcp://h").unwrap(), TcpScheme::Tcp, "h", None, ""));
    assert!(is_tcp(&Host::parse("tcp://h:").unwrap(), TcpScheme::Tcp, "h", None, ""));
    assert!(is_tcp(&Host::parse("tcp://:2375").unwrap(), TcpScheme::Tcp, "localhost", Some(2375), ""));
    assert!(is_tcp(&Host::parse("tcp://[::1]:2375").unwrap(), TcpScheme::Tcp, "::1", Some(2375), ""));
    assert!(is_tcp(&Host::parse("tcp://[fe80::1]").unwrap(), TcpScheme::Tcp, "fe80::1", None, ""));
    assert!(is_tcp(&Host::parse("http://h:8080/p").unwrap(), TcpScheme::Http, "h", Some(8080), "/p"));
    assert!(is_tcp(&Host::parse("https://h").unwrap(), TcpScheme::Https, "h", None, ""));
}

#[test]
fn host_display_round_trips() {
    for text in ["unix:///var/run/docker.sock", "tcp://h:2375", "tcp://[::1]:2376/p", "https://h", "http://h:80/a/b"] {
        assert_eq!(Host::parse(text).unwrap().to_string(), text);
    }
    assert_eq!(tcp(TcpScheme::Tcp, "::1", Some(1), "/x").to_string(), "tcp://[::1]:1/x");
}

#[test]
fn refuses_unsupported_and_malformed_hosts() {
    for text in ["npipe:////./pipe/docker_engine", "ssh://me@host", "fd://"] {
        let err = Host::parse(text).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{text}: {err:?}");
        assert!(err.to_string().contains("not") && err.to_string().contains("unsupported here"), "{err}");
    }
    for text in [
        "",
        "/var/run/docker.sock",
        "localhost:2375",
        "ftp://h",
        "tcp://h:x",
        "tcp://h:0",
        "tcp://h:70000",
        "tcp://::1:2375",
        "tcp://[::1",
        "tcp://[::1]x",
        "tcp://h:2375?x=1",
        "tcp://h#f",
        "unix:///a?b",
    ] {
        let err = Host::parse(text).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{text}: {err:?}");
    }
}

#[test]
fn host_errors_never_echo_user_info() {
    let err = Host::parse("tcp://admin:hunter2@h:2375").unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("admin"), "{shown}");
    let err = Host::parse("ssh://admin:hunter2@h").unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

// --- environment ---------------------------------------------------------------------------

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| map.get(k).cloned()
}

fn resolve(pairs: &[(&str, &str)]) -> Result<Endpoint, Error> {
    Endpoint::from_env_with(env(pairs))
}

#[test]
fn default_is_the_local_socket() {
    let home = tempfile::tempdir().unwrap();
    for pairs in [vec![], vec![("DOCKER_HOST", "")], vec![("HOME", home.path().to_str().unwrap())]] {
        let ep = resolve(&pairs).unwrap();
        assert_eq!(ep.host(), &Host::default_socket());
        assert!(ep.tls().is_none() && ep.pinned_version().is_none() && ep.context().is_none());
        assert_eq!(ep.base_url(), "http://api.moby.localhost");
    }
}

#[test]
fn docker_host_plain_tcp() {
    let ep = resolve(&[("DOCKER_HOST", "tcp://10.1.2.3:2375")]).unwrap();
    assert!(ep.tls().is_none());
    assert_eq!(ep.base_url(), "http://10.1.2.3:2375");
    let ep = resolve(&[("DOCKER_HOST", "tcp://h")]).unwrap();
    assert_eq!(ep.base_url(), "http://h:2375");
    let ep = resolve(&[("DOCKER_HOST", "tcp://[::1]:2375/pre/")]).unwrap();
    assert_eq!(ep.base_url(), "http://[::1]:2375/pre");
    let ep = resolve(&[("DOCKER_HOST", "http://h")]).unwrap();
    assert_eq!(ep.base_url(), "http://h:80");
}

fn write_certs(dir: &Path, files: &[&str]) {
    fs::create_dir_all(dir).unwrap();
    for f in files {
        fs::write(dir.join(f), format!("-----BEGIN X-----\n{f}\n-----END X-----\n")).unwrap();
    }
}

#[test]
fn tls_verify_and_cert_path_from_env() {
    let certs = tempfile::tempdir().unwrap();
    write_certs(certs.path(), &["ca.pem", "cert.pem", "key.pem"]);
    let dir = certs.path().to_str().unwrap();

    let ep = resolve(&[("DOCKER_HOST", "tcp://h"), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", dir)]).unwrap();
    let tls = ep.tls().expect("TLS");
    assert!(tls.verify() && tls.ca_pem().is_some() && tls.has_client_cert());
    assert_eq!(tls.dir(), Some(certs.path()));
    assert_eq!(ep.base_url(), "https://h:2376");

    // DOCKER_CERT_PATH alone: TLS without verification (the Go client's FromEnv).
    let ep = resolve(&[("DOCKER_HOST", "tcp://h:2375"), ("DOCKER_CERT_PATH", dir)]).unwrap();
    assert!(!ep.tls().unwrap().verify());
    assert_eq!(ep.base_url(), "https://h:2375");

    // Any non-empty DOCKER_TLS_VERIFY verifies, even "0"; empty is unset.
    let ep = resolve(&[("DOCKER_HOST", "tcp://h:2375"), ("DOCKER_TLS_VERIFY", "0")]).unwrap();
    assert!(ep.tls().unwrap().verify());
    let ep = resolve(&[("DOCKER_HOST", "tcp://h:2375"), ("DOCKER_TLS_VERIFY", "")]).unwrap();
    assert!(ep.tls().is_none());

    // TLS settings never apply to a unix socket.
    let ep = resolve(&[("DOCKER_HOST", "unix:///s"), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", dir)]).unwrap();
    assert!(ep.tls().is_none() && !ep.uses_tls());
}

#[test]
fn tls_port_and_https_imply_tls() {
    let home = tempfile::tempdir().unwrap();
    write_certs(&home.path().join(".docker"), &["ca.pem", "cert.pem", "key.pem"]);
    let h = home.path().to_str().unwrap();

    // Port 2376 is the TLS port: TLS, files from ~/.docker, verification only on request.
    let ep = resolve(&[("DOCKER_HOST", "tcp://h:2376"), ("HOME", h)]).unwrap();
    let tls = ep.tls().unwrap();
    assert!(!tls.verify() && tls.has_client_cert());
    assert_eq!(tls.dir(), Some(home.path().join(".docker").as_path()));
    assert_eq!(ep.base_url(), "https://h:2376");

    // https:// verifies (Go's default transport) unless DOCKER_CERT_PATH asks otherwise.
    let ep = resolve(&[("DOCKER_HOST", "https://h"), ("HOME", h)]).unwrap();
    assert!(ep.tls().unwrap().verify());
    assert_eq!(ep.base_url(), "https://h:443");

    // DOCKER_CONFIG moves the default certificate directory too.
    let config = tempfile::tempdir().unwrap();
    let ep = resolve(&[("DOCKER_HOST", "tcp://h:2376"), ("HOME", h), ("DOCKER_CONFIG", config.path().to_str().unwrap())]).unwrap();
    assert!(!ep.tls().unwrap().has_client_cert());

    // No HOME at all: TLS still on, with no files.
    let ep = resolve(&[("DOCKER_HOST", "tcp://h:2376")]).unwrap();
    assert!(ep.tls().unwrap().ca_pem().is_none());
}

#[test]
fn tls_file_problems_are_errors() {
    let certs = tempfile::tempdir().unwrap();
    write_certs(certs.path(), &["cert.pem"]);
    let err = resolve(&[("DOCKER_HOST", "tcp://h"), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", certs.path().to_str().unwrap())])
        .unwrap_err();
    assert!(err.to_string().contains("cert.pem but no key.pem"), "{err}");

    let err = resolve(&[("DOCKER_HOST", "tcp://h"), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", "/nonexistent/certs")]).unwrap_err();
    assert!(err.to_string().contains("DOCKER_CERT_PATH"), "{err}");
}

#[test]
fn api_version_pins() {
    for (text, want) in [("1.41", ApiVersion::new(1, 41)), ("v1.30", ApiVersion::new(1, 30))] {
        let ep = resolve(&[("DOCKER_API_VERSION", text)]).unwrap();
        assert_eq!(ep.pinned_version(), Some(want));
        assert_eq!(ApiVersionPolicy::new(ApiVersion::new(1, 49), ep.pinned_version()), ApiVersionPolicy::Pinned(want));
    }
    assert_eq!(resolve(&[("DOCKER_API_VERSION", "")]).unwrap().pinned_version(), None);
    let err = resolve(&[("DOCKER_API_VERSION", "latest")]).unwrap_err();
    assert!(err.to_string().contains("DOCKER_API_VERSION"), "{err}");
    // The pin holds for DOCKER_HOST endpoints and contexts alike.
    let ep = resolve(&[("DOCKER_API_VERSION", "1.25"), ("DOCKER_HOST", "tcp://h:1")]).unwrap();
    assert_eq!(ep.pinned_version(), Some(ApiVersion::new(1, 25)));
}

// --- contexts ------------------------------------------------------------------------------

/// A fake ~/.docker: config.json with `current`, and one context per (name, host, skip).
fn docker_dir(current: Option<&str>, contexts: &[(&str, &str, bool)]) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".docker");
    fs::create_dir_all(&dir).unwrap();
    let config = match current {
        Some(c) => serde_json::json!({"auths": {}, "currentContext": c}),
        None => serde_json::json!({"auths": {}}),
    };
    fs::write(dir.join("config.json"), config.to_string()).unwrap();
    for (name, host, skip) in contexts {
        let meta = dir.join("contexts/meta").join(context_dir_name(name));
        fs::create_dir_all(&meta).unwrap();
        let json = serde_json::json!({
            "Name": name,
            "Metadata": {"Description": "test"},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip}}
        });
        fs::write(meta.join("meta.json"), json.to_string()).unwrap();
    }
    home
}

fn home_env(home: &tempfile::TempDir) -> (&'static str, String) {
    ("HOME", home.path().to_str().unwrap().to_owned())
}

fn resolve_owned(pairs: Vec<(&str, String)>) -> Result<Endpoint, Error> {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    resolve(&pairs)
}

#[test]
fn context_dir_is_the_sha256_of_the_name() {
    // sha256("default") and sha256("desktop-linux"), as the CLI names the directories.
    assert_eq!(context_dir_name("default"), "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f");
    assert_eq!(context_dir_name("desktop-linux"), "fe9c6bd7a66301f49ca9b6a70b217107cd1284598bfc254700c989b916da791e");
}

#[test]
fn current_context_from_config_json() {
    let home = docker_dir(Some("remote"), &[("remote", "tcp://remote.example:2375", false)]);
    let ep = resolve_owned(vec![home_env(&home)]).unwrap();
    assert_eq!(ep.context(), Some("remote"));
    assert!(is_tcp(ep.host(), TcpScheme::Tcp, "remote.example", Some(2375), ""));
    assert!(ep.tls().is_none());
}

#[test]
fn docker_context_env_beats_config_and_docker_host_beats_both() {
    let home = docker_dir(Some("one"), &[("one", "tcp://one:2375", false), ("two", "unix:///two.sock", false)]);
    let ep = resolve_owned(vec![home_env(&home), ("DOCKER_CONTEXT", "two".into())]).unwrap();
    assert_eq!(ep.host(), &Host::Unix("/two.sock".into()));
    assert_eq!(ep.context(), Some("two"));

    let ep = resolve_owned(vec![home_env(&home), ("DOCKER_CONTEXT", "two".into()), ("DOCKER_HOST", "unix:///env.sock".into())]).unwrap();
    assert_eq!(ep.host(), &Host::Unix("/env.sock".into()));
    assert_eq!(ep.context(), None);

    // DOCKER_HOST wins even when the selected context does not exist.
    let ep = resolve_owned(vec![home_env(&home), ("DOCKER_CONTEXT", "missing".into()), ("DOCKER_HOST", "tcp://h:1".into())]).unwrap();
    assert!(is_tcp(ep.host(), TcpScheme::Tcp, "h", Some(1), ""));
}

#[test]
fn default_context_is_the_default_socket() {
    let home = docker_dir(Some("default"), &[]);
    let ep = resolve_owned(vec![home_env(&home)]).unwrap();
    assert_eq!(ep.host(), &Host::default_socket());
    assert_eq!(ep.context(), Some("default"));
    let home = docker_dir(Some("other"), &[("other", "tcp://o:2375", false)]);
    let ep = resolve_owned(vec![home_env(&home), ("DOCKER_CONTEXT", "default".into())]).unwrap();
    assert_eq!(ep.host(), &Host::default_socket());
}

#[test]
fn docker_config_moves_the_config_directory() {
    let home = docker_dir(Some("remote"), &[("remote", "tcp://remote:2375", false)]);
    let elsewhere = home.path().join(".docker");
    let ep = resolve_owned(vec![("HOME", "/nonexistent".into()), ("DOCKER_CONFIG", elsewhere.to_str().unwrap().into())]).unwrap();
    assert_eq!(ep.context(), Some("remote"));
}

#[test]
fn context_tls_files_and_skip_verify() {
    let home = docker_dir(
        None,
        &[("secure", "tcp://secure.example:2376", false), ("skip", "tcp://skip.example:2376", true), ("bare", "tcp://bare:2375", true)],
    );
    let docker = home.path().join(".docker");
    let tls_dir = docker.join("contexts/tls").join(context_dir_name("secure")).join("docker");
    write_certs(&tls_dir, &["ca.pem", "cert.pem", "key.pem"]);

    let ep = resolve_owned(vec![home_env(&home), ("DOCKER_CONTEXT", "secure".into())]).unwrap();
    let tls = ep.tls().unwrap();
    assert!(tls.verify() && tls.ca_pem().is_some() && tls.has_client_cert());
    assert_eq!(tls.dir(), Some(tls_dir.as_path()));
    assert_eq!(ep.base_url(), "https://secure.example:2376");

    let ep = resolve_owned(vec![home_env(&home), ("DOCKER_CONTEXT", "skip".into())]).unwrap();
    assert!(!ep.tls().unwrap().verify() && !ep.tls().unwrap().has_client_cert());

    // SkipTLSVerify alone turns TLS on (the CLI builds a TLS config for it).
    let ep = resolve_owned(vec![home_env(&home), ("DOCKER_CONTEXT", "bare".into())]).unwrap();
    assert_eq!(ep.base_url(), "https://bare:2375");

    // The environment's TLS variables do not apply to contexts.
    let ep = resolve_owned(vec![home_env(&home), ("DOCKER_CONTEXT", "skip".into()), ("DOCKER_TLS_VERIFY", "1".into())]).unwrap();
    assert!(!ep.tls().unwrap().verify());
}

#[test]
fn context_problems_are_clear_errors() {
    let home = docker_dir(Some("gone"), &[("ssh", "ssh://me@box", false)]);
    let err = resolve_owned(vec![home_env(&home)]).unwrap_err();
    assert!(err.to_string().contains("context `gone` not found"), "{err}");

    let err = resolve_owned(vec![home_env(&home), ("DOCKER_CONTEXT", "ssh".into())]).unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)) && err.to_string().contains("context `ssh`"), "{err}");

    let err = resolve(&[("DOCKER_CONTEXT", "x")]).unwrap_err();
    assert!(err.to_string().contains("neither DOCKER_CONFIG nor HOME"), "{err}");

    let broken = tempfile::tempdir().unwrap();
    fs::create_dir_all(broken.path().join(".docker")).unwrap();
    fs::write(broken.path().join(".docker/config.json"), "{not json").unwrap();
    let err = resolve_owned(vec![home_env(&broken)]).unwrap_err();
    assert!(err.to_string().contains("config.json"), "{err}");

    let no_docker = docker_dir(None, &[]);
    let meta = no_docker.path().join(".docker/contexts/meta").join(context_dir_name("k8s"));
    fs::create_dir_all(&meta).unwrap();
    fs::write(meta.join("meta.json"), r#"{"Name":"k8s","Endpoints":{"kubernetes":{}}}"#).unwrap();
    let err = resolve_owned(vec![home_env(&no_docker), ("DOCKER_CONTEXT", "k8s".into())]).unwrap_err();
    assert!(err.to_string().contains("no docker endpoint"), "{err}");
}

// --- registry auth -------------------------------------------------------------------------

#[test]
fn registry_auth_header_is_padded_base64url_of_the_daemon_json() {
    // Chosen so that the JSON's standard base64 holds both `+` and `/` and needs padding:
    // the daemon decodes with base64.URLEncoding and would reject `+` and `/`.
    let auth = RegistryAuth::with_password("me", "?>?>x", "registry.example:5000");
    let json = serde_json::to_string(&auth).unwrap();
    assert_eq!(json, r#"{"username":"me","password":"?>?>x","serveraddress":"registry.example:5000"}"#);
    let standard = base64::engine::general_purpose::STANDARD.encode(&json);
    assert!(standard.contains('+') && standard.contains('/'), "{standard}");

    let header = auth.to_header();
    assert!(!header.contains('+') && !header.contains('/'), "{header}");
    assert_eq!(header, standard.replace('+', "-").replace('/', "_"));
    assert!(header.ends_with('='), "padded: {header}");
    assert_eq!(header.len() % 4, 0);
    assert_eq!(base64::engine::general_purpose::URL_SAFE.decode(&header).unwrap(), json.as_bytes());
    assert_eq!(RegistryAuth::from_header(&header).unwrap(), auth);
    assert_eq!(RegistryAuth::from_header(header.trim_end_matches('=')).unwrap(), auth);
    assert!(RegistryAuth::from_header(&standard).is_err());
}

#[test]
fn registry_auth_field_names_are_the_daemons() {
    let auth = RegistryAuth {
        username: "u".into(),
        password: "p".into(),
        auth: "dTpw".into(),
        email: "e@x".into(),
        serveraddress: "s".into(),
        identitytoken: "i".into(),
        registrytoken: "r".into(),
    };
    let value = serde_json::to_value(&auth).unwrap();
    let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec!["username", "password", "auth", "email", "serveraddress", "identitytoken", "registrytoken"];
    want.sort();
    let mut got = keys.clone();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(serde_json::to_string(&RegistryAuth::default()).unwrap(), "{}");
    assert_eq!(
        serde_json::to_string(&RegistryAuth::with_identity_token("tok", "r")).unwrap(),
        r#"{"serveraddress":"r","identitytoken":"tok"}"#
    );
}

#[test]
fn registry_config_header() {
    let mut config = RegistryConfig::new();
    config.insert("registry.example:5000", RegistryAuth::with_password("a", "b", "registry.example:5000"));
    config.insert("docker.io", RegistryAuth::with_identity_token("t", "docker.io"));
    let header = config.to_header();
    let json = base64::engine::general_purpose::URL_SAFE.decode(&header).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(value["registry.example:5000"]["password"], "b");
    assert_eq!(value["docker.io"]["identitytoken"], "t");
    assert_eq!(RegistryConfig::from_header(&header).unwrap(), config);
}

#[test]
fn debug_redacts_secrets() {
    let auth = RegistryAuth {
        username: "alice".into(),
        password: "s3cret-pw".into(),
        auth: "YWxpY2U6czNjcmV0LXB3".into(),
        email: "a@x".into(),
        serveraddress: "reg".into(),
        identitytoken: "id-tok-123".into(),
        registrytoken: "reg-tok-456".into(),
    };
    let mut config = RegistryConfig::new();
    config.insert("reg", auth.clone());
    let key = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n";
    let tls = TlsSettings::new(true).with_ca_pem("ca").with_client_cert("cert", key);
    let request = Request::post("/build").query("buildargs", r#"{"TOKEN":"build-secret"}"#).registry_auth(&auth).registry_config(&config);
    let endpoint = Endpoint::new(Host::parse("tcp://h:2376").unwrap()).with_tls(Some(tls.clone()));

    let printed = format!("{auth:?} {config:?} {tls:?} {request:?} {endpoint:?} {auth:#?}");
    for secret in ["s3cret-pw", "YWxpY2U6", "id-tok-123", "reg-tok-456", "TOPSECRETKEYMATERIAL", "build-secret", &auth.to_header()[..12]] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    assert!(printed.contains("alice") && printed.contains("<redacted>") && printed.contains("buildargs"), "{printed}");
    let empty = format!("{:?}", RegistryAuth::default());
    assert!(!empty.contains("redacted"), "{empty}");
}

// --- error bodies --------------------------------------------------------------------------

#[test]
fn json_error_bodies_become_api_errors() {
    let err = Error::from_body(404, Some("application/json"), br#"{"message":"No such container: nope"}"#);
    assert!(matches!(&err, Error::Api { status: 404, message } if message == "No such container: nope"), "{err:?}");
    assert_eq!(err.status(), Some(404));
    assert!(err.is_not_found());
    assert_eq!(err.to_string(), "Docker daemon answered 404: No such container: nope");
    let err = Error::from_body(400, Some("Application/JSON; charset=utf-8"), br#"{"message":"bad"}"#);
    assert!(matches!(err, Error::Api { status: 400, .. }), "{err:?}");
}

#[test]
fn other_error_bodies_are_unexpected_responses() {
    // Text, even when it looks like JSON: the Go client parses only when the header says so.
    let err = Error::from_body(400, Some("text/plain; charset=utf-8"), b"client version 1.11 is too old\n");
    assert!(
        matches!(&err, Error::UnexpectedResponse { status: 400, body, truncated: false, .. } if body.starts_with("client version")),
        "{err:?}"
    );
    assert!(err.to_string().contains("client version 1.11 is too old"), "{err}");
    let err = Error::from_body(500, None, br#"{"message":"no content type"}"#);
    assert!(matches!(err, Error::UnexpectedResponse { status: 500, .. }), "{err:?}");
    // JSON without a message, with an empty one, or not JSON at all.
    for body in [&br#"{"error":"x"}"#[..], br#"{"message":""}"#, b"{broken", b"", br#"["message"]"#] {
        let err = Error::from_body(502, Some("application/json"), body);
        assert!(matches!(err, Error::UnexpectedResponse { status: 502, .. }), "{err:?}");
    }
    let err = Error::from_body(503, Some("text/html"), b"<html>proxy</html>");
    assert_eq!(err.to_string(), "unexpected answer 503 from the Docker daemon (text/html): <html>proxy</html>");
    // Invalid UTF-8 does not panic.
    let err = Error::from_body(500, Some("text/plain"), &[0xff, 0xfe, b'x']);
    assert!(err.to_string().contains('x'));
}

#[test]
fn oversize_error_bodies_are_not_parsed() {
    let mut body = br#"{"message":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', MAX_ERROR_BODY));
    body.extend_from_slice(br#""}"#);
    let err = Error::from_body(500, Some("application/json"), &body);
    match &err {
        Error::UnexpectedResponse { status: 500, body, truncated: true, .. } => assert_eq!(body.len(), 4096),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().len() < 400, "{err}");
    // Exactly at the limit is still parsed.
    let mut body = br#"{"message":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', MAX_ERROR_BODY - 14));
    body.extend_from_slice(br#""}"#);
    assert_eq!(body.len(), MAX_ERROR_BODY);
    assert!(matches!(Error::from_body(500, Some("application/json"), &body), Error::Api { .. }));
}

// --- transport construction ----------------------------------------------------------------

#[test]
fn transports_build_for_every_kind_of_endpoint() {
    let max = ApiVersion::new(1, 49);
    for host in ["unix:///nonexistent/docker.sock", "tcp://127.0.0.1:9", "https://127.0.0.1:9", "tcp://h:2376/prefix"] {
        let endpoint = Endpoint::new(Host::parse(host).unwrap());
        if endpoint.uses_tls() && !cfg!(feature = "tls") {
            continue;
        }
        let transport = Transport::new(endpoint, max).unwrap();
        assert_eq!(transport.policy(), ApiVersionPolicy::Negotiate { max });
        assert_eq!(transport.known_api_version(), None);
    }
    let pinned = Endpoint::new(Host::default_socket()).with_pinned_version(Some(ApiVersion::new(1, 30)));
    let transport = Transport::new(pinned, max).unwrap();
    assert_eq!(transport.known_api_version(), Some(ApiVersion::new(1, 30)));
    assert_eq!(
        transport.url(transport.known_api_version(), "/containers/json").unwrap().as_str(),
        "http://api.moby.localhost/v1.30/containers/json"
    );
    let t = Transport::new(Endpoint::new(Host::parse("tcp://h:1/pre").unwrap()), max).unwrap();
    assert_eq!(t.url(Some(ApiVersion::new(1, 41)), "images/a/b:1/json").unwrap().as_str(), "http://h:1/pre/v1.41/images/a/b:1/json");
    assert_eq!(t.url(None, "/_ping").unwrap().as_str(), "http://h:1/pre/_ping");
}

/// Without the `tls` feature every kind of TLS endpoint is refused at build time, with the
/// feature's name; with it, they build.
#[test]
fn tls_endpoints_need_the_tls_feature() {
    let endpoints = [
        Endpoint::new(Host::parse("https://h:1").unwrap()),
        resolve(&[("DOCKER_HOST", "tcp://h:2376")]).unwrap(),
        Endpoint::new(Host::parse("tcp://h:1").unwrap()).with_tls(Some(TlsSettings::new(false))),
    ];
    for endpoint in endpoints {
        let built = Transport::new(endpoint, ApiVersion::new(1, 41));
        if cfg!(feature = "tls") {
            built.unwrap();
        } else {
            let err = built.unwrap_err();
            assert!(matches!(err, Error::Unsupported(_)) && err.to_string().contains("the `tls` feature of moby-api"), "{err}");
        }
    }
}

#[cfg(feature = "tls")]
#[test]
fn bad_certificates_fail_at_build_time() {
    let endpoint = |tls: TlsSettings| Endpoint::new(Host::parse("tcp://h:2376").unwrap()).with_tls(Some(tls));
    let err = Transport::new(endpoint(TlsSettings::new(true).with_ca_pem("not a pem")), ApiVersion::new(1, 41)).unwrap_err();
    assert!(matches!(err, Error::Tls(_)) && err.to_string().contains("ca.pem"), "{err}");
    let key = "-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----\n";
    let err = Transport::new(endpoint(TlsSettings::new(false).with_client_cert("nope", key)), ApiVersion::new(1, 41)).unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err}");
    assert!(!format!("{err} {err:?}").contains("TOPSECRET"));
}
