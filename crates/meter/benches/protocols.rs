//! Decoding speed of the other meter protocols, frames per second for frame + checksum +
//! decode to `Reading`: HDLC + DLMS/COSEM (Aidon with scaler/unit structures, Kamstrup OBIS
//! pairs, Kaifa positional, an AES-128-GCM Kaifa frame), and SML 1.04 (ISKRA MT631, EasyMeter
//! Q3A three-phase).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hearth_meter::Decoder;
use hearth_meter::dlms::DlmsDecoder;
use hearth_meter::glo::Key;
use hearth_meter::sml::SmlDecoder;
use std::hint::black_box;

const AIDON: &[u8] = include_bytes!("../tests/fixtures/han/aidon_se_list.hdlc");
const KAMSTRUP: &[u8] =
    include_bytes!("../tests/fixtures/han/kamstrup_no_list_2_single_phase_real_sample.hdlc");
const KAIFA: &[u8] = include_bytes!("../tests/fixtures/han/kaifa_no_list_3.hdlc");
const KAIFA_GCM: &[u8] = include_bytes!("../tests/fixtures/han/kaifa_no_list_2.gcm.hdlc");
const ISKRA: &[u8] =
    include_bytes!("../tests/fixtures/sml/ISKRA_MT631-D2A51-V22-K0z_without_PIN.bin");
const EASYMETER: &[u8] = include_bytes!("../tests/fixtures/sml/EasyMeter_Q3A_A1064V1009.bin");

/// The first SML transport frame of a capture (start escape to CRC) that decodes: some
/// captures open with a cut frame or one with a CRC error.
fn first_sml_frame(capture: &[u8]) -> Vec<u8> {
    let starts = capture
        .windows(8)
        .enumerate()
        .filter(|(_, w)| *w == [0x1B, 0x1B, 0x1B, 0x1B, 1, 1, 1, 1])
        .map(|(i, _)| i);
    for start in starts {
        let Some(end) = capture[start + 8..]
            .windows(5)
            .position(|w| w == [0x1B, 0x1B, 0x1B, 0x1B, 0x1A])
        else {
            continue;
        };
        let frame = &capture[start..(start + 16 + end).min(capture.len())];
        if hearth_meter::sml::decode_frame(frame).is_ok() {
            return frame.to_vec();
        }
    }
    panic!("no good SML frame in the capture")
}

fn bench_frame(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    frame: &[u8],
    mut d: impl Decoder,
) {
    g.bench_function(name, |b| {
        b.iter(|| {
            d.push(black_box(frame));
            let r = d.next();
            assert!(matches!(r, Some(Ok(_))));
            black_box(r)
        })
    });
}

fn dlms(c: &mut Criterion) {
    let mut g = c.benchmark_group("dlms");
    g.throughput(Throughput::Elements(1));
    bench_frame(
        &mut g,
        "hdlc+dlms aidon_se_list (581 B, 27 objects)",
        AIDON,
        DlmsDecoder::new(),
    );
    bench_frame(
        &mut g,
        "hdlc+dlms kamstrup list 2 (263 B)",
        KAMSTRUP,
        DlmsDecoder::new(),
    );
    bench_frame(
        &mut g,
        "hdlc+dlms kaifa list 3 positional (157 B)",
        KAIFA,
        DlmsDecoder::new(),
    );
    let ek = Key::from_hex("000102030405060708090A0B0C0D0E0F").unwrap();
    let ak = Key::from_hex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF").unwrap();
    bench_frame(
        &mut g,
        "hdlc+gcm+dlms kaifa list 2 (151 B)",
        KAIFA_GCM,
        DlmsDecoder::new().with_key(ek, Some(ak)),
    );
    g.finish();
}

fn sml(c: &mut Criterion) {
    let mut g = c.benchmark_group("sml");
    g.throughput(Throughput::Elements(1));
    let iskra = first_sml_frame(ISKRA);
    let easy = first_sml_frame(EASYMETER);
    bench_frame(&mut g, "sml iskra mt631 frame", &iskra, SmlDecoder::new());
    bench_frame(
        &mut g,
        "sml easymeter q3a frame (3-phase)",
        &easy,
        SmlDecoder::new(),
    );
    g.finish();
}

criterion_group!(benches, dlms, sml);
criterion_main!(benches);
