//! Bodiless reads (`GET`, `HEAD`) forwarded to an engine on a unix socket over the proxy's
//! own HTTP/1.1 connections, their answers' bodies decoded in bulk.
//!
//! Why not the pooled client: its answer body is a channel that holds one piece at a time,
//! so each of the engine's writes (one log line, one stats sample) costs a wake-up of two
//! tasks and a write of its own; `docker logs` through the proxy ran at half the speed of
//! `docker logs` direct. Here every read from the engine's socket passes on at once all the
//! body it holds, and a body arriving in bulk is gathered for at most a millisecond into
//! pieces of up to 64 KiB. Requests with a body, upgrades and engines on TCP keep the pooled
//! client.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::{Buf as _, Bytes, BytesMut};
use moby_api_runtime::server::axum::body::Body;
use moby_api_runtime::server::axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use moby_api_runtime::server::Response;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::UnixStream;

/// Idle connections kept for the next request.
const IDLE_LIMIT: usize = 32;
/// The longest answer head accepted, as Go's `http.DefaultMaxHeaderBytes` (1 MiB).
const HEAD_LIMIT: usize = 1 << 20;
/// The longest chunk-size or trailer line accepted.
const LINE_LIMIT: usize = 4096;
/// What one read from the engine asks for, and the most one piece of a body gathers.
const READ_SIZE: usize = 64 * 1024;
/// How long a piece of a body that arrives in bulk waits for more: the engine writes each
/// log line or frame on its own, and passing each on alone costs the proxy (and the client
/// reading it) a wake-up and a write per line. A stream that arrives slower than this
/// is passed on piece by piece, as it comes.
const GATHER_WINDOW: Duration = Duration::from_millis(1);

/// Connections to one engine socket.
pub struct Connections {
    socket: PathBuf,
    idle: Mutex<Vec<UnixStream>>,
}

impl Connections {
    pub fn new(socket: &Path) -> Connections {
        Connections { socket: socket.to_owned(), idle: Mutex::new(Vec::new()) }
    }

    /// Sends `method path_and_query` with `headers` (end-to-end ones, no body) and answers
    /// with the engine's head as soon as it arrives and its body as it comes.
    pub async fn get(self: &std::sync::Arc<Self>, method: &Method, path_and_query: &str, headers: &HeaderMap) -> Result<Response, String> {
        let request = request_head(method, path_and_query, headers);
        // An idle connection the engine has closed fails before any answer: the request
        // (a read) is sent again on a new one.
        let reused = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let (connection, buffer, head) = match reused {
            Some(connection) => match exchange(connection, &request).await {
                Ok(answer) => answer,
                Err(Failure::BeforeAnswer(_)) => exchange(self.connect().await?, &request).await.map_err(Failure::into_message)?,
                Err(failure) => return Err(failure.into_message()),
            },
            None => exchange(self.connect().await?, &request).await.map_err(Failure::into_message)?,
        };
        let framing = head.framing(method);
        let mut answer = Response::builder().status(head.status);
        if let Some(headers) = answer.headers_mut() {
            *headers = head.headers;
        }
        let body =
            BodyReader { connection: Some(connection), buffer, framing, reusable: head.keep_alive, pool: self.clone(), last_piece: None };
        answer.body(Body::from_stream(body.into_stream())).map_err(|e| e.to_string())
    }

    async fn connect(&self) -> Result<UnixStream, String> {
        UnixStream::connect(&self.socket).await.map_err(|e| format!("{}: {e}", self.socket.display()))
    }

    fn put_back(&self, connection: UnixStream) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_LIMIT {
                idle.push(connection);
            }
        }
    }
}

fn request_head(method: &Method, path_and_query: &str, headers: &HeaderMap) -> Vec<u8> {
    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(method.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(path_and_query.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\nHost: docker\r\n");
    for (name, value) in headers {
        if name == "host" || name == "content-length" {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

enum Failure {
    /// Nothing of an answer arrived: the request may be sent again.
    BeforeAnswer(String),
    Answer(String),
}

impl Failure {
    fn into_message(self) -> String {
        match self {
            Failure::BeforeAnswer(message) | Failure::Answer(message) => message,
        }
    }
}

/// An answer's head as the proxy passes it on.
struct Head {
    status: StatusCode,
    headers: HeaderMap,
    /// How the body is delimited on the wire (read before the hop-by-hop headers go).
    chunked: bool,
    length: Option<u64>,
    keep_alive: bool,
}

impl Head {
    fn framing(&self, method: &Method) -> Framing {
        let bodiless = method == Method::HEAD
            || self.status.is_informational()
            || self.status == StatusCode::NO_CONTENT
            || self.status == StatusCode::NOT_MODIFIED;
        match (bodiless, self.chunked, self.length) {
            (true, _, _) | (false, false, Some(0)) => Framing::Done,
            (false, true, _) => Framing::Chunked(Chunked::Size),
            (false, false, Some(length)) => Framing::Length(length),
            (false, false, None) => Framing::UntilClose,
        }
    }
}

/// Writes the request and reads the answer's head; returns the bytes read past it.
async fn exchange(mut connection: UnixStream, request: &[u8]) -> Result<(UnixStream, BytesMut, Head), Failure> {
    connection.write_all(request).await.map_err(|e| Failure::BeforeAnswer(format!("the engine: {e}")))?;
    let mut buffer = BytesMut::with_capacity(8 * 1024);
    loop {
        let read = connection.read_buf(&mut buffer).await;
        match read {
            Ok(0) if buffer.is_empty() => return Err(Failure::BeforeAnswer("the engine closed the connection".to_owned())),
            Ok(0) => return Err(Failure::Answer("the engine closed the connection within an answer's head".to_owned())),
            Ok(_) => {}
            Err(e) if buffer.is_empty() => return Err(Failure::BeforeAnswer(format!("the engine: {e}"))),
            Err(e) => return Err(Failure::Answer(format!("the engine: {e}"))),
        }
        let mut slots = [httparse::EMPTY_HEADER; 128];
        let mut parsed = httparse::Response::new(&mut slots);
        let length = match parsed.parse(&buffer) {
            Ok(httparse::Status::Complete(length)) => length,
            Ok(httparse::Status::Partial) if buffer.len() < HEAD_LIMIT => continue,
            Ok(httparse::Status::Partial) => {
                return Err(Failure::Answer(format!("the engine's answer head is longer than {HEAD_LIMIT} bytes")))
            }
            Err(e) => return Err(Failure::Answer(format!("the engine's answer head: {e}"))),
        };
        let code = parsed.code.unwrap_or_default();
        if (100..200).contains(&code) {
            // `100 Continue` and the like precede the answer.
            buffer.advance(length);
            continue;
        }
        let head = read_head(&parsed).map_err(Failure::Answer)?;
        buffer.advance(length);
        return Ok((connection, buffer, head));
    }
}

fn read_head(parsed: &httparse::Response<'_, '_>) -> Result<Head, String> {
    let status = StatusCode::from_u16(parsed.code.unwrap_or_default()).map_err(|e| format!("the engine's answer status: {e}"))?;
    let mut chunked = false;
    let mut length = None;
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|e| format!("the engine's header {:?}: {e}", header.name))?;
        let value = HeaderValue::from_bytes(header.value).map_err(|e| format!("the engine's header {name}: {e}"))?;
        let text = value.to_str().unwrap_or_default().to_ascii_lowercase();
        match name.as_str() {
            "transfer-encoding" => chunked = text.rsplit(',').next().is_some_and(|last| last.trim() == "chunked"),
            "content-length" => {
                let parsed = text.trim().parse::<u64>().map_err(|_| format!("the engine's Content-Length {text:?}"))?;
                if length.is_some_and(|known| known != parsed) {
                    return Err("the engine sent two different Content-Length headers".to_owned());
                }
                length = Some(parsed);
            }
            _ => {}
        }
        headers.append(name, value);
    }
    if chunked {
        // The length of a chunked answer is the chunks' (RFC 9112 6.3).
        length = None;
        headers.remove(moby_api_runtime::server::axum::http::header::CONTENT_LENGTH);
    }
    let keep_alive = parsed.version == Some(1) && !crate::forward::connection_options(&headers).iter().any(|o| o == "close");
    Ok(Head { status, headers: crate::forward::end_to_end(&headers), chunked, length, keep_alive })
}

/// How the rest of an answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    Length(u64),
    Chunked(Chunked),
    UntilClose,
    Done,
}

/// Where a chunked body's decoder stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Chunked {
    /// Before a chunk-size line.
    Size,
    /// Within a chunk's data.
    Data(u64),
    /// Before the CRLF after a chunk's data.
    DataEnd,
    /// Among the trailer lines after the last chunk.
    Trailers,
}

impl Framing {
    /// Moves what `buffer` holds of the body into `out`; errors name what the engine got
    /// wrong.
    fn decode(&mut self, buffer: &mut BytesMut, out: &mut BytesMut) -> Result<(), String> {
        match self {
            Framing::Done => Ok(()),
            Framing::UntilClose => {
                out.extend_from_slice(&buffer.split());
                Ok(())
            }
            Framing::Length(left) => {
                let take = usize::try_from(*left).unwrap_or(usize::MAX).min(buffer.len());
                out.extend_from_slice(&buffer.split_to(take));
                *left -= take as u64;
                if *left == 0 {
                    *self = Framing::Done;
                }
                Ok(())
            }
            Framing::Chunked(state) => loop {
                match *state {
                    Chunked::Size => {
                        let Some(line) = take_line(buffer)? else { return Ok(()) };
                        let size = line[..].split(|b| *b == b';').next().unwrap_or_default();
                        let size = std::str::from_utf8(size)
                            .ok()
                            .map(str::trim)
                            .filter(|s| !s.is_empty() && s.len() <= 16)
                            .and_then(|s| u64::from_str_radix(s, 16).ok())
                            .ok_or_else(|| format!("the engine's chunk size {:?}", String::from_utf8_lossy(&line)))?;
                        *state = if size == 0 { Chunked::Trailers } else { Chunked::Data(size) };
                    }
                    Chunked::Data(left) => {
                        let take = usize::try_from(left).unwrap_or(usize::MAX).min(buffer.len());
                        if take == 0 {
                            return Ok(());
                        }
                        out.extend_from_slice(&buffer.split_to(take));
                        *state = if left == take as u64 { Chunked::DataEnd } else { Chunked::Data(left - take as u64) };
                    }
                    Chunked::DataEnd => {
                        let Some(line) = take_line(buffer)? else { return Ok(()) };
                        if !line.is_empty() {
                            return Err("the engine's chunk is longer than its size".to_owned());
                        }
                        *state = Chunked::Size;
                    }
                    Chunked::Trailers => {
                        let Some(line) = take_line(buffer)? else { return Ok(()) };
                        if line.is_empty() {
                            *self = Framing::Done;
                            return Ok(());
                        }
                    }
                }
            },
        }
    }
}

/// One CRLF-ended line taken from the front of `buffer`, without its end; `None` until it is
/// whole.
fn take_line(buffer: &mut BytesMut) -> Result<Option<BytesMut>, String> {
    match buffer.windows(2).position(|w| w == b"\r\n") {
        Some(end) => {
            let line = buffer.split_to(end);
            buffer.advance(2);
            Ok(Some(line))
        }
        None if buffer.len() > LINE_LIMIT => Err(format!("a line of the engine's chunked answer is longer than {LINE_LIMIT} bytes")),
        None => Ok(None),
    }
}

/// The body of one answer, read from its connection; the connection goes back to the pool
/// when the body ended cleanly.
struct BodyReader {
    connection: Option<UnixStream>,
    buffer: BytesMut,
    framing: Framing,
    reusable: bool,
    pool: std::sync::Arc<Connections>,
    /// When the previous piece went out.
    last_piece: Option<Instant>,
}

impl BodyReader {
    fn into_stream(self) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send {
        futures_util::stream::unfold(Some(self), |reader| async move {
            let mut reader = reader?;
            match reader.next().await {
                Ok(Some(piece)) => Some((Ok(piece), Some(reader))),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e)), None)),
            }
        })
    }

    /// All the body that has arrived, waiting for the engine only when nothing has.
    async fn next(&mut self) -> Result<Option<Bytes>, String> {
        loop {
            let mut out = BytesMut::new();
            self.framing.decode(&mut self.buffer, &mut out)?;
            if self.framing == Framing::Done {
                self.finish();
                return Ok((!out.is_empty()).then(|| out.freeze()));
            }
            if !out.is_empty() {
                if self.bulk() {
                    self.gather(&mut out).await?;
                }
                self.last_piece = Some(Instant::now());
                return Ok(Some(out.freeze()));
            }
            let Some(connection) = self.connection.as_mut() else { return Ok(None) };
            self.buffer.reserve(READ_SIZE);
            let read = connection.read_buf(&mut self.buffer).await.map_err(|e| format!("the engine: {e}"))?;
            if read == 0 {
                self.connection = None;
                return match self.framing {
                    Framing::UntilClose => Ok(None),
                    _ => Err("the engine closed the connection within an answer".to_owned()),
                };
            }
        }
    }

    /// Whether the body arrives in bulk: the previous piece went out less than
    /// [`GATHER_WINDOW`] ago. A piece of a sparse stream (`logs -f`, events) goes out at once.
    fn bulk(&self) -> bool {
        self.last_piece.is_some_and(|at| at.elapsed() < GATHER_WINDOW)
    }

    /// Adds to `out` what arrives within [`GATHER_WINDOW`], up to [`READ_SIZE`] bytes. The
    /// engine's socket is read as eagerly as ever (a unix socket holds only a few hundred
    /// small writes before the engine blocks); only the writes to the client are fewer.
    async fn gather(&mut self, out: &mut BytesMut) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + GATHER_WINDOW;
        while out.len() < READ_SIZE && self.framing != Framing::Done {
            let Some(connection) = self.connection.as_mut() else { break };
            self.buffer.reserve(READ_SIZE);
            // `read_buf` is cancel-safe: at the deadline nothing read is lost.
            match tokio::time::timeout_at(deadline, connection.read_buf(&mut self.buffer)).await {
                Err(_elapsed) => break,
                // The end, or an error: the next read meets it again.
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) => self.framing.decode(&mut self.buffer, out)?,
            }
        }
        if self.framing == Framing::Done {
            self.finish();
        }
        Ok(())
    }

    fn finish(&mut self) {
        if let Some(connection) = self.connection.take() {
            // Bytes past the answer are not the start of another: the connection is not
            // passed on.
            if self.reusable && self.buffer.is_empty() {
                self.pool.put_back(connection);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(framing: Framing, wire: &[u8], piece: usize) -> Result<(Vec<u8>, Framing), String> {
        let mut framing = framing;
        let mut buffer = BytesMut::new();
        let mut out = BytesMut::new();
        for part in wire.chunks(piece) {
            buffer.extend_from_slice(part);
            framing.decode(&mut buffer, &mut out)?;
        }
        Ok((out.to_vec(), framing))
    }

    #[test]
    fn chunked_bodies_decode_however_they_arrive() {
        let wire = b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nTrailer: x\r\n\r\n";
        for piece in 1..wire.len() {
            let (body, framing) = decode_in_pieces(Framing::Chunked(Chunked::Size), wire, piece).unwrap();
            assert_eq!(body, b"hello world!", "in pieces of {piece}");
            assert_eq!(framing, Framing::Done);
        }
    }

    #[test]
    fn a_length_body_stops_at_its_length() {
        let (body, framing) = decode_in_pieces(Framing::Length(3), b"abc", 2).unwrap();
        assert_eq!((body.as_slice(), framing), (&b"abc"[..], Framing::Done));
        let mut buffer = BytesMut::from(&b"abcdef"[..]);
        let mut framing = Framing::Length(3);
        let mut out = BytesMut::new();
        framing.decode(&mut buffer, &mut out).unwrap();
        assert_eq!((&out[..], &buffer[..]), (&b"abc"[..], &b"def"[..]));
    }

    #[test]
    fn bad_chunks_are_errors_that_say_what_is_wrong() {
        let size = decode_in_pieces(Framing::Chunked(Chunked::Size), b"zz\r\n", 4).unwrap_err();
        assert!(size.contains("chunk size \"zz\""), "{size}");
        let long = decode_in_pieces(Framing::Chunked(Chunked::Size), b"2\r\nabc\r\n", 8).unwrap_err();
        assert!(long.contains("longer than its size"), "{long}");
        let endless = decode_in_pieces(Framing::Chunked(Chunked::Size), &[b'1'; LINE_LIMIT + 2], 512).unwrap_err();
        assert!(endless.contains("longer than 4096 bytes"), "{endless}");
    }

    #[test]
    fn answers_without_a_body_are_done_at_once() {
        let head = |status: u16, length: Option<u64>, chunked: bool| Head {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            chunked,
            length,
            keep_alive: true,
        };
        assert_eq!(head(200, Some(10), false).framing(&Method::HEAD), Framing::Done);
        assert_eq!(head(204, None, false).framing(&Method::GET), Framing::Done);
        assert_eq!(head(200, Some(0), false).framing(&Method::GET), Framing::Done);
        assert_eq!(head(200, None, true).framing(&Method::GET), Framing::Chunked(Chunked::Size));
        assert_eq!(head(200, None, false).framing(&Method::GET), Framing::UntilClose);
    }
    /// A stand-in engine: answers each request on a connection with `answer`, and closes
    /// every connection after `per_connection` answers.
    async fn engine(answer: &'static [u8], per_connection: usize) -> (tempfile::TempDir, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::UnixListener::bind(dir.path().join("engine.sock")).unwrap();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    for _ in 0..per_connection {
                        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                            let mut piece = [0u8; 1024];
                            match stream.read(&mut piece).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => request.extend_from_slice(&piece[..n]),
                            }
                        }
                        request.clear();
                        if stream.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (dir, connections)
    }

    async fn body_of(response: Response) -> Vec<u8> {
        use http_body_util::BodyExt as _;
        response.into_body().collect().await.unwrap().to_bytes().to_vec()
    }

    const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n";

    #[tokio::test]
    async fn a_connection_serves_the_next_read_once_its_answer_ended() {
        let (dir, connections) = engine(CHUNKED, usize::MAX).await;
        let pool = std::sync::Arc::new(Connections::new(&dir.path().join("engine.sock")));
        for _ in 0..3 {
            let answer = pool.get(&Method::GET, "/v1.41/containers/json", &HeaderMap::new()).await.unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
            assert!(answer.headers().get("transfer-encoding").is_none(), "hop-by-hop headers are the proxy's own");
            assert_eq!(body_of(answer).await, b"[]");
        }
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_read_on_a_connection_the_engine_closed_is_sent_again_on_a_new_one() {
        let (dir, connections) = engine(CHUNKED, 1).await;
        let pool = std::sync::Arc::new(Connections::new(&dir.path().join("engine.sock")));
        for _ in 0..2 {
            let answer = pool.get(&Method::GET, "/_ping", &HeaderMap::new()).await.unwrap();
            assert_eq!(body_of(answer).await, b"[]");
        }
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_answer_cut_short_is_an_error_not_a_short_body() {
        let (dir, _) = engine(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1).await;
        let pool = std::sync::Arc::new(Connections::new(&dir.path().join("engine.sock")));
        let answer = pool.get(&Method::GET, "/containers/x/export", &HeaderMap::new()).await.unwrap();
        use http_body_util::BodyExt as _;
        assert!(answer.into_body().collect().await.is_err());
    }
}
