//! The `hearth-desktop` binary: parses the command line and starts the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let options = match hearth_desktop::Options::from_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("hearth-desktop: {msg}");
            std::process::exit(2);
        }
    };
    hearth_desktop::run(options);
}
