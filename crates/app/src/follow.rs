//! The app beside a collector: when another process (`hearth collect`) holds the vault's
//! writer lock, the app opens the vault read-only, follows the readings that process stores
//! (the live view from the newest stored readings), and takes over writing, with the key it
//! already holds, once that process stops.

use crate::live::KEEP_S;
use crate::session::{Access, OpenError, Session};
use hearth_meter::Reading;
use hearth_vault::{Resolution, Vault, VaultError};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// How often a follower looks for new readings and for the writer lock coming free. The
/// other writer checkpoints every [`hearth_vault::FLUSH_INTERVAL`] (10 s), so the live view
/// follows at most that much behind the meter.
pub const POLL: Duration = Duration::from_secs(2);

/// Looks in a row that may stop at a chunk that does not open (a commit landing between two
/// reads can make one look so for a moment) before it is skipped as damaged.
const RETRIES: u8 = 2;

/// Opens the vault with `open` as its writer or, when another process writes
/// ([`VaultError::Busy`]), read-only beside it; says which. The writer lock is tried before
/// any key derivation, so the passphrase is derived once either way.
pub fn open_or_follow(
    mut open: impl FnMut(Access) -> Result<Vault, OpenError>,
) -> Result<(Vault, Access), OpenError> {
    match open(Access::Writer) {
        Err(OpenError::Vault(VaultError::Busy)) => Ok((open(Access::ReadOnly)?, Access::ReadOnly)),
        other => Ok((other?, Access::Writer)),
    }
}

/// What one look at the vault found.
#[derive(Debug, Default)]
pub struct Look {
    /// The first look only: the stored minutes before the newest reading, for the live chart.
    pub earlier: Vec<Reading>,
    /// Readings stored since the last look (at the first, the newest one), oldest first.
    pub newer: Vec<Reading>,
    /// The other writer was gone: the session is the writer now, and following ends.
    pub took_over: bool,
    /// What went wrong reading or taking over; following goes on and the next look tries
    /// again.
    pub problem: Option<VaultError>,
}

/// Follows what another writer stores: the time of the newest reading handed on.
#[derive(Debug, Default)]
pub struct Follower {
    last: Option<i64>,
    retried: u8,
}

impl Follower {
    /// A follower that has handed on nothing yet.
    pub fn new() -> Self {
        Follower::default()
    }

    /// The time of the newest reading handed on.
    pub fn last(&self) -> Option<i64> {
        self.last
    }

    /// Adds to `look` the readings stored after the last one handed on; until one is, those
    /// of the last [`KEEP_S`] seconds before `now_unix` (an older reading is not shown as
    /// live: a collector that has not checkpointed yet shows nothing).
    fn read(&mut self, vault: &Vault, now_unix: i64, look: &mut Look) {
        if let Err(e) = self.try_read(vault, now_unix, look) {
            look.problem = Some(e);
        }
    }

    fn try_read(
        &mut self,
        vault: &Vault,
        now_unix: i64,
        look: &mut Look,
    ) -> Result<(), VaultError> {
        let first = self.last.is_none();
        let from = self.last.map_or(now_unix - KEEP_S + 1, |t| t + 1);
        let mut got = Vec::new();
        for row in vault.readings(from, i64::MAX / 2, Resolution::Raw)? {
            match row {
                Ok(row) => got.push(row.reading),
                Err(e) => {
                    look.problem = Some(e);
                    if self.retried < RETRIES {
                        // Stop before it: the next look reads on from here.
                        self.retried += 1;
                        break;
                    }
                }
            }
        }
        if look.problem.is_none() {
            self.retried = 0;
        }
        // Only readings with a time come back from the vault; these are in time order.
        got.retain(|r| r.time.is_some_and(|t| self.last.is_none_or(|l| t.unix > l)));
        if let Some(t) = got.last().and_then(|r| r.time) {
            self.last = Some(t.unix);
        }
        if first && let Some(newest) = got.pop() {
            look.earlier.append(&mut got);
            got.push(newest);
        }
        look.newer.append(&mut got);
        Ok(())
    }
}

/// One look (every [`POLL`]) at the vault `session` follows, at `now_unix`: the readings the
/// other writer stored since the last look, then taking over writing if that writer has
/// stopped (with the readings it stored last). `None` once the session no longer follows
/// (locked, or the writer already).
pub fn look(session: &Mutex<Session>, follower: &mut Follower, now_unix: i64) -> Option<Look> {
    let mut s = session.lock().unwrap_or_else(PoisonError::into_inner);
    if !s.following() {
        return None;
    }
    let mut look = Look::default();
    follower.read(s.vault()?, now_unix, &mut look);
    match s.take_over() {
        Ok(true) => {
            look.took_over = true;
            // What the other writer stored between the read above and its last checkpoint.
            if let Some(v) = s.vault() {
                follower.read(v, now_unix, &mut look);
            }
        }
        Ok(false) => {}
        Err(e) => look.problem = Some(e),
    }
    Some(look)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Status, open_with_passphrase};
    use hearth_meter::{MeterTime, Protocol, Quantity};
    use hearth_vault::{CreateOptions, KdfParams};
    use std::time::Instant;

    /// 2026-01-01T00:00:00Z.
    const T0: i64 = 1_767_225_600;
    /// The clock at every look: 40 minutes later.
    const NOW: i64 = T0 + 2400;

    fn reading(t: i64) -> Reading {
        let mut r = Reading::new(Protocol::Dsmr);
        r.time = Some(MeterTime::utc(t));
        r.set(Quantity::ImportWh, 1_000_000 + (t - T0));
        r.set(Quantity::ImportW, 3600);
        r
    }

    fn times(rs: &[Reading]) -> Vec<i64> {
        rs.iter().map(|r| r.time.expect("time").unix - T0).collect()
    }

    /// A closed vault (UTC) in a fresh directory.
    fn vault() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("vault.hearth");
        let options = CreateOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            time_zone: Some("UTC".into()),
        };
        Vault::create(&path, "pw", &options)
            .and_then(Vault::close)
            .expect("create");
        (dir, path)
    }

    /// The other process: appends readings at `t` (seconds after [`T0`]) and checkpoints.
    fn collect(collector: &mut Vault, t: impl IntoIterator<Item = i64>) {
        let rs: Vec<Reading> = t.into_iter().map(|t| reading(T0 + t)).collect();
        collector.append(&rs).expect("append");
        collector.flush().expect("flush");
    }

    #[test]
    fn a_vault_another_process_writes_opens_read_only() {
        let (_dir, path) = vault();
        let open = |access| open_with_passphrase(&path, "pw", access);
        let (v, access) = open_or_follow(open).expect("open");
        assert_eq!((access, v.is_writer()), (Access::Writer, true));
        // While this writer runs, the next open follows beside it.
        let (r, access) = open_or_follow(open).expect("open beside");
        assert_eq!((access, r.is_writer()), (Access::ReadOnly, false));
        // A wrong passphrase is still refused, beside a writer too.
        let wrong = open_or_follow(|a| open_with_passphrase(&path, "nope", a));
        assert!(matches!(
            wrong,
            Err(OpenError::Vault(VaultError::WrongPassphrase))
        ));
    }

    #[test]
    fn the_follower_hands_on_each_stored_reading_once_then_takes_over() {
        let (_dir, path) = vault();
        let mut collector = Vault::open(&path, "pw").expect("collector");
        // An old reading, then 40 minutes stored before the app opens: the chart gets the
        // last 30 of them (to the second before now), the old one is not shown as live.
        collect(&mut collector, [-86_400]);
        collect(&mut collector, 0..2400);
        let mut session = Session::new(path.clone());
        session.follow(Vault::open_read_only(&path, "pw").expect("reader"));
        assert!(session.following());
        assert_eq!(session.status(), Status::Open);
        let session = Mutex::new(session);
        let mut follower = Follower::new();

        let first = look(&session, &mut follower, NOW).expect("following");
        assert_eq!(times(&first.newer), [2399]);
        assert_eq!(first.earlier.len(), 1798);
        assert_eq!(times(&first.earlier[..1]), [601]);
        assert!(!first.took_over && first.problem.is_none());
        // Nothing new: nothing handed on.
        let idle = look(&session, &mut follower, NOW).expect("following");
        assert!(idle.newer.is_empty() && idle.earlier.is_empty() && !idle.took_over);
        // Unflushed readings are not seen yet; a checkpoint shows them, each once.
        collector.append(&[reading(T0 + 2400)]).expect("append");
        assert!(
            look(&session, &mut follower, NOW)
                .expect("f")
                .newer
                .is_empty()
        );
        collect(&mut collector, [2401, 2402]);
        assert_eq!(
            times(&look(&session, &mut follower, NOW).expect("f").newer),
            [2400, 2401, 2402]
        );
        // The collector stops after one more checkpoint: the next look hands on its last
        // readings and takes over writing, with no passphrase.
        collect(&mut collector, [2403]);
        collector.close().expect("close");
        let over = look(&session, &mut follower, NOW).expect("f");
        assert!(over.took_over, "{:?}", over.problem);
        assert_eq!(times(&over.newer), [2403]);
        assert_eq!(follower.last(), Some(T0 + 2403));
        let mut s = session.lock().expect("session");
        assert!(!s.following());
        assert_eq!(s.status(), Status::Open);
        assert_eq!(s.vault().and_then(Vault::last_time), Some(T0 + 2403));
        s.append(&mut [reading(T0 + 2404)], T0 + 2404, true, Instant::now())
            .expect("the session writes now");
        drop(s);
        // Following has ended; a second collector is now the one refused.
        assert!(look(&session, &mut follower, NOW).is_none());
        assert!(matches!(Vault::open(&path, "pw"), Err(VaultError::Busy)));
    }

    #[test]
    fn readings_waiting_in_memory_are_written_at_the_take_over() {
        let (_dir, path) = vault();
        let mut session = Session::new(path.clone());
        session
            .install(Vault::open(&path, "pw").expect("open"))
            .expect("install");
        session.lock().expect("lock");
        // Locked, a reading waits in memory (as when the app locked while another process
        // held the writer lock). Then a collector starts, and the app follows it.
        session.keep_in_memory();
        session
            .append(&mut [reading(T0)], T0, false, Instant::now())
            .expect("kept");
        let mut collector = Vault::open(&path, "pw").expect("collector");
        collect(&mut collector, [5]);
        session.follow(Vault::open_read_only(&path, "pw").expect("reader"));
        assert_eq!(session.pending(), 1, "not written to a read-only vault");
        assert!(!session.take_over().expect("still busy"));
        collector.close().expect("close");
        assert!(session.take_over().expect("taken over"));
        assert_eq!(session.pending(), 0);
        session.vault_mut().expect("open").flush().expect("flush");
        let stored: Vec<Reading> = session
            .vault()
            .expect("open")
            .readings(T0, T0 + 10, Resolution::Raw)
            .expect("rows")
            .map(|r| r.expect("row").reading)
            .collect();
        assert_eq!(times(&stored), [0, 5]);
    }

    #[test]
    fn a_locked_session_stops_following() {
        let (_dir, path) = vault();
        let _collector = Vault::open(&path, "pw").expect("collector");
        let mut session = Session::new(path.clone());
        session.follow(Vault::open_read_only(&path, "pw").expect("reader"));
        session.lock().expect("lock");
        assert_eq!(session.status(), Status::Locked);
        assert!(look(&Mutex::new(session), &mut Follower::new(), NOW).is_none());
    }
}
