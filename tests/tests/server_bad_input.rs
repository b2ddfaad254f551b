//! Thousands of generated bad requests against the v1.41 router serving the example
//! engine (a real implementation, not a stub): random methods, paths, versions, query
//! strings, headers and bodies, truncated and oversized JSON.
//!
//! Whatever arrives, the server must not panic, must not answer 5xx for a client's mistake
//! (501 for an operation the engine does not implement is allowed), and every error body
//! must be Docker's `{"message": "…"}` with `Content-Type: application/json`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use moby_api::v1_41::server;
use moby_api_example_engine::Engine;
use moby_api_runtime::server::axum;
use tower::ServiceExt;

/// xorshift64*: deterministic, so a failure names a reproducible case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];
const VERSIONS: &[&str] = &[
    "", "", "", "/v1.41", "/v1.41", "/v1.41", "/v1.30", "/v1.24", "/v1.12", "/v1.99", "/v2.0", "/v0.0", "/vabc", "/v", "/v1.41.0",
    "/v1..41",
];
const NAMES: &[&str] = &[
    "c1",
    "c1",
    "vol1",
    "net1",
    "busybox",
    "busybox:latest",
    "registry:5000/team/app:1.2",
    "nope",
    "a/b/c/d",
    "%2F%2F",
    "%zz",
    "..",
    "json",
    "😀",
    "x%00y",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "sha256:",
    "a b",
];
const QUERY_KEYS: &[&str] = &[
    "all",
    "limit",
    "size",
    "filters",
    "force",
    "v",
    "link",
    "t",
    "signal",
    "condition",
    "follow",
    "stdout",
    "stderr",
    "since",
    "until",
    "timestamps",
    "tail",
    "name",
    "fromImage",
    "fromSrc",
    "repo",
    "tag",
    "stream",
    "stdin",
    "logs",
    "detachKeys",
    "ps_args",
    "type",
    "verbose",
    "noprune",
    "h",
    "w",
    "changes",
    "platform",
    "digests",
    "",
    "%",
    "a[b]",
];
const QUERY_VALUES: &[&str] = &[
    "1",
    "0",
    "true",
    "True",
    "no",
    "none",
    "",
    "-1",
    "99999999999999999999999",
    "abc",
    "{",
    "{\"status\":[\"running\"]}",
    "{\"status\":{\"exited\":true}}",
    "{\"status\":\"running\"}",
    "[1,2]",
    "{\"a\":[1]}",
    "null",
    "%FF%FE",
    "%",
    "SIGKILL",
    "SIGNOPE",
    "not-running",
    "removed",
    "bogus",
    "1e400",
    "NaN",
];
const BODIES: &[&str] = &[
    r#"{"Image":"busybox","Cmd":["echo","hi"],"HostConfig":{"NetworkMode":"none"}}"#,
    r#"{"Name":"vol","Driver":"local","Labels":{"a":"b"}}"#,
    r#"{"Name":"net","Driver":"bridge","CheckDuplicate":true}"#,
    r#"{"AttachStdout":true,"Cmd":["true"]}"#,
    r#"{"Detach":false,"Tty":false}"#,
    r#"{"Memory":-5,"CpuShares":"many"}"#,
    r#"[]"#,
    r#"null"#,
    r#""string""#,
    r#"{"Image":123,"Cmd":"echo"}"#,
];

/// A method and path: mostly a real route with its own method, filled with names that may
/// or may not exist; sometimes any method, sometimes no route at all.
fn random_target(rng: &mut Rng, routes: &[(String, &str)]) -> (String, String) {
    let (route_method, template) = rng.pick(routes);
    let method = if rng.chance(70) { route_method.clone() } else { rng.pick(METHODS).to_string() };
    let mut path = rng.pick(VERSIONS).to_string();
    if rng.chance(85) {
        let mut rest = *template;
        while let Some(start) = rest.find('{') {
            path.push_str(&rest[..start]);
            let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
            path.push_str(rng.pick::<&str>(NAMES));
            rest = &rest[end..];
        }
        path.push_str(rest);
    } else {
        for _ in 0..rng.below(5) {
            path.push('/');
            path.push_str(rng.pick::<&str>(NAMES));
        }
    }
    if rng.chance(5) {
        path.push_str("//");
    }
    if path.is_empty() {
        path.push('/');
    }
    (method, path)
}

fn random_query(rng: &mut Rng) -> String {
    let mut pairs = Vec::new();
    for _ in 0..rng.below(6) {
        let key = rng.pick(QUERY_KEYS);
        let value = rng.pick(QUERY_VALUES);
        pairs.push(if rng.chance(10) { key.to_string() } else { format!("{key}={}", value.replace(' ', "%20").replace('"', "%22")) });
    }
    if rng.chance(3) {
        pairs.push("&&==&".into());
    }
    pairs.join("&")
}

fn random_body(rng: &mut Rng) -> (Option<&'static str>, Vec<u8>) {
    match rng.below(10) {
        0..=3 => (Some("application/json"), rng.pick(BODIES).as_bytes().to_vec()),
        4..=5 => {
            let body = rng.pick(BODIES).as_bytes();
            let cut = rng.below(body.len().max(1));
            (Some("application/json"), body[..cut].to_vec())
        }
        6 => (Some("application/json"), (0..rng.below(300)).map(|_| rng.next() as u8).collect()),
        7 => (Some("application/x-tar"), (0..rng.below(2048)).map(|_| rng.next() as u8).collect()),
        8 => (Some(*rng.pick(&["text/plain", "application/xml", "", "multipart/form-data; boundary=x"])), b"hello".to_vec()),
        _ => (None, Vec::new()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_bad_requests_get_docker_errors_and_no_5xx() {
    let routes = server::routes::<Engine>();
    let targets: Vec<(String, &str)> = routes.iter().map(|r| (r.method.to_string(), r.path)).collect();
    let router = server::router(Engine::new());
    // Some state, so that paths name things that exist as well as things that do not.
    for (path, body) in [
        ("/containers/create?name=c1", r#"{"Image":"busybox","Cmd":["sleep","1000"]}"#),
        ("/volumes/create", r#"{"Name":"vol1"}"#),
        ("/networks/create", r#"{"Name":"net1","Driver":"bridge"}"#),
    ] {
        let request =
            Request::builder().method("POST").uri(path).header("content-type", "application/json").body(Body::from(body)).unwrap();
        let status = router.clone().oneshot(request).await.unwrap().status();
        assert!(status.is_success(), "setup {path}: {status}");
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut failures = Vec::new();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    const CASES: usize = 3000;

    for case in 0..CASES {
        let (method, path) = random_target(&mut rng, &targets);
        let method = method.as_str();
        let query = random_query(&mut rng);
        let uri = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
        let (content_type, body) = random_body(&mut rng);
        let mut request = Request::builder().method(method).uri(&uri);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        if rng.chance(10) {
            request = request.header("x-registry-auth", *rng.pick(&["!!!", "e30=", "eyJ1c2VybmFtZSI6", ""]));
        }
        // Hijacking needs a real connection; here the upgrade headers only exercise the fallback.
        if rng.chance(5) {
            request = request.header("connection", "Upgrade").header("upgrade", "tcp");
        }
        let Ok(request) = request.body(Body::from(body)) else {
            continue; // the URI itself is not valid HTTP: no server would ever see it
        };
        let response = match tokio::time::timeout(std::time::Duration::from_secs(3), router.clone().oneshot(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(_) => {
                // Streaming endpoints (follow, events, wait) legitimately wait: not a failure.
                *statuses.entry(0).or_default() += 1;
                continue;
            }
        };
        let status = response.status();
        *statuses.entry(status.as_u16()).or_default() += 1;
        let is_json =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
        if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
            failures.push(format!("case {case}: {method} {uri} → {status}"));
        }
        // A HEAD answer has no body by HTTP's rules; its status and headers are all there is.
        if status.as_u16() >= 400 && method != "HEAD" {
            let bytes =
                match tokio::time::timeout(std::time::Duration::from_secs(5), axum::body::to_bytes(response.into_body(), 1 << 20)).await {
                    Ok(Ok(bytes)) => bytes,
                    _ => {
                        failures.push(format!("case {case}: {method} {uri} → {status}: unreadable error body"));
                        continue;
                    }
                };
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned));
            if !is_json || message.is_none() {
                failures.push(format!(
                    "case {case}: {method} {uri} → {status}: not Docker's JSON error: {:?}",
                    String::from_utf8_lossy(&bytes)
                ));
            }
        }
    }

    // Oversized JSON bodies: 413 with Docker's error, not a dropped connection.
    for path in ["/v1.41/containers/create", "/volumes/create", "/networks/create"] {
        let huge = format!("{{\"Labels\":{{\"x\":\"{}\"}}}}", "a".repeat(17 << 20));
        let request =
            Request::builder().method("POST").uri(path).header("content-type", "application/json").body(Body::from(huge)).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
        if status != StatusCode::PAYLOAD_TOO_LARGE || json.and_then(|j| j.get("message").cloned()).is_none() {
            failures.push(format!("oversized body to {path} → {status}: {:?}", String::from_utf8_lossy(&bytes)));
        }
    }

    println!("statuses over {CASES} cases (0 = still streaming after 3 s): {statuses:?}");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    // The generator must have produced variety, not 3,000 copies of one 404.
    assert!(statuses.len() >= 5, "too little variety in answers: {statuses:?}");
}
