//! Any bytes through the MSRP stream decoder, fed in pieces whose sizes come
//! from the input: the decoder never panics, never consumes bytes while asking
//! for more (except the bytes of a bad frame it is discarding), and every frame
//! it returns re-encodes into bytes that decode to the same frame. Typed
//! accessors, answers to bad frames, responses, reports and reassembly never
//! panic on what it returns.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use msrp::{
    Decoder, DigestParams, Frame, Limits, Reassembler, ReassemblyLimits, parse_path, report,
};

fn exercise(f: &Frame, r: &mut Reassembler) {
    let _ = f.validate();
    let _ = f.to_path();
    let _ = f.from_path();
    let _ = f.use_path();
    let _ = f.message_id();
    let _ = f.byte_range();
    let _ = f.success_report();
    let _ = f.failure_report();
    let _ = f.status_header();
    let _ = (f.expires(), f.min_expires(), f.max_expires());
    for v in [
        f.www_authenticate(),
        f.authorization(),
        f.authentication_info(),
    ]
    .into_iter()
    .flatten()
    {
        if let Ok(d) = DigestParams::parse(v) {
            let again = DigestParams::parse(&d.to_string()).expect("digest params re-parse");
            assert_eq!(again.params.len(), d.params.len());
        }
    }
    for h in f.headers() {
        let _ = parse_path(h.value());
    }
    let _ = f.end_line_in_body();
    if let Ok(resp) = f.response(400, Some("Bad Request")) {
        let _ = resp.to_bytes();
    }
    let range = report::received_range(f);
    let _ = report::success(f, range);
    let _ = report::failure(f, 413, range);
    let _ = report::response_owed(f, 200);
    let _ = r.handle_chunk(f);
    let mut g = f.clone();
    let _ = g.forward_hop();
}

fn reencode(f: &Frame) {
    let bytes = f.to_bytes();
    assert_eq!(bytes.len(), f.encoded_len());
    let mut buf = BytesMut::from(&bytes[..]);
    let again = Decoder::new(Limits::default())
        .decode(&mut buf)
        .expect("a decoded frame re-encodes into a valid frame")
        .expect("and a whole one");
    assert!(buf.is_empty(), "one frame re-encodes into one frame");
    assert_eq!(&again, f);
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_head: 2048,
        max_body: 4096,
        max_non_send_body: 1024,
    };
    let mut d = Decoder::new(limits);
    let mut r = Reassembler::new(ReassemblyLimits {
        max_message_size: 8192,
        max_partial_messages: 4,
        remember_completed: 8,
    });
    let mut buf = BytesMut::new();
    let mut pos = 0;
    let mut state = u32::from(seed) | 1;
    'feed: while pos < input.len() {
        // Piece sizes from a small generator seeded by the first byte.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = if seed & 1 == 0 {
            input.len()
        } else {
            1 + (state as usize % 97)
        };
        let n = n.min(input.len() - pos);
        buf.extend_from_slice(&input[pos..pos + n]);
        pos += n;
        loop {
            let before = buf.len();
            let discarding = d.is_discarding();
            match d.decode(&mut buf) {
                Ok(Some(f)) => {
                    assert!(buf.len() < before, "a frame consumed nothing");
                    reencode(&f);
                    exercise(&f, &mut r);
                }
                Ok(None) => {
                    if !discarding && !d.is_discarding() {
                        assert_eq!(buf.len(), before, "consumed bytes while asking for more");
                    }
                    break;
                }
                Err(e) => {
                    if let Some(a) = e.answer() {
                        reencode(&a);
                    }
                    if e.must_close() {
                        break 'feed;
                    }
                }
            }
        }
    }
    let _ = d.decode_eof(&mut buf);
});
