//! `GET /containers/{id}/logs`: the kept output records, filtered by stream, time and
//! tail, optionally timestamped, and with `follow` everything written until the container
//! stops.

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use moby_api::v1_41::params::ContainerLogsParams;
use moby_api_runtime::server::{ApiError, StreamBody};
use moby_api_runtime::stream::{LogChunk, StdStream};

use crate::clock::rfc3339_fixed;
use crate::engine::{Engine, LogRecord};

/// What to send of the records.
#[derive(Clone)]
struct Selection {
    stdout: bool,
    stderr: bool,
    since: i64,
    until: Option<i64>,
    timestamps: bool,
}

impl Selection {
    fn wants(&self, record: &LogRecord) -> bool {
        let stream = if record.stream == StdStream::Stderr { self.stderr } else { self.stdout };
        stream && record.time >= self.since && self.until.is_none_or(|until| record.time <= until)
    }

    fn bytes(&self, record: &LogRecord) -> Bytes {
        if self.timestamps {
            let mut line = format!("{} ", rfc3339_fixed(record.time)).into_bytes();
            line.extend_from_slice(&record.bytes);
            Bytes::from(line)
        } else {
            record.bytes.clone()
        }
    }
}

/// Where a following reader is.
struct Cursor {
    engine: Engine,
    id: String,
    next: usize,
    tail: Option<usize>,
    follow: bool,
    selection: Selection,
}

pub(crate) fn logs(engine: &Engine, key: &str, params: ContainerLogsParams) -> Result<StreamBody, ApiError> {
    let stdout = params.stdout.unwrap_or(false);
    let stderr = params.stderr.unwrap_or(false);
    if !stdout && !stderr {
        return Err(ApiError::invalid_argument("Bad parameters: you must choose at least one stream"));
    }
    let (id, tty) = engine.read(|state| state.container(key).map(|c| (c.id.clone(), c.tty())))?;
    // Seconds with an optional fraction; `0` (the default) means no bound, like the daemon.
    let bound = |value: Option<&str>, name: &str| -> Result<Option<i64>, ApiError> {
        match value {
            None | Some("") => Ok(None),
            Some(text) => crate::clock::parse_timestamp(text)
                .map(|nanos| (nanos > 0).then_some(nanos))
                .ok_or_else(|| ApiError::invalid_argument(format!("invalid value for {name}: {text:?}"))),
        }
    };
    let selection = Selection {
        stdout,
        stderr,
        since: bound(params.since.as_deref(), "since")?.unwrap_or(i64::MIN),
        until: bound(params.until.as_deref(), "until")?,
        timestamps: params.timestamps.unwrap_or(false),
    };
    // `tail` is a number or `all`; anything else is all, as on the daemon.
    let tail = params.tail.as_deref().and_then(|t| t.parse::<usize>().ok());
    let cursor = Cursor { engine: engine.clone(), id, next: 0, tail, follow: params.follow.unwrap_or(false), selection };
    let batches = stream::unfold(cursor, next_batch).flat_map(stream::iter);
    Ok(if tty { StreamBody::raw(batches.map(|chunk| chunk.bytes)) } else { StreamBody::frames(batches) })
}

/// The next records to send; waits for more while following a running container.
async fn next_batch(mut cursor: Cursor) -> Option<(Vec<LogChunk>, Cursor)> {
    loop {
        let mut changes = cursor.engine.subscribe();
        let (records, running) = cursor.engine.read(|state| match state.containers.get(&cursor.id) {
            Some(c) => {
                let new: Vec<LogRecord> =
                    c.logs[cursor.next.min(c.logs.len())..].iter().filter(|r| cursor.selection.wants(r)).cloned().collect();
                cursor.next = c.logs.len();
                (new, c.status.is_running())
            }
            None => (Vec::new(), false),
        });
        let mut records = records;
        if let Some(tail) = cursor.tail.take() {
            records.drain(..records.len().saturating_sub(tail));
        }
        if !records.is_empty() {
            let chunks = records.iter().map(|r| LogChunk { stream: r.stream, bytes: cursor.selection.bytes(r) }).collect();
            return Some((chunks, cursor));
        }
        if !cursor.follow || !running || cursor.engine.is_shutting_down() {
            return None;
        }
        if changes.changed().await.is_err() {
            return None;
        }
    }
}
