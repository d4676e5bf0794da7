//! Shared pieces of the whole-system tests (`tests/system_*.rs`): a throw-away vault driven
//! through the real `hearth` binary, the simulator's expected CSV rows, and probes of what
//! the machine allows (ptrace, namespaces, root) so a test that cannot run says so loudly.
// Each `system_*.rs` test crate uses a different subset of these helpers.
#![allow(dead_code)]

use hearth_meter::record::COLUMNS;
use hearth_meter_io::simulator::Simulator;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// 2026-01-15T12:00:00Z: the demo meter's first telegram in most system tests.
pub const T0: i64 = 1_768_478_400;
/// The demo household's seed.
pub const SEED: u64 = 7;
/// The passphrase of every test vault.
pub const PW: &str = "system test words";

/// The built `hearth` binary, or `HEARTH_BIN` (a frozen copy for long manual runs while the
/// workspace keeps rebuilding).
pub fn hearth() -> PathBuf {
    std::env::var_os("HEARTH_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_hearth")),
        PathBuf::from,
    )
}

/// A temporary directory holding one vault.
pub struct Env {
    /// Removed when the test ends.
    pub dir: tempfile::TempDir,
    /// `<dir>/v.hearth`.
    pub vault: PathBuf,
}

impl Env {
    /// A new directory; the vault is not created yet (see [`Env::init`]).
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let vault = dir.path().join("v.hearth");
        Env { dir, vault }
    }

    /// `hearth --vault <vault> ARGS` with the test passphrase, no terminal, `CI=true`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_with(PW, args)
    }

    /// Like [`Env::cmd`] with another passphrase.
    pub fn cmd_with(&self, pass: &str, args: &[&str]) -> Command {
        let mut c = Command::new(hearth());
        c.arg("--vault").arg(&self.vault).args(args);
        scrub(&mut c);
        c.env("HEARTH_PASSPHRASE", pass);
        c
    }

    /// Runs `hearth ARGS` and returns its output, whatever the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("hearth runs")
    }

    /// Runs `hearth ARGS`, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_success(&out, args);
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// `hearth init` with cheap key-derivation parameters (8 KiB, one pass) and Amsterdam time.
    pub fn init(&self) {
        self.ok(&init_args());
    }

    /// A path inside the test directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `hearth verify`, parsed.
    pub fn verify(&self) -> Verify {
        let out = self.run(&["verify"]);
        Verify::parse(&out)
    }

    /// Every raw reading as exported CSV rows (header dropped), each split into fields.
    pub fn raw_rows(&self) -> Vec<Vec<String>> {
        let csv = self.ok(&["export", "--resolution", "raw"]);
        csv_rows(&csv)
    }
}

/// The arguments of a cheap `hearth init`.
pub fn init_args() -> Vec<&'static str> {
    vec![
        "init",
        "--time-zone",
        "Europe/Amsterdam",
        "--kdf-memory-kib",
        "8",
        "--kdf-iterations",
        "1",
    ]
}

/// Removes what could make a test depend on the caller's environment, and closes stdin.
pub fn scrub(c: &mut Command) {
    c.env_remove("HEARTH_VAULT")
        .env_remove("HEARTH_PASSPHRASE")
        .env_remove("HEARTH_NEW_PASSPHRASE")
        .env_remove("HEARTH_BACKUP_PASSPHRASE")
        // Test vaults use cheap key derivation (`--kdf-memory-kib 8 --kdf-iterations 1`).
        .env("HEARTH_INSECURE_TEST_KDF", "1")
        .env("CI", "true")
        .stdin(Stdio::null());
}

/// Asserts a zero exit status, showing stderr otherwise.
pub fn assert_success(out: &Output, what: &[&str]) {
    assert!(
        out.status.success(),
        "hearth {what:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts a failure that is a message, not a crash: exit status 1 (not a signal), a
/// `hearth: ...` line on stderr, no Rust panic. Returns stderr.
pub fn assert_clear_failure(out: &Output, what: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: exit {} stderr {err}",
        out.status
    );
    assert!(
        err.lines().any(|l| l.starts_with("hearth: ")),
        "{what}: no message: {err}"
    );
    assert!(!err.contains("panicked"), "{what}: panicked: {err}");
    err
}

/// The summary line of `hearth verify`: `N records intact (M readings), K damaged`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verify {
    /// Exit status was zero.
    pub success: bool,
    /// Intact records.
    pub intact: u64,
    /// Readings in intact raw chunks.
    pub readings: u64,
    /// `damaged: ...` lines.
    pub damaged: Vec<String>,
    /// Everything on stdout and stderr, for messages.
    pub text: String,
}

impl Verify {
    /// Parses `hearth verify`'s output; panics (test failure) if the summary is missing.
    pub fn parse(out: &Output) -> Verify {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        let summary = stdout
            .lines()
            .find(|l| l.contains(" records intact ("))
            .unwrap_or_else(|| panic!("no verify summary in: {text}"));
        let num = |s: &str| -> u64 {
            s.trim()
                .parse()
                .unwrap_or_else(|_| panic!("bad number {s:?} in {summary}"))
        };
        let (intact, rest) = summary.split_once(" records intact (").unwrap_or_default();
        let (readings, rest) = rest.split_once(" readings), ").unwrap_or_default();
        let (damaged_n, _) = rest.split_once(" damaged").unwrap_or_default();
        let damaged: Vec<String> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("damaged: "))
            .map(str::to_string)
            .collect();
        assert_eq!(num(damaged_n), damaged.len() as u64, "{text}");
        Verify {
            success: out.status.success(),
            intact: num(intact),
            readings: num(readings),
            damaged,
            text,
        }
    }
}

/// CSV text to rows of fields, header dropped (Hearth's CSV has no quoted fields for these
/// readings: numbers, RFC 3339 times, hex meter ids).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// A CSV time field as Unix seconds.
pub fn unix(field: &str) -> i64 {
    field
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("bad time {field:?}: {e}"))
        .as_second()
}

/// The index of a §3 column in Hearth's CSV.
pub fn column(name: &str) -> usize {
    COLUMNS
        .iter()
        .position(|c| c.name() == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// A fixed-point CSV field (`12345.678`) as an integer in its smallest unit (`12345678`).
pub fn fixed(field: &str, decimals: usize) -> i64 {
    let (int, frac) = field.split_once('.').unwrap_or((field, ""));
    assert!(
        frac.len() <= decimals,
        "{field} has more than {decimals} decimals"
    );
    let digits = format!("{int}{frac:0<decimals$}");
    digits
        .parse()
        .unwrap_or_else(|_| panic!("bad number {field:?}"))
}

/// The CSV rows (the §3 columns, without `estimated`) the demo meter `demo:SEED?start=START`
/// emits in its first `n` seconds: what a DSMR decoder must make of its telegrams.
pub fn demo_rows(seed: u64, start: i64, n: usize) -> Vec<Vec<String>> {
    let mut sim = Simulator::new(seed, start);
    (0..n)
        .map(|_| {
            sim.step();
            sim.reading().csv_row(false)
        })
        .collect()
}

/// Whether this process runs as root (mount namespaces, tmpfs, read-only remounts).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Whether `unshare -m` with a tmpfs mount works here (root in a normal container or VM).
pub fn can_mount_tmpfs() -> bool {
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && umount \"$d\" && rmdir \"$d\"")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `script` with `sh -eu` in a private mount namespace (mounts vanish with it), with
/// `HEARTH` set to the binary and `DIR` to `dir`. Returns its output.
pub fn in_mount_namespace(dir: &Path, script: &str) -> Output {
    let mut c = Command::new("unshare");
    c.args(["-m", "--propagation", "private", "sh", "-eu", "-c", script]);
    scrub(&mut c);
    c.env("HEARTH", hearth())
        .env("DIR", dir)
        .env("HEARTH_PASSPHRASE", PW)
        .output()
        .expect("unshare runs")
}

/// Tiny deterministic random numbers (xorshift64*) for kill delays.
pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        lo + self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % (hi - lo)
    }
}
