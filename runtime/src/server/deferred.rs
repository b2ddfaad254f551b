//! Replies whose status and headers go out at once and whose JSON document follows later:
//! the daemon's long poll (ContainerWait).
//!
//! `docker run` sends the wait before it starts the container and does not start it until
//! the wait's headers arrive, so a server that answered only when the container exits
//! would deadlock it. The implementation checks what can fail up front (404, 400) and
//! returns a [`Deferred`] for the rest.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A JSON document that is not known yet; the response head is sent before it.
pub struct Deferred<T> {
    pub(crate) value: Pin<Box<dyn Future<Output = T> + Send + 'static>>,
}

impl<T> Deferred<T> {
    /// The document `value` resolves to, sent when it resolves.
    pub fn new(value: impl Future<Output = T> + Send + 'static) -> Deferred<T> {
        Deferred { value: Box::pin(value) }
    }

    /// A document that is already known.
    pub fn ready(value: T) -> Deferred<T>
    where
        T: Send + 'static,
    {
        Deferred::new(std::future::ready(value))
    }
}

impl<T> fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Deferred(..)")
    }
}
