//! Every runtime type that holds a credential, filled with a known secret: its `Debug`
//! output must not contain the secret, in any encoding it travels in (plain, base64 of a
//! header). The scan itself is checked on unredacted controls, so it can fail.

use moby_api_runtime::client::{Endpoint, Host, RegistryAuth, RegistryConfig, Request, TlsSettings, Transport};
use moby_api_runtime::secret::Secret;
use moby_api_runtime::server::axum::body::Body;
use moby_api_runtime::server::axum::http::{HeaderMap, HeaderValue, Method, Uri};
use moby_api_runtime::server::{ApiVersion, Context, Incoming, Query};

const SECRET: &str = "s3cr3t-hunter2-Zq9";

/// The forms the secret travels in: as it is, percent-encoded in a query, and inside the
/// base64url of a registry auth header.
fn forms() -> Vec<String> {
    let auth = RegistryAuth::with_password("someone", SECRET, "registry.example.com");
    vec![SECRET.to_owned(), "s3cr3t%2Dhunter2".to_owned(), auth.to_header()]
}

/// The form of the secret that `debug` shows, if any.
fn shown(debug: &str) -> Option<String> {
    forms().into_iter().find(|form| debug.contains(form))
}

fn assert_redacted(what: &str, debug: String) {
    if let Some(form) = shown(&debug) {
        panic!("the Debug output of {what} shows the secret ({form}):\n{debug}");
    }
}

/// The scan, on something that does show the secret: it must find it.
fn assert_scan_finds(what: &str, debug: String) {
    assert!(shown(&debug).is_some(), "the scan did not find the secret in the unredacted {what}: {debug}");
}

fn context() -> Context {
    let auth = RegistryAuth::with_password("someone", SECRET, "registry.example.com");
    let mut config = RegistryConfig::new();
    config.insert("registry.example.com", auth.clone());
    let mut headers = HeaderMap::new();
    headers.insert("x-registry-auth", HeaderValue::from_str(&auth.to_header()).unwrap());
    headers.insert("x-registry-config", HeaderValue::from_str(&config.to_header()).unwrap());
    headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {SECRET}")).unwrap());
    headers.insert("content-type", HeaderValue::from_static("application/x-tar"));
    Context {
        api_version: ApiVersion::new(1, 41),
        versioned: true,
        method: Method::POST,
        uri: format!("/v1.41/build?t=app&buildargs=%7B%22TOKEN%22%3A%22{SECRET}%22%7D").parse::<Uri>().unwrap(),
        headers,
        operation: "ImageBuild",
    }
}

#[test]
fn server_request_views_redact_credentials() {
    let context = context();
    let debug = format!("{context:?}");
    assert_redacted("Context", debug.clone());
    // What is not secret stays readable.
    assert!(debug.contains("t=app") && debug.contains("application/x-tar") && debug.contains("ImageBuild"), "{debug}");
    let incoming = Incoming::new(context.clone(), vec![("name".into(), "app".into())], Body::empty(), 1024);
    assert_redacted("Incoming", format!("{incoming:?}"));
    assert_redacted("Query", format!("{:?}", Query::parse(&format!("buildargs={SECRET}&t=x"))));

    // Controls: the raw parts show it.
    assert_scan_finds("HeaderMap", format!("{:?}", context.headers));
    assert_scan_finds("Uri", format!("{:?}", context.uri));
}

#[test]
fn client_types_redact_credentials() {
    let auth = RegistryAuth {
        identitytoken: SECRET.into(),
        registrytoken: SECRET.into(),
        auth: SECRET.into(),
        ..RegistryAuth::with_password("someone", SECRET, "r")
    };
    assert_redacted("RegistryAuth", format!("{auth:?}"));
    let mut config = RegistryConfig::new();
    config.insert("registry.example.com", auth.clone());
    assert_redacted("RegistryConfig", format!("{config:?}"));

    let request = Request::post("/build")
        .query("buildargs", format!("{{\"TOKEN\":\"{SECRET}\"}}"))
        .registry_auth(&auth)
        .registry_config(&config)
        .text_header("Authorization", &format!("Bearer {SECRET}"))
        .unwrap();
    assert_redacted("Request", format!("{request:?}"));

    let key = format!("-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n");
    let tls = TlsSettings::new(true).with_client_cert("-----BEGIN CERTIFICATE-----\n", key.clone());
    assert_redacted("TlsSettings", format!("{tls:?}"));
    let endpoint = Endpoint::new(Host::parse("tcp://127.0.0.1:2376").unwrap()).with_tls(Some(tls));
    assert_redacted("Endpoint", format!("{endpoint:?}"));
    assert_redacted("TransportBuilder", format!("{:?}", Transport::builder(endpoint, ApiVersion::new(1, 41))));

    assert_redacted("Secret<String>", format!("{:?}", Secret::<String>::from(SECRET)));

    // Controls: the same values, unwrapped, show it.
    assert_scan_finds("String", format!("{:?}", SECRET.to_owned()));
    assert_scan_finds("the key", format!("{key:?}"));
    assert_scan_finds(
        "an auth header",
        format!("{:?}", RegistryAuth::with_password("someone", SECRET, "registry.example.com").to_header()),
    );
}
