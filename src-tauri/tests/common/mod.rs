//! What the IPC test files share: a scratch directory, an app on the mock runtime, and a
//! command call through Tauri's IPC (no display, no WebKit).
// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use hearth_desktop::state::AppState;
use hearth_vault::KdfParams;
use serde_json::{Value, json};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

/// A scratch directory removed when dropped.
pub struct Scratch(pub std::path::PathBuf);

impl Scratch {
    /// A fresh, empty directory named after the test (and the process, so runs never meet).
    pub fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("hearth-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("scratch dir");
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The app over `state`, with its main window.
pub fn app_with(state: AppState) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = hearth_desktop::setup(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("webview");
    (app, webview)
}

/// The app for data directory `dir` (the demo's or a real one), with a cheap key derivation.
pub fn app_in(dir: &std::path::Path, demo: bool) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    app_with(hearth_desktop::state_for(
        dir.to_path_buf(),
        demo,
        KdfParams::INSECURE_FOR_TESTS,
    ))
}

/// The app for data directory `dir` (not the demo), whose save dialog "returns" the suggested
/// file name in `dir` (as `HEARTH_TEST_SAVE_DIR` makes it do in end-to-end tests).
pub fn app_saving_in(dir: &std::path::Path) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let mut state =
        hearth_desktop::state_for(dir.to_path_buf(), false, KdfParams::INSECURE_FOR_TESTS);
    state.save_dialog_stand_in = Some(dir.to_path_buf());
    app_with(state)
}

/// Chooses `name` in the save dialog as the page does; returns the token for it.
pub fn choose(w: &WebviewWindow<MockRuntime>, name: &str) -> String {
    let args = json!({ "suggested": name, "extension": "csv", "title": "Save" });
    let choice = call(w, "pick_save_path", args).expect("chosen");
    choice["token"].as_str().expect("a token").to_string()
}

/// Calls command `cmd` with `args` as the page would; the error is the `{code, message}` value.
pub fn call(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().expect("json"))
}

/// The passphrase the tests' vaults use.
pub const PASS: &str = "long enough pass";

/// Creates a vault whose meter source is a capture file that does not exist (the reader retries
/// it quietly; no port is opened).
pub fn created(w: &WebviewWindow<MockRuntime>, dir: &std::path::Path) {
    let source = format!("file:{}", dir.join("no-such-capture.txt").display());
    call(
        w,
        "create_vault",
        json!({ "passphrase": PASS, "source": source }),
    )
    .expect("created");
}
