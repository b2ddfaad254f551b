//! The transport against a scripted fake daemon on a unix socket, on loopback TCP and on
//! loopback TCP with mutual TLS: negotiation (once, lazily, downgrade only, fallbacks),
//! version prefixes, error answers, head timeouts that spare streaming bodies, connection
//! reuse, headers, the certificate settings, and the connections of their own that
//! streamed responses get (many small chunks, closing, the same headers, errors).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::StreamExt as _;
use moby_api_runtime::client::header::HeaderValue;
use moby_api_runtime::client::{
    ApiVersion, ApiVersionPolicy, Endpoint, Error, Host, Method, RegistryAuth, Request, TlsSettings, Transport, TtySource, MAX_ERROR_BODY,
};
use moby_api_runtime::stream::StdStream;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::net::{TcpListener, UnixListener};

const MAX: ApiVersion = ApiVersion::new(1, 49);

// --- the fake daemon -------------------------------------------------------------------------

mod fake_daemon;
use fake_daemon::{read_request, write_chunked, write_full, Seen};

#[derive(Clone)]
enum Reply {
    Full { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    DelayHead(Duration, Box<Reply>),
    Chunked { status: u16, headers: Vec<(String, String)>, chunks: Vec<Vec<u8>>, gap: Duration },
    Hangup,
}

impl Reply {
    fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full { status, headers: vec![("Content-Type".into(), "application/json".into())], body: body.into() }
    }

    fn text(status: u16, body: &str) -> Reply {
        Reply::Full { status, headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())], body: body.into() }
    }

    fn ping(version: Option<&str>) -> Reply {
        let mut headers = vec![("Content-Type".to_owned(), "text/plain; charset=utf-8".to_owned()), ("Ostype".into(), "linux".into())];
        if let Some(v) = version {
            headers.push(("Api-Version".into(), v.into()));
        }
        Reply::Full { status: 200, headers, body: b"OK".to_vec() }
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

#[derive(Default)]
struct Log {
    connections: AtomicUsize,
    /// Connections that ended: closed by the client, hung up on, or given up after a failed write.
    closed: AtomicUsize,
    requests: Mutex<Vec<Seen>>,
}

struct FakeDaemon {
    log: Arc<Log>,
    task: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeDaemon {
    fn unix(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> (FakeDaemon, Endpoint) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let log = Arc::new(Log::default());
        let handler: Handler = Arc::new(handler);
        let task = tokio::spawn({
            let log = log.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    log.connections.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(serve(stream, handler.clone(), log.clone()));
                }
            }
        });
        let endpoint = Endpoint::new(Host::Unix(path));
        (FakeDaemon { log, task, _dir: Some(dir) }, endpoint)
    }

    async fn tcp(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static, tls: Option<Arc<rustls::ServerConfig>>) -> (FakeDaemon, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Log::default());
        let handler: Handler = Arc::new(handler);
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let task = tokio::spawn({
            let log = log.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    log.connections.fetch_add(1, Ordering::SeqCst);
                    let (handler, log) = (handler.clone(), log.clone());
                    match &acceptor {
                        None => drop(tokio::spawn(serve(stream, handler, log))),
                        Some(acceptor) => {
                            let acceptor = acceptor.clone();
                            tokio::spawn(async move {
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    serve(stream, handler, log).await;
                                }
                            });
                        }
                    }
                }
            }
        });
        (FakeDaemon { log, task, _dir: None }, port)
    }

    fn requests(&self) -> Vec<Seen> {
        self.log.requests.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        self.log.connections.load(Ordering::SeqCst)
    }

    fn closed(&self) -> usize {
        self.log.closed.load(Ordering::SeqCst)
    }

    fn pings(&self) -> usize {
        self.requests().iter().filter(|r| r.path().ends_with("/_ping")).count()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(stream: S, handler: Handler, log: Arc<Log>) {
    let mut stream = BufReader::new(stream);
    while let Some(seen) = read_request(&mut stream).await {
        log.requests.lock().unwrap().push(seen.clone());
        let mut reply = handler(&seen);
        if let Reply::DelayHead(delay, inner) = reply {
            tokio::time::sleep(delay).await;
            reply = *inner;
        }
        let ok = match reply {
            Reply::Hangup => break,
            Reply::DelayHead(..) => unreachable!("one level of delay"),
            Reply::Full { status, headers, body } => write_full(&mut stream, &seen, status, headers, &body).await,
            Reply::Chunked { status, headers, chunks, gap } => write_chunked(&mut stream, status, headers, chunks, gap).await,
        };
        if !ok {
            break;
        }
    }
    log.closed.fetch_add(1, Ordering::SeqCst);
}

/// A daemon that speaks `version` (`None`: no API-Version header) and answers every other
/// request with `{"path": <request path>}`.
fn engine(version: Option<&'static str>) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen: &Seen| {
        if seen.path().ends_with("/_ping") {
            Reply::ping(version)
        } else {
            Reply::json(200, serde_json::json!({"path": seen.path()}).to_string())
        }
    }
}

async fn path_of(transport: &Transport, path: &str) -> String {
    let value: serde_json::Value = transport.send_json(Request::get(path)).await.unwrap();
    value["path"].as_str().unwrap().to_owned()
}

// --- negotiation ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negotiates_once_for_concurrent_first_requests() {
    let (daemon, endpoint) = FakeDaemon::unix(|seen: &Seen| {
        if seen.path() == "/_ping" {
            // Slow enough that every task arrives while the first ping is in flight.
            Reply::DelayHead(Duration::from_millis(200), Box::new(Reply::ping(Some("1.41"))))
        } else {
            Reply::json(200, serde_json::json!({"path": seen.path()}).to_string())
        }
    });
    let transport = Transport::new(endpoint, MAX).unwrap();
    assert_eq!(transport.known_api_version(), None);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let t = transport.clone();
            tokio::spawn(async move { path_of(&t, &format!("/containers/c{i}/json")).await })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap(), format!("/v1.41/containers/c{i}/json"));
    }
    assert_eq!(daemon.pings(), 1, "{:?}", daemon.requests());
    assert_eq!(daemon.requests()[0].method, "HEAD");
    assert_eq!(transport.known_api_version(), Some(ApiVersion::new(1, 41)));
    assert_eq!(transport.api_version().await.unwrap(), ApiVersion::new(1, 41));
    assert_eq!(daemon.pings(), 1);
    for seen in daemon.requests() {
        assert_eq!(seen.headers["host"], "api.moby.localhost");
        assert!(seen.headers["user-agent"].starts_with("moby-api-runtime/"));
    }
}

#[tokio::test]
async fn negotiation_only_downgrades() {
    for (server, want) in
        [(Some("1.41"), ApiVersion::new(1, 41)), (Some("1.52"), MAX), (Some("1.49"), MAX), (Some(" 1.9 "), ApiVersion::new(1, 9))]
    {
        let (_daemon, endpoint) = FakeDaemon::unix(engine(server));
        let transport = Transport::new(endpoint, MAX).unwrap();
        assert_eq!(transport.api_version().await.unwrap(), want, "server {server:?}");
        assert_eq!(path_of(&transport, "/info").await, format!("/v{want}/info"));
    }
}

#[tokio::test]
async fn missing_api_version_header_means_1_24() {
    let (_daemon, endpoint) = FakeDaemon::unix(engine(None));
    let transport = Transport::new(endpoint, MAX).unwrap();
    assert_eq!(transport.api_version().await.unwrap(), ApiVersion::new(1, 24));
    assert_eq!(path_of(&transport, "/version").await, "/v1.24/version");
}

#[tokio::test]
async fn failed_head_falls_back_to_get() {
    let (daemon, endpoint) = FakeDaemon::unix(|seen: &Seen| match (seen.method.as_str(), seen.path()) {
        ("HEAD", _) => Reply::json(404, r#"{"message":"page not found"}"#),
        ("GET", "/_ping") => Reply::ping(Some("1.40")),
        _ => Reply::json(200, "{}"),
    });
    let transport = Transport::new(endpoint, MAX).unwrap();
    assert_eq!(transport.api_version().await.unwrap(), ApiVersion::new(1, 40));
    let methods: Vec<String> = daemon.requests().iter().map(|r| format!("{} {}", r.method, r.target)).collect();
    assert_eq!(methods, ["HEAD /_ping", "GET /_ping"]);

    // A HEAD that hangs up is retried as GET too.
    let (daemon, endpoint) = FakeDaemon::unix(|seen: &Seen| if seen.method == "HEAD" { Reply::Hangup } else { Reply::ping(Some("1.38")) });
    let transport = Transport::new(endpoint, MAX).unwrap();
    assert_eq!(transport.api_version().await.unwrap(), ApiVersion::new(1, 38));
    assert_eq!(daemon.pings(), 2);
}

#[tokio::test]
async fn failed_negotiation_is_retried_by_the_next_request() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (daemon, endpoint) = FakeDaemon::unix({
        let calls = calls.clone();
        move |seen: &Seen| {
            if seen.path() == "/_ping" && calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Reply::text(500, "starting up")
            } else {
                engine(Some("1.41"))(seen)
            }
        }
    });
    let transport = Transport::new(endpoint, MAX).unwrap();
    let err = transport.send(Request::get("/info")).await.unwrap_err();
    assert!(matches!(&err, Error::UnexpectedResponse { status: 500, body, .. } if body == "starting up"), "{err:?}");
    assert_eq!(transport.known_api_version(), None);
    assert_eq!(path_of(&transport, "/info").await, "/v1.41/info");
    assert_eq!(daemon.pings(), 3);
}

#[tokio::test]
async fn unreadable_api_version_is_a_negotiation_error() {
    let (_daemon, endpoint) = FakeDaemon::unix(engine(Some("one.forty")));
    let transport = Transport::new(endpoint, MAX).unwrap();
    let err = transport.api_version().await.unwrap_err();
    assert!(matches!(err, Error::Negotiation(_)) && err.to_string().contains("one.forty"), "{err}");
}

#[tokio::test]
async fn pinned_versions_never_ping() {
    let (daemon, endpoint) = FakeDaemon::unix(engine(Some("1.41")));
    let transport = Transport::new(endpoint.with_pinned_version(Some(ApiVersion::new(1, 30))), MAX).unwrap();
    assert_eq!(transport.policy(), ApiVersionPolicy::Pinned(ApiVersion::new(1, 30)));
    assert_eq!(path_of(&transport, "/containers/json").await, "/v1.30/containers/json");
    assert_eq!(transport.api_version().await.unwrap(), ApiVersion::new(1, 30));
    assert_eq!(daemon.pings(), 0);

    // An explicit policy beats the endpoint's pin.
    let (daemon, endpoint) = FakeDaemon::unix(engine(Some("1.41")));
    let endpoint = endpoint.with_pinned_version(Some(ApiVersion::new(1, 30)));
    let transport = Transport::builder(endpoint, MAX).policy(ApiVersionPolicy::Negotiate { max: MAX }).build().unwrap();
    assert_eq!(path_of(&transport, "/info").await, "/v1.41/info");
    assert_eq!(daemon.pings(), 1);
}

#[tokio::test]
async fn ping_reports_the_daemons_headers() {
    let (_daemon, endpoint) = FakeDaemon::unix(|_: &Seen| Reply::Full {
        status: 200,
        headers: vec![
            ("Api-Version".into(), "1.47".into()),
            ("Ostype".into(), "linux".into()),
            ("Docker-Experimental".into(), "true".into()),
            ("Builder-Version".into(), "2".into()),
            ("Swarm".into(), "inactive".into()),
        ],
        body: b"OK".to_vec(),
    });
    let ping = Transport::new(endpoint, MAX).unwrap().ping().await.unwrap();
    assert_eq!(ping.api_version.as_deref(), Some("1.47"));
    assert_eq!(ping.os_type.as_deref(), Some("linux"));
    assert!(ping.experimental);
    assert_eq!(ping.builder_version.as_deref(), Some("2"));
    assert_eq!(ping.swarm.as_deref(), Some("inactive"));
}

// --- requests and errors -------------------------------------------------------------------

#[tokio::test]
async fn query_headers_and_json_bodies_are_sent() {
    let (daemon, endpoint) = FakeDaemon::unix(engine(Some("1.41")));
    let transport = Transport::new(endpoint, MAX).unwrap();
    let auth = RegistryAuth::with_password("me", "?>?>x", "registry.example:5000");
    let request = Request::post("/images/create")
        .query("fromImage", "registry.example:5000/team/app")
        .query("tag", "1.2 beta&x")
        .query("platform", "linux/amd64")
        .registry_auth(&auth)
        .json(&serde_json::json!({"a": 1}))
        .unwrap();
    transport.send(request).await.unwrap();
    let seen = daemon.requests().pop().unwrap();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.target, "/v1.41/images/create?fromImage=registry.example%3A5000%2Fteam%2Fapp&tag=1.2+beta%26x&platform=linux%2Famd64");
    assert_eq!(seen.headers["content-type"], "application/json");
    assert_eq!(seen.body, br#"{"a":1}"#);
    let header = &seen.headers["x-registry-auth"];
    assert_eq!(header, &auth.to_header());
    let decoded = base64::engine::general_purpose::URL_SAFE.decode(header).unwrap();
    assert_eq!(serde_json::from_slice::<RegistryAuth>(&decoded).unwrap(), auth);

    // Names with `/` stay one greedy path; unversioned requests carry no prefix.
    assert_eq!(path_of(&transport, "/images/registry:5000/team/app:1.2/json").await, "/v1.41/images/registry:5000/team/app:1.2/json");
    let r = transport.send(Request::new(Method::GET, "/info").unversioned()).await.unwrap();
    assert_eq!(r.url().path(), "/info");
    let body = Request::post("/build").body(b"tar bytes".to_vec(), HeaderValue::from_static("application/x-tar"));
    transport.send(body).await.unwrap();
    let seen = daemon.requests().pop().unwrap();
    assert_eq!((seen.headers["content-type"].as_str(), seen.body.as_slice()), ("application/x-tar", &b"tar bytes"[..]));
}

#[tokio::test]
async fn error_answers_become_errors() {
    let (_daemon, endpoint) = FakeDaemon::unix(|seen: &Seen| match seen.path() {
        "/_ping" => Reply::ping(Some("1.41")),
        "/v1.41/containers/nope/json" => Reply::json(404, r#"{"message":"No such container: nope"}"#),
        "/v1.41/text" => Reply::text(400, "client version 1.11 is too old"),
        "/v1.41/huge" => Reply::json(500, format!(r#"{{"message":"{}"}}"#, "x".repeat(2 * MAX_ERROR_BODY))),
        "/v1.41/notmodified" => Reply::Full { status: 304, headers: vec![], body: vec![] },
        "/v1.41/redirect" => {
            Reply::Full { status: 302, headers: vec![("Location".into(), "http://elsewhere.example/".into())], body: vec![] }
        }
        "/v1.41/notjson" => Reply::json(200, "{oops"),
        _ => Reply::json(200, "{}"),
    });
    let transport = Transport::new(endpoint, MAX).unwrap();

    let err = transport.send(Request::get("/containers/nope/json")).await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 404, message } if message == "No such container: nope"), "{err:?}");
    let err = transport.send(Request::get("/text")).await.unwrap_err();
    assert!(matches!(&err, Error::UnexpectedResponse { status: 400, body, .. } if body.contains("too old")), "{err:?}");
    let err = transport.send(Request::get("/huge")).await.unwrap_err();
    assert!(matches!(&err, Error::UnexpectedResponse { status: 500, truncated: true, .. }), "{err:?}");
    let err = transport.send(Request::get("/redirect")).await.unwrap_err();
    assert!(matches!(&err, Error::UnexpectedResponse { status: 302, .. }), "redirects are not followed: {err:?}");
    assert_eq!(transport.send(Request::post("/notmodified")).await.unwrap().status().as_u16(), 304);
    let err = transport.send_json::<serde_json::Value>(Request::get("/notjson")).await.unwrap_err();
    assert!(matches!(err, Error::Json(_)), "{err:?}");

    // `execute` hands every status back.
    let response = transport.execute(Request::get("/containers/nope/json")).await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(Error::from_response(response).await.is_not_found());
}

#[tokio::test]
async fn connection_failures_are_transport_errors() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = Endpoint::new(Host::Unix(dir.path().join("absent.sock")));
    let transport = Transport::new(endpoint, MAX).unwrap();
    let err = transport.send(Request::get("/info").query("buildargs", "secret-value")).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    let text = err.to_string();
    assert!(!format!("{text} {err:?}").contains("secret-value"), "{text}");
    // Pinned: the query string reaches the URL, and is still dropped from the error.
    let endpoint = Endpoint::new(Host::Unix(dir.path().join("absent.sock"))).with_pinned_version(Some(ApiVersion::new(1, 41)));
    let err = Transport::new(endpoint, MAX).unwrap().send(Request::get("/build").query("buildargs", "secret-value")).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(matches!(err, Error::Transport(_)) && !shown.contains("secret-value"), "{shown}");
    assert!(shown.contains("/v1.41/build"), "{shown}");
}

// --- timeouts ------------------------------------------------------------------------------

#[tokio::test]
async fn timeouts_bound_the_head_not_the_body() {
    let (_daemon, endpoint) = FakeDaemon::unix(|seen: &Seen| match seen.path() {
        "/_ping" => Reply::ping(Some("1.41")),
        "/v1.41/slowhead" => Reply::DelayHead(Duration::from_millis(1500), Box::new(Reply::json(200, "{}"))),
        "/v1.41/slowerror" => Reply::Chunked {
            status: 500,
            headers: vec![("Content-Type".into(), "application/json".into())],
            chunks: vec![b"{\"message\":".to_vec(), b"\"late\"}".to_vec()],
            gap: Duration::from_millis(1000),
        },
        _ => Reply::Chunked {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            chunks: (0..5).map(|i| format!("{{\"n\":{i}}}\n").into_bytes()).collect(),
            gap: Duration::from_millis(150),
        },
    });
    let transport = Transport::builder(endpoint, MAX).timeout(Some(Duration::from_millis(300))).build().unwrap();
    transport.api_version().await.unwrap();

    let started = Instant::now();
    let err = transport.send(Request::get("/slowhead")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { after } if after == Duration::from_millis(300)), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1200), "{:?}", started.elapsed());

    // A per-request timeout overrides the default, and no_timeout removes it.
    let err = transport.send(Request::get("/slowhead").timeout(Duration::from_millis(100))).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { after } if after == Duration::from_millis(100)), "{err:?}");
    transport.send(Request::get("/slowhead").no_timeout()).await.unwrap();

    // An error body that trickles in is bounded by the timeout too.
    let started = Instant::now();
    let err = transport.send(Request::get("/slowerror")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());
    let err = transport.send(Request::get("/slowerror").no_timeout()).await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 500, message } if message == "late"), "{err:?}");

    // 5 chunks 150 ms apart: 750 ms of body under a 300 ms timeout.
    let started = Instant::now();
    let mut response = transport.send(Request::get("/events")).await.unwrap();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert!(started.elapsed() >= Duration::from_millis(700), "{:?}", started.elapsed());
    assert_eq!(body.iter().filter(|b| **b == b'\n').count(), 5);
}

// --- pooling -------------------------------------------------------------------------------

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let (daemon, endpoint) = FakeDaemon::unix(engine(Some("1.41")));
    let transport = Transport::new(endpoint, MAX).unwrap();
    for i in 0..50 {
        assert_eq!(path_of(&transport, &format!("/x/{i}")).await, format!("/v1.41/x/{i}"));
    }
    // Clones share the pool.
    let clone = transport.clone();
    transport.send(Request::get("/info")).await.unwrap();
    clone.send(Request::get("/info")).await.unwrap();
    // Error answers are read to the end, so their connection goes back to the pool too.
    let (daemon2, endpoint2) = FakeDaemon::unix(|seen: &Seen| match seen.path() {
        "/_ping" => Reply::ping(Some("1.41")),
        _ => Reply::json(404, r#"{"message":"No such container: x"}"#),
    });
    let t2 = Transport::new(endpoint2, MAX).unwrap();
    for _ in 0..10 {
        assert!(t2.send(Request::get("/containers/x/json")).await.unwrap_err().is_not_found());
    }
    assert_eq!(daemon.requests().len(), 53);
    assert_eq!(daemon.connections(), 1);
    assert_eq!(daemon2.connections(), 1);
}

// --- TCP, path prefix and TLS --------------------------------------------------------------

#[tokio::test]
async fn tcp_with_a_path_prefix() {
    let (daemon, port) = FakeDaemon::tcp(engine(Some("1.41")), None).await;
    let endpoint = Endpoint::new(Host::parse(&format!("tcp://127.0.0.1:{port}/docker/")).unwrap());
    let transport = Transport::new(endpoint, MAX).unwrap();
    assert_eq!(path_of(&transport, "/info").await, "/docker/v1.41/info");
    let requests = daemon.requests();
    assert_eq!(requests[0].target, "/docker/_ping");
    assert_eq!(requests[1].headers["host"], format!("127.0.0.1:{port}"));
}

struct Pki {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
    client_cert_pem: String,
    client_key_pem: String,
}

/// A CA, a server certificate for localhost/127.0.0.1 and a client certificate, and a
/// server config that requires a client certificate from that CA.
fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let mut server_params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::new()).unwrap();
    client_params.distinguished_name.push(rcgen::DnType::CommonName, "client");
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params.signed_by(&client_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_cert.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server_cert.der().clone(), ca_cert.der().clone()], key)
        .unwrap();
    Pki { ca_pem: ca_cert.pem(), server: Arc::new(server), client_cert_pem: client_cert.pem(), client_key_pem: client_key.serialize_pem() }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[tokio::test]
async fn mutual_tls_from_the_environment() {
    let pki = pki();
    let (daemon, port) = FakeDaemon::tcp(engine(Some("1.41")), Some(pki.server.clone())).await;
    let certs = tempfile::tempdir().unwrap();
    write(certs.path(), "ca.pem", &pki.ca_pem);
    write(certs.path(), "cert.pem", &pki.client_cert_pem);
    write(certs.path(), "key.pem", &pki.client_key_pem);
    let vars: HashMap<&str, String> = HashMap::from([
        ("DOCKER_HOST", format!("tcp://localhost:{port}")),
        ("DOCKER_TLS_VERIFY", "1".to_owned()),
        ("DOCKER_CERT_PATH", certs.path().to_str().unwrap().to_owned()),
    ]);
    let endpoint = Endpoint::from_env_with(|k| vars.get(k).cloned()).unwrap();
    assert!(endpoint.tls().unwrap().verify());
    let transport = Transport::new(endpoint, MAX).unwrap();
    assert_eq!(transport.base_url(), format!("https://localhost:{port}"));
    assert_eq!(path_of(&transport, "/info").await, "/v1.41/info");
    assert_eq!(path_of(&transport, "/version").await, "/v1.41/version");
    let streamed = transport.send_bytes(Request::get("/containers/c/export")).await.unwrap().collect().await.unwrap();
    assert_eq!(&streamed[..], br#"{"path":"/v1.41/containers/c/export"}"#);
    assert_eq!(daemon.connections(), 1, "TLS connections are pooled too, streamed responses' as well");

    // The IP address is in the certificate as well.
    let tls =
        TlsSettings::new(true).with_ca_pem(pki.ca_pem.clone()).with_client_cert(pki.client_cert_pem.clone(), pki.client_key_pem.clone());
    let endpoint = Endpoint::new(Host::parse(&format!("tcp://127.0.0.1:{port}")).unwrap()).with_tls(Some(tls));
    assert_eq!(path_of(&Transport::new(endpoint, MAX).unwrap(), "/info").await, "/v1.41/info");
}

#[tokio::test]
async fn tls_failures_are_errors() {
    let pki = pki();
    let (_daemon, port) = FakeDaemon::tcp(engine(Some("1.41")), Some(pki.server.clone())).await;
    let host = Host::parse(&format!("tcp://localhost:{port}")).unwrap();
    let client = |tls: TlsSettings| Transport::new(Endpoint::new(host.clone()).with_tls(Some(tls)), MAX).unwrap();

    // No client certificate: the daemon refuses the handshake.
    let err = client(TlsSettings::new(true).with_ca_pem(pki.ca_pem.clone())).api_version().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    // The system roots do not know the test CA.
    let with_cert = TlsSettings::new(true).with_client_cert(pki.client_cert_pem.clone(), pki.client_key_pem.clone());
    let err = client(with_cert.clone()).api_version().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    // Another CA does not verify either.
    let other = pki_ca_only();
    let err = client(with_cert.clone().with_ca_pem(other)).api_version().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)) && err.to_string().to_lowercase().contains("certificate"), "{err}");
    // Without verification (DOCKER_TLS_VERIFY unset) the same settings connect.
    let unverified = TlsSettings::new(false).with_client_cert(pki.client_cert_pem.clone(), pki.client_key_pem.clone());
    assert_eq!(client(unverified).api_version().await.unwrap(), ApiVersion::new(1, 41));
    // Plain HTTP to a TLS port fails cleanly rather than hanging.
    let plain = Transport::builder(Endpoint::new(Host::parse(&format!("http://localhost:{port}")).unwrap()), MAX)
        .timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    assert!(plain.api_version().await.is_err());
}

fn pki_ca_only() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap().pem()
}

// --- tracing -------------------------------------------------------------------------------

/// A subscriber that keeps every span's name and fields, and every event's fields.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<CaptureState>>);

#[derive(Default)]
struct CaptureState {
    spans: Vec<(String, Vec<(String, String)>)>,
    events: Vec<String>,
}

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut state = self.0.lock().unwrap();
        let mut fields = Vec::new();
        span.record(&mut Fields(&mut fields));
        state.spans.push((span.metadata().name().to_owned(), fields));
        tracing::span::Id::from_u64(state.spans.len() as u64)
    }

    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut state = self.0.lock().unwrap();
        let index = span.into_u64() as usize - 1;
        values.record(&mut Fields(&mut state.spans[index].1));
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().events.push(format!("{fields:?}"));
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn one_span_per_request_without_secrets() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let (_daemon, endpoint) = FakeDaemon::unix(engine(Some("1.41")));
    let transport = Transport::new(endpoint, MAX).unwrap();
    let auth = RegistryAuth::with_password("me", "pw-secret-1", "r");
    let request = Request::post("/build").query("buildargs", r#"{"TOKEN":"arg-secret-2"}"#).registry_auth(&auth);
    transport.send(request).await.unwrap();

    let state = capture.0.lock().unwrap();
    let requests: Vec<HashMap<&str, &str>> = state
        .spans
        .iter()
        .filter(|(name, _)| name == "docker_request")
        .map(|(_, fields)| fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
        .collect();
    assert_eq!(requests.len(), 2, "{:?}", state.spans);
    assert_eq!((requests[0]["method"], requests[0]["path"], requests[0]["status"]), ("HEAD", "/_ping", "200"));
    assert!(!requests[0].contains_key("api_version"));
    assert_eq!(
        (requests[1]["method"], requests[1]["path"], requests[1]["api_version"], requests[1]["status"]),
        ("POST", "/build", "1.41", "200")
    );
    let everything = format!("{:?} {:?}", state.spans, state.events);
    for secret in ["pw-secret-1", "arg-secret-2", &auth.to_header()] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Transport>();
    check::<Error>();
    check::<Endpoint>();
    check::<Request>();
}

// --- streamed responses on a connection of their own ----------------------------------------

const MUX: &str = "application/vnd.docker.multiplexed-stream";
/// No test waits longer than this for anything.
const PATIENCE: Duration = Duration::from_secs(10);

fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![stream, 0, 0, 0];
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future).await.unwrap_or_else(|_| panic!("{what} hung"))
}

async fn eventually(what: &str, condition: impl Fn() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_of_many_small_chunks_arrives_whole_on_a_connection_of_its_own() {
    const FRAMES: usize = 20_000;
    // One chunk per frame, as the daemon flushes them.
    let chunks: Vec<Vec<u8>> = (0..FRAMES).map(|i| frame(1 + (i % 2) as u8, format!("line {i}\n").as_bytes())).collect();
    let (daemon, endpoint) = FakeDaemon::unix(move |seen: &Seen| match seen.path() {
        "/_ping" => Reply::ping(Some("1.41")),
        "/v1.41/containers/c/logs" => {
            Reply::Chunked { status: 200, headers: vec![("Content-Type".into(), MUX.into())], chunks: chunks.clone(), gap: Duration::ZERO }
        }
        _ => Reply::json(200, "{}"),
    });
    let transport = Transport::new(endpoint, MAX).unwrap();
    // Its body read to the end, so that its connection goes back to the pool: one dropped
    // before the body arrived (a loaded machine) would be closed, and the count below off.
    transport.send(Request::get("/info")).await.unwrap().bytes().await.unwrap();
    for round in 1..=2 {
        let request = Request::get("/containers/c/logs").query("stdout", "1").query("stderr", "1");
        let mut logs = transport.send_logs(request, TtySource::Known(false)).await.unwrap();
        let mut n = 0;
        while let Some(item) = within("reading the logs", logs.next()).await {
            let chunk = item.unwrap();
            assert_eq!(chunk.stream, if n % 2 == 0 { StdStream::Stdout } else { StdStream::Stderr });
            assert_eq!(chunk.bytes, format!("line {n}\n").as_bytes());
            n += 1;
        }
        assert_eq!(n, FRAMES);
        // Ended but not dropped: its connection is closed already.
        eventually("the logs connection to close", || daemon.closed() == round).await;
        drop(logs);
    }
    transport.send(Request::get("/info")).await.unwrap();
    // One pooled connection for `/_ping` and both `/info`, one for each logs request.
    assert_eq!(daemon.connections(), 3);
    assert_eq!(daemon.closed(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_stream_closes_its_connection() {
    let (daemon, endpoint) = FakeDaemon::unix(|seen: &Seen| match seen.path() {
        "/_ping" => Reply::ping(Some("1.41")),
        // Twenty seconds of events.
        _ => Reply::Chunked {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            chunks: (0..1000).map(|i| format!("{{\"n\":{i}}}\n").into_bytes()).collect(),
            gap: Duration::from_millis(20),
        },
    });
    let transport = Transport::new(endpoint, MAX).unwrap();
    let mut events = transport.send_json_lines::<serde_json::Value>(Request::get("/events")).await.unwrap();
    for i in 0..3 {
        assert_eq!(within("an event", events.next()).await.unwrap().unwrap()["n"], i);
    }
    assert_eq!(daemon.closed(), 0);
    drop(events);
    // The daemon's next write fails.
    eventually("the events connection to close", || daemon.closed() == 1).await;
    assert_eq!(daemon.connections(), 2, "the pooled one for `/_ping`, one for the events");
}

#[tokio::test]
async fn streams_on_plain_tcp_send_what_the_pooled_client_sends() {
    let (daemon, port) = FakeDaemon::tcp(engine(Some("1.41")), None).await;
    let endpoint = Endpoint::new(Host::parse(&format!("tcp://127.0.0.1:{port}/docker")).unwrap());
    let transport = Transport::new(endpoint, MAX).unwrap();
    let auth = RegistryAuth::with_password("user", "secret", "r");
    let request = || Request::post("/images/create").query("fromImage", "x").registry_auth(&auth);
    let pooled = transport.send(request()).await.unwrap().bytes().await.unwrap();
    let progress: Vec<_> =
        within("progress", transport.send_progress::<serde_json::Value>(request()).await.unwrap().collect::<Vec<_>>()).await;
    assert_eq!(progress.len(), 1, "{progress:?}");
    let direct = transport.send_bytes(Request::get("/containers/c/export")).await.unwrap().collect().await.unwrap();
    assert_eq!(&pooled[..], br#"{"path":"/docker/v1.41/images/create"}"#);
    assert_eq!(&direct[..], br#"{"path":"/docker/v1.41/containers/c/export"}"#);
    let seen = daemon.requests();
    let (first, second) = (&seen[1], &seen[2]);
    assert_eq!((first.method.as_str(), first.target.as_str()), (second.method.as_str(), second.target.as_str()));
    assert_eq!(first.headers, second.headers, "the same headers on both paths");
    assert_eq!(second.headers["host"], format!("127.0.0.1:{port}"));
    assert!(second.headers.contains_key("x-registry-auth") && second.headers["user-agent"].starts_with("moby-api-runtime/"));
    assert_eq!(daemon.connections(), 3, "one pooled, one per streamed response");
    eventually("the streamed connections to close", || daemon.closed() == 2).await;
}

#[tokio::test]
async fn streams_answer_errors_and_time_out_like_other_requests() {
    let (daemon, endpoint) = FakeDaemon::unix(|seen: &Seen| match seen.path() {
        "/_ping" => Reply::ping(Some("1.41")),
        "/v1.41/slowhead/logs" => Reply::DelayHead(Duration::from_millis(1500), Box::new(Reply::json(200, ""))),
        _ => Reply::json(404, r#"{"message":"No such container: nope"}"#),
    });
    let transport = Transport::builder(endpoint, MAX).timeout(Some(Duration::from_millis(300))).build().unwrap();
    let err = transport.send_logs(Request::get("/nope/logs"), TtySource::Known(false)).await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 404, message } if message.ends_with("nope")), "{err:?}");
    let started = Instant::now();
    let err = transport.send_logs(Request::get("/slowhead/logs"), TtySource::Known(false)).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { after } if after == Duration::from_millis(300)), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1200), "{:?}", started.elapsed());
    // The timed-out request's connection is closed with it.
    eventually("both streamed connections to close", || daemon.closed() == 2).await;
}

#[tokio::test]
async fn a_stream_that_cannot_connect_is_a_connection_error_without_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = Endpoint::new(Host::Unix(dir.path().join("absent.sock"))).with_pinned_version(Some(ApiVersion::new(1, 41)));
    let transport = Transport::new(endpoint, MAX).unwrap();
    let request = Request::get("/containers/c/logs").query("since", "secret-value");
    let err = transport.send_logs(request, TtySource::Known(false)).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(matches!(&err, Error::Connection { source, .. } if source.is::<std::io::Error>()), "{shown}");
    assert!(shown.contains("GET /v1.41/containers/c/logs: connecting to unix://"), "{shown}");
    assert!(!shown.contains("secret-value"), "{shown}");
    // A daemon that hangs up before answering.
    let (_daemon, endpoint) = FakeDaemon::unix(|_: &Seen| Reply::Hangup);
    let transport = Transport::new(endpoint.with_pinned_version(Some(ApiVersion::new(1, 41))), MAX).unwrap();
    let err = within("send_bytes", transport.send_bytes(Request::get("/containers/c/export"))).await.unwrap_err();
    assert!(matches!(&err, Error::Connection { context, .. } if context == "GET /v1.41/containers/c/export"), "{err:?}");
}
