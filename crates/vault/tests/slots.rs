//! Key slots (the data key wrapped for the OS keyring), vaults from before key slots, and
//! vaults on read-only storage.

use hearth_meter::{MeterTime, Protocol, Quantity, Reading};
use hearth_vault::{CreateOptions, KdfParams, Resolution, Row, Vault, VaultError};
use std::path::{Path, PathBuf};
use std::process::Command;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;
const PW: &str = "correct horse battery staple";

fn options() -> CreateOptions {
    CreateOptions {
        kdf: KdfParams::INSECURE_FOR_TESTS,
        time_zone: Some("Europe/Amsterdam".into()),
    }
}

/// `n` one-second readings from `start` using 0.5 Wh a second (1800 W).
fn readings(start: i64, n: i64) -> Vec<Reading> {
    (0..n)
        .map(|i| {
            let mut r = Reading::new(Protocol::Dsmr);
            r.time = Some(MeterTime::utc(start + i));
            r.set(Quantity::ImportWh, 1_000_000 + (start - T0 + i) / 2);
            r.set(Quantity::ImportW, 1800);
            r
        })
        .collect()
}

fn rows(v: &Vault, res: Resolution) -> Vec<Row> {
    v.readings(T0 - 86_400, T0 + 10 * 86_400, res)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn used(rows: &[Row]) -> i64 {
    rows.iter()
        .filter_map(|r| r.reading.get(Quantity::ImportWh))
        .sum()
}

fn err<T>(r: Result<T, VaultError>) -> VaultError {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn the_keyring_slot_opens_the_vault_survives_passwd_and_is_gone_when_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.hearth");
    let mut v = Vault::create(&path, PW, &options()).unwrap();
    v.append(&readings(T0, 600)).unwrap();
    let id = v.id_hex();
    assert_eq!(id.len(), 32);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert!(!v.secret_slot_enabled().unwrap());
    let info = Vault::inspect(&path).unwrap();
    assert_eq!(
        (info.id_hex.as_str(), info.format, info.secret_slot),
        (id.as_str(), 2, false)
    );

    // No slot yet: a secret cannot open it, and says why.
    let e = err(Vault::open_read_only_with_secret(&path, &[7; 32]));
    assert!(matches!(e, VaultError::NoSecretSlot), "{e}");
    assert!(e.to_string().contains("passphrase"), "{e}");

    let secret = v.enable_secret_slot().unwrap();
    assert!(v.secret_slot_enabled().unwrap());
    // The header says so without any key, even while the writer is open.
    assert!(Vault::has_secret_slot(&path).unwrap());
    v.close().unwrap();

    // The secret opens it as the writer; collection continues.
    let mut w = Vault::open_with_secret(&path, &secret).unwrap();
    assert_eq!(w.id_hex(), id);
    assert_eq!(w.last_time(), Some(T0 + 599));
    w.append(&readings(T0 + 600, 600)).unwrap();
    w.close().unwrap();
    let r = Vault::open_read_only_with_secret(&path, &secret).unwrap();
    let raw = rows(&r, Resolution::Raw);
    assert_eq!(raw.len(), 1200);
    // 1200 readings at 0.5 Wh/s: 1 000 000 .. 1 000 599 Wh, so 599 Wh used.
    assert_eq!(used(&rows(&r, Resolution::Minute)), 599);
    drop(r);

    // Any other secret is a typed error, never garbage.
    let mut wrong = *secret;
    wrong[31] ^= 1;
    assert!(matches!(
        err(Vault::open_with_secret(&path, &wrong)),
        VaultError::WrongSecret
    ));
    assert!(matches!(
        err(Vault::open_read_only_with_secret(&path, &wrong)),
        VaultError::WrongSecret
    ));

    // `hearth passwd` rewraps the passphrase slot only: the keyring slot keeps working.
    let mut w = Vault::open(&path, PW).unwrap();
    w.change_passphrase("a new passphrase", None).unwrap();
    w.close().unwrap();
    assert!(matches!(
        err(Vault::open_read_only(&path, PW)),
        VaultError::WrongPassphrase
    ));
    Vault::open_read_only(&path, "a new passphrase").unwrap();
    Vault::open_read_only_with_secret(&path, &secret).unwrap();

    // Turning it on again draws a new secret; the old one stops working.
    let mut w = Vault::open_with_secret(&path, &secret).unwrap();
    let second = w.enable_secret_slot().unwrap();
    assert_ne!(*second, *secret);
    w.close().unwrap();
    assert!(matches!(
        err(Vault::open_read_only_with_secret(&path, &secret)),
        VaultError::WrongSecret
    ));
    Vault::open_read_only_with_secret(&path, &second).unwrap();

    // A slot secret of another vault does not open this one.
    let other_path = dir.path().join("other.hearth");
    let mut other = Vault::create(&other_path, PW, &options()).unwrap();
    let other_secret = other.enable_secret_slot().unwrap();
    other.close().unwrap();
    assert!(matches!(
        err(Vault::open_read_only_with_secret(&path, &other_secret)),
        VaultError::WrongSecret
    ));

    // Backups carry no key slot: they open with the passphrase only.
    let backup = dir.path().join("backup.hearth");
    let mut r = Vault::open_read_only_with_secret(&path, &second).unwrap();
    r.backup(&backup, None).unwrap();
    drop(r);
    assert!(!Vault::has_secret_slot(&backup).unwrap());
    assert!(matches!(
        err(Vault::open_read_only_with_secret(&backup, &second)),
        VaultError::NoSecretSlot
    ));
    Vault::open_read_only(&backup, "a new passphrase").unwrap();
    std::fs::remove_file(&backup).unwrap();

    // Turning it off removes the slot: the secret opens nothing, the passphrase still does.
    let mut w = Vault::open(&path, "a new passphrase").unwrap();
    assert!(w.disable_secret_slot().unwrap());
    assert!(!w.disable_secret_slot().unwrap(), "already off");
    assert!(!w.secret_slot_enabled().unwrap());
    w.close().unwrap();
    assert!(!Vault::has_secret_slot(&path).unwrap());
    assert!(matches!(
        err(Vault::open_with_secret(&path, &second)),
        VaultError::NoSecretSlot
    ));
    let r = Vault::open_read_only(&path, "a new passphrase").unwrap();
    assert_eq!(rows(&r, Resolution::Raw).len(), 1200);
    assert_eq!(r.verify().unwrap().damaged, Vec::<String>::new());
    drop(r);
    // The writability probe of every write open is gone again.
    let names = file_names(dir.path());
    assert!(names.contains(&"v.hearth".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("probe")), "{names:?}");
}

#[test]
fn a_reader_cannot_change_slots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.hearth");
    Vault::create(&path, PW, &options())
        .unwrap()
        .close()
        .unwrap();
    let mut r = Vault::open_read_only(&path, PW).unwrap();
    assert!(matches!(err(r.enable_secret_slot()), VaultError::ReadOnly));
    assert!(matches!(err(r.disable_secret_slot()), VaultError::ReadOnly));
}

#[test]
fn a_slot_in_the_file_is_bound_to_its_vault() {
    // Copying vault A's slot row into vault B must not let A's secret open B.
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.hearth");
    let b = dir.path().join("b.hearth");
    let mut va = Vault::create(&a, PW, &options()).unwrap();
    let secret_a = va.enable_secret_slot().unwrap();
    va.close().unwrap();
    let mut vb = Vault::create(&b, PW, &options()).unwrap();
    vb.enable_secret_slot().unwrap();
    vb.close().unwrap();
    let row: Vec<u8> = rusqlite::Connection::open(&a)
        .unwrap()
        .query_row(
            "SELECT wrapped_key FROM key_slot WHERE kind = 'keyring'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    rusqlite::Connection::open(&b)
        .unwrap()
        .execute("UPDATE key_slot SET wrapped_key = ?1", [row])
        .unwrap();
    assert!(matches!(
        err(Vault::open_read_only_with_secret(&b, &secret_a)),
        VaultError::WrongSecret
    ));
}

#[test]
fn a_vault_written_before_key_slots_opens_and_gains_the_table_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.hearth");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vault/format1-before-key-slots.hearth");
    std::fs::copy(&fixture, &path).unwrap();
    let tables = |p: &Path| -> Vec<String> {
        let c = rusqlite::Connection::open(p).unwrap();
        let mut s = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        tables(&path),
        ["chunk", "header", "setting", "writer_state"]
    );
    const OLD_PW: &str = "format-1 passphrase";

    // Header-only questions and a read-only open work without touching the file.
    assert!(!Vault::has_secret_slot(&path).unwrap());
    assert!(matches!(
        err(Vault::open_read_only_with_secret(&path, &[1; 32])),
        VaultError::NoSecretSlot
    ));
    let r = Vault::open_read_only(&path, OLD_PW).unwrap();
    let raw = rows(&r, Resolution::Raw);
    assert_eq!(raw.len(), 7200);
    assert_eq!(raw[7199].reading.get(Quantity::ImportWh), Some(1_003_599));
    // 1 000 000 .. 1 003 599 Wh over the two hours.
    assert_eq!(used(&rows(&r, Resolution::Hour)), 3599);
    assert_eq!(
        &r.get_setting("note").unwrap().unwrap()[..],
        b"made by the format-1 code at commit HEAD"
    );
    drop(r);
    assert_eq!(tables(&path).len(), 4);

    // Opening for writing adds the (empty) slot table; the keyring can then be turned on.
    let mut w = Vault::open(&path, OLD_PW).unwrap();
    assert!(tables(&path).contains(&"key_slot".to_string()));
    assert!(!w.secret_slot_enabled().unwrap());
    let secret = w.enable_secret_slot().unwrap();
    w.append(&readings(T0 + 7200, 60)).unwrap();
    w.close().unwrap();
    let r = Vault::open_read_only_with_secret(&path, &secret).unwrap();
    assert_eq!(rows(&r, Resolution::Raw).len(), 7260);
    assert_eq!(r.verify().unwrap().damaged, Vec::<String>::new());
    Vault::open_read_only(&path, OLD_PW).unwrap();
}

/// Storage that really refuses this process's writes. As root (CI and the development
/// containers run as root) permission bits stop nothing, so a tmpfs is mounted in a temporary
/// directory and remounted read-only (EROFS); as any other user, permission bits do (EACCES).
struct ReadOnlyStorage {
    dir: tempfile::TempDir,
    root: bool,
    mounts: Vec<PathBuf>,
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn mount(args: &[&str]) {
    let out = Command::new("mount")
        .args(args)
        .output()
        .expect("run mount");
    assert!(
        out.status.success(),
        "as root this test makes real read-only storage with `mount {}`, which failed: {} \
         (run the tests as a normal user, or where root may mount)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl ReadOnlyStorage {
    /// A writable directory, to be made read-only later.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = is_root();
        let mut s = ReadOnlyStorage {
            dir,
            root,
            mounts: Vec::new(),
        };
        if root {
            let p = s.dir.path().to_str().unwrap().to_string();
            mount(&["-t", "tmpfs", "-o", "size=16m", "hearth-test", &p]);
            s.mounts.push(s.dir.path().to_path_buf());
        }
        s
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Makes the whole directory and its files read-only.
    fn seal_dir(&mut self) {
        if self.root {
            mount(&["-o", "remount,ro", self.path().to_str().unwrap()]);
        } else {
            for e in std::fs::read_dir(self.path()).unwrap() {
                chmod(&e.unwrap().path(), 0o444);
            }
            chmod(self.path(), 0o555);
        }
    }

    /// Makes one file read-only; its directory stays writable.
    fn seal_file(&mut self, file: &Path) {
        if self.root {
            let f = file.to_str().unwrap();
            mount(&["--bind", f, f]);
            self.mounts.push(file.to_path_buf());
            mount(&["-o", "remount,bind,ro", f]);
        } else {
            chmod(file, 0o444);
        }
    }
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Drop for ReadOnlyStorage {
    fn drop(&mut self) {
        for m in self.mounts.iter().rev() {
            let _ = Command::new("umount").arg(m).status();
        }
        if !self.root {
            chmod(self.path(), 0o755);
            if let Ok(entries) = std::fs::read_dir(self.path()) {
                for e in entries.flatten() {
                    chmod(&e.path(), 0o644);
                }
            }
        }
    }
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_vault_on_a_read_only_directory_is_a_clear_error_for_writing_and_still_readable() {
    let mut storage = ReadOnlyStorage::new();
    let path = storage.path().join("v.hearth");
    let mut v = Vault::create(&path, PW, &options()).unwrap();
    v.append(&readings(T0, 7200)).unwrap();
    v.put_setting("tariffs", b"single 0.30 EUR/kWh").unwrap();
    let secret = v.enable_secret_slot().unwrap();
    v.close().unwrap();
    storage.seal_dir();
    let before = file_names(storage.path());

    for e in [
        err(Vault::open(&path, PW)),
        err(Vault::open_with_secret(&path, &secret)),
    ] {
        match &e {
            VaultError::ReadOnlyStorage(p) => assert_eq!(p, &path),
            other => panic!("expected ReadOnlyStorage, got {other:?}"),
        }
        assert_eq!(
            e.to_string(),
            format!(
                "The vault at {} is on read-only storage (or not writable by you): collecting \
                 needs write access; you can still read and export it.",
                path.display()
            )
        );
    }

    // Reading, the header, a wrong passphrase: all as usual.
    let r = Vault::open_read_only(&path, PW).unwrap();
    assert_eq!(rows(&r, Resolution::Raw).len(), 7200);
    // 1 000 000 .. 1 003 599 Wh.
    assert_eq!(used(&rows(&r, Resolution::Hour)), 3599);
    assert_eq!(
        &r.get_setting("tariffs").unwrap().unwrap()[..],
        b"single 0.30 EUR/kWh"
    );
    assert_eq!(r.verify().unwrap().damaged, Vec::<String>::new());
    drop(r);
    let r = Vault::open_read_only_with_secret(&path, &secret).unwrap();
    assert_eq!(rows(&r, Resolution::Minute).len(), 120);
    drop(r);
    assert!(Vault::has_secret_slot(&path).unwrap());
    assert!(matches!(
        err(Vault::open_read_only(&path, "wrong")),
        VaultError::WrongPassphrase
    ));
    // Nothing was created or left behind.
    assert_eq!(file_names(storage.path()), before);
}

#[test]
fn a_read_only_vault_file_in_a_writable_directory_is_the_same_clear_error() {
    let mut storage = ReadOnlyStorage::new();
    let path = storage.path().join("v.hearth");
    let mut v = Vault::create(&path, PW, &options()).unwrap();
    v.append(&readings(T0, 3600)).unwrap();
    v.close().unwrap();
    storage.seal_file(&path);

    let e = err(Vault::open(&path, PW));
    assert!(
        matches!(&e, VaultError::ReadOnlyStorage(p) if p == &path),
        "{e:?}"
    );
    let r = Vault::open_read_only(&path, PW).unwrap();
    assert_eq!(rows(&r, Resolution::Raw).len(), 3600);
    // 1 000 000 .. 1 001 799 Wh.
    assert_eq!(used(&rows(&r, Resolution::Minute)), 1799);
}
