//! Build script: checks the front end was built, then lets tauri-build embed it and the icons.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist/index.html");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !dist.exists() {
        panic!(
            "the front end is not built: run `npm --prefix ui ci && npm --prefix ui run build` \
             (it writes ui/dist) before building hearth-desktop"
        );
    }
    tauri_build::build()
}
