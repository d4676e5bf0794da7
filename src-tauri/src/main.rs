//! The `hearth-desktop` binary: sets up the web view's environment, parses the command line and
//! starts the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[allow(unsafe_code)]
fn main() {
    let render_node = hearth_desktop::webview::first_render_node(std::path::Path::new("/dev/dri"));
    for (name, value) in hearth_desktop::webview::to_set(|name| std::env::var_os(name), render_node)
    {
        // SAFETY: this is the first thing `main` does, before any thread exists (Rust starts
        // none of its own), so nothing can read the environment while it changes.
        unsafe { std::env::set_var(name, value) };
    }
    // No core dump of a process that may hold the data key, and no attaching to it.
    hearth_app::secrets::protect_process();
    let options = match hearth_desktop::Options::from_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("hearth-desktop: {msg}");
            std::process::exit(2);
        }
    };
    hearth_desktop::run(options);
}
