//! A one-shot call against fake daemons that never finish their answer: an endless body
//! ends in `Error::BodyTooLarge` with the memory it took bounded by the limit, a body
//! announced larger than the limit at once, and a daemon that stalls after the head in
//! `Error::Timeout` within the timeout; a long poll's document and a stream quiet for longer
//! than the timeout are not cut. One test, so that the peak memory it measures is its own.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use moby_api_runtime::client::{ApiVersion, Endpoint, Error, Host, Request, Transport, DEFAULT_MAX_BODY_SIZE};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

// Only the request reader is used here; the answers misbehave by hand.
#[allow(dead_code)]
mod fake_daemon;
use fake_daemon::read_request;

/// Serves every connection: each request path picks a misbehaviour.
async fn fake_daemon() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                while let Some(request) = read_request(&mut stream).await {
                    let stream = stream.get_mut();
                    match request.path() {
                        // An endless JSON array, in big chunks.
                        "/v1.41/containers/json" => {
                            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                            if stream.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let item = br#"{"Id":"0123456789abcdef","Names":["/endless"]},"#;
                            let mut chunk = b"[".to_vec();
                            while chunk.len() < 64 * 1024 {
                                chunk.extend_from_slice(item);
                            }
                            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                            framed.extend_from_slice(&chunk);
                            framed.extend_from_slice(b"\r\n");
                            while stream.write_all(&framed).await.is_ok() {}
                            return;
                        }
                        // Announces 10 GB, sends 2 bytes, then nothing.
                        "/v1.41/info" => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{}")
                                .await;
                            std::future::pending::<()>().await;
                        }
                        // The head, 2 bytes of 100, then nothing.
                        "/v1.41/version" => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"")
                                .await;
                            std::future::pending::<()>().await;
                        }
                        // A long poll: the head at once, the document after longer than the timeout.
                        "/v1.41/containers/w/wait" => {
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                                .await;
                            tokio::time::sleep(Duration::from_millis(1500)).await;
                            let doc = "{\"StatusCode\":7}\n";
                            let _ = stream.write_all(format!("{:x}\r\n{doc}\r\n0\r\n\r\n", doc.len()).as_bytes()).await;
                        }
                        // A stream with a pause longer than the timeout between two lines.
                        "/v1.41/events" => {
                            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                            let line = |text: &str| format!("{:x}\r\n{text}\n\r\n", text.len() + 1);
                            let _ = stream.write_all(format!("{head}{}", line(r#"{"Action":"one"}"#)).as_bytes()).await;
                            tokio::time::sleep(Duration::from_millis(1500)).await;
                            let _ = stream.write_all(format!("{}0\r\n\r\n", line(r#"{"Action":"two"}"#)).as_bytes()).await;
                        }
                        _ => {
                            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").await;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// The peak resident memory of this process (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).expect("VmHWM in kB") * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_calls_end_in_named_errors_within_their_bounds() {
    let addr = fake_daemon().await;
    let endpoint = Endpoint::new(Host::parse(&format!("tcp://{addr}")).unwrap()).with_pinned_version(Some(ApiVersion::new(1, 41)));
    let timeout = Duration::from_secs(1);
    let transport = Transport::builder(endpoint, ApiVersion::new(1, 41)).timeout(Some(timeout)).build().unwrap();

    // An endless body: refused at the default limit, holding no more than about that much.
    let before = peak_rss();
    let started = Instant::now();
    let result = transport.send_json::<serde_json::Value>(Request::get("/containers/json").timeout(Duration::from_secs(60))).await;
    let took = started.elapsed();
    match result {
        Err(Error::BodyTooLarge { ref request, limit }) => {
            assert_eq!((request.as_str(), limit), ("GET /containers/json", DEFAULT_MAX_BODY_SIZE));
        }
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    let message = result.unwrap_err().to_string();
    assert!(message.contains("GET /containers/json") && message.contains("67108864 bytes"), "{message}");
    let grown = peak_rss().saturating_sub(before);
    eprintln!("endless body: BodyTooLarge after {took:?}, peak memory up by {} MiB", grown >> 20);
    assert!(grown < 3 * DEFAULT_MAX_BODY_SIZE as u64, "an endless body took the peak memory up by {grown} bytes");
    assert!(took < Duration::from_secs(30), "took {took:?}");

    // A smaller limit of one request.
    let result = transport.send_json::<serde_json::Value>(Request::get("/containers/json").max_body_size(1000)).await;
    assert!(matches!(result, Err(Error::BodyTooLarge { limit: 1000, .. })), "{result:?}");

    // 10 GB announced: refused before reading.
    let started = Instant::now();
    let result = transport.send_json::<serde_json::Value>(Request::get("/info")).await;
    assert!(matches!(result, Err(Error::BodyTooLarge { ref request, .. }) if request == "GET /info"), "{result:?}");
    assert!(started.elapsed() < timeout);

    // A stall after the head: the timeout covers the whole call.
    for text in [false, true] {
        let started = Instant::now();
        let result = if text {
            transport.send_text(Request::get("/version")).await.map(|_| ())
        } else {
            transport.send_json::<serde_json::Value>(Request::get("/version")).await.map(|_| ())
        };
        let took = started.elapsed();
        assert!(matches!(result, Err(Error::Timeout { after }) if after == timeout), "{result:?}");
        assert!(took >= timeout && took < timeout + Duration::from_secs(2), "took {took:?}");
    }

    // A long poll's document may come after the timeout: only its head is bounded.
    let waited: serde_json::Value = transport.send_deferred_json(Request::post("/containers/w/wait")).await.expect("the wait's answer");
    assert_eq!(waited, serde_json::json!({"StatusCode": 7}));

    // A stream quiet for longer than the timeout is read to its end.
    let events: Vec<serde_json::Value> = transport
        .send_json_lines::<serde_json::Value>(Request::get("/events"))
        .await
        .expect("the head arrives in time")
        .map(|item| item.expect("no error item"))
        .collect()
        .await;
    assert_eq!(events, [serde_json::json!({"Action": "one"}), serde_json::json!({"Action": "two"})]);
}
