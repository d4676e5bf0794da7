//! Anchor: the published `dsmr5` crate (0.4) against our DSMR reader on the same telegram, in
//! the same run, so docs/PERFORMANCE.md can put both figures side by side. Both do frame +
//! CRC + parse into a typed reading. `dsmr5` rejects several real captures we read (the DSMR
//! 5.0.2 fixture `v5.p1` among them), so the shared telegram is one from the demo recording:
//! a DSMR 5.0.2 three-phase telegram with gas that both accept.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hearth_meter::Decoder as _;
use hearth_meter::dsmr::DsmrDecoder;
use std::hint::black_box;

/// The first telegram of `assets/demo/hearth-demo-60s.p1` (up to `!XXXX\r\n`).
fn shared_telegram() -> Vec<u8> {
    let demo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/demo/hearth-demo-60s.p1"
    ))
    .unwrap();
    let bang = demo.iter().position(|&b| b == b'!').unwrap();
    demo[..bang + 7].to_vec()
}

fn dsmr5_parse(bytes: &[u8]) -> bool {
    let reader = dsmr5::Reader::new(bytes.iter().map(|b| Ok::<u8, ()>(*b)));
    let mut ok = false;
    for readout in reader {
        let Ok(readout) = readout else { return false };
        let Ok(telegram) = readout.to_telegram() else {
            return false;
        };
        ok = dsmr5::Result::<dsmr5::state::State>::from(&telegram).is_ok();
    }
    ok
}

fn hearth_parse(d: &mut DsmrDecoder, bytes: &[u8]) -> bool {
    d.push(bytes);
    d.next().is_some_and(|r| r.is_ok())
}

fn anchor(c: &mut Criterion) {
    let t = shared_telegram();
    assert!(dsmr5_parse(&t), "dsmr5 accepts the shared telegram");
    assert!(hearth_parse(&mut DsmrDecoder::new(), &t), "we accept it");
    let mut g = c.benchmark_group("anchor_dsmr5_telegram");
    g.throughput(Throughput::Elements(1));
    g.bench_function("dsmr5_crate", |b| b.iter(|| dsmr5_parse(black_box(&t))));
    g.bench_function("hearth_dsmr", |b| {
        let mut d = DsmrDecoder::new();
        b.iter(|| hearth_parse(&mut d, black_box(&t)))
    });
    g.finish();
}

criterion_group!(benches, anchor);
criterion_main!(benches);
