//! `POST /containers/{id}/wait` served as the daemon serves it: `200` and the headers at
//! once, the JSON body when the condition is met.
//!
//! The generated `ContainerApi::container_wait` returns the body as one value, so its
//! handler cannot answer before the wait is over. The Go client (`docker run`) sends wait
//! *before* start and does not start the container until the wait's response headers have
//! arrived; answering only at the exit would deadlock. So [`crate::router`] puts this
//! handler in place of the generated one.

use std::sync::Arc;

use bytes::Bytes;
use moby_api::v1_41::models::ContainerWaitCondition;
use moby_api_runtime::server::axum::body::Body;
use moby_api_runtime::server::axum::http::{header, HeaderValue};
use moby_api_runtime::server::axum::response::IntoResponse;
use moby_api_runtime::server::{BoxFuture, Incoming, Response, StatusCode};

use crate::engine::Engine;

/// The route handler (same shape as the generated ones).
pub(crate) fn handle(engine: Arc<Engine>, incoming: Incoming) -> BoxFuture<Response> {
    Box::pin(async move {
        let id = match incoming.path("id") {
            Ok(id) => id,
            Err(error) => return error.into_response(),
        };
        let condition = incoming.query().get("condition").map(ContainerWaitCondition::from);
        // Errors (no such container, bad condition) still come as ordinary answers: the
        // daemon checks them before it writes the headers.
        let waiting = match crate::containers::wait_for(&engine, &id, condition) {
            Ok(waiting) => waiting,
            Err(error) => return error.into_response(),
        };
        let body = futures_util::stream::once(async move {
            let mut json = serde_json::to_vec(&waiting.await).unwrap_or_default();
            json.push(b'\n');
            Ok::<_, std::convert::Infallible>(Bytes::from(json))
        });
        let mut response = Response::new(Body::from_stream(body));
        *response.status_mut() = StatusCode::OK;
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    })
}
