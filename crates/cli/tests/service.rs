//! `hearth service`: the unit and the source file it writes (exact text, modes), what it asks
//! of `systemctl --user` (a stand-in on PATH records it), status and removal, and a refusal of a
//! source that is not one, before anything is written.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

fn hearth(home: &Path, args: &[&str]) -> Output {
    // A systemctl that records its arguments, one call a line, and succeeds.
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let fake = bin.join("systemctl");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\necho active\n",
            home.join("calls").display()
        ),
    )
    .expect("fake systemctl");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(args)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env_remove("HEARTH_VAULT")
        .output()
        .expect("runs")
}

fn text(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn install_writes_a_write_only_unit_starts_it_and_remove_takes_it_away() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let vault = home.join("my vault.hearth");
    let out = hearth(
        home,
        &[
            "--vault",
            vault.to_str().expect("utf-8"),
            "service",
            "install",
            "--source",
            "serial:/dev/ttyUSB0:115200:8N1",
        ],
    );
    let said = text(&out);
    let unit = home.join("config/systemd/user/hearth-collect.service");
    let env = home.join("config/hearth/collect.env");
    assert!(
        said.contains(&format!("installed {}", unit.display())),
        "{said}"
    );
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_hearth")).expect("exe");
    assert_eq!(
        std::fs::read_to_string(&unit).expect("unit"),
        format!(
            "[Unit]\nDescription=Hearth meter collector (write-only: it stores readings it cannot \
             read back)\nStartLimitIntervalSec=0\n\n[Service]\nType=simple\nEnvironmentFile={}\n\
             ExecStart=\"{}\" --vault \"{}\" collect --write-only --source ${{HEARTH_SOURCE}}\n\
             Restart=on-failure\nRestartSec=5\nNoNewPrivileges=yes\n\n[Install]\n\
             WantedBy=default.target\n",
            env.display(),
            exe.display(),
            vault.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&env).expect("env"),
        "# The meter source of Hearth's collector (hearth service install --source ...).\n\
         HEARTH_SOURCE=serial:/dev/ttyUSB0:115200:8N1\n"
    );
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!((mode(&env), mode(&unit)), (0o600, 0o644));
    assert_eq!(
        std::fs::read_to_string(home.join("calls")).expect("calls"),
        "--user daemon-reload\n--user enable --now hearth-collect.service\n"
    );
    let status = text(&hearth(home, &["service", "status"]));
    assert!(
        status.contains("meter source: serial:/dev/ttyUSB0:115200:8N1\n"),
        "{status}"
    );
    assert!(status.contains("running: active\n"), "{status}");
    text(&hearth(home, &["service", "remove"]));
    assert!(!unit.exists() && !env.exists());
    assert!(
        std::fs::read_to_string(home.join("calls"))
            .expect("calls")
            .ends_with("--user is-active hearth-collect.service\n--user disable --now hearth-collect.service\n--user daemon-reload\n")
    );
    assert!(text(&hearth(home, &["service", "status"])).starts_with("not installed"));
}

#[test]
fn a_source_that_is_not_one_writes_nothing() {
    let home = tempfile::tempdir().expect("home");
    let out = hearth(
        home.path(),
        &["service", "install", "--source", "usb-stick", "--no-start"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"usb-stick\" is not a meter source"), "{err}");
    assert!(!home.path().join("config").exists());
    assert!(!home.path().join("calls").exists());
}

#[test]
fn a_collector_box_service_pins_the_folder_card_and_collects_into_the_folder() {
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let folder = home.join("Sync");
    std::fs::create_dir_all(&folder).expect("folder");
    let install = |home: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hearth"));
        c.args([
            "service",
            "install",
            "--no-start",
            "--source",
            "tcp:192.168.1.20:8088",
        ])
        .arg("--folder")
        .arg(&folder)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("HEARTH_VAULT");
        c.output().expect("runs")
    };
    // No card yet (the vault's computer has not merged the folder): refused, nothing written.
    let refused = install(home);
    assert!(!refused.status.success());
    let unit = home.join("config/systemd/user/hearth-collect.service");
    assert!(!unit.exists());
    // The card `hearth merge` writes (vault id and public key), carried here by the sync.
    std::fs::write(
        folder.join("hearth-write-key.txt"),
        format!(
            "hearth-write-key 1\nvault {}\nkey {}\n",
            "ab".repeat(16),
            "5c".repeat(32)
        ),
    )
    .expect("card");
    let said = text(&install(home));
    assert!(
        said.contains("the folder's collector card has the key "),
        "{said}"
    );
    let pins: Vec<_> = std::fs::read_dir(home.join("data/hearth/folder-keys"))
        .expect("pinned")
        .collect();
    assert_eq!(pins.len(), 1, "the card is pinned at install");
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_hearth")).expect("exe");
    let text = std::fs::read_to_string(&unit).expect("unit");
    assert!(
        text.contains(&format!(
            "ExecStart=\"{}\" collect --write-only --folder \"{}\" --source ${{HEARTH_SOURCE}}\n",
            exe.display(),
            folder.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("(write-only into a sync folder: it stores readings it cannot read back)")
    );
}
