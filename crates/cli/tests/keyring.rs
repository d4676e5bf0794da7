//! Unattended collection through the OS keyring, end to end: the real `hearth` binary against
//! a real Secret Service (gnome-keyring on a private session bus; the bus address is given to
//! the child processes only). Needs the Debian packages `dbus-daemon` and `gnome-keyring`.

use hearth_keyring::test_support::PrivateSecretService;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// 2026-01-15T12:00:00Z.
const T0: i64 = 1_768_478_400;

struct Env {
    dir: tempfile::TempDir,
    vault: PathBuf,
    runtime: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v.hearth");
        let runtime = dir.path().join("run-hearth");
        std::fs::create_dir_all(&runtime).unwrap();
        Env {
            dir,
            vault,
            runtime,
        }
    }

    /// `hearth --vault V args` with only the bus's environment, no terminal, and the
    /// passphrase variables given (or not) explicitly.
    fn run(&self, bus: &PrivateSecretService, vars: &[(&str, &str)], args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hearth"))
            .arg("--vault")
            .arg(&self.vault)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(bus.env())
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("CI", "true")
            .env("HEARTH_INSECURE_TEST_KDF", "1")
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, bus: &PrivateSecretService, vars: &[(&str, &str)], args: &[&str]) -> Output {
        let out = self.run(bus, vars, args);
        assert!(
            out.status.success(),
            "hearth {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn fails(&self, bus: &PrivateSecretService, vars: &[(&str, &str)], args: &[&str]) -> String {
        let out = self.run(bus, vars, args);
        assert!(!out.status.success(), "hearth {args:?} should have failed");
        String::from_utf8(out.stderr).unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn demo(start: i64, count: u64) -> String {
    format!("demo:7?pace=fast&start={start}&count={count}")
}

fn secret_service(dir: &Path) -> PrivateSecretService {
    PrivateSecretService::start(dir, "login password").unwrap_or_else(|e| panic!("{e}"))
}

const NONE: &[(&str, &str)] = &[];
const PW: &[(&str, &str)] = &[("HEARTH_PASSPHRASE", "pw-words")];

#[test]
fn the_keyring_lets_collect_and_export_run_without_a_passphrase_until_turned_off() {
    let env = Env::new();
    let ss = secret_service(&env.dir.path().join("keyring"));
    env.ok(
        &ss,
        PW,
        &[
            "init",
            "--time-zone",
            "Europe/Amsterdam",
            "--kdf-memory-kib",
            "8",
            "--kdf-iterations",
            "1",
        ],
    );
    let status = text(&env.ok(&ss, NONE, &["keyring", "status"]).stdout);
    assert!(
        status.contains("keyring unlock: off\nkeyring entry: none"),
        "{status}"
    );

    // Without the keyring, no passphrase is a clear failure that points at the keyring.
    let e = env.fails(&ss, NONE, &["collect", "--source", &demo(T0, 10)]);
    assert!(e.contains("no passphrase"), "{e}");
    assert!(e.contains("`hearth keyring on`"), "{e}");

    // `keyring on` asks for the passphrase (here from the environment) once.
    let wrong = env.fails(&ss, &[("HEARTH_PASSPHRASE", "nope")], &["keyring", "on"]);
    assert!(wrong.contains("wrong passphrase"), "{wrong}");
    let on = text(&env.ok(&ss, PW, &["keyring", "on"]).stderr);
    assert!(on.contains("The OS keyring now unlocks"), "{on}");
    assert!(
        on.contains("Anyone who can read your unlocked keyring"),
        "{on}"
    );
    let status = text(&env.ok(&ss, NONE, &["keyring", "status"]).stdout);
    assert!(
        status.contains("keyring unlock: on\nkeyring entry: present"),
        "{status}"
    );

    // Unattended: no passphrase anywhere, no terminal.
    env.ok(&ss, NONE, &["collect", "--source", &demo(T0, 300)]);
    let csv = text(&env.ok(&ss, NONE, &["export", "--resolution", "raw"]).stdout);
    assert_eq!(csv.lines().count(), 301, "header + 300 readings");
    let verify = text(&env.ok(&ss, NONE, &["verify"]).stdout);
    assert!(verify.contains("(300 readings), 0 damaged"), "{verify}");

    // `passwd` needs the current passphrase (not the keyring) and keeps the keyring working.
    let e = env.fails(&ss, &[("HEARTH_NEW_PASSPHRASE", "pw2-words")], &["passwd"]);
    assert!(e.contains("no passphrase"), "{e}");
    let passwd = text(
        &env.ok(
            &ss,
            &[
                ("HEARTH_PASSPHRASE", "pw-words"),
                ("HEARTH_NEW_PASSPHRASE", "pw2-words"),
            ],
            &["passwd"],
        )
        .stderr,
    );
    assert!(
        passwd.contains("The OS keyring still unlocks this vault"),
        "{passwd}"
    );
    env.ok(&ss, NONE, &["collect", "--source", &demo(T0 + 300, 300)]);

    // An explicit passphrase wins over the keyring: a wrong one fails, whatever the keyring.
    let e = env.fails(&ss, PW, &["export", "--resolution", "raw"]);
    assert!(e.contains("wrong passphrase"), "{e}");
    // --no-keyring asks for the passphrase, and there is none here.
    let e = env.fails(
        &ss,
        NONE,
        &["--no-keyring", "export", "--resolution", "raw"],
    );
    assert!(e.contains("no passphrase"), "{e}");

    // Where no keyring service runs (a server, a headless login), it says so and falls back
    // to the passphrase.
    let no_service = PrivateSecretService::bus_only(&env.dir.path().join("bare")).unwrap();
    let e = env.fails(
        &no_service,
        NONE,
        &["collect", "--source", &demo(T0 + 600, 10)],
    );
    assert!(
        e.contains(
            "No keyring service is running (Secret Service). Unlock with your passphrase instead."
        ),
        "{e}"
    );
    assert!(e.contains("no passphrase"), "{e}");
    let csv = text(
        &env.ok(
            &no_service,
            &[("HEARTH_PASSPHRASE", "pw2-words")],
            &["export", "--resolution", "raw"],
        )
        .stdout,
    );
    assert_eq!(csv.lines().count(), 601);

    // Off (unlocked by the keyring itself): removes the slot and the keyring entry.
    let off = text(&env.ok(&ss, NONE, &["keyring", "off"]).stderr);
    assert!(off.contains("no longer unlocks"), "{off}");
    // ... and that only `hearth rekey` revokes a copy of the old keyring secret.
    assert!(
        off.contains("`hearth rekey` replaces the key and re-seals everything"),
        "{off}"
    );
    let status = text(&env.ok(&ss, NONE, &["keyring", "status"]).stdout);
    assert!(
        status.contains("keyring unlock: off\nkeyring entry: none"),
        "{status}"
    );
    let e = env.fails(&ss, NONE, &["collect", "--source", &demo(T0 + 600, 10)]);
    assert!(e.contains("no passphrase"), "{e}");
    assert!(e.contains("the OS keyring is off for this vault"), "{e}");
    let csv = text(
        &env.ok(
            &ss,
            &[("HEARTH_PASSPHRASE", "pw2-words")],
            &["export", "--resolution", "raw"],
        )
        .stdout,
    );
    assert_eq!(
        csv.lines().count(),
        601,
        "nothing was collected after `keyring off`"
    );
}

#[test]
fn init_with_keyring_and_a_keyring_key_that_no_longer_fits() {
    let env = Env::new();
    let ss = secret_service(&env.dir.path().join("keyring"));
    let init = text(
        &env.ok(
            &ss,
            PW,
            &[
                "init",
                "--keyring",
                "--time-zone",
                "UTC",
                "--kdf-memory-kib",
                "8",
                "--kdf-iterations",
                "1",
            ],
        )
        .stderr,
    );
    assert!(init.contains("The OS keyring unlocks it too"), "{init}");
    env.ok(&ss, NONE, &["collect", "--source", &demo(T0, 60)]);

    // The vault is replaced by another one at the same path (restored from elsewhere, say):
    // the keyring has no key for *that* vault id.
    std::fs::remove_file(&env.vault).unwrap();
    env.ok(
        &ss,
        PW,
        &["init", "--kdf-memory-kib", "8", "--kdf-iterations", "1"],
    );
    let status = text(&env.ok(&ss, NONE, &["keyring", "status"]).stdout);
    assert!(
        status.contains("keyring unlock: off\nkeyring entry: none"),
        "{status}"
    );

    // Turning it on for the new vault, then deleting its keyring entry behind Hearth's back:
    // the vault still asks for the passphrase, with a hint.
    env.ok(&ss, PW, &["keyring", "on"]);
    let status = text(&env.ok(&ss, NONE, &["keyring", "status"]).stdout);
    assert!(status.contains("keyring entry: present"), "{status}");
    let id = hearth_vault::Vault::inspect(&env.vault).unwrap().id_hex;
    assert_eq!(
        ss.delete_items(&[("service", "hearth"), ("username", &id)]),
        Ok(1)
    );
    let status = text(&env.ok(&ss, NONE, &["keyring", "status"]).stdout);
    assert!(
        status.contains("keyring unlock: on\nkeyring entry: missing"),
        "{status}"
    );
    let e = env.fails(&ss, NONE, &["export", "--resolution", "raw"]);
    assert!(e.contains("holds no key for this vault"), "{e}");
    assert!(e.contains("no passphrase"), "{e}");
    let csv = text(&env.ok(&ss, PW, &["export", "--resolution", "raw"]).stdout);
    assert_eq!(csv.lines().count(), 1, "the new vault is empty");
}
