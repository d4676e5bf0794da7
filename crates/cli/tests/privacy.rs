//! Privacy rules that the build itself must keep (design.md §7): no HTTP client, telemetry,
//! crash reporter, updater, or shell/HTTP/filesystem plugin anywhere in what we ship (the
//! filesystem plugin's code is linked under the native save dialog, never registered); a CSP
//! with no remote origin; Tauri capabilities that grant only the core.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/cli sits two levels below the workspace root")
        .to_path_buf()
}

/// Crates that speak HTTP, phone home, update themselves or open a shell for the web view.
const FORBIDDEN: &[&str] = &[
    "reqwest",
    "ureq",
    "hyper",
    "hyper-util",
    "isahc",
    "curl",
    "curl-sys",
    "surf",
    "attohttpc",
    "minreq",
    "http-req",
    "awc",
    "sentry",
    "sentry-core",
    "opentelemetry",
    "opentelemetry-otlp",
    "posthog-rs",
    "segment",
    "self_update",
    "update-informer",
    "tauri-plugin-http",
    "tauri-plugin-shell",
    "tauri-plugin-updater",
    "tauri-plugin-fs",
    "tauri-plugin-websocket",
    "tauri-plugin-upload",
];

/// The desktop targets Hearth ships for. Cargo.lock also lists crates that only mobile targets
/// build (Tauri pulls `reqwest` on iOS/Android only), so the check resolves the real graph
/// per target instead of grepping the lock file.
const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-pc-windows-msvc",
    "aarch64-apple-darwin",
];

fn shipped_packages(target: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args([
            "tree",
            "--offline",
            "--workspace",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
            "--target",
            target,
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn no_http_client_telemetry_or_updater_is_built_for_any_desktop_target() {
    for target in TARGETS {
        let packages = shipped_packages(target);
        assert!(
            packages.iter().any(|p| p == "hearth-meter"),
            "the tree for {target} lists our own crates ({} packages)",
            packages.len()
        );
        let bad: Vec<_> = packages
            .iter()
            .filter(|p| FORBIDDEN.contains(&p.as_str()))
            .filter(|p| !(p.as_str() == "tauri-plugin-fs" && fs_plugin_is_only_a_library(target)))
            .collect();
        assert!(bad.is_empty(), "{target} would ship {bad:?}");
    }
}

/// `tauri-plugin-dialog` (the native save dialog) links `tauri-plugin-fs` for its path types
/// and uses the fs scope only when the fs plugin is registered. That is tolerated when the
/// dialog is its only dependent; [`the_filesystem_plugin_is_never_registered`] checks that the
/// app never registers it, and the capabilities grant the web view neither.
fn fs_plugin_is_only_a_library(target: &str) -> bool {
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args([
            "tree",
            "--offline",
            "--workspace",
            "--edges",
            "normal,build",
        ])
        .args([
            "--invert",
            "tauri-plugin-fs",
            "--depth",
            "1",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "--target", target])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut dependents: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "tauri-plugin-fs")
        .collect();
    dependents.sort_unstable();
    dependents.dedup();
    dependents == ["tauri-plugin-dialog"]
}

#[test]
fn the_filesystem_plugin_is_never_registered() {
    let dir = workspace_root().join("src-tauri/src");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("tauri_plugin_fs"),
            "{} uses the filesystem plugin; the web view must get no file access",
            path.display()
        );
    }
    assert!(files > 5, "the desktop sources were read ({files} files)");
}

#[test]
fn the_lock_file_mentions_http_clients_only_as_mobile_only_dependencies() {
    // Guard the reasoning above: if a forbidden crate is in Cargo.lock, it must not be in any
    // desktop graph (checked above) — and it must be there only because of Tauri's mobile side.
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap();
    let locked: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .collect();
    for name in locked.iter().filter(|n| FORBIDDEN.contains(n)) {
        assert!(
            ["reqwest", "hyper", "hyper-util", "tauri-plugin-fs"].contains(name),
            "{name} is in Cargo.lock; only Tauri's iOS/Android-only reqwest stack and the \
             never-registered fs library under the save dialog are tolerated"
        );
    }
}

#[test]
fn the_content_security_policy_allows_no_remote_origin() {
    let conf: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("src-tauri/tauri.conf.json")).unwrap(),
    )
    .unwrap();
    let csp = conf["app"]["security"]["csp"]
        .as_str()
        .expect("a CSP string is set");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    assert!(directives.contains(&"default-src 'self'"), "{csp}");
    for directive in &directives {
        for source in directive.split_whitespace().skip(1) {
            let allowed = matches!(
                source,
                "'self'" | "data:" | "ipc:" | "http://ipc.localhost" | "'none'"
            );
            assert!(
                allowed,
                "CSP source {source:?} in {directive:?} is not local"
            );
        }
    }
    // No dev server or remote URL is ever loaded.
    assert!(conf["build"].get("devUrl").is_none());
    let dist = conf["build"]["frontendDist"].as_str().unwrap();
    assert!(
        !dist.contains("://"),
        "frontendDist {dist} must be a local folder"
    );
}

#[test]
fn capabilities_grant_only_the_core() {
    let dir = workspace_root().join("src-tauri/capabilities");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        files += 1;
        let cap: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for permission in cap["permissions"].as_array().unwrap() {
            let id = permission
                .as_str()
                .or_else(|| permission["identifier"].as_str())
                .unwrap();
            assert!(
                id.starts_with("core:"),
                "{} grants {id}: only core permissions are allowed",
                path.display()
            );
        }
        assert!(
            cap.get("remote").is_none(),
            "{} lets remote URLs use IPC",
            path.display()
        );
    }
    assert!(files >= 1, "a capability file exists");
}
