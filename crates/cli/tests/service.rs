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
