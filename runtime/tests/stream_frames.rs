//! Multiplexed frames and raw TTY bytes, through the sans-IO decoder and the `LogStream`
//! adapter, at every way the transport could cut the body.

use std::io;

use bytes::Bytes;
use futures::executor::block_on;
use futures::stream::{self, StreamExt};
use moby_api_runtime::stream::{FrameDecoder, FrameError, Framing, LogChunk, LogStream, StdStream, StreamError};

fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![stream, 0, 0, 0];
    out.extend_from_slice(&u32::try_from(payload.len()).expect("small test payload").to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn chunk(stream: StdStream, bytes: &[u8]) -> LogChunk {
    LogChunk { stream, bytes: Bytes::copy_from_slice(bytes) }
}

/// Feeds the pieces to the sans-IO decoder: the chunks, then the error that ended it (from
/// `next_frame` or `finish`).
fn decode(pieces: &[Bytes], framing: Framing) -> (Vec<LogChunk>, Option<FrameError>) {
    let mut decoder = FrameDecoder::new(framing);
    let mut chunks = Vec::new();
    for piece in pieces {
        decoder.push(piece.clone());
        while let Some(item) = decoder.next_frame() {
            match item {
                Ok(c) => chunks.push(c),
                Err(e) => {
                    assert!(decoder.next_frame().is_none(), "decoder went on after {e}");
                    return (chunks, Some(e));
                }
            }
        }
    }
    (chunks, decoder.finish().err())
}

/// The same through `LogStream`; also checks that an error is the last item.
fn decode_stream(pieces: &[Bytes], framing: Framing) -> (Vec<LogChunk>, Option<StreamError>) {
    let input = stream::iter(pieces.iter().cloned().map(Ok::<_, io::Error>));
    let items = block_on(LogStream::new(input, framing).collect::<Vec<_>>());
    let mut chunks = Vec::new();
    let mut items = items.into_iter();
    for item in items.by_ref() {
        match item {
            Ok(c) => chunks.push(c),
            Err(e) => {
                assert_eq!(items.count(), 0, "items after the error {e}");
                return (chunks, Some(e));
            }
        }
    }
    (chunks, None)
}

/// Every cut into two and three pieces, and one byte at a time.
fn all_splits(data: &[u8]) -> Vec<Vec<Bytes>> {
    let b = Bytes::copy_from_slice(data);
    let mut out = vec![b.iter().map(|&x| Bytes::copy_from_slice(&[x])).collect()];
    for i in 0..=data.len() {
        out.push(vec![b.slice(..i), b.slice(i..)]);
        for j in i..=data.len() {
            out.push(vec![b.slice(..i), b.slice(i..j), b.slice(j..)]);
        }
    }
    out
}

fn sample() -> (Vec<u8>, Vec<LogChunk>) {
    let long: Vec<u8> = (0..40u8).collect();
    let data = [frame(1, b"hello\n"), frame(2, b"oops"), frame(1, b""), frame(0, b"in"), frame(1, &long)].concat();
    let expected = vec![
        chunk(StdStream::Stdout, b"hello\n"),
        chunk(StdStream::Stderr, b"oops"),
        chunk(StdStream::Stdin, b"in"),
        chunk(StdStream::Stdout, &long),
    ];
    (data, expected)
}

#[test]
fn every_split_gives_the_same_chunks() {
    let (data, expected) = sample();
    let splits = all_splits(&data);
    assert!(splits.len() > data.len() * data.len() / 2);
    for pieces in &splits {
        let (chunks, err) = decode(pieces, Framing::Multiplexed);
        assert_eq!(err, None, "pieces {pieces:?}");
        assert_eq!(chunks, expected, "pieces {pieces:?}");
    }
}

#[test]
fn every_split_through_the_stream_gives_the_same_chunks() {
    let (data, expected) = sample();
    let b = Bytes::from(data.clone());
    let one_by_one: Vec<Bytes> = (0..b.len()).map(|i| b.slice(i..=i)).collect();
    for pieces in (0..=b.len()).map(|i| vec![b.slice(..i), b.slice(i..)]).chain([one_by_one]) {
        let (chunks, err) = decode_stream(&pieces, Framing::Multiplexed);
        assert!(err.is_none(), "pieces {pieces:?}: {err:?}");
        assert_eq!(chunks, expected, "pieces {pieces:?}");
    }
}

#[test]
fn a_frame_within_one_piece_is_not_copied() {
    let input = Bytes::from([frame(1, b"abc"), frame(2, b"defg")].concat());
    let range = input.as_ptr_range();
    let (chunks, err) = decode(std::slice::from_ref(&input), Framing::Multiplexed);
    assert_eq!(err, None);
    assert_eq!(chunks.len(), 2);
    for c in &chunks {
        assert!(range.contains(&c.bytes.as_ptr()), "{c:?} was copied");
    }
}

#[test]
fn empty_frames_yield_nothing() {
    let data = Bytes::from([frame(1, b""), frame(2, b""), frame(0, b"")].concat());
    let (chunks, err) = decode(std::slice::from_ref(&data), Framing::Multiplexed);
    assert_eq!((chunks, err), (vec![], None));
    let (chunks, err) = decode_stream(&[data], Framing::Multiplexed);
    assert!(chunks.is_empty() && err.is_none(), "{chunks:?} {err:?}");
}

#[test]
fn truncated_header_is_an_error_at_the_end() {
    let mut data = frame(1, b"ok");
    data.extend_from_slice(&[2, 0, 0]);
    let (chunks, err) = decode(&[Bytes::from(data.clone())], Framing::Multiplexed);
    assert_eq!(chunks, [chunk(StdStream::Stdout, b"ok")]);
    assert_eq!(err, Some(FrameError::Truncated { expected: 8, received: 3 }));
    let (chunks, err) = decode_stream(&[Bytes::from(data)], Framing::Multiplexed);
    assert_eq!(chunks.len(), 1);
    assert!(matches!(err, Some(StreamError::Truncated { expected: 8, received: 3 })), "{err:?}");
}

#[test]
fn truncated_payload_is_an_error_at_the_end() {
    let full = frame(2, b"0123456789");
    for cut in 1..full.len() {
        let pieces: Vec<Bytes> = full[..cut].iter().map(|&x| Bytes::copy_from_slice(&[x])).collect();
        let expected = if cut < 8 { 8 } else { 18 };
        let (chunks, err) = decode(&pieces, Framing::Multiplexed);
        assert!(chunks.is_empty());
        assert_eq!(err, Some(FrameError::Truncated { expected, received: cut }));
        let (_, err) = decode_stream(&pieces, Framing::Multiplexed);
        assert!(matches!(err, Some(StreamError::Truncated { expected: e, received: r }) if e == expected && r == cut), "{err:?}");
    }
}

#[test]
fn stream_three_is_a_daemon_error_that_ends_the_stream() {
    let data = Bytes::from([frame(1, b"a"), frame(3, b"boom"), frame(1, b"after")].concat());
    let (chunks, err) = decode(std::slice::from_ref(&data), Framing::Multiplexed);
    assert_eq!(chunks, [chunk(StdStream::Stdout, b"a")]);
    assert_eq!(err, Some(FrameError::Daemon("boom".into())));
    // The adapter stops reading too: the transport error behind it is never seen.
    let src = stream::iter(vec![Ok(data), Err(io::Error::other("reset"))]);
    let out = block_on(LogStream::new(src, Framing::Multiplexed).collect::<Vec<_>>());
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(matches!(&out[1], Err(StreamError::Daemon { message, code: None }) if message == "boom"), "{out:?}");
}

#[test]
fn unknown_stream_byte_is_a_protocol_error_at_once() {
    let data = Bytes::from([frame(2, b"e"), frame(4, b"x")].concat());
    let (chunks, err) = decode(std::slice::from_ref(&data), Framing::Multiplexed);
    assert_eq!(chunks, [chunk(StdStream::Stderr, b"e")]);
    assert_eq!(err, Some(FrameError::InvalidStream(4)));
    let (_, err) = decode_stream(&[data], Framing::Multiplexed);
    assert!(matches!(err, Some(StreamError::Protocol(_))), "{err:?}");

    // A TTY's output read as frames fails on its first byte, not after a bogus "size".
    let mut decoder = FrameDecoder::new(Framing::Multiplexed);
    decoder.push(Bytes::from_static(b"{"));
    assert_eq!(decoder.next_frame(), Some(Err(FrameError::InvalidStream(b'{'))));
    assert_eq!(decoder.finish(), Ok(()));
}

#[test]
fn raw_bytes_pass_through_as_stdout() {
    let pieces = [Bytes::from(frame(2, b"looks framed")), Bytes::from_static(b"\x01\x00"), Bytes::new()];
    let (chunks, err) = decode(&pieces, Framing::Raw);
    assert_eq!(err, None);
    assert_eq!(chunks, [chunk(StdStream::Stdout, &frame(2, b"looks framed")), chunk(StdStream::Stdout, b"\x01\x00")]);
    let (chunks, err) = decode_stream(&pieces, Framing::Raw);
    assert!(err.is_none() && chunks.len() == 2, "{chunks:?} {err:?}");
}

#[test]
fn transport_error_is_the_last_item() {
    let items = vec![Ok(Bytes::from(frame(1, b"x"))), Err(io::Error::other("reset")), Ok(Bytes::from(frame(1, b"y")))];
    let out = block_on(LogStream::new(stream::iter(items), Framing::Multiplexed).collect::<Vec<_>>());
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(matches!(&out[0], Ok(c) if c.bytes == "x"));
    assert!(matches!(&out[1], Err(StreamError::Transport(e)) if e.to_string() == "reset"), "{out:?}");
}

#[test]
fn an_oversized_frame_fails_at_its_header_without_waiting_for_the_payload() {
    // A header announcing 4 GiB - 1: an error as soon as the header is in, nothing buffered.
    let mut decoder = FrameDecoder::new(Framing::Multiplexed);
    decoder.push(Bytes::from_static(&[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, b'x']));
    assert_eq!(
        decoder.next_frame(),
        Some(Err(FrameError::TooLarge { size: u64::from(u32::MAX), limit: moby_api_runtime::stream::DEFAULT_MAX_FRAME_LEN }))
    );
    assert_eq!(decoder.next_frame(), None);
    assert_eq!(decoder.finish(), Ok(()));

    // The limit is configurable and applies to the payload; a frame at the limit passes.
    let data = Bytes::from([frame(1, b"1234"), frame(2, b"12345")].concat());
    let mut decoder = FrameDecoder::new(Framing::Multiplexed).with_max_frame_len(4);
    decoder.push(data.clone());
    assert_eq!(decoder.next_frame(), Some(Ok(chunk(StdStream::Stdout, b"1234"))));
    assert_eq!(decoder.next_frame(), Some(Err(FrameError::TooLarge { size: 5, limit: 4 })));

    let out =
        block_on(LogStream::new(stream::iter([Ok::<_, io::Error>(data)]), Framing::Multiplexed).with_max_frame_len(4).collect::<Vec<_>>());
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(matches!(&out[1], Err(StreamError::Protocol(m)) if m.contains("exceeds")), "{out:?}");

    // Raw output has no frames to limit.
    let mut decoder = FrameDecoder::new(Framing::Raw).with_max_frame_len(1);
    decoder.push(Bytes::from_static(b"longer than one byte"));
    assert!(matches!(decoder.next_frame(), Some(Ok(_))));
}

#[test]
fn a_truncated_body_ends_after_its_error_without_waiting() {
    // The adapter over a source that ends mid-payload: one chunk, one error, then None
    // for good (a fused stream; polling again must not hang or restart).
    let mut data = frame(1, b"whole");
    data.extend_from_slice(&frame(2, b"never finished")[..12]);
    let mut logs = LogStream::new(stream::iter([Ok::<_, io::Error>(Bytes::from(data))]), Framing::Multiplexed);
    assert!(matches!(block_on(logs.next()), Some(Ok(_))));
    assert!(matches!(block_on(logs.next()), Some(Err(StreamError::Truncated { expected: 22, received: 12 }))));
    assert!(block_on(logs.next()).is_none());
    assert!(block_on(logs.next()).is_none());
}
