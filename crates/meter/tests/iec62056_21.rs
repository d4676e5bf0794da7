//! IEC 62056-21 readouts. No public capture with a clear licence exists, so these telegrams
//! are built from the standard's published examples (IEC 62056-21:2002 §6.3 and Annex A:
//! identification `/ISK5ME162-0033`, STX, data sets `address(value*unit)`, `!`, CR LF, ETX,
//! BCC = XOR of every byte after STX up to and including ETX; mode D without STX/ETX/BCC).
//! Expected values are read off the text by hand.

use hearth_meter::iec62056_21::{Iec62056Decoder, SIGN_ON};
use hearth_meter::{Decoded, Decoder, Quantity as Q, RejectReason, Rejection};

const DATA: &str = "0.0.0(12345678)\r\n\
1.8.0(001234.567*kWh)\r\n\
1.8.1(000800.000*kWh)\r\n\
1.8.2(000434.567*kWh)\r\n\
2.8.0(000012.300*kWh)\r\n\
1.7.0(01.234*kW)\r\n\
32.7.0(230.1*V)(231.0*V)\r\n\
31.7.0(1.25*A)\r\n\
0.9.1(143015)\r\n\
0.9.2(260329)\r\n\
F.F(00000000)\r\n\
!\r\n";

/// A mode A/C readout: identification, STX, data, `!`, ETX, BCC (XOR computed here).
fn mode_c(data: &str) -> Vec<u8> {
    let mut out = b"/ISK5ME162-0033\r\n\x02".to_vec();
    let start = out.len();
    out.extend_from_slice(data.as_bytes());
    out.push(0x03);
    let bcc = out[start..].iter().fold(0u8, |a, b| a ^ b);
    out.push(bcc);
    out
}

fn decode(bytes: &[u8], chunk: usize) -> (Vec<Result<Decoded, Rejection>>, Iec62056Decoder) {
    let mut dec = Iec62056Decoder::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk) {
        dec.push(piece);
        while let Some(r) = dec.next() {
            out.push(r);
        }
    }
    (out, dec)
}

fn check(d: &Decoded) {
    let r = &d.reading;
    assert_eq!(r.meter_id.as_ref().unwrap().as_str(), "12345678");
    assert_eq!(r.get(Q::ImportWh), Some(1_234_567));
    assert_eq!(r.get(Q::ImportT1Wh), Some(800_000));
    assert_eq!(r.get(Q::ImportT2Wh), Some(434_567));
    assert_eq!(r.get(Q::ExportWh), Some(12_300));
    assert_eq!(r.get(Q::ImportW), Some(1_234));
    assert_eq!(r.get(Q::L1Dv), Some(2_301)); // the first value of the line
    assert_eq!(r.get(Q::L1Ma), Some(1_250));
    // 2026-03-29 14:30:15 is summer time in Central Europe.
    assert_eq!(r.time.unwrap().to_string(), "2026-03-29T14:30:15+02:00");
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
}

#[test]
fn mode_c_readout_any_split() {
    let mut stream = SIGN_ON.to_vec(); // our echoed request is skipped
    stream.extend(mode_c(DATA));
    for chunk in [1, 3, stream.len()] {
        let (out, dec) = decode(&stream, chunk);
        assert_eq!(out.len(), 1);
        check(out[0].as_ref().unwrap());
        assert_eq!(dec.identification(), Some("ISK5ME162-0033"));
        assert_eq!(dec.stats().accepted, 1);
    }
}

#[test]
fn mode_d_push_without_stx() {
    let mut stream = b"/ESY5Q3DA1004 V3.04\r\n\r\n".to_vec();
    stream.extend_from_slice(DATA.as_bytes());
    stream.extend_from_slice(b"/ESY5Q3DA1004 V3.04\r\n\r\n");
    stream.extend_from_slice(DATA.as_bytes());
    for chunk in [1, 5, stream.len()] {
        let (out, _) = decode(&stream, chunk);
        assert_eq!(out.len(), 2, "chunk {chunk}");
        for d in &out {
            check(d.as_ref().unwrap());
        }
    }
}

#[test]
fn bcc_error_is_a_checksum_rejection_and_the_next_readout_survives() {
    let mut bad = mode_c(DATA);
    let n = bad.len();
    bad[n - 1] ^= 0x55;
    let mut stream = bad;
    stream.extend(mode_c(DATA));
    let (out, dec) = decode(&stream, 4);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].as_ref().unwrap_err().reason, RejectReason::Checksum);
    check(out[1].as_ref().unwrap());
    assert_eq!(dec.stats().rejected_for(RejectReason::Checksum), 1);
}

#[test]
fn odd_lines_are_diagnostics() {
    let data = "1.8.0(001234.567*kWh)\r\n\
garbage line\r\n\
1.8.1(12x.5*kWh)\r\n\
32.7.0(230*furlongs)\r\n\
!\r\n";
    let (out, _) = decode(&mode_c(data), 64);
    let d = out[0].as_ref().unwrap();
    assert_eq!(d.reading.get(Q::ImportWh), Some(1_234_567));
    assert_eq!(d.reading.get(Q::ImportT1Wh), None);
    assert_eq!(d.reading.get(Q::L1Dv), None);
    let lines: Vec<u32> = d.diagnostics.iter().map(|x| x.line).collect();
    assert_eq!(lines, vec![2, 3, 4]);
}

#[test]
fn endless_block_is_oversized_and_garbage_is_skipped() {
    let mut dec = Iec62056Decoder::new();
    dec.push(b"\x02");
    let mut rejections = Vec::new();
    for _ in 0..200 {
        dec.push(&[b'1'; 100]);
        while let Some(r) = dec.next() {
            rejections.push(r.unwrap_err().reason);
        }
    }
    assert_eq!(rejections, vec![RejectReason::Oversized]);
    let mut dec = Iec62056Decoder::new();
    dec.push(&[0xAA; 10_000]);
    assert!(dec.next().is_none());
    assert_eq!(dec.stats().skipped_bytes, 10_000);
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048), chunk in 1usize..64) {
        let _ = decode(&bytes, chunk);
    }

    #[test]
    fn mutated_readouts_never_panic(pos in 0usize..300, byte in proptest::num::u8::ANY, mode_d in proptest::bool::ANY) {
        let mut bytes = if mode_d {
            [b"/ESY5Q3DA1004 V3.04\r\n\r\n".as_slice(), DATA.as_bytes()].concat()
        } else {
            mode_c(DATA)
        };
        let pos = pos % bytes.len();
        bytes[pos] = byte;
        let _ = decode(&bytes, 5);
    }
}

#[test]
fn mode_c_with_the_readers_acknowledgement_in_between() {
    // Sign-on, identification, the reader's option select (ACK 0 5 0 CR LF, echoed on a
    // shared optical head), then the data message: one reading, no rejection.
    let mut stream = SIGN_ON.to_vec();
    let readout = mode_c(DATA);
    let ident_len = b"/ISK5ME162-0033\r\n".len();
    stream.extend_from_slice(&readout[..ident_len]);
    stream.extend_from_slice(b"\x06050\r\n");
    stream.extend_from_slice(&readout[ident_len..]);
    for chunk in [1, 4, stream.len()] {
        let (out, dec) = decode(&stream, chunk);
        assert_eq!(out.len(), 1, "chunk {chunk}");
        check(out[0].as_ref().unwrap());
        assert_eq!(dec.stats().rejected(), 0);
    }
}

#[test]
fn historical_values_do_not_overwrite_current_ones() {
    // `1.8.0*01` is the register at the end of the last billing period (F = 1).
    let data = "1.8.0(001234.567*kWh)\r\n1.8.0*01(001000.000*kWh)\r\n!\r\n";
    let (out, _) = decode(&mode_c(data), 64);
    assert_eq!(
        out[0].as_ref().unwrap().reading.get(Q::ImportWh),
        Some(1_234_567)
    );
}
