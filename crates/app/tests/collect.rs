//! The shared collect loop on a real serial code path (a pulse sensor on a pseudo-terminal),
//! kept by the desktop's session: the register is stored when counting starts and when it
//! stops, as `hearth collect` always did (the desktop used to store neither, so the pulses
//! since the sensor's last reading were lost at every stop).

use hearth_app::collect::{self, End, SourceSetup, Watcher};
use hearth_app::{Session, SystemClock};
use hearth_meter::{Quantity, Reading};
use hearth_meter_io::simulator::PtyMeter;
use hearth_meter_io::{ReaderOptions, Source};
use hearth_vault::{CreateOptions, KdfParams, Resolution, Vault};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
struct Seen {
    decoded: usize,
}

impl Watcher for Seen {
    fn decoded(&mut self, _reading: &Reading, _received_unix: i64) {
        self.decoded += 1;
    }
}

fn registers(vault: &Vault) -> Vec<i64> {
    vault
        .readings(0, i64::MAX / 2, Resolution::Raw)
        .expect("query")
        .map(|row| row.expect("row").reading.get(Quantity::ImportWh))
        .map(|wh| wh.expect("a register"))
        .collect()
}

#[test]
fn a_pulse_sensor_register_is_kept_at_start_and_at_stop() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("vault.hearth");
    let vault = Vault::create(
        &path,
        "pw",
        &CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("Europe/Amsterdam".into()),
        },
    )
    .expect("vault");
    let mut session = Session::new(path);
    session.install(vault).expect("install");

    // Twelve flashes 40 ms apart, then quiet with the cable in.
    let mut left: VecDeque<Vec<u8>> = (0..12).map(|_| b"*".to_vec()).collect();
    let sensor =
        PtyMeter::spawn_with(move || left.pop_front(), Duration::from_millis(40)).expect("pty");
    let source: Source = format!(
        "pulse:{}?imp_per_kwh=1000&format=byte&debounce_ms=0",
        sensor.path().display()
    )
    .parse()
    .expect("source");
    let setup = SourceSetup::from_vault(session.vault().expect("open"), None).expect("setup");
    assert_eq!(setup.pulse_start_wh, 0);
    let mut reader = collect::reader(
        source,
        setup,
        session.time_zone().clone(),
        hearth_app::clock::system(),
        ReaderOptions::default(),
    )
    .expect("reader");

    let session = Mutex::new(session);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut seen = Seen::default();
    let end = runtime
        .block_on(collect::run(
            &mut reader,
            &mut &session,
            &mut seen,
            true,
            &SystemClock,
            async { tokio::time::sleep(Duration::from_millis(2500)).await },
        ))
        .expect("collected");
    assert_eq!(end, End::Stopped);
    assert_eq!(reader.pulse_register_wh(), Some(12));

    let mut session = session.into_inner().expect("session");
    session.vault_mut().expect("open").flush().expect("flush");
    let regs = registers(session.vault().expect("open"));
    // 0 Wh where counting started, 12 Wh (12 pulses at 1000 imp/kWh) where it stopped, never
    // down in between.
    assert_eq!(regs.first(), Some(&0), "{regs:?}");
    assert_eq!(regs.last(), Some(&12), "{regs:?}");
    assert!(regs.windows(2).all(|w| w[0] <= w[1]), "{regs:?}");
    drop(sensor);
}
