//! Bounds on key derivation (issue 18, finding 3): a vault or backup header asking for absurd
//! Argon2id settings is refused at once, before any derivation, and settings below the floor
//! are refused for new vaults, new passphrases and headers alike.
//!
//! Its own test binary: nothing here sets `HEARTH_INSECURE_TEST_KDF`, and only
//! `KdfParams::INSECURE_FOR_TESTS` exactly is let through by the `test-support` feature.

use hearth_vault::{CreateOptions, KdfParams, Vault, VaultError};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

const PASSPHRASE: &str = "correct horse battery";

fn options(kdf: KdfParams) -> CreateOptions {
    CreateOptions {
        kdf,
        time_zone: Some("UTC".into()),
    }
}

fn new_vault(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    Vault::create(&path, PASSPHRASE, &options(KdfParams::MINIMUM))
        .expect("create")
        .close()
        .expect("close");
    path
}

/// Writes Argon2id settings into the plaintext header of the vault or backup at `path`, as
/// anyone who can write the file could.
fn set_header_kdf(path: &Path, memory_kib: u32, iterations: u32, parallelism: u32) {
    let db = Connection::open(path).expect("sqlite");
    db.execute(
        "UPDATE header SET kdf_memory_kib = ?1, kdf_iterations = ?2, kdf_parallelism = ?3",
        (memory_kib, iterations, parallelism),
    )
    .expect("header");
}

/// Runs `f` on another thread and returns its result if it ends within a second; a derivation
/// that would spin for hours (or allocate 16 GiB) fails the test instead of hanging it.
fn within_a_second<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(1))
        .unwrap_or_else(|_| panic!("{what}: not refused within a second"))
}

fn costly(memory_kib: u32, iterations: u32, parallelism: u32) -> VaultError {
    VaultError::KdfTooCostly {
        memory_kib,
        iterations,
        parallelism,
    }
}

fn same(a: &VaultError, b: &VaultError) -> bool {
    a.to_string() == b.to_string()
}

#[test]
fn a_header_with_absurd_settings_is_refused_within_a_second_by_every_opener() {
    let dir = tempfile::tempdir().expect("dir");
    let absurd = [
        (KdfParams::MINIMUM.memory_kib, u32::MAX, 1),
        (16 * 1024 * 1024, 2, 1), // 16 GiB
        (KdfParams::MINIMUM.memory_kib, 2, 17),
    ];
    for (i, (m, t, p)) in absurd.into_iter().enumerate() {
        let path = new_vault(dir.path(), &format!("v{i}.hearth"));
        set_header_kdf(&path, m, t, p);
        let want = costly(m, t, p);
        let writer = path.clone();
        let got = within_a_second("Vault::open", move || {
            Vault::open(&writer, PASSPHRASE).err()
        });
        assert!(got.as_ref().is_some_and(|e| same(e, &want)), "{got:?}");
        let reader = path.clone();
        let got = within_a_second("Vault::open_read_only", move || {
            Vault::open_read_only(&reader, PASSPHRASE).err()
        });
        assert!(got.as_ref().is_some_and(|e| same(e, &want)), "{got:?}");
    }
    assert_eq!(
        costly(KdfParams::MINIMUM.memory_kib, u32::MAX, 1).to_string(),
        "the key-derivation settings (19456 KiB of memory, 4294967295 passes, 1 lanes) ask for \
         more than Hearth allows (at most 2 GiB, 16 passes, 16 lanes): a vault or backup asking \
         for them is damaged or was tampered with"
    );
}

#[test]
fn a_backup_with_absurd_settings_is_refused_within_a_second_by_restore() {
    let dir = tempfile::tempdir().expect("dir");
    let source = new_vault(dir.path(), "source.hearth");
    let backup = dir.path().join("backup.hearth");
    Vault::open(&source, PASSPHRASE)
        .expect("open")
        .backup(&backup, None)
        .expect("backup");
    set_header_kdf(&backup, KdfParams::MINIMUM.memory_kib, u32::MAX, 1);
    let target = new_vault(dir.path(), "target.hearth");
    let got = within_a_second("Vault::restore", move || {
        let mut v = Vault::open(&target, PASSPHRASE).expect("target");
        let options = hearth_vault::RestoreOptions {
            now: 4_102_444_800, // 2100-01-01
            take_setting: &|_| true,
        };
        v.restore(&backup, PASSPHRASE, &options).err()
    });
    let want = costly(KdfParams::MINIMUM.memory_kib, u32::MAX, 1);
    assert!(got.as_ref().is_some_and(|e| same(e, &want)), "{got:?}");
}

#[test]
fn settings_below_the_floor_are_refused_for_new_vaults_passphrases_and_headers() {
    let dir = tempfile::tempdir().expect("dir");
    let weak = [
        KdfParams {
            memory_kib: KdfParams::MIN_MEMORY_KIB - 1,
            ..KdfParams::MINIMUM
        },
        KdfParams {
            iterations: KdfParams::MIN_ITERATIONS - 1,
            ..KdfParams::MINIMUM
        },
        KdfParams {
            parallelism: 0,
            ..KdfParams::MINIMUM
        },
    ];
    let path = dir.path().join("weak.hearth");
    for kdf in weak {
        let err = Vault::create(&path, PASSPHRASE, &options(kdf)).err();
        assert!(
            matches!(err, Some(VaultError::KdfTooWeak { memory_kib, iterations, parallelism })
                if (memory_kib, iterations, parallelism)
                    == (kdf.memory_kib, kdf.iterations, kdf.parallelism)),
            "{kdf:?}: {err:?}"
        );
        assert_eq!(
            kdf.check().map_err(|e| e.to_string()),
            Err(err.unwrap().to_string())
        );
    }
    assert_eq!(
        weak[0].check().unwrap_err().to_string(),
        "the key-derivation settings (19455 KiB of memory, 2 passes, 1 lanes) are too weak: \
         Hearth needs at least 19 MiB (19456 KiB), 2 passes and 1 lane, or a stolen copy of the \
         vault could be guessed quickly"
    );
    // The ceilings themselves are allowed.
    for ok in [
        KdfParams::MINIMUM,
        KdfParams::default(),
        KdfParams {
            memory_kib: KdfParams::MAX_MEMORY_KIB,
            iterations: KdfParams::MAX_ITERATIONS,
            parallelism: KdfParams::MAX_PARALLELISM,
        },
    ] {
        assert!(ok.check().is_ok(), "{ok:?}");
    }
    // A new passphrase with weak or absurd settings: refused, the old one still opens.
    let path = new_vault(dir.path(), "v.hearth");
    let mut v = Vault::open(&path, PASSPHRASE).expect("open");
    assert!(matches!(
        v.change_passphrase("new words here", Some(weak[1])),
        Err(VaultError::KdfTooWeak { .. })
    ));
    let huge = KdfParams {
        memory_kib: KdfParams::MAX_MEMORY_KIB + 1,
        ..KdfParams::MINIMUM
    };
    assert!(matches!(
        v.change_passphrase("new words here", Some(huge)),
        Err(VaultError::KdfTooCostly { .. })
    ));
    v.close().expect("close");
    Vault::open(&path, PASSPHRASE)
        .expect("unchanged")
        .close()
        .expect("close");
    // A header lowered below the floor (8 MiB, 1 pass) unwraps nothing: the key was wrapped
    // at the vault's real settings, so the weak derivation (quick) gives the wrong key.
    set_header_kdf(&path, 8 * 1024, 1, 1);
    let got = within_a_second("weak header", move || {
        Vault::open_read_only(&path, PASSPHRASE).err()
    });
    assert!(matches!(got, Some(VaultError::WrongPassphrase)), "{got:?}");
}
