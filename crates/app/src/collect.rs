//! Collecting: one loop from a meter source through its decoder into the vault and to
//! whoever watches (the CLI's status lines, the desktop's live view), shared by `hearth
//! collect` and the desktop app so both stamp, guard and store readings the same way.
//!
//! - A reading without a meter time (SML, some DLMS lists, pulse sensors) gets the time it was
//!   received, in the vault's time zone.
//! - A live reading dated far in the future (a meter clock gone wrong) is refused by the vault
//!   ([`Vault::set_clock`]); a replay or a fast demo runs ahead of the wall clock legitimately.
//! - Every decoded reading is checked for plausibility: a field no household meter reports
//!   is dropped and counted, the rest stored; each one dropped is told to the watcher.
//! - A pulse sensor continues from the last register the vault holds, and its register is
//!   stored when counting starts and when it stops, so no counted pulse is lost.

use crate::clock::{Clock, SharedClock};
use crate::live::LiveDropped;
use hearth_meter::auto::Keys;
use hearth_meter::plausible::Checked;
use hearth_meter::pulse::PulseError;
use hearth_meter::{MeterTime, Protocol, Quantity, Reading, Rejection};
use hearth_meter_io::{Event, Reader, ReaderOptions, Source, Status};
use hearth_vault::{Resolution, Vault, VaultError, WriteOnly};
use jiff::tz::TimeZone;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// Why collecting could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A pulse sensor's settings do not work.
    #[error("the pulse sensor cannot be read: {0}")]
    Pulse(#[from] PulseError),
    /// The vault refused a reading or a setting.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Stamps readings that carry no meter time with `received_unix` in `tz`.
pub fn stamp(readings: &mut [Reading], received_unix: i64, tz: &TimeZone) {
    for r in readings.iter_mut() {
        r.time
            .get_or_insert_with(|| MeterTime::in_zone(received_unix, tz));
    }
}

/// Stores readings received at `received_unix`: stamps those without a meter time (in the
/// vault's time zone), refuses `live` ones dated far after `received_unix`, appends, and
/// checkpoints when due (`now` from the caller's monotonic clock).
pub fn store(
    vault: &mut Vault,
    readings: &mut [Reading],
    received_unix: i64,
    live: bool,
    now: Instant,
) -> Result<(), VaultError> {
    let tz = vault.time_zone().clone();
    stamp(readings, received_unix, &tz);
    if live {
        vault.set_clock(received_unix)?;
    }
    vault.append(readings)?;
    vault.flush_due(now)?;
    Ok(())
}

/// A LAN bridge or MQTT broker given as an IP address outside the home network, which Hearth
/// refuses unless the user allowed it explicitly (host names are checked when connecting, on
/// every address they resolve to).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0} is not on your home network. Hearth only talks to devices on your own network \
     (addresses like 192.168.x.x or 10.x.x.x)."
)]
pub struct OutsideHome(pub std::net::IpAddr);

/// The refusal for a source whose bridge or broker address is outside the home network.
pub fn outside_home(source: &Source) -> Option<OutsideHome> {
    let (host, allow_public) = match source {
        Source::Tcp {
            host, allow_public, ..
        } => (host, *allow_public),
        Source::Mqtt(m) => (&m.host, m.allow_public),
        Source::HomeWizard(h) => (&h.host, h.allow_public),
        _ => return None,
    };
    let ip = host.parse::<std::net::IpAddr>().ok()?;
    (!allow_public && !hearth_meter_io::network::is_local_network(ip)).then_some(OutsideHome(ip))
}

/// Whether a source's readings are happening now (a capture file replays the past; a fast
/// demo runs ahead of the clock).
pub fn is_live(source: &Source) -> bool {
    match source {
        Source::File { .. } => false,
        Source::Demo { pace, .. } => *pace == hearth_meter_io::Pace::Real,
        _ => true,
    }
}

/// The newest stored value of a register (a meter total), if any, from the last stored hour.
pub fn last_register(vault: &Vault, q: Quantity) -> Result<Option<i64>, VaultError> {
    let Some(last) = vault.last_time() else {
        return Ok(None);
    };
    let mut newest = None;
    for row in vault.readings(last - 3600, last + 1, Resolution::Raw)? {
        if let Some(v) = row?.reading.get(q) {
            newest = Some(v);
        }
    }
    Ok(newest)
}

/// Stores a pulse sensor's register at `now_unix` (or one second after the last stored reading,
/// when that is not earlier), unless the last stored reading already has it.
pub fn store_pulse_register(vault: &mut Vault, wh: i64, now_unix: i64) -> Result<(), VaultError> {
    vault.flush()?;
    if last_register(vault, Quantity::ImportWh)? == Some(wh) {
        return Ok(());
    }
    let at = vault
        .last_time()
        .map_or(now_unix, |last| now_unix.max(last + 1));
    let mut r = Reading::new(Protocol::Pulse);
    r.time = Some(MeterTime::in_zone(at, vault.time_zone()));
    r.set(Quantity::ImportWh, wh);
    vault.set_clock(now_unix)?;
    vault.append(std::slice::from_ref(&r))?;
    Ok(())
}

/// The stored readings of the `keep_s` seconds up to the newest one, oldest first (a live
/// chart can draw them before the meter's first telegram); empty when the newest stored
/// reading is older than that before `now_unix`, or the vault cannot be read.
pub fn recent_readings(vault: &Vault, now_unix: i64, keep_s: i64) -> Vec<Reading> {
    let Some(last) = vault.last_time().filter(|last| *last > now_unix - keep_s) else {
        return Vec::new();
    };
    match vault.readings(last - keep_s + 1, last + 1, Resolution::Raw) {
        Ok(rows) => rows.flatten().map(|r| r.reading).collect(),
        Err(_) => Vec::new(),
    }
}

/// What a source needs from the vault besides its own text: the meter's keys, the MQTT
/// broker's password, and where a pulse sensor's register stands.
#[derive(Debug, Default)]
pub struct SourceSetup {
    /// Keys of a meter that encrypts its frames.
    pub keys: Option<Keys>,
    /// The MQTT broker's password.
    pub mqtt_password: Option<String>,
    /// The last stored import register, where a pulse sensor continues counting.
    pub pulse_start_wh: i64,
}

impl SourceSetup {
    /// The setup the vault remembers, with `keys` (given now or stored; see
    /// [`crate::meter_keys`]).
    pub fn from_vault(vault: &Vault, keys: Option<Keys>) -> Result<Self, VaultError> {
        Ok(SourceSetup {
            keys,
            mqtt_password: crate::settings::Setting::MqttPassword.get_text(vault)?,
            pulse_start_wh: last_register(vault, Quantity::ImportWh)?.unwrap_or(0),
        })
    }
}

/// The reader for `source`: protocol auto-detection (decrypting with the setup's keys) for
/// ports, bridges and files, the preset's decoder for MQTT, counting for a pulse sensor;
/// readings without a meter time stamped by `clock` in `tz`. Every decoded reading is checked
/// for plausibility ([`hearth_meter::plausible`]); the fields dropped are counted in
/// [`Reader::stats`] (`implausible`).
pub fn reader(
    source: Source,
    setup: SourceSetup,
    tz: TimeZone,
    clock: SharedClock,
    options: ReaderOptions,
) -> Result<Reader, CollectError> {
    let reader = match source {
        Source::Mqtt(m) => {
            // The preset's decoder, checked for plausibility like every other source's.
            let decoder = Checked::new(hearth_meter_io::mqtt::decoder_for(&m));
            Reader::with_options(Source::Mqtt(m), decoder, options)
                .with_password(setup.mqtt_password)
        }
        Source::Pulse(p) => Reader::pulse(p, setup.pulse_start_wh, options)?,
        other => Reader::with_options(other, crate::meter_keys::auto_decoder(setup.keys), options),
    };
    Ok(reader.with_clock(move || MeterTime::in_zone(clock.now_unix(), &tz)))
}

/// Where collected readings are kept: the vault itself (the CLI), its inbox without any key
/// (`hearth collect --write-only`), or the desktop's [`Session`](crate::session::Session),
/// which holds them in memory while locked.
pub trait Keeper {
    /// Keeps readings received at `received_unix` (see [`store`]).
    fn keep(
        &mut self,
        readings: &mut [Reading],
        received_unix: i64,
        live: bool,
    ) -> Result<(), VaultError>;

    /// Keeps a pulse sensor's register as a reading (see [`store_pulse_register`]).
    fn keep_pulse_register(&mut self, wh: i64, now_unix: i64) -> Result<(), VaultError>;
}

impl Keeper for Vault {
    fn keep(
        &mut self,
        readings: &mut [Reading],
        received_unix: i64,
        live: bool,
    ) -> Result<(), VaultError> {
        store(self, readings, received_unix, live, Instant::now())
    }

    fn keep_pulse_register(&mut self, wh: i64, now_unix: i64) -> Result<(), VaultError> {
        store_pulse_register(self, wh, now_unix)
    }
}

/// The time zone a write-only collector stamps untimed readings in: the system's (the
/// vault's own is sealed). Only the offset kept with each reading depends on it, never its
/// instant.
pub fn write_only_time_zone() -> TimeZone {
    TimeZone::system()
}

/// [`store`] for a write-only collector: stamps untimed readings in `tz`, refuses `live` ones
/// dated far after `received_unix`, appends to the next sealed block, and seals it when due.
pub fn store_write_only(
    w: &mut WriteOnly,
    readings: &mut [Reading],
    received_unix: i64,
    live: bool,
    now: Instant,
    tz: &TimeZone,
) -> Result<(), VaultError> {
    stamp(readings, received_unix, tz);
    if live {
        w.set_clock(received_unix);
    }
    w.append(readings)?;
    w.flush_due(now)?;
    Ok(())
}

impl Keeper for WriteOnly {
    fn keep(
        &mut self,
        readings: &mut [Reading],
        received_unix: i64,
        live: bool,
    ) -> Result<(), VaultError> {
        let tz = write_only_time_zone();
        store_write_only(self, readings, received_unix, live, Instant::now(), &tz)
    }

    /// The register at `now_unix` (a write-only collector cannot see what is stored; a
    /// duplicate is dropped when it is taken in).
    fn keep_pulse_register(&mut self, wh: i64, now_unix: i64) -> Result<(), VaultError> {
        let mut r = Reading::new(Protocol::Pulse);
        r.time = Some(MeterTime::in_zone(now_unix, &write_only_time_zone()));
        r.set(Quantity::ImportWh, wh);
        self.set_clock(now_unix);
        self.append(std::slice::from_ref(&r))
    }
}

impl Keeper for crate::session::Session {
    fn keep(
        &mut self,
        readings: &mut [Reading],
        received_unix: i64,
        live: bool,
    ) -> Result<(), VaultError> {
        self.append(readings, received_unix, live, Instant::now())
    }

    fn keep_pulse_register(&mut self, wh: i64, now_unix: i64) -> Result<(), VaultError> {
        match self.vault_mut() {
            Some(v) => store_pulse_register(v, wh, now_unix),
            None => {
                // Locked: the register waits with the other readings, at the time it is now.
                let mut r = Reading::new(Protocol::Pulse);
                r.set(Quantity::ImportWh, wh);
                self.append(&mut [r], now_unix, true, Instant::now())
            }
        }
    }
}

impl<K: Keeper> Keeper for &Mutex<K> {
    fn keep(
        &mut self,
        readings: &mut [Reading],
        received_unix: i64,
        live: bool,
    ) -> Result<(), VaultError> {
        self.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keep(readings, received_unix, live)
    }

    fn keep_pulse_register(&mut self, wh: i64, now_unix: i64) -> Result<(), VaultError> {
        self.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keep_pulse_register(wh, now_unix)
    }
}

/// Who watches a collection: status lines, a live view. Each method is told as it happens.
pub trait Watcher {
    /// A reading was decoded and kept (or kept waiting while locked).
    fn decoded(&mut self, _reading: &Reading, _received_unix: i64) {}
    /// A frame was rejected (counted in the reader's stats).
    fn rejected(&mut self, _rejection: &Rejection) {}
    /// A value was dropped from a reading as implausible (counted in the reader's stats as
    /// `implausible`); told before that reading's [`decoded`](Self::decoded).
    fn implausible(&mut self, _dropped: LiveDropped) {}
    /// The connection changed.
    fn status(&mut self, _status: &Status) {}
    /// The keeper refused a reading: return the error to stop collecting (the default), or
    /// `Ok` to go on.
    fn not_kept(&mut self, error: VaultError) -> Result<(), VaultError> {
        Err(error)
    }
}

/// How a collection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Asked to stop.
    Stopped,
    /// A file or a bounded demo reached its end.
    Finished,
    /// The source can never work as configured (the reason, for the user).
    Failed(String),
}

/// Reads `reader` until it ends or `stop` resolves, keeping every reading and telling
/// `watcher` what happens. A pulse sensor's register is kept when counting starts and once
/// more at the end, so the pulses since its last reading are not lost.
pub async fn run<K: Keeper, W: Watcher>(
    reader: &mut Reader,
    keeper: &mut K,
    watcher: &mut W,
    live: bool,
    clock: &dyn Clock,
    stop: impl Future<Output = ()>,
) -> Result<End, VaultError> {
    if let Some(wh) = reader.pulse_register_wh() {
        keeper.keep_pulse_register(wh, clock.now_unix())?;
    }
    let mut stop = std::pin::pin!(stop);
    let end = loop {
        let event = tokio::select! {
            event = reader.next() => event,
            () = &mut stop => break End::Stopped,
        };
        let Some(event) = event else {
            break End::Finished;
        };
        match event {
            Event::Decoded(d) => {
                for dropped in d
                    .diagnostics
                    .iter()
                    .filter_map(LiveDropped::from_diagnostic)
                {
                    watcher.implausible(dropped);
                }
                let received = clock.now_unix();
                let mut batch = [d.reading];
                match keeper.keep(&mut batch, received, live) {
                    Ok(()) => watcher.decoded(&batch[0], received),
                    Err(e) => watcher.not_kept(e)?,
                }
            }
            Event::Rejected(r) => watcher.rejected(&r),
            Event::Status(status) => {
                watcher.status(&status);
                match status {
                    Status::Finished => break End::Finished,
                    Status::Failed { reason } => break End::Failed(reason),
                    _ => {}
                }
            }
        }
    };
    if let Some(wh) = reader.pulse_register_wh() {
        keeper.keep_pulse_register(wh, clock.now_unix())?;
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridges_and_brokers_outside_the_home_network_are_refused() {
        let refused = |s: &str| outside_home(&s.parse().expect("source")).map(|r| r.to_string());
        assert_eq!(refused("tcp:192.168.1.20:23"), None);
        assert_eq!(refused("tcp:10.0.0.5:8088"), None);
        assert_eq!(
            refused("tcp:p1-dongle.local:23"),
            None,
            "names are checked on connect"
        );
        assert_eq!(refused("serial:/dev/ttyUSB0"), None);
        assert_eq!(
            refused("tcp:203.0.113.9:23").as_deref(),
            Some(
                "203.0.113.9 is not on your home network. Hearth only talks to devices on your \
                 own network (addresses like 192.168.x.x or 10.x.x.x)."
            )
        );
        assert!(refused("mqtt://203.0.113.9/glow/#").is_some());
        assert!(refused("homewizard:203.0.113.9").is_some());
        assert_eq!(refused("homewizard:192.168.1.50"), None);
    }

    /// Keeps readings in memory.
    #[derive(Default)]
    struct Kept(Vec<Reading>);

    impl Keeper for Kept {
        fn keep(&mut self, readings: &mut [Reading], _: i64, _: bool) -> Result<(), VaultError> {
            self.0.extend_from_slice(readings);
            Ok(())
        }

        fn keep_pulse_register(&mut self, _: i64, _: i64) -> Result<(), VaultError> {
            Ok(())
        }
    }

    /// Watches as the desktop's window does: every reading, rejection and dropped value into
    /// the live view.
    #[derive(Default)]
    struct Shown {
        live: crate::live::Live,
        told: Vec<LiveDropped>,
        shown: Vec<crate::live::LiveReading>,
    }

    impl Watcher for Shown {
        fn decoded(&mut self, reading: &Reading, received_unix: i64) {
            self.shown.push(self.live.record(reading, received_unix));
        }

        fn rejected(&mut self, _: &Rejection) {
            self.live.record_rejection();
        }

        fn implausible(&mut self, dropped: LiveDropped) {
            self.told.push(dropped.clone());
            self.live.record_implausible(dropped);
        }
    }

    #[test]
    fn the_collect_loop_tells_the_watcher_each_implausible_value() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("capture.p1");
        // Three simulator telegrams, the second with 30.0 V on L1.
        let mut meter = hearth_meter_io::simulator::Simulator::new(7, 1_768_478_400);
        let mut bytes = meter.next_telegram();
        bytes.extend(crate::live::tests::with_l1_voltage(
            &meter.next_telegram(),
            "0030.0",
        ));
        bytes.extend(meter.next_telegram());
        std::fs::write(&path, bytes).expect("capture");
        let source: Source = format!("file:{}", path.display()).parse().expect("source");
        let clock = crate::clock::ManualClock::at(1_768_478_500);
        let mut reader = reader(
            source,
            SourceSetup::default(),
            TimeZone::UTC,
            std::sync::Arc::new(clock.clone()),
            ReaderOptions::default(),
        )
        .expect("reader");
        let (mut kept, mut shown) = (Kept::default(), Shown::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let end = runtime
            .block_on(run(
                &mut reader,
                &mut kept,
                &mut shown,
                false,
                &clock,
                std::future::pending(),
            ))
            .expect("run");
        assert_eq!(end, End::Finished);
        assert_eq!(kept.0.len(), 3, "every reading kept");
        assert_eq!(kept.0[1].get(Quantity::L1Dv), None, "without the voltage");
        assert!(kept.0[1].get(Quantity::L2Dv).is_some());
        assert_eq!(reader.stats().implausible, 1);
        assert_eq!(
            shown
                .told
                .iter()
                .map(|d| d.message.as_str())
                .collect::<Vec<_>>(),
            [
                "a voltage of 30.0 V on L1 was dropped: a household voltage is 0 or between 80 \
              and 300 V"
            ]
        );
        let counts: Vec<(u64, u64, u64)> = shown
            .shown
            .iter()
            .map(|l| (l.accepted, l.rejected, l.implausible))
            .collect();
        assert_eq!(counts, [(1, 0, 0), (2, 0, 1), (3, 0, 1)]);
        assert_eq!(
            shown.shown[1]
                .last_implausible
                .as_ref()
                .map(|d| &d.field[..]),
            Some("l1_v")
        );
    }
    #[test]
    fn the_collect_loop_stores_write_only_what_the_unlocked_vault_then_reads() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v.hearth");
        let options = hearth_vault::CreateOptions {
            kdf: hearth_vault::KdfParams::MINIMUM,
            time_zone: Some("UTC".into()),
        };
        Vault::create(&path, "correct horse", &options)
            .expect("create")
            .close()
            .expect("close");
        let capture = dir.path().join("capture.p1");
        let mut meter = hearth_meter_io::simulator::Simulator::new(7, 1_768_478_400);
        let bytes: Vec<u8> = (0..25).flat_map(|_| meter.next_telegram()).collect();
        std::fs::write(&capture, bytes).expect("capture");
        let source: Source = format!("file:{}", capture.display())
            .parse()
            .expect("source");
        let clock = crate::clock::ManualClock::at(1_768_478_500);
        let mut reader = reader(
            source,
            SourceSetup::default(),
            write_only_time_zone(),
            std::sync::Arc::new(clock.clone()),
            ReaderOptions::default(),
        )
        .expect("reader");
        let mut w = Vault::open_write_only(&path).expect("write-only, no passphrase");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let end = runtime
            .block_on(run(
                &mut reader,
                &mut w,
                &mut Shown::default(),
                false,
                &clock,
                std::future::pending(),
            ))
            .expect("run");
        assert_eq!(end, End::Finished);
        w.close().expect("close");
        let v = Vault::open(&path, "correct horse").expect("unlock");
        assert_eq!(v.inbox_report().added, 25);
        let times: Vec<i64> = v
            .readings(0, i64::MAX / 2, Resolution::Raw)
            .expect("rows")
            .map(|r| r.expect("intact").start())
            .collect();
        assert_eq!(times, (1_768_478_400..1_768_478_425).collect::<Vec<_>>());
    }
}
