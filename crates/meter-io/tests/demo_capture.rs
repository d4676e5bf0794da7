//! `assets/demo/hearth-demo-60s.p1`, the recorded demo capture shipped with Hearth, is exactly
//! what the simulator produces for seed 2026 from 2026-01-15T18:00:00+01:00, and every telegram
//! in it decodes. Regenerate after a deliberate simulator change with
//! `HEARTH_UPDATE_DEMO=1 cargo test -p hearth-meter-io --test demo_capture`.

use hearth_meter::Decoder as _;
use hearth_meter::dsmr::DsmrDecoder;
use hearth_meter_io::simulator::Simulator;

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/demo/hearth-demo-60s.p1"
);
const START: i64 = 1_768_496_400;

fn generate() -> Vec<u8> {
    let mut sim = Simulator::new(2026, START);
    let mut out = Vec::new();
    for _ in 0..60 {
        sim.next_telegram_into(&mut out);
    }
    out
}

#[test]
fn the_recorded_demo_is_the_simulators_output_and_decodes() {
    let expected = generate();
    if std::env::var_os("HEARTH_UPDATE_DEMO").is_some() {
        std::fs::write(CAPTURE, &expected).expect("write the demo capture");
    }
    let actual = std::fs::read(CAPTURE).expect("assets/demo/hearth-demo-60s.p1 exists");
    assert!(
        actual == expected,
        "the demo capture differs from the simulator (regenerate with HEARTH_UPDATE_DEMO=1)"
    );
    let mut d = DsmrDecoder::new();
    d.push(&actual);
    let mut times = Vec::new();
    while let Some(r) = d.next() {
        times.push(
            r.expect("every telegram decodes")
                .reading
                .time
                .unwrap()
                .unix
                - START,
        );
    }
    assert_eq!(times, (0..60).collect::<Vec<_>>());
    assert_eq!(d.stats().skipped_bytes, 0);
}
