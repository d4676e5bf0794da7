//! A collector box and a laptop, no server (issue 21 item 5), through the real `hearth`
//! binary: a box with no vault file and no secret collects write-only into a sync folder that
//! holds no plaintext, `hearth merge` on the laptop takes it in exactly as a collector holding
//! the passphrase stores the same meter, and the box refuses a changed card until told to
//! accept it.

mod system;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use system::{Env, SEED, T0, assert_clear_failure, assert_success, hearth, scrub};

/// Six real telegrams (ndokter/dsmr_parser; see tests/fixtures/dsmr/README.md) strung into
/// one capture, oldest first (as `write_only.rs` uses them).
const CAPTURE: [&str; 6] = [
    "v4_2.p1",
    "v5.p1",
    "v5_two_mbus.p1",
    "fluvius_v171.p1",
    "fluvius_v171_alt.p1",
    "unpadded_crc.p1",
];

/// 2016-11-13T20:57:57+01:00 and the other five telegrams' times, as Unix seconds.
const TIMES: [i64; 6] = [
    1_479_067_077,
    1_483_381_202,
    1_587_933_205,
    1_589_284_449,
    1_698_923_748,
    1_771_182_323,
];

fn capture(dir: &Path) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dsmr");
    let mut bytes = Vec::new();
    for name in CAPTURE {
        bytes.extend(std::fs::read(fixtures.join(name)).expect("fixture"));
    }
    let path = dir.join("capture.p1");
    std::fs::write(&path, bytes).expect("capture written");
    path
}

/// The collector box: its own data directory, no vault, no passphrase, no keyring.
struct CollectorBox {
    data: tempfile::TempDir,
}

impl CollectorBox {
    fn new() -> CollectorBox {
        CollectorBox {
            data: tempfile::tempdir().expect("box data"),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(hearth());
        c.args(args);
        scrub(&mut c);
        c.env("XDG_DATA_HOME", self.data.path())
            .env("HOME", self.data.path());
        c.output().expect("hearth runs")
    }

    fn collect(&self, folder: &Path, source: &str, more: &[&str]) -> Output {
        let folder = folder.to_str().expect("utf-8 path");
        let mut args = vec![
            "collect",
            "--write-only",
            "--folder",
            folder,
            "--source",
            source,
        ];
        args.extend_from_slice(more);
        self.run(&args)
    }

    /// Every file under the box's data directory.
    fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).expect("dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.data.path(), &mut out);
        out
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn merge(laptop: &Env, folder: &Path) -> String {
    laptop.ok(&["merge", folder.to_str().expect("utf-8 path")])
}

#[test]
fn a_box_without_a_vault_fills_a_folder_that_the_laptop_merges_exactly() {
    let laptop = Env::new();
    laptop.init();
    let folder = laptop.path("Sync");
    std::fs::create_dir(&folder).expect("folder");
    let cap = capture(laptop.dir.path());
    let source = format!("file:{}", cap.display());
    let collector = CollectorBox::new();

    // Before the laptop has written the card, the box says what to do.
    let err = assert_clear_failure(&collector.collect(&folder, &source, &[]), "no card");
    assert!(err.contains("has no collector card"), "{err}");
    assert!(err.contains("run `hearth merge"), "{err}");

    let first = merge(&laptop, &folder);
    assert!(first.contains("wrote the collector card into"), "{first}");
    let key = first
        .split("(key ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .expect("the key's fingerprint")
        .to_string();

    let out = collector.collect(&folder, &source, &[]);
    assert_success(&out, &["collect", "--write-only", "--folder"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "this box now trusts the collector card in {}",
            folder.display()
        )),
        "{err}"
    );
    assert!(err.contains(&key), "the box shows the same key: {err}");
    assert!(
        err.contains("stopped: 6 readings sealed for the vault in 1 blocks (`hearth merge"),
        "{err}"
    );
    // The box keeps nothing but its pin of the card: no vault, no readings.
    let kept = collector.files();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].starts_with(collector.data.path().join("hearth/folder-keys")));

    // The folder: the card and one increment, no plaintext.
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].starts_with("hearth-") && names[0].ends_with(".hinc"));
    assert_eq!(names[1], "hearth-write-key.txt");
    let mut needles: Vec<Vec<u8>> = [
        "3960221976967177082151037881335713",
        "4B384547303034303436333935353037",
        "K8EG004046395507",
        "E0044007382246019",
        "1SAG3101021605",
        "3016.829",
        "001581.123",
        "000004.426",
        "2375.582",
        "161113205757",
        "260215200523",
        "2016-11-13",
        "2026-02-15",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    for t in TIMES {
        needles.push(t.to_string().into_bytes());
        needles.push(t.to_le_bytes().to_vec());
        needles.push(t.to_be_bytes().to_vec());
    }
    for name in &names {
        let bytes = std::fs::read(folder.join(name)).expect("bytes");
        for n in &needles {
            assert!(
                !contains(&bytes, n),
                "{name} holds {:?} in the clear",
                String::from_utf8_lossy(n)
            );
        }
    }

    // The laptop takes it in: exactly what a collector holding the passphrase stores.
    let merged = merge(&laptop, &folder);
    assert!(
        merged.contains(
            "merged 1 new file(s): 6 readings, 6 new, 0 already here; 0 file(s) unchanged"
        ),
        "{merged}"
    );
    let reference = Env::new();
    reference.init();
    reference.ok(&["collect", "--source", &source]);
    let raw = laptop.ok(&["export", "--resolution", "raw"]);
    assert_eq!(raw, reference.ok(&["export", "--resolution", "raw"]));
    let times: Vec<i64> = system::csv_rows(&raw)
        .iter()
        .map(|r| system::unix(&r[0]))
        .collect();
    assert_eq!(times, TIMES);
    for res in ["1h", "1d"] {
        assert_eq!(
            laptop.ok(&["export", "--resolution", res]),
            reference.ok(&["export", "--resolution", res]),
            "{res} rollups"
        );
    }

    // Again, and the box collecting the same capture once more: nothing new.
    let again = merge(&laptop, &folder);
    assert!(
        again.contains("merged 0 new file(s): 0 readings, 0 new, 0 already here; 1 file(s)"),
        "{again}"
    );
    assert_success(
        &collector.collect(&folder, &source, &[]),
        &["collect again"],
    );
    let json = laptop.ok(&["merge", folder.to_str().expect("path"), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(
        (
            &v["files"],
            &v["readings"],
            &v["added"],
            &v["duplicates"],
            &v["unchanged"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(6),
            &serde_json::json!(0),
            &serde_json::json!(6),
            &serde_json::json!(1)
        )
    );
    assert_eq!(v["fingerprint"], serde_json::json!(key));
    assert_eq!(laptop.ok(&["export", "--resolution", "raw"]), raw);
    let verify = laptop.verify();
    assert!(
        verify.success && verify.damaged.is_empty(),
        "{}",
        verify.text
    );
    assert_eq!(verify.readings, 6);
}

#[test]
fn a_changed_card_is_refused_by_the_box_until_accepted_and_another_vault_s_folder_by_merge() {
    let laptop = Env::new();
    laptop.init();
    let folder = laptop.path("Sync");
    std::fs::create_dir(&folder).expect("folder");
    merge(&laptop, &folder);
    let collector = CollectorBox::new();
    let source = "demo:7?pace=fast&count=30&start=1768478400";
    assert_success(&collector.collect(&folder, source, &[]), &["first"]);

    // Someone puts another vault's card in the folder.
    let other = Env::new();
    other.init();
    let other_folder = other.path("Sync");
    std::fs::create_dir(&other_folder).expect("folder");
    merge(&other, &other_folder);
    let card = folder.join("hearth-write-key.txt");
    let ours = std::fs::read(&card).expect("card");
    std::fs::copy(other_folder.join("hearth-write-key.txt"), &card).expect("swapped");

    let before = std::fs::read_dir(&folder).expect("folder").count();
    let err = assert_clear_failure(&collector.collect(&folder, source, &[]), "changed card");
    assert!(
        err.contains("changed since this box first used it"),
        "{err}"
    );
    assert!(err.contains("--accept-new-card"), "{err}");
    assert_eq!(
        std::fs::read_dir(&folder).expect("folder").count(),
        before,
        "nothing written to the changed card"
    );
    // The laptop refuses a folder holding another vault's card, and changes nothing.
    let out = laptop.run(&["merge", folder.to_str().expect("path")]);
    let err = assert_clear_failure(&out, "another vault's folder");
    assert!(
        err.contains("holds the collector card of another vault"),
        "{err}"
    );

    // Put back: the box collects again without being asked.
    std::fs::write(&card, &ours).expect("ours again");
    assert_success(&collector.collect(&folder, source, &[]), &["same card"]);
    // Accepting deliberately pins the new one.
    std::fs::copy(other_folder.join("hearth-write-key.txt"), &card).expect("swapped");
    let out = collector.collect(&folder, source, &["--accept-new-card"]);
    assert_success(&out, &["--accept-new-card"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("accepted the new collector card"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What it sealed then is the other vault's: our laptop refuses that file, takes the rest.
    std::fs::write(&card, &ours).expect("ours again");
    let merged = merge(&laptop, &folder);
    assert!(
        merged.contains("merged 2 new file(s): 60 readings, 30 new, 30 already here"),
        "{merged}"
    );
    assert_eq!(merged.matches("refused: ").count(), 1, "{merged}");
    assert!(merged.contains("it belongs to another vault"), "{merged}");
}

#[test]
fn a_full_folder_stops_the_box_with_a_clear_error_and_what_it_wrote_before_merges_whole() {
    if !system::can_mount_tmpfs() {
        eprintln!(
            "SKIPPED LOUDLY: no mount namespace/tmpfs here (needs root); full folder unchecked"
        );
        return;
    }
    let env = Env::new();
    std::fs::create_dir(env.path("mnt")).expect("mount point");
    // The box's first hour fits; then the folder's disk is filled to within 4 KiB, less than
    // a block of an hour (about 10 KiB).
    let script = format!(
        r#"
mount -t tmpfs -o size=512k tmpfs "$DIR/mnt"
V="$DIR/v.hearth"
"$HEARTH" --vault "$V" init --time-zone Europe/Amsterdam --kdf-memory-kib 8 --kdf-iterations 1
"$HEARTH" --vault "$V" merge "$DIR/mnt"
export XDG_DATA_HOME="$DIR/box"
BOX="env -u HEARTH_PASSPHRASE $HEARTH"
$BOX collect --write-only --folder "$DIR/mnt" --source "demo:{SEED}?pace=fast&start={T0}&count=3600"
dd if=/dev/zero of="$DIR/mnt/filler" bs=4k 2>/dev/null || true
truncate -s -4K "$DIR/mnt/filler"
set +e
$BOX collect --write-only --folder "$DIR/mnt" --source "demo:{SEED}?pace=fast&start={next}&count=20000" 2> "$DIR/full.err"
echo "$?" > "$DIR/full.exit"
set -e
ls -a "$DIR/mnt" > "$DIR/after-full.txt"
rm "$DIR/mnt/filler"
"$HEARTH" --vault "$V" merge "$DIR/mnt" > "$DIR/merge1.txt"
"$HEARTH" --vault "$V" verify > "$DIR/verify1.txt"
$BOX collect --write-only --folder "$DIR/mnt" --source "demo:{SEED}?pace=fast&start={next}&count=600"
"$HEARTH" --vault "$V" merge "$DIR/mnt" > "$DIR/merge2.txt"
"$HEARTH" --vault "$V" verify > "$DIR/verify2.txt"
"#,
        next = T0 + 3600
    );
    let out = system::in_mount_namespace(env.dir.path(), &script);
    let read = |name: &str| std::fs::read_to_string(env.path(name)).unwrap_or_default();
    assert!(
        out.status.success(),
        "script failed: {}\nfull.err: {}",
        String::from_utf8_lossy(&out.stderr),
        read("full.err")
    );
    let err = read("full.err");
    assert_eq!(read("full.exit").trim(), "1", "{err}");
    assert!(
        err.contains("hearth: ") && !err.contains("panicked"),
        "{err}"
    );
    assert!(
        err.contains("No space left on device"),
        "names the full disk: {err}"
    );
    // No half-written file is left behind.
    let left = read("after-full.txt");
    assert!(!left.contains(".partial"), "{left}");
    // The hour written before is whole: merged, nothing refused or skipped.
    let merge1 = read("merge1.txt");
    assert!(
        merge1.contains("merged 1 new file(s): 3600 readings, 3600 new, 0 already here"),
        "{merge1}"
    );
    assert!(
        !merge1.contains("refused") && !merge1.contains("left for later"),
        "{merge1}"
    );
    let v1 = verify_text(&read("verify1.txt"));
    assert_eq!((v1.0, v1.1), (3600, 0), "{}", read("verify1.txt"));
    // Space back: the box carries on where it was told, the laptop takes it in.
    let merge2 = read("merge2.txt");
    assert!(
        merge2.contains("merged 1 new file(s): 600 readings, 600 new, 0 already here; 1 file(s)"),
        "{merge2}"
    );
    let v2 = verify_text(&read("verify2.txt"));
    assert_eq!((v2.0, v2.1), (4200, 0), "{}", read("verify2.txt"));
}

/// `(readings, damaged)` from `hearth verify`'s summary line.
fn verify_text(text: &str) -> (u64, u64) {
    let line = text
        .lines()
        .find(|l| l.contains(" records intact ("))
        .unwrap_or_else(|| panic!("no summary in {text}"));
    let readings = line
        .split('(')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    let damaged = line
        .rsplit(", ")
        .next()
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    (readings, damaged)
}
