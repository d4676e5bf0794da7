//! Privacy baseline (design.md §7), checked on the real configuration files and dependency
//! tree: a strict CSP, capabilities limited to core, and no HTTP client compiled in.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn json(rel: &str) -> Value {
    let text = std::fs::read_to_string(manifest_dir().join(rel)).expect("readable");
    serde_json::from_str(&text).expect("json")
}

#[test]
fn csp_allows_only_the_app_itself_and_ipc() {
    let conf = json("tauri.conf.json");
    let csp = conf["app"]["security"]["csp"]
        .as_str()
        .expect("a CSP string");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    // Every source named anywhere is 'self', data: images, or Tauri's IPC.
    for token in csp
        .split([';', ' '])
        .filter(|t| !t.is_empty() && !t.ends_with("-src"))
    {
        assert!(
            ["'self'", "data:", "ipc:", "http://ipc.localhost"].contains(&token),
            "unexpected CSP source {token:?} in {csp}"
        );
    }
    assert!(!csp.contains("unsafe"), "{csp}");
}

#[test]
fn capabilities_grant_core_only() {
    let dir = manifest_dir().join("capabilities");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("capabilities dir") {
        let path = entry.expect("entry").path();
        let cap: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        for p in cap["permissions"].as_array().expect("permissions") {
            let name = p
                .as_str()
                .or_else(|| p["identifier"].as_str())
                .unwrap_or("");
            assert!(
                name.starts_with("core:"),
                "{} grants {name}",
                path.display()
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 1);
}

#[test]
fn no_http_client_is_compiled_in() {
    // Cargo.lock lists every platform's dependencies (tauri pulls reqwest on Android and iOS
    // only), so ask cargo for what is actually built on this machine.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(manifest_dir())
        .args([
            "tree",
            "--workspace",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "--target",
            "host-tuple",
            "--offline",
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        tree.lines().any(|l| l.starts_with("tauri ")),
        "the tree should contain tauri"
    );
    let forbidden = [
        "reqwest",
        "ureq",
        "hyper",
        "isahc",
        "surf",
        "attohttpc",
        "curl",
        "h2",
        "sentry",
        "tauri-plugin-http",
        "tauri-plugin-updater",
        "tauri-plugin-shell",
        "opentelemetry",
    ];
    let found: Vec<&str> = tree
        .lines()
        .filter(|l| forbidden.contains(&l.split(' ').next().unwrap_or("")))
        .collect();
    assert!(
        found.is_empty(),
        "HTTP/telemetry crates compiled in: {found:?}"
    );
}
