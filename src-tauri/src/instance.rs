//! One Hearth per data directory: a second start (say, from the app menu while Hearth collects in
//! the tray) asks the first, over the local session D-Bus, to show its window and exits, instead
//! of opening a second window whose unlock finds the vault busy.
//!
//! The first start owns a bus name derived from its data directory and answers `Show` (and
//! `Ping`) on it. A start with `--minimized` (the login entry) that finds Hearth running exits
//! without asking for the window. A Hearth that is quitting answers with an error, so a start in
//! that moment waits for the name to come free instead of leaving no Hearth at all.
//! Without a session bus (a headless machine, CI) there is nothing to ask: Hearth runs, and the
//! vault's writer lock still keeps a second collector out.

use dbus::blocking::Connection;
use dbus::channel::{MatchingReceiver, Sender};
use dbus::message::MatchRule;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

const OBJECT: &str = "/org/hearth/Desktop";
const INTERFACE: &str = "org.hearth.Desktop";
const SHOW: &str = "Show";
const PING: &str = "Ping";
/// How long a second start waits, in all, for the first to answer or to let go of the name.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// Between two tries while the first Hearth is quitting.
const RETRY: Duration = Duration::from_millis(100);

/// The bus name of the Hearth using `data_dir`. One per data directory, because what must not run
/// twice is the collector writing that directory's vault.
pub fn bus_name(data_dir: &Path) -> String {
    // FNV-1a (64-bit) over the path's bytes: stable across builds, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data_dir.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{INTERFACE}.d{h:016x}")
}

/// What this start found.
#[derive(Debug)]
pub enum Claim {
    /// This is the only Hearth for the directory: a message arrives on `requests` each time
    /// another start asks for the window. Set `quitting` when the user quits: from then on this
    /// Hearth no longer answers for the directory.
    First {
        requests: mpsc::Receiver<()>,
        quitting: Arc<AtomicBool>,
    },
    /// Another Hearth runs for the directory (and was asked to show its window, if `show`).
    Running,
    /// There is no session bus to ask (the reason), or the running Hearth never answered.
    Alone(String),
}

/// Claims `data_dir` on the session bus (`address`: a bus address, or `None` for the user's
/// session bus). `show`: ask a running Hearth to show its window.
pub fn claim(data_dir: &Path, address: Option<&str>, show: bool) -> Claim {
    let name = bus_name(data_dir);
    let address = address.map(str::to_owned);
    let (found_tx, found_rx) = mpsc::channel();
    let (show_tx, show_rx) = mpsc::channel();
    let quitting = Arc::new(AtomicBool::new(false));
    let serving = quitting.clone();
    let spawned = std::thread::Builder::new()
        .name("hearth-instance".into())
        .spawn(move || {
            let found = find(&name, address.as_deref(), show);
            match found {
                Ok(Some(conn)) => {
                    let _ = found_tx.send(Ok(true));
                    serve(&conn, show_tx, &serving);
                }
                Ok(None) => {
                    let _ = found_tx.send(Ok(false));
                }
                Err(e) => {
                    let _ = found_tx.send(Err(e));
                }
            }
        });
    if let Err(e) = spawned {
        return Claim::Alone(format!("cannot start the instance check: {e}"));
    }
    match found_rx.recv() {
        Ok(Ok(true)) => Claim::First {
            requests: show_rx,
            quitting,
        },
        Ok(Ok(false)) => Claim::Running,
        Ok(Err(why)) => Claim::Alone(why),
        Err(_) => Claim::Alone("the instance check stopped".into()),
    }
}

/// Owns `name` (the connection that holds it), or finds it held by a Hearth that answered
/// (`None`).
fn find(name: &str, address: Option<&str>, show: bool) -> Result<Option<Connection>, String> {
    let conn = match address {
        Some(a) => Connection::new_address(a),
        None => Connection::new_session(),
    }
    .map_err(|e| format!("no session bus: {e}"))?;
    use dbus::blocking::stdintf::org_freedesktop_dbus::RequestNameReply;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let reply = conn
            .request_name(name, false, false, true)
            .map_err(|e| format!("cannot ask the session bus for a name: {e}"))?;
        if matches!(
            reply,
            RequestNameReply::PrimaryOwner | RequestNameReply::AlreadyOwner
        ) {
            return Ok(Some(conn));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("another Hearth holds this data directory but does not answer".into());
        }
        let proxy = conn.with_proxy(name, OBJECT, left);
        let method = if show { SHOW } else { PING };
        if proxy
            .method_call::<(), _, _, _>(INTERFACE, method, ())
            .is_ok()
        {
            return Ok(None);
        }
        // No answer, or "quitting": the name goes with that Hearth; try again.
        std::thread::sleep(RETRY.min(deadline.saturating_duration_since(Instant::now())));
    }
}

/// Answers `Show` and `Ping` on `conn` until the process ends, passing each `Show` to `show`;
/// once quitting, answers both with an error.
fn serve(conn: &Connection, show: mpsc::Sender<()>, quitting: &Arc<AtomicBool>) {
    let quitting = quitting.clone();
    let rule = MatchRule::new_method_call()
        .with_path(OBJECT)
        .with_interface(INTERFACE);
    conn.start_receive(
        rule,
        Box::new(move |msg, conn| {
            let member = msg.member();
            let member = member.as_deref();
            if quitting.load(Ordering::SeqCst) && (member == Some(SHOW) || member == Some(PING)) {
                let _ = conn.send(msg.error(
                    &"org.hearth.Desktop.Error.Quitting".into(),
                    c"Hearth is quitting",
                ));
            } else if member == Some(SHOW) {
                let _ = show.send(());
                let _ = conn.send(msg.method_return());
            } else if member == Some(PING) {
                let _ = conn.send(msg.method_return());
            } else {
                let _ = conn.send(dbus::channel::default_reply(&msg).unwrap_or_else(|| {
                    msg.error(
                        &"org.freedesktop.DBus.Error.UnknownMethod".into(),
                        c"Hearth answers Show only",
                    )
                }));
            }
            true
        }),
    );
    while conn.process(Duration::from_secs(3600)).is_ok() {}
}
