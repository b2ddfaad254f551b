//! The transport against a real Docker Engine (20.10, API 1.41).
//!
//! Start one with `bash tests/engine/engine.sh start /tmp/mae` and run with
//! `MOBY_API_TEST_ENGINE_20_10=unix:///tmp/mae/docker.sock`. Without that variable the
//! tests print "skipped: no engine" and pass, except under CI (`CI` set), where they fail.
//!
//! One test function runs the steps in order, so the socket count of the reuse step is
//! not disturbed by other tests' connections.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use moby_api_runtime::client::{ApiVersion, ApiVersionPolicy, Endpoint, Error, Request, Transport};

const MAX: ApiVersion = ApiVersion::new(1, 49);

mod support;
use support::engine_host;

/// The inodes of the sockets this process has open (Linux only; `None` elsewhere). A new
/// connection is a new inode, even when an old one was closed meanwhile.
fn socket_inodes() -> Option<HashSet<String>> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(
        entries
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .map(|t| t.to_string_lossy().into_owned())
            .filter(|t| t.starts_with("socket:"))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_real_engine() {
    let Some(host) = engine_host() else { return };
    let endpoint = Endpoint::new(host);

    // Negotiation: a client that speaks up to 1.49 settles on the engine's 1.41.
    let transport = Transport::new(endpoint.clone(), MAX).unwrap();
    let ping = transport.ping().await.unwrap();
    assert_eq!(ping.api_version.as_deref(), Some("1.41"), "{ping:?}");
    assert_eq!(ping.os_type.as_deref(), Some("linux"));
    assert_eq!(transport.api_version().await.unwrap(), ApiVersion::new(1, 41));
    let response = transport.send(Request::get("/version")).await.unwrap();
    assert_eq!(response.url().path(), "/v1.41/version");
    let version: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(version["ApiVersion"], "1.41");
    println!("engine {} (API {}, min {})", version["Version"], version["ApiVersion"], version["MinAPIVersion"]);

    // Concurrent first requests on a fresh transport all negotiate the same version.
    let fresh = Transport::new(endpoint.clone(), MAX).unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let t = fresh.clone();
            tokio::spawn(async move { t.send(Request::get("/_ping")).await.map(|r| r.url().path().to_owned()) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "/v1.41/_ping");
    }

    // Pinned 1.30: no negotiation, `/v1.30/` in the path, and the engine serves it.
    let pinned = Transport::new(endpoint.clone().with_pinned_version(Some(ApiVersion::new(1, 30))), MAX).unwrap();
    assert_eq!(pinned.policy(), ApiVersionPolicy::Pinned(ApiVersion::new(1, 30)));
    let response = pinned.send(Request::get("/version")).await.unwrap();
    assert_eq!(response.url().path(), "/v1.30/version");
    let version: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(version["ApiVersion"], "1.41");
    let containers: serde_json::Value = pinned.send_json(Request::get("/containers/json").query("all", "1")).await.unwrap();
    assert!(containers.is_array(), "{containers}");

    // Pinned too new: the engine's 400 and its message.
    let too_new = Transport::new(endpoint.clone().with_pinned_version(Some(ApiVersion::new(1, 99))), MAX).unwrap();
    let err = too_new.send(Request::get("/version")).await.unwrap_err();
    match &err {
        Error::Api { status: 400, message } => {
            assert!(message.contains("client version 1.99 is too new"), "{message}");
            assert!(message.contains("Maximum supported API version is 1.41"), "{message}");
        }
        other => panic!("expected Api 400, got {other:?}"),
    }
    println!("pinned 1.99: {err}");

    // Too old (below the engine's 1.12 minimum): below 1.24 the engine answers in plain
    // text, which is an unexpected response, not a JSON `Api` error.
    let too_old = Transport::new(endpoint.clone().with_pinned_version(Some(ApiVersion::new(1, 11))), MAX).unwrap();
    let err = too_old.send(Request::get("/version")).await.unwrap_err();
    assert!(
        matches!(&err, Error::UnexpectedResponse { status: 400, body, .. } if body.contains("client version 1.11 is too old")),
        "{err:?}"
    );
    println!("pinned 1.11: {err}");

    // Not found.
    let err = transport.send(Request::get("/containers/nope/json")).await.unwrap_err();
    match &err {
        Error::Api { status: 404, message } => assert!(message.contains("No such container"), "{message}"),
        other => panic!("expected Api 404, got {other:?}"),
    }
    assert!(err.is_not_found());
    let err = transport.send(Request::get("/no/such/route")).await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 404, message } if message == "page not found"), "{err:?}");

    // Reuse: many sequential requests, their time, and how many sockets they opened.
    transport.send(Request::get("/_ping")).await.unwrap().bytes().await.unwrap();
    let n = 300;
    let started = Instant::now();
    for _ in 0..n {
        let response = transport.send(Request::get("/_ping")).await.unwrap();
        assert_eq!(response.bytes().await.unwrap().as_ref(), b"OK");
    }
    let elapsed = started.elapsed();
    println!("{n} sequential GET /v1.41/_ping in {elapsed:?} ({:?} each)", elapsed / n);
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    if let Some(before) = socket_inodes() {
        let mut seen = HashSet::new();
        for _ in 0..100 {
            // Sampled while the response is unread, so its connection is certainly open.
            let response = transport.send(Request::get("/version")).await.unwrap();
            seen.extend(socket_inodes().unwrap_or_default());
            response.bytes().await.unwrap();
        }
        let opened: Vec<_> = seen.difference(&before).collect();
        println!("100 sequential GET /v1.41/version opened {} new socket(s)", opened.len());
        assert!(opened.len() <= 1, "connections are not reused: {} new sockets for 100 requests", opened.len());
    }

    // The head timeout leaves the events stream alone: ask for 1.5 s of events under a
    // 300 ms timeout; the body ends when `until` passes.
    let timed = Transport::builder(endpoint, MAX).timeout(Some(Duration::from_millis(300))).build().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let until = (now + Duration::from_millis(1500)).as_secs_f64();
    let started = Instant::now();
    let mut events = timed.send(Request::get("/events").query("until", format!("{until:.3}"))).await.unwrap();
    while events.chunk().await.unwrap().is_some() {}
    println!("events stream with until=+1.5s under a 300 ms head timeout ended after {:?}", started.elapsed());
    assert!(started.elapsed() >= Duration::from_millis(500), "{:?}", started.elapsed());
}
