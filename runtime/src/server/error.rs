//! Docker's error answer: a status and `{"message": "..."}` as `application/json`.

use std::fmt;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Docker's error: a status and `{"message": ...}` (Content-Type `application/json`).
///
/// The constructors follow the daemon's mapping of its error kinds to statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    /// 400: a parameter or body the daemon cannot use.
    pub fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: no such container, image, network …
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 409: the object is in a state that forbids the operation (name in use, running …).
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    /// 304 without a body: the container was already started or stopped.
    pub fn not_modified() -> ApiError {
        ApiError::new(StatusCode::NOT_MODIFIED, "")
    }

    /// 501 for an operation the implementation does not provide: `ContainerList is not
    /// implemented by this server`.
    pub fn not_implemented(operation: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, format!("{operation} is not implemented by this server"))
    }

    /// 503: e.g. a swarm operation on a node that is not a manager.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// 500: everything else.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// 404 `page not found`: what the daemon answers for an unknown path or method.
    pub fn page_not_found() -> ApiError {
        ApiError::not_found("page not found")
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // 304 must not carry a body (RFC 9110); the daemon sends none either.
        if self.status == StatusCode::NOT_MODIFIED {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = self.status;
            return response;
        }
        json_error(self.status, &self.message)
    }
}

/// The error body as the daemon writes it (Go's `json.Encoder`, hence the newline). Built
/// without a fallible serializer so that it cannot fail itself.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    let mut body = serde_json::json!({ "message": message }).to_string();
    body.push('\n');
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages() {
        assert_eq!(ApiError::invalid_argument("x").status(), StatusCode::BAD_REQUEST);
        assert_eq!(ApiError::not_found("x").status(), StatusCode::NOT_FOUND);
        assert_eq!(ApiError::conflict("x").status(), StatusCode::CONFLICT);
        assert_eq!(ApiError::unauthorized("x").status(), StatusCode::UNAUTHORIZED);
        assert_eq!(ApiError::forbidden("x").status(), StatusCode::FORBIDDEN);
        assert_eq!(ApiError::not_modified().status(), StatusCode::NOT_MODIFIED);
        assert_eq!(ApiError::unavailable("x").status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(ApiError::internal("x").status(), StatusCode::INTERNAL_SERVER_ERROR);
        let e = ApiError::not_implemented("ContainerList");
        assert_eq!(e.status(), StatusCode::NOT_IMPLEMENTED);
        assert_eq!(e.message(), "ContainerList is not implemented by this server");
        assert_eq!(ApiError::not_found("no such image").to_string(), "no such image (404 Not Found)");
    }

    #[test]
    fn responses() {
        let r = ApiError::conflict("name \"a\" in use").into_response();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        let r = ApiError::not_modified().into_response();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert!(r.headers().get(header::CONTENT_TYPE).is_none());
    }
}
