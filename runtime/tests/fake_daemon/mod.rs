//! The HTTP/1.1 of the fake daemons in the client tests: reading a request as the client
//! sent it, and writing a whole or a chunked answer. Each test file keeps its own listener
//! and `Reply` kinds (what it needs to misbehave in); the wire format is here, once.

use std::collections::HashMap;
use std::fmt::Display;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// One request as the daemon received it; the body is de-chunked.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    /// Names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Seen {
    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// The next request on a connection; `None` when the client closed it or sent what is not
/// HTTP.
pub async fn read_request<S: AsyncBufRead + Unpin>(stream: &mut S) -> Option<Seen> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if stream.read_line(&mut h).await.ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let mut body = Vec::new();
    if headers.get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).await.ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let length = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0usize);
        body.resize(length, 0);
        stream.read_exact(&mut body).await.ok()?;
    }
    Some(Seen { method, target, headers, body })
}

/// Writes a whole answer with its Content-Length (the body left out for a HEAD request).
/// Returns whether the client took it.
pub async fn write_full<S: AsyncWrite + Unpin>(
    stream: &mut S,
    request: &Seen,
    status: u16,
    headers: impl IntoIterator<Item = (impl Display, impl Display)>,
    body: &[u8],
) -> bool {
    let mut out = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    if request.method != "HEAD" {
        out.extend_from_slice(body);
    }
    stream.write_all(&out).await.is_ok() && stream.flush().await.is_ok()
}

/// Writes a chunked answer, one chunk per piece with `gap` before each, and its proper
/// end. Returns whether the client took all of it.
pub async fn write_chunked<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    headers: impl IntoIterator<Item = (impl Display, impl Display)>,
    chunks: Vec<Vec<u8>>,
    gap: Duration,
) -> bool {
    let mut head = format!("HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).await.is_err() || stream.flush().await.is_err() {
        return false;
    }
    for chunk in chunks {
        if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(&chunk);
        framed.extend_from_slice(b"\r\n");
        if stream.write_all(&framed).await.is_err() || stream.flush().await.is_err() {
            return false;
        }
    }
    stream.write_all(b"0\r\n\r\n").await.is_ok() && stream.flush().await.is_ok()
}
