//! A private session D-Bus with a real Secret Service (gnome-keyring) for tests, so the
//! keyring is exercised for real without touching the user's own session. Give its
//! [`PrivateSecretService::env`] to child processes only (the bus address is per process
//! environment; tests never change their own).
//!
//! Needs the Debian packages `dbus-daemon` and `gnome-keyring` (errors name them).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private bus (and, unless made with [`PrivateSecretService::bus_only`], gnome-keyring's
/// Secret Service on it with an unlocked login keyring). Both daemons are stopped on drop.
pub struct PrivateSecretService {
    bus: Child,
    keyring: Option<Child>,
    address: String,
    home: PathBuf,
}

const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=SOCKET</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

fn spawn_error(program: &str, package: &str, e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        format!(
            "{program} is not installed: install the Debian package {package} (apt-get install {package})"
        )
    } else {
        format!("cannot start {program}: {e}")
    }
}

impl PrivateSecretService {
    /// A bus with no keyring service on it (no service activation either).
    pub fn bus_only(dir: &Path) -> Result<Self, String> {
        let home = dir.join("home");
        std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
        let config = dir.join("bus.conf");
        let socket = dir.join("bus");
        std::fs::write(
            &config,
            BUS_CONFIG.replace("SOCKET", &socket.to_string_lossy()),
        )
        .map_err(|e| e.to_string())?;
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| spawn_error("dbus-daemon", "dbus-daemon", e))?;
        let mut address = String::new();
        let read = bus
            .stdout
            .take()
            .map(|out| BufReader::new(out).read_line(&mut address));
        if !matches!(read, Some(Ok(n)) if n > 0) {
            let _ = bus.kill();
            let _ = bus.wait();
            return Err("dbus-daemon did not print its address".into());
        }
        Ok(PrivateSecretService {
            bus,
            keyring: None,
            address: address.trim().to_string(),
            home,
        })
    }

    /// A bus with gnome-keyring's Secret Service, whose login keyring (the default
    /// collection) is created and unlocked with `password`.
    pub fn start(dir: &Path, password: &str) -> Result<Self, String> {
        let mut s = PrivateSecretService::bus_only(dir)?;
        let run = dir.join("run");
        std::fs::create_dir_all(&run).map_err(|e| e.to_string())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| e.to_string())?;
        }
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets", "--unlock"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(s.env())
            .env("XDG_RUNTIME_DIR", &run)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| spawn_error("gnome-keyring-daemon", "gnome-keyring", e))?;
        if let Some(mut stdin) = daemon.stdin.take() {
            stdin
                .write_all(password.as_bytes())
                .map_err(|e| format!("cannot give gnome-keyring its password: {e}"))?;
        }
        s.keyring = Some(daemon);
        s.wait_for_default_collection()?;
        Ok(s)
    }

    /// The bus address (`unix:path=...`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Environment for a child process that should use this bus and keep its files inside
    /// the test directory: `DBUS_SESSION_BUS_ADDRESS`, `HOME`, `XDG_DATA_HOME`.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("HOME".into(), self.home.to_string_lossy().into_owned()),
            (
                "XDG_DATA_HOME".into(),
                self.home.join("data").to_string_lossy().into_owned(),
            ),
        ]
    }

    fn connection(&self) -> Result<dbus::blocking::Connection, String> {
        let mut channel =
            dbus::channel::Channel::open_private(&self.address).map_err(|e| e.to_string())?;
        channel.register().map_err(|e| e.to_string())?;
        Ok(dbus::blocking::Connection::from(channel))
    }

    fn wait_for_default_collection(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let conn = self.connection()?;
        loop {
            let proxy = conn.with_proxy(
                "org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                Duration::from_secs(2),
            );
            let alias: Result<(dbus::Path<'static>,), _> =
                proxy.method_call("org.freedesktop.Secret.Service", "ReadAlias", ("default",));
            match alias {
                Ok((p,)) if &*p != "/" => return Ok(()),
                _ if Instant::now() > deadline => {
                    return Err(
                        "gnome-keyring-daemon did not offer an unlocked login keyring within 20 s"
                            .into(),
                    );
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Deletes every item with these attributes, as another keyring tool (Seahorse,
    /// `secret-tool clear`) would; returns how many.
    pub fn delete_items(&self, attributes: &[(&str, &str)]) -> Result<usize, String> {
        let conn = self.connection()?;
        let service = conn.with_proxy(
            "org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            Duration::from_secs(5),
        );
        let attributes: std::collections::HashMap<String, String> = attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (unlocked, locked): (Vec<dbus::Path<'static>>, Vec<dbus::Path<'static>>) = service
            .method_call(
                "org.freedesktop.Secret.Service",
                "SearchItems",
                (attributes,),
            )
            .map_err(|e| e.to_string())?;
        let items: Vec<_> = unlocked.into_iter().chain(locked).collect();
        for path in &items {
            let item = conn.with_proxy("org.freedesktop.secrets", path, Duration::from_secs(5));
            let _: (dbus::Path<'static>,) = item
                .method_call("org.freedesktop.Secret.Item", "Delete", ())
                .map_err(|e| e.to_string())?;
        }
        Ok(items.len())
    }

    /// Locks the default collection, as after a screen lock or before the user logs in.
    pub fn lock_default_collection(&self) -> Result<(), String> {
        let conn = self.connection()?;
        let proxy = conn.with_proxy(
            "org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            Duration::from_secs(5),
        );
        let (default,): (dbus::Path<'static>,) = proxy
            .method_call("org.freedesktop.Secret.Service", "ReadAlias", ("default",))
            .map_err(|e| e.to_string())?;
        let _: (Vec<dbus::Path<'static>>, dbus::Path<'static>) = proxy
            .method_call("org.freedesktop.Secret.Service", "Lock", (vec![default],))
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl Drop for PrivateSecretService {
    fn drop(&mut self) {
        for child in self
            .keyring
            .iter_mut()
            .chain(std::iter::once(&mut self.bus))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
