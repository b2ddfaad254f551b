//! JSON lines and JSON progress, through the sans-IO splitter and the stream adapters.

use std::io;

use bytes::Bytes;
use futures::executor::block_on;
use futures::stream::{self, StreamExt};
use moby_api_runtime::stream::{JsonLines, LineSplitter, ProgressDetail, ProgressMessage, ProgressStream, StreamError};
use serde::Deserialize;

#[derive(Debug, PartialEq, Deserialize)]
struct Item {
    n: i64,
}

fn input(pieces: &[Bytes]) -> impl futures::Stream<Item = Result<Bytes, io::Error>> + Unpin {
    let owned: Vec<Bytes> = pieces.to_vec();
    stream::iter(owned.into_iter().map(Ok))
}

fn items(pieces: &[Bytes]) -> Vec<Result<Item, StreamError>> {
    block_on(JsonLines::new(input(pieces)).collect())
}

fn ok_items(pieces: &[Bytes]) -> Vec<i64> {
    items(pieces).into_iter().map(|r| r.map(|i| i.n).unwrap_or_else(|e| panic!("{pieces:?}: {e}"))).collect()
}

fn one(s: &'static str) -> Vec<Bytes> {
    vec![Bytes::from_static(s.as_bytes())]
}

/// Mixed separators, blank and whitespace lines, and a last line without separator.
const BODY: &str = "{\"n\":1}\n{\"n\":2}\r\n\n  \r\n{\"n\": 3, \"x\": \"a\\nb\"}\r\n\r\n{\"n\":4}";

#[test]
fn every_split_gives_the_same_items() {
    let b = Bytes::from_static(BODY.as_bytes());
    let mut cases: Vec<Vec<Bytes>> = vec![(0..b.len()).map(|i| b.slice(i..=i)).collect()];
    for i in 0..=b.len() {
        for j in i..=b.len() {
            cases.push(vec![b.slice(..i), b.slice(i..j), b.slice(j..)]);
        }
    }
    for pieces in &cases {
        assert_eq!(ok_items(pieces), [1, 2, 3, 4], "{pieces:?}");
    }
}

#[test]
fn splitter_yields_lines_without_separators() {
    let mut s = LineSplitter::new(100);
    s.push(b"a\r\nb\n\r\n\nc\r");
    let mut lines = Vec::new();
    while let Some(line) = s.next_line() {
        lines.push(line.expect("short lines"));
    }
    assert_eq!(lines, ["a", "b"]);
    assert_eq!(s.finish().map(|r| r.ok()), Some(Some(Bytes::from_static(b"c"))));
    assert!(s.finish().is_none() && s.next_line().is_none());
}

#[test]
fn crlf_split_between_cr_and_lf() {
    let pieces = [Bytes::from_static(b"{\"n\":1}\r"), Bytes::from_static(b"\n{\"n\":2}\r"), Bytes::from_static(b"\n")];
    assert_eq!(ok_items(&pieces), [1, 2]);
}

#[test]
fn final_line_without_newline_is_yielded() {
    assert_eq!(ok_items(&one("{\"n\":1}\n{\"n\":2}")), [1, 2]);
    assert_eq!(ok_items(&one("{\"n\":7}\r")), [7]);
}

#[test]
fn blank_lines_are_skipped() {
    assert_eq!(ok_items(&one("\n\r\n \t\n{\"n\":5}\n\n\r\n")), [5]);
    assert_eq!(ok_items(&one("\n\n")), Vec::<i64>::new());
    assert_eq!(ok_items(&[]), Vec::<i64>::new());
}

#[test]
fn invalid_json_is_an_error_item_with_the_line_and_the_stream_goes_on() {
    let out = items(&one("{\"n\":1}\nnot json\r\n{\"n\":\"two\"}\n{\"n\":3}\n"));
    assert_eq!(out.len(), 4, "{out:?}");
    assert!(matches!(&out[1], Err(StreamError::Json { line, .. }) if line == "not json"), "{out:?}");
    assert!(matches!(&out[2], Err(StreamError::Json { line, .. }) if line == "{\"n\":\"two\"}"), "{out:?}");
    assert!(matches!(&out[3], Ok(Item { n: 3 })), "{out:?}");
}

#[test]
fn line_too_long_is_the_last_item() {
    // The transport error behind it is never read.
    let src = stream::iter(vec![Ok(Bytes::from_static(b"{\"n\":1}\n{\"n\":100000000000}\n{\"n\":2}\n")), Err(io::Error::other("reset"))]);
    let out: Vec<Result<Item, _>> = block_on(JsonLines::new(src).with_max_line_len(10).collect());
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(matches!(&out[0], Ok(Item { n: 1 })));
    assert!(matches!(&out[1], Err(StreamError::LineTooLong { limit: 10 })), "{out:?}");
}

#[test]
fn line_too_long_is_reported_before_its_end_arrives() {
    let mut s = LineSplitter::new(4);
    // Exactly at the limit, with half a CRLF: not too long yet.
    s.push(b"abcd\r");
    assert!(s.next_line().is_none());
    s.push(b"\nabcd");
    assert_eq!(s.next_line().map(|r| r.ok()), Some(Some(Bytes::from_static(b"abcd"))));
    assert!(s.next_line().is_none());
    s.push(b"e");
    assert!(matches!(s.next_line(), Some(Err(StreamError::LineTooLong { limit: 4 }))));
    s.push(b"\n{}\n");
    assert!(s.next_line().is_none() && s.finish().is_none());
}

#[test]
fn transport_error_is_the_last_item() {
    let src =
        stream::iter(vec![Ok(Bytes::from_static(b"{\"n\":1}\n{\"n\"")), Err(io::Error::other("reset")), Ok(Bytes::from_static(b":2}\n"))]);
    let out: Vec<Result<Item, _>> = block_on(JsonLines::new(src).collect());
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(matches!(&out[1], Err(StreamError::Transport(_))), "{out:?}");
}

const PULL: &str = concat!(
    "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\r\n",
    "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":10,\"total\":20},\"progress\":\"[=>  ]\",\"id\":\"abc\",\"time\":1}\r\n",
    "{\"status\":\"Extracting\",\"progressDetail\":{},\"id\":\"abc\"}\r\n",
    "{\"aux\":{\"ID\":\"sha256:1\"}}\r\n",
    "{\"errorDetail\":{\"code\":404,\"message\":\"manifest unknown\"},\"error\":\"old text\"}\r\n",
    "{\"error\":\"only the old field\"}\r\n",
    "{\"errorDetail\":{\"message\":null},\"error\":\"fallback\"}\r\n",
);

#[test]
fn progress_messages_and_errors() {
    let out: Vec<_> = block_on(ProgressStream::new(input(&one(PULL))).collect());
    assert_eq!(out.len(), 7, "{out:?}");
    assert_eq!(out[0].as_ref().ok().and_then(|m| m.id.as_deref()), Some("latest"));
    let downloading = out[1].as_ref().ok();
    assert_eq!(downloading.and_then(|m| m.progress_detail.clone()), Some(ProgressDetail { current: Some(10), total: Some(20) }));
    assert_eq!(downloading.and_then(|m| m.progress.as_deref()), Some("[=>  ]"));
    assert_eq!(out[2].as_ref().ok().and_then(|m| m.progress_detail.clone()), Some(ProgressDetail::default()));
    assert_eq!(out[3].as_ref().ok().and_then(|m| m.aux.clone()), Some(serde_json::json!({"ID": "sha256:1"})));
    assert!(matches!(&out[4], Err(StreamError::Daemon { message, code: Some(404) }) if message == "manifest unknown"), "{:?}", out[4]);
    assert!(matches!(&out[5], Err(StreamError::Daemon { message, code: None }) if message == "only the old field"), "{:?}", out[5]);
    assert!(matches!(&out[6], Err(StreamError::Daemon { message, code: None }) if message == "fallback"), "{:?}", out[6]);
}

/// A build's `aux` as the spec types it; what does not read as that type (BuildKit's trace
/// records) is kept as sent, and both are written back as they came.
#[test]
fn typed_aux_and_what_does_not_fit() {
    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct ImageId {
        #[serde(rename = "ID")]
        id: String,
    }
    let body = concat!(
        "{\"stream\":\"Step 1/1 : FROM busybox\\n\"}\r\n",
        "{\"id\":\"moby.buildkit.trace\",\"aux\":\"CgQKAggB\"}\r\n",
        "{\"id\":\"moby.image.id\",\"aux\":{\"ID\":\"sha256:2\"}}\r\n",
    );
    let out: Vec<Result<ProgressMessage<ImageId>, _>> = block_on(ProgressStream::new(input(&one(body))).collect());
    let out: Vec<ProgressMessage<ImageId>> = out.into_iter().map(Result::unwrap).collect();
    assert_eq!((out[0].aux.as_ref(), out[0].other_aux.as_ref()), (None, None));
    assert_eq!((out[1].aux.as_ref(), out[1].other_aux.as_ref()), (None, Some(&serde_json::json!("CgQKAggB"))));
    assert_eq!(out[2].aux, Some(ImageId { id: "sha256:2".into() }));
    for (message, line) in out.iter().zip(body.split("\r\n")) {
        let written: serde_json::Value = serde_json::to_value(message).unwrap();
        assert_eq!(written, serde_json::from_str::<serde_json::Value>(line).unwrap());
    }
}

#[test]
fn progress_message_without_error_is_ok() {
    let m: ProgressMessage = ProgressMessage { stream: Some("Step 1/2\n".into()), ..Default::default() };
    assert_eq!(m.clone().into_result().ok(), Some(m));
}
