//! A collector box and a laptop, no server (issue 21 item 5): write-only collectors leave
//! sealed increment files in a folder a file sync carries; the unlocked vault merges them in
//! any order, with overlaps and duplicates, as often as it likes, exactly as the ordinary
//! writer would have stored the readings. A half-written file is skipped and merged once
//! whole; another vault's file, a tampered one and garbage are refused with a reason.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_meter_io::simulator::Simulator;
use hearth_vault::increment::{CARD_NAME, CardAction, FileProblem};
use hearth_vault::write_only::BLOCK_READINGS;
use hearth_vault::{
    Card, CreateOptions, FolderError, KdfParams, MergeReport, Resolution, Row, Vault, WriteOnly,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PASSPHRASE: &str = "correct horse battery";
/// 2026-01-15T00:00:00Z.
const T0: i64 = 1_768_435_200;

fn create(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let options = CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    };
    Vault::create(&path, PASSPHRASE, &options)
        .expect("create")
        .close()
        .expect("close");
    path
}

fn simulated(seed: u64, start: i64, n: usize) -> Vec<Reading> {
    let mut sim = Simulator::new(seed, start);
    (0..n)
        .map(|_| {
            sim.step();
            sim.reading()
        })
        .collect()
}

/// Every row of every series.
fn everything(path: &Path) -> Vec<Row> {
    let v = Vault::open_read_only(path, PASSPHRASE).expect("reader");
    Resolution::ALL
        .into_iter()
        .flat_map(|res| {
            v.readings(0, i64::MAX / 2, res)
                .expect("rows")
                .map(|r| r.expect("intact"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A vault holding `readings` (oldest first), stored by the ordinary writer.
fn reference(dir: &Path, readings: &[Reading]) -> Vec<Row> {
    let path = create(dir, "reference.hearth");
    let mut v = Vault::open(&path, PASSPHRASE).expect("open");
    v.append(readings).expect("append");
    v.close().expect("close");
    let rows = everything(&path);
    std::fs::remove_file(&path).expect("reference removed");
    rows
}

/// `got == want`, showing the first row that differs rather than both lists.
#[track_caller]
fn assert_same(got: &[Row], want: &[Row], what: &str) {
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
        panic!(
            "{what}: row {i} differs:\n got {:?}\nwant {:?}",
            got[i], want[i]
        );
    }
    assert_eq!(got.len(), want.len(), "{what}: row counts");
}

/// A row's series, time and quantities.
type Measured = (Resolution, i64, Vec<(Quantity, i64)>);

/// Rows as what they measure: time and every quantity (raw rows lose which meter sent them,
/// see the test that uses it).
fn measured(rows: &[Row]) -> Vec<Measured> {
    rows.iter()
        .map(|r| {
            let t = r.reading.time.expect("time").unix;
            (r.resolution, t, r.reading.quantities().collect())
        })
        .collect()
}

/// The merge's report, the vault opened as the writer and closed after.
fn merge(path: &Path, folder: &Path) -> MergeReport {
    let mut v = Vault::open(path, PASSPHRASE).expect("unlock");
    let report = v.merge_folder(folder).expect("merge");
    v.close().expect("close");
    report
}

/// A collector box: no vault, the card from the folder; `readings` in blocks to the folder.
fn collect(folder: &Path, readings: &[Reading]) {
    let card = Card::read(folder).expect("card").expect("a card");
    let mut w = WriteOnly::to_folder(folder, card.0).expect("collector");
    w.append(readings).expect("append");
    w.close().expect("close");
}

/// The folder's increment files, by name.
fn increments(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hinc"))
        .collect();
    files.sort();
    files
}

fn counts(r: &MergeReport) -> (u64, u64, u64, u64, u64) {
    (r.files, r.unchanged, r.readings, r.added, r.duplicates)
}

/// A vault and its sync folder with the card written by a first merge.
fn vault_and_folder(dir: &Path) -> (PathBuf, PathBuf) {
    let path = create(dir, "v.hearth");
    let folder = dir.join("sync");
    std::fs::create_dir(&folder).expect("folder");
    let first = merge(&path, &folder);
    assert_eq!(first.card, CardAction::Written);
    assert_eq!(counts(&first), (0, 0, 0, 0, 0));
    (path, folder)
}

#[test]
fn two_collectors_merged_in_reversed_order_with_duplicates_give_exactly_the_writer_s_vault() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, folder) = vault_and_folder(dir.path());
    // One meter, three hours and a bit of one-second readings across a local day's start.
    let meter = simulated(7, T0 - 3600, 3 * 3600 + 125);
    // Box A has the first two hours and a bit; box B the same meter from the second hour on:
    // 3700 readings both have.
    let (a, b) = (&meter[..7300], &meter[3600..]);
    // A second meter (water, every minute, in the same seconds) read by a third box.
    let water: Vec<Reading> = (0..150)
        .map(|i| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(T0 - 1800 + 60 * i));
            r.set(Quantity::WaterDm3, 812_345 + 7 * i);
            r
        })
        .collect();
    // Each box's files, in the order it wrote them.
    let mut by_box: Vec<Vec<PathBuf>> = Vec::new();
    for readings in [a, b, &water[..]] {
        let before = increments(&folder);
        collect(&folder, readings);
        let mut new: Vec<PathBuf> = increments(&folder)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        new.sort();
        by_box.push(new);
    }
    let sizes: Vec<usize> = by_box.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1], "a block every {BLOCK_READINGS} readings");

    // Merged in reversed order, one file at a time as the sync brings them: the last box's
    // first, each box's newest block first.
    let staging = dir.path().join("staging");
    std::fs::rename(&folder, &staging).expect("move aside");
    std::fs::create_dir(&folder).expect("folder again");
    std::fs::copy(staging.join(CARD_NAME), folder.join(CARD_NAME)).expect("card");
    let mut total = MergeReport::default();
    for file in by_box.iter().rev().flat_map(|files| files.iter().rev()) {
        let name = file.file_name().expect("name");
        std::fs::copy(staging.join(name), folder.join(name)).expect("synced");
        let r = merge(&path, &folder);
        assert!(r.skipped.is_empty() && r.refused.is_empty(), "{r:?}");
        assert_eq!(r.files, 1);
        total.readings += r.readings;
        total.added += r.added;
        total.duplicates += r.duplicates;
    }
    assert_eq!(total.readings, (a.len() + b.len() + water.len()) as u64);
    assert_eq!(total.duplicates, 3700, "the readings both boxes have");
    assert_eq!(
        total.added,
        (meter.len() + water.len()) as u64,
        "each reading of each meter once"
    );

    // Independently: the meter's readings with the water register in their seconds, stored
    // by the ordinary writer in time order.
    let mut combined = meter.clone();
    for w in &water {
        let t = w.time.expect("time").unix;
        let r = combined
            .iter_mut()
            .find(|r| r.time.expect("time").unix == t)
            .expect("a meter reading in that second");
        r.set(
            Quantity::WaterDm3,
            w.get(Quantity::WaterDm3).expect("water"),
        );
    }
    // Equal seconds merge with the values already stored winning, so which meter's id,
    // version and offset a raw row keeps depends on which file came first (the vault has one
    // series); what was measured does not, nor does any rollup.
    let got = everything(&path);
    let want = reference(dir.path(), &combined);
    assert_eq!(measured(&got), measured(&want), "every time and value");
    let rollups = |rows: &[Row]| -> Vec<Row> {
        rows.iter()
            .filter(|r| r.resolution != Resolution::Raw)
            .cloned()
            .collect()
    };
    assert_same(
        &rollups(&got),
        &rollups(&want),
        "every rollup as the writer stores it",
    );
    // The registers, exact: the last reading of the merged vault is the meter's last.
    let v = Vault::open_read_only(&path, PASSPHRASE).expect("reader");
    let raw: Vec<Row> = v
        .readings(0, i64::MAX / 2, Resolution::Raw)
        .expect("rows")
        .map(|r| r.expect("intact"))
        .collect();
    assert_eq!(raw.len(), meter.len());
    let last = &raw[raw.len() - 1].reading;
    assert_eq!(
        last.get(Quantity::ImportWh),
        meter[meter.len() - 1].get(Quantity::ImportWh)
    );
    let waters: Vec<i64> = raw
        .iter()
        .filter_map(|r| r.reading.get(Quantity::WaterDm3))
        .collect();
    assert_eq!(
        waters,
        (0..150).map(|i| 812_345 + 7 * i).collect::<Vec<_>>()
    );
    // The day's energy is the register difference across it.
    let days: Vec<Row> = v
        .readings(0, i64::MAX / 2, Resolution::Day)
        .expect("days")
        .map(|r| r.expect("intact"))
        .collect();
    let used: i64 = days
        .iter()
        .filter_map(|d| d.reading.get(Quantity::ImportWh))
        .sum();
    let first = meter[0].get(Quantity::ImportWh).expect("register");
    let end = meter[meter.len() - 1]
        .get(Quantity::ImportWh)
        .expect("register");
    assert_eq!(used, end - first);
    drop(v);

    // Merging again adds nothing and opens nothing: every file is remembered.
    let again = merge(&path, &folder);
    assert_eq!(counts(&again), (0, 7, 0, 0, 0));
    assert_eq!(again.card, CardAction::Kept);
    let v = Vault::open(&path, PASSPHRASE).expect("open");
    let report = v.verify().expect("verify");
    assert!(report.damaged.is_empty(), "{report:?}");
}

#[test]
fn a_half_written_file_is_skipped_and_merged_once_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, folder) = vault_and_folder(dir.path());
    let readings = simulated(11, T0, 2 * 3600 + 40);
    collect(&folder, &readings);
    let files = increments(&folder);
    assert_eq!(files.len(), 3);
    let whole = std::fs::read(&files[1]).expect("bytes");
    // Still being copied: cut inside the sealed block, and inside the header.
    for cut in [whole.len() - 1, whole.len() / 2, 30, 0] {
        std::fs::write(&files[1], &whole[..cut]).expect("cut");
        // And a collector's leftover, hidden while it is written.
        std::fs::write(
            folder.join(".hearth-0000000000000000-000000.hinc.partial"),
            b"x",
        )
        .expect("partial");
        let r = merge(&path, &folder);
        assert!(r.refused.is_empty(), "{cut}: {r:?}");
        let skipped: Vec<(&str, &FileProblem)> = r
            .skipped
            .iter()
            .map(|n| (n.file.as_str(), &n.problem))
            .collect();
        assert_eq!(skipped.len(), 2, "{cut}: {skipped:?}");
        assert_eq!(skipped[0].1, &FileProblem::Unfinished);
        assert_eq!(
            skipped[1].0,
            files[1].file_name().expect("name").to_string_lossy()
        );
        assert!(
            matches!(skipped[1].1, FileProblem::CutShort { have, .. } if *have == cut as u64),
            "{cut}: {skipped:?}"
        );
        assert!(skipped[1].1.to_string().contains("will be tried again"));
        assert!(skipped[1].1.tried_again());
    }
    let r = merge(&path, &folder);
    assert_eq!(
        counts(&r),
        (0, 2, 0, 0, 0),
        "the whole ones merged the first time"
    );
    std::fs::write(&files[1], &whole).expect("copy finished");
    let r = merge(&path, &folder);
    assert_eq!(counts(&r), (1, 2, 3600, 3600, 0));
    assert_same(
        &everything(&path),
        &reference(dir.path(), &readings),
        "as the writer",
    );
}

#[test]
fn the_open_block_s_file_is_replaced_at_every_flush_and_merged_again_without_duplicates() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, folder) = vault_and_folder(dir.path());
    let readings = simulated(9, T0, BLOCK_READINGS + 30);
    let card = Card::read(&folder).expect("card").expect("card");
    let mut w = WriteOnly::to_folder(&folder, card.0).expect("collector");
    let start = Instant::now();
    w.append(&readings[..10]).expect("append");
    assert!(!w.flush_due(start).expect("not yet"));
    assert!(increments(&folder).is_empty());
    assert!(w.flush_due(start + Duration::from_secs(10)).expect("due"));
    let files = increments(&folder);
    assert_eq!(files.len(), 1);
    let first = std::fs::read(&files[0]).expect("bytes");
    assert_eq!(counts(&merge(&path, &folder)), (1, 0, 10, 10, 0));
    w.append(&readings[10..20]).expect("append");
    assert!(w.flush_due(start + Duration::from_secs(20)).expect("due"));
    assert_eq!(increments(&folder), files, "the same file, replaced");
    assert_ne!(std::fs::read(&files[0]).expect("bytes"), first);
    // Changed: opened again, its first ten are duplicates.
    assert_eq!(counts(&merge(&path, &folder)), (1, 0, 20, 10, 10));
    // The block closes at BLOCK_READINGS (its file never changes again); the rest start a
    // second file, written when the collector stops.
    w.append(&readings[20..]).expect("append");
    w.close().expect("close");
    let files = increments(&folder);
    assert_eq!(files.len(), 2);
    let r = merge(&path, &folder);
    assert_eq!(
        counts(&r),
        (2, 0, readings.len() as u64, readings.len() as u64 - 20, 20)
    );
    assert!(
        std::fs::read_dir(&folder).expect("folder").all(|e| !e
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .ends_with(".partial")),
        "no leftovers after a clean stop"
    );
    assert_same(
        &everything(&path),
        &reference(dir.path(), &readings),
        "as the writer",
    );
}

#[test]
fn another_vault_s_tampered_and_garbage_files_are_refused_and_the_rest_taken_in() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, folder) = vault_and_folder(dir.path());
    let other_dir = tempfile::tempdir().expect("dir");
    let (_, other_folder) = vault_and_folder(other_dir.path());
    let readings = simulated(5, T0, 600);
    collect(&folder, &readings[..300]);
    collect(&other_folder, &readings[300..]);
    let foreign = increments(&other_folder);
    std::fs::copy(&foreign[0], folder.join("foreign.hinc")).expect("copy");
    let good = increments(&folder)
        .into_iter()
        .find(|p| p.file_name().expect("name") != "foreign.hinc")
        .expect("ours");
    let bytes = std::fs::read(&good).expect("bytes");
    let mut flipped = bytes.clone();
    let at = flipped.len() - 40;
    flipped[at] ^= 0x10;
    std::fs::write(folder.join("tampered.hinc"), &flipped).expect("tampered");
    let mut longer = bytes.clone();
    longer.push(0);
    std::fs::write(folder.join("longer.hinc"), &longer).expect("longer");
    std::fs::write(folder.join("garbage.hinc"), b"not an increment\nat all\n\n").expect("g");
    std::fs::write(folder.join("notes.txt"), b"left alone").expect("other file");
    // Larger than any increment (16 MiB): refused unread.
    std::fs::write(folder.join("huge.hinc"), vec![b'h'; (16 << 20) + 1]).expect("huge");
    let r = merge(&path, &folder);
    assert_eq!(counts(&r), (1, 0, 300, 300, 0));
    assert!(r.skipped.is_empty(), "{r:?}");
    let refused: Vec<(String, String)> = r
        .refused
        .iter()
        .map(|n| (n.file.clone(), n.problem.to_string()))
        .collect();
    let other_id = Vault::open_read_only(&other_dir.path().join("v.hearth"), PASSPHRASE)
        .expect("other")
        .id_hex();
    assert_eq!(
        refused,
        [
            (
                "foreign.hinc".to_string(),
                format!(
                    "it belongs to another vault (id ending {})",
                    &other_id[24..]
                )
            ),
            (
                "garbage.hinc".to_string(),
                "not a Hearth increment file".to_string()
            ),
            (
                "huge.hinc".to_string(),
                "far larger than any increment".to_string()
            ),
            (
                "longer.hinc".to_string(),
                "longer than its header says (changed)".to_string()
            ),
            (
                "tampered.hinc".to_string(),
                "it does not open with this vault's write-only key (changed or foreign)"
                    .to_string()
            ),
        ]
    );
    // Refused files are not remembered: they are refused again, and nothing is added.
    let r = merge(&path, &folder);
    assert_eq!(counts(&r), (0, 1, 0, 0, 0));
    assert_eq!(r.refused.len(), 5);
    assert_same(
        &everything(&path),
        &reference(dir.path(), &readings[..300]),
        "ours only",
    );
}

#[test]
fn a_folder_of_another_vault_is_refused_and_a_changed_card_put_back() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, folder) = vault_and_folder(dir.path());
    let other_dir = tempfile::tempdir().expect("dir");
    let (_, other_folder) = vault_and_folder(other_dir.path());
    let ours = std::fs::read_to_string(folder.join(CARD_NAME)).expect("card");
    let theirs = std::fs::read_to_string(other_folder.join(CARD_NAME)).expect("card");
    std::fs::write(folder.join(CARD_NAME), &theirs).expect("their card");
    let mut v = Vault::open(&path, PASSPHRASE).expect("open");
    let err = v.merge_folder(&folder).expect_err("another vault's folder");
    assert!(matches!(err, FolderError::OtherVault { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("holds the collector card of another vault"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join(CARD_NAME)).expect("card"),
        theirs,
        "another vault's card is left alone"
    );
    // This vault's id with another key (someone wants the readings sealed to them): the
    // vault's own key is put back from its sealed copy.
    let mut card = Card::parse(&ours).expect("ours");
    let forged = Card(hearth_vault::write_key::PublicKey::from_parts(
        card.0.vault_id(),
        [42; 32],
    ));
    std::fs::write(folder.join(CARD_NAME), forged.to_text()).expect("forged");
    let r = v.merge_folder(&folder).expect("merge");
    assert_eq!(r.card, CardAction::Replaced);
    card = Card::read(&folder).expect("card").expect("card");
    assert_eq!(card, Card::parse(&ours).expect("ours"));
    // Garbage in place of the card: put back too.
    std::fs::write(folder.join(CARD_NAME), b"\x00\x01garbage").expect("garbage");
    assert_eq!(
        v.merge_folder(&folder).expect("merge").card,
        CardAction::Replaced
    );
    assert_eq!(
        std::fs::read_to_string(folder.join(CARD_NAME)).expect("card"),
        ours
    );
    // Not a folder: said so, nothing written.
    for missing in [dir.path().join("nowhere"), path.clone()] {
        let err = v.merge_folder(&missing).expect_err("not a folder");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot use the folder {}: ", missing.display())),
            "{err}"
        );
        let pinned = Card::pinned(&missing, &dir.path().join("pins"), false);
        assert!(matches!(pinned, Err(FolderError::Io { .. })), "{pinned:?}");
    }
    assert!(!dir.path().join("nowhere").exists());
    v.close().expect("close");
}

#[test]
fn increment_files_hold_no_plaintext_and_their_names_no_time() {
    let dir = tempfile::tempdir().expect("dir");
    let (_, folder) = vault_and_folder(dir.path());
    let readings = simulated(4, T0, 1200);
    collect(&folder, &readings);
    let code = hearth_vault::codec::encode(&readings[..400]);
    for file in increments(&folder) {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            !name.contains(&T0.to_string()[..6]),
            "{name} tells when it was collected"
        );
        let bytes = std::fs::read(&file).expect("bytes");
        assert!(!bytes.windows(16).any(|w| code.windows(16).any(|c| c == w)));
        for t in [T0, T0 + 600, T0 + 1199] {
            assert!(!bytes.windows(8).any(|w| w == t.to_le_bytes()));
        }
    }
}

#[test]
fn readings_dated_after_the_laptop_s_clock_are_refused_and_counted() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, folder) = vault_and_folder(dir.path());
    let readings = simulated(2, T0, 100);
    collect(&folder, &readings);
    let mut v = Vault::open(&path, PASSPHRASE).expect("open");
    v.set_clock(T0 + 50 - 3600).expect("clock");
    let r = v.merge_folder(&folder).expect("merge");
    v.close().expect("close");
    assert_eq!((r.readings, r.added, r.future), (100, 51, 49));
}
