//! `--typed`: every JSON request body, every JSON answer, and every JSON value of a streamed
//! one (events, stats, pull and build progress), is decoded with the request's version's
//! generated models and encoded again (the generated `roundtrip::request` and
//! `roundtrip::response`), so that whatever a model loses shows up as a difference in what
//! the engine does or the client sees. Values go out one by one as they complete,
//! with the whitespace between them as the engine sent it; a stream that is not JSON after
//! all passes on unchanged from there.

use bytes::Bytes;
use futures_util::{stream, StreamExt as _};
use moby_api_runtime::json::Decoded;
use moby_api_runtime::server::axum::body::Body;
use moby_api_runtime::server::axum::http::header;
use moby_api_runtime::server::{Method, Response, StatusCode};
use serde_json::Value;

/// A version's generated `roundtrip::response`.
pub type Roundtrip = fn(&str, u16, &Value) -> Option<Decoded>;

/// The decoder of an operation's JSON request body (a version's `roundtrip::RequestDecoder`).
pub type RequestDecoder = fn(&Value) -> Decoded;

/// A version's generated `roundtrip::request`: an operation's [`RequestDecoder`].
pub type RequestDecoders = fn(&str) -> Option<RequestDecoder>;

/// One version's roundtrips, both ways.
#[derive(Clone, Copy)]
pub struct Typed {
    pub answers: Roundtrip,
    pub requests: RequestDecoders,
}

/// A JSON request body re-encoded through `decode`. A body that is empty or not JSON goes
/// out as it came (the engine answers it), as does one the model cannot read (logged, as
/// for an answer).
pub fn request(decode: RequestDecoder, operation: &str, bytes: Bytes) -> Bytes {
    let Ok(value) = serde_json::from_slice::<Value>(&bytes) else { return bytes };
    match decode(&value) {
        // Encoding a `Value` cannot fail.
        Ok(typed) => serde_json::to_vec(&typed).map_or(bytes, Bytes::from),
        Err(e) => {
            eprintln!("{}", serde_json::json!({"typed": "request decode failed", "operation": operation, "error": e.to_string()}));
            bytes
        }
    }
}

/// The answer with its JSON re-encoded through `roundtrip`, or unchanged when it is not
/// JSON (or has no body).
pub fn answer(roundtrip: Roundtrip, operation: &'static str, method: &Method, response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !is_json || *method == Method::HEAD || status == StatusCode::SWITCHING_PROTOCOLS || status == StatusCode::NO_CONTENT {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // The length changes with the encoding.
    parts.headers.remove(header::CONTENT_LENGTH);
    let state = Retyping { values: ValueSplitter::default(), roundtrip, operation, status: status.as_u16() };
    let chunks = stream::unfold((body.into_data_stream(), state, false), |(mut body, mut state, done)| async move {
        if done {
            return None;
        }
        loop {
            match body.next().await {
                Some(Ok(chunk)) => {
                    let out = state.push(&chunk);
                    if !out.is_empty() {
                        return Some((Ok::<_, std::io::Error>(Bytes::from(out)), (body, state, false)));
                    }
                }
                Some(Err(e)) => return Some((Err(std::io::Error::other(e)), (body, state, true))),
                None => {
                    let rest = state.values.finish();
                    return (!rest.is_empty()).then(|| (Ok(Bytes::from(rest)), (body, state, true)));
                }
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(chunks))
}

struct Retyping {
    values: ValueSplitter,
    roundtrip: Roundtrip,
    operation: &'static str,
    status: u16,
}

impl Retyping {
    fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let (roundtrip, operation, status) = (self.roundtrip, self.operation, self.status);
        self.values.push(chunk, |value| match roundtrip(operation, status, &value) {
            Some(Ok(typed)) => typed,
            Some(Err(e)) => {
                // Not hidden: the client sees the engine's value, the log says why.
                eprintln!(
                    "{}",
                    serde_json::json!({"typed": "decode failed", "operation": operation, "status": status, "error": e.to_string()})
                );
                value
            }
            None => value,
        })
    }
}

/// Splits a byte stream into JSON values as they complete.
#[derive(Default)]
struct ValueSplitter {
    buffer: Vec<u8>,
    /// Something that is not JSON came: everything from there passes unchanged.
    passthrough: bool,
}

impl ValueSplitter {
    /// Adds `chunk`; the bytes to send now: each complete value changed by `change`, the
    /// whitespace between values as it came.
    fn push(&mut self, chunk: &[u8], mut change: impl FnMut(Value) -> Value) -> Vec<u8> {
        if self.passthrough {
            return chunk.to_vec();
        }
        self.buffer.extend_from_slice(chunk);
        let mut out = Vec::new();
        let mut consumed = 0;
        loop {
            let space = self.buffer[consumed..].iter().take_while(|b| b.is_ascii_whitespace()).count();
            out.extend_from_slice(&self.buffer[consumed..consumed + space]);
            consumed += space;
            if consumed == self.buffer.len() {
                break;
            }
            let mut values = serde_json::Deserializer::from_slice(&self.buffer[consumed..]).into_iter::<Value>();
            match values.next() {
                Some(Ok(value)) => {
                    let end = values.byte_offset();
                    // Encoding a `Value` cannot fail.
                    out.extend_from_slice(&serde_json::to_vec(&change(value)).unwrap_or_default());
                    consumed += end;
                }
                Some(Err(e)) if e.is_eof() => break,
                _ => {
                    self.passthrough = true;
                    out.extend_from_slice(&self.buffer[consumed..]);
                    consumed = self.buffer.len();
                    break;
                }
            }
        }
        self.buffer.drain(..consumed);
        out
    }

    /// What is left at the end (an incomplete value), unchanged.
    fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&str]) -> String {
        let mut splitter = ValueSplitter::default();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(splitter.push(chunk.as_bytes(), |mut v| {
                if let Some(o) = v.as_object_mut() {
                    o.insert("seen".into(), Value::Bool(true));
                }
                v
            }));
        }
        out.extend(splitter.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_changed_as_they_complete() {
        assert_eq!(split(&["{\"a\":1}\n"]), "{\"a\":1,\"seen\":true}\n");
        assert_eq!(split(&["{\"a\":", "1}\r\n{\"b\"", ":2}\r\n"]), "{\"a\":1,\"seen\":true}\r\n{\"b\":2,\"seen\":true}\r\n");
        assert_eq!(split(&["[1,2]", "\n"]), "[1,2]\n");
        assert_eq!(split(&["{\"a\":1}\nnot json {", "\"x\"}"]), "{\"a\":1,\"seen\":true}\nnot json {\"x\"}");
        assert_eq!(split(&["{\"a\":"]), "{\"a\":");
    }
}
