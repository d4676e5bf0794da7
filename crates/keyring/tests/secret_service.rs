//! The keyring against a real Secret Service: gnome-keyring on a private session bus. The bus
//! address is process environment, which tests never change in their own process: each test
//! re-runs itself (this test binary, `--exact` that test) as a child process whose environment
//! points at the private bus, and the child does the keyring work and the assertions.

use hearth_keyring::test_support::PrivateSecretService;
use hearth_keyring::{Keyring, KeyringError};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "HEARTH_KEYRING_TEST_CHILD";
const ID: &str = "0123456789abcdef0123456789abcdef";
const OTHER_ID: &str = "fedcba9876543210fedcba9876543210";

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs test `name` again in a child process with `env`, waits at most 60 s, and checks that
/// the child ran that one test and it passed.
fn run_child(name: &str, env: &[(String, String)], runtime_dir: &Path) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child test {name} hung for 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed") && stdout.contains("child done"),
        "child test {name} failed:\n{stdout}\n{stderr}"
    );
}

fn secret(seed: u8) -> [u8; 32] {
    std::array::from_fn(|i| seed.wrapping_add(i as u8 * 7))
}

#[test]
fn store_load_replace_and_delete_in_gnome_keyring() {
    if in_child() {
        let k = Keyring::unattended();
        assert!(k.load(ID).unwrap().is_none());
        assert!(!k.contains(ID).unwrap());
        assert!(!k.delete(ID).unwrap());

        let path = Path::new("/home/an/.local/share/hearth/vault.hearth");
        k.store(ID, path, &secret(1)).unwrap();
        assert!(k.contains(ID).unwrap());
        assert_eq!(k.load(ID).unwrap().as_deref(), Some(&secret(1)));
        assert!(k.load(OTHER_ID).unwrap().is_none());

        // What the keyring holds, read with the Secret Service client directly: one item with
        // our attributes and label, the secret as 64 lowercase hex digits.
        let ss =
            dbus_secret_service::SecretService::connect(dbus_secret_service::EncryptionType::Dh)
                .unwrap();
        let attrs = std::collections::HashMap::from([("service", "hearth"), ("username", ID)]);
        let found = ss.search_items(attrs.clone()).unwrap();
        assert_eq!((found.unlocked.len(), found.locked.len()), (1, 0));
        let item = &found.unlocked[0];
        assert_eq!(
            item.get_label().unwrap(),
            "Hearth vault key (/home/an/.local/share/hearth/vault.hearth)"
        );
        let expected_hex: String = secret(1).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(item.get_secret().unwrap(), expected_hex.as_bytes());
        assert_eq!(
            item.get_attributes()
                .unwrap()
                .get("application")
                .map(String::as_str),
            Some("hearth")
        );

        // Storing again replaces: still one entry, the new secret.
        k.store(ID, path, &secret(2)).unwrap();
        assert_eq!(k.load(ID).unwrap().as_deref(), Some(&secret(2)));
        assert_eq!(ss.search_items(attrs.clone()).unwrap().unlocked.len(), 1);

        // A second vault has its own entry.
        k.store(OTHER_ID, Path::new("/media/usb/vault.hearth"), &secret(3))
            .unwrap();
        assert_eq!(k.load(OTHER_ID).unwrap().as_deref(), Some(&secret(3)));
        assert_eq!(k.load(ID).unwrap().as_deref(), Some(&secret(2)));

        // An entry edited by hand is reported as damaged, not used.
        ss.search_items(attrs.clone()).unwrap().unlocked[0]
            .set_secret(b"not a hearth key", "text/plain")
            .unwrap();
        assert!(matches!(k.load(ID), Err(KeyringError::Damaged)));

        assert!(k.delete(ID).unwrap());
        assert!(k.load(ID).unwrap().is_none());
        assert!(!k.delete(ID).unwrap());
        assert_eq!(k.load(OTHER_ID).unwrap().as_deref(), Some(&secret(3)));
        println!("child done");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ss = PrivateSecretService::start(dir.path(), "login password").unwrap();
    let run = dir.path().join("run-child");
    std::fs::create_dir_all(&run).unwrap();
    run_child(
        "store_load_replace_and_delete_in_gnome_keyring",
        &ss.env(),
        &run,
    );
}

#[test]
fn no_keyring_service_is_a_clear_error() {
    if in_child() {
        for k in [Keyring::unattended(), Keyring::interactive()] {
            let e = k.load(ID).unwrap_err();
            assert!(matches!(e, KeyringError::NoService { .. }), "{e:?}");
            assert_eq!(
                e.to_string(),
                "No keyring service is running (Secret Service). Unlock with your passphrase \
                 instead."
            );
            assert!(matches!(
                k.store(ID, Path::new("/v.hearth"), &secret(1)),
                Err(KeyringError::NoService { .. })
            ));
            assert!(matches!(k.delete(ID), Err(KeyringError::NoService { .. })));
        }
        println!("child done");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run-child");
    std::fs::create_dir_all(&run).unwrap();
    // A session bus on which no keyring service runs (and none can be activated).
    let bus = PrivateSecretService::bus_only(dir.path()).unwrap();
    run_child("no_keyring_service_is_a_clear_error", &bus.env(), &run);
    // No session bus at all (a server, a cron job): no address, no display to autolaunch one.
    let home = dir.path().join("home").to_string_lossy().into_owned();
    run_child(
        "no_keyring_service_is_a_clear_error",
        &[("HOME".into(), home)],
        &run,
    );
}

#[test]
fn a_locked_keyring_fails_at_once_when_unattended_instead_of_waiting_for_a_prompt() {
    if in_child() {
        let k = Keyring::unattended();
        if std::env::var_os("HEARTH_KEYRING_TEST_STEP").is_some_and(|s| s == "store") {
            k.store(ID, Path::new("/v.hearth"), &secret(9)).unwrap();
        } else {
            // The entry is still listed (attributes are not secret) ...
            assert!(k.contains(ID).unwrap());
            // ... but reading it needs the keyring unlocked: an immediate, typed error.
            let t = Instant::now();
            let e = k.load(ID).unwrap_err();
            assert!(matches!(e, KeyringError::Locked), "{e:?}");
            assert!(e.to_string().contains("passphrase"), "{e}");
            assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        }
        println!("child done");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ss = PrivateSecretService::start(dir.path(), "login password").unwrap();
    let run = dir.path().join("run-child");
    std::fs::create_dir_all(&run).unwrap();
    let name = "a_locked_keyring_fails_at_once_when_unattended_instead_of_waiting_for_a_prompt";
    let mut env = ss.env();
    env.push(("HEARTH_KEYRING_TEST_STEP".into(), "store".into()));
    run_child(name, &env, &run);
    ss.lock_default_collection().unwrap();
    run_child(name, &ss.env(), &run);
}
