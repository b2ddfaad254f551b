//! The typed side of a route: what the generated code implements for each operation, and
//! the one handler that serves every operation with it.
//!
//! A generated request type knows its route and how to read itself from an [`Incoming`]
//! ([`Endpoint`]); a reply type knows how to become a [`Response`] ([`Reply`]). A version's
//! router table is then one [`Route::operation`] per operation, naming the trait method
//! that answers it (`Route::operation(S::container_list)`); reading the request, calling
//! the method and answering are written here, once.

use std::future::Future;
use std::sync::Arc;

use axum::http::Method;
use axum::response::{IntoResponse, Response};

use super::dispatch::Route;
use super::error::ApiError;
use super::incoming::{Context, Incoming};

/// The request of one operation: where the dispatcher routes it, and how it is read from
/// the routed request (path, query, headers, body) with Docker's conventions.
pub trait Endpoint: Sized + Send + 'static {
    /// The HTTP method.
    const METHOD: Method;
    /// The route template, e.g. `/containers/{id}/json`.
    const PATH: &'static str;
    /// The operation's name, e.g. `ContainerInspect` (in logs and in errors).
    const OPERATION: &'static str;

    /// Whether the operation has a JSON body, which the handler then reads (bounded by the
    /// server's JSON body limit) before [`parse`](Endpoint::parse) decodes it with
    /// [`Incoming::buffered_json`].
    const JSON_BODY: bool = false;

    /// Reads the request; a parameter that does not parse is a 400 naming it. Not `async`:
    /// what has to be awaited (a JSON body) is read before, once for every operation, and a
    /// streamed body is taken as a stream.
    fn parse(incoming: &mut Incoming) -> Result<Self, ApiError>;
}

/// The reply of one operation, one variant per status the spec names.
pub trait Reply: Send + 'static {
    /// The response: status, headers and body. `incoming` gives streamed bodies the request
    /// context and upgrades the connection for a hijacked reply.
    fn into_response(self, incoming: &mut Incoming) -> Response;
}

/// A method of a service `S` that answers request `R` (`S::container_list`): called with
/// the service and the request's context, both borrowed for as long as its future runs.
///
/// Its own trait rather than an `Fn` bound, because the future's type depends on the
/// lifetime of those borrows, which an `Fn(..) -> F` bound cannot say.
pub trait Call<'a, S: 'a, R>: Fn(&'a S, &'a Context, R) -> Self::Future {
    /// What the method answers with.
    type Reply;
    /// The method's future.
    type Future: Future<Output = Result<Self::Reply, ApiError>> + Send + 'a;
}

impl<'a, S: 'a, R, P, Fut, F> Call<'a, S, R> for F
where
    F: Fn(&'a S, &'a Context, R) -> Fut,
    Fut: Future<Output = Result<P, ApiError>> + Send + 'a,
{
    type Reply = P;
    type Future = Fut;
}

/// What a generated trait method answers by default: 501 with Docker's error body, naming
/// the operation. It takes the method's arguments so that the default uses them.
pub fn not_implemented<R: Endpoint, T>(context: &Context, request: R) -> std::future::Ready<Result<T, ApiError>> {
    let _ = (context, request);
    std::future::ready(Err(ApiError::not_implemented(R::OPERATION)))
}

impl<S: Send + Sync + 'static> Route<S> {
    /// The route of the operation whose request is `R`, answered by `call`, a method of the
    /// service: `Route::operation(S::container_list)`.
    pub fn operation<R, P, F>(call: F) -> Route<S>
    where
        R: Endpoint,
        P: Reply,
        F: for<'a> Call<'a, S, R, Reply = P> + Copy + Send + Sync + 'static,
    {
        Route::new(R::METHOD, R::PATH, R::OPERATION, move |service, incoming| Box::pin(serve(service, incoming, call)))
    }
}

/// Reads the request, calls the service, answers: every operation's handler.
async fn serve<S, R, P, F>(service: Arc<S>, mut incoming: Incoming, call: F) -> Response
where
    R: Endpoint,
    P: Reply,
    F: for<'a> Call<'a, S, R, Reply = P>,
{
    if R::JSON_BODY {
        if let Err(error) = incoming.buffer_json_body().await {
            return error.into_response();
        }
    }
    let request = match R::parse(&mut incoming) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    // The context is borrowed, not cloned: no copy of the headers per request.
    let reply = call(&service, incoming.context(), request).await;
    match reply {
        Ok(reply) => reply.into_response(&mut incoming),
        Err(error) => error.into_response(),
    }
}
