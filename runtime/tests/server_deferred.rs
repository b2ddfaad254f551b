//! A long-poll reply sends its head before its document: what `docker run` relies on when
//! it sends ContainerWait before starting the container.

use std::time::Duration;

use http_body_util::BodyExt;
use moby_api_runtime::server::{respond, Deferred, StatusCode};

#[tokio::test]
async fn head_first_then_the_document_when_it_resolves() {
    let (exit, exited) = tokio::sync::oneshot::channel::<i64>();
    let response = respond::deferred(StatusCode::OK, Deferred::new(async move { serde_json::json!({ "StatusCode": exited.await.unwrap_or(-1) }) }));
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");

    let mut body = response.into_body();
    // Nothing yet: the container has not exited.
    assert!(tokio::time::timeout(Duration::from_millis(100), body.frame()).await.is_err());
    exit.send(3).unwrap();
    let document = body.collect().await.unwrap().to_bytes();
    assert_eq!(&document[..], b"{\"StatusCode\":3}\n");
}

#[tokio::test]
async fn a_ready_document_is_sent_at_once() {
    let response = respond::deferred(StatusCode::OK, Deferred::ready(vec![1, 2]));
    let document = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&document[..], b"[1,2]\n");
}
