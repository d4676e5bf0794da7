//! How Hearth sets up the system web view (WebKitGTK on Linux): pages painted on the CPU, and no
//! GPU driver loaded into the app's own process.
//!
//! Hearth's pages are charts and tables that change when data arrives, with no animation,
//! video or WebGL, so GPU compositing buys nothing and costs a lot: measured on the ten-year
//! vault (docs/PERFORMANCE.md), painting on the CPU cut a History range change from 56–240 ms
//! to under 45 ms and the web content process from 217 to about 110 MiB (PSS). (Turning the
//! JavaScript JIT off as well, `JSC_useJIT=0`, saved another 11 MiB but made a History change
//! 20 ms slower, past the 50 ms goal, so it stays on.)
//!
//! With compositing off, the app process (the window, tray and collector) draws nothing with
//! OpenGL, yet two things still load the system's GL driver into it (Mesa's, with its LLVM: about
//! 20 MiB): GTK probes GLX when it opens the display, and WebKit asks EGL which GPU device to hand
//! its web process. `GDK_GL=disable` stops the first; naming the device in
//! `WEBKIT_WEB_RENDER_DEVICE_FILE` answers the second without EGL. The web process gets the same
//! device WebKit itself would pick when it cannot ask the display (the first render node), or
//! `/dev/null` on a machine with none: WebKit reads an empty value as "ask EGL", and the device
//! only matters for GPU buffer sharing and WebGL, which Hearth does not use.
//!
//! A variable the user has set already is left as it is; WebKit disables compositing when its
//! variable is set to anything, even `0`, so a user who wants GPU compositing back starts Hearth
//! with `HEARTH_GPU_COMPOSITING=1`, and then Hearth sets none of these. WebKit's cache model for a
//! single document (`DocumentViewer`) was tried too and made no measurable difference, so the web
//! view keeps its defaults otherwise.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The fixed part of the environment WebKitGTK and GTK read at start-up: name, value, and why.
pub const ENVIRONMENT: &[(&str, &str, &str)] = &[
    (
        "WEBKIT_DISABLE_COMPOSITING_MODE",
        "1",
        "paint on the CPU: faster page changes and half the web view's memory",
    ),
    (
        "WEBKIT_DISABLE_DMABUF_RENDERER",
        "1",
        "no GPU buffer sharing between the app and its web view (unused without compositing)",
    ),
    (
        "GDK_GL",
        "disable",
        "GTK draws the window without OpenGL, so it does not load the GL driver to probe it",
    ),
];

/// The GPU device WebKit hands its web process; set (see the module notes) so that the app
/// process need not load the GL driver to find it.
pub const RENDER_DEVICE: &str = "WEBKIT_WEB_RENDER_DEVICE_FILE";

/// What [`RENDER_DEVICE`] says on a machine without a GPU render node: no device.
pub const NO_RENDER_DEVICE: &str = "/dev/null";

/// Set (to anything) to keep WebKit's GPU compositing: then Hearth sets none of its variables.
pub const GPU_COMPOSITING: &str = "HEARTH_GPU_COMPOSITING";

/// The first DRM render node in `dev_dri` (normally `/dev/dri`): `renderD128`, `renderD129`, ...
/// by number, which is the order WebKit itself falls back to.
pub fn first_render_node(dev_dri: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dev_dri).ok()?;
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name();
            let n: u32 = name.to_str()?.strip_prefix("renderD")?.parse().ok()?;
            Some((n, e.path()))
        })
        .min_by_key(|(n, _)| *n)
        .map(|(_, path)| path)
}

/// The variables to set, given how the environment reads now (`get`) and the machine's first
/// render node: those the user has not set themselves, and none when [`GPU_COMPOSITING`] is set.
pub fn to_set(
    get: impl Fn(&str) -> Option<OsString>,
    render_node: Option<PathBuf>,
) -> Vec<(&'static str, OsString)> {
    if get(GPU_COMPOSITING).is_some() {
        return Vec::new();
    }
    let device = render_node.map_or_else(|| NO_RENDER_DEVICE.into(), PathBuf::into_os_string);
    ENVIRONMENT
        .iter()
        .map(|(name, value, _)| (*name, OsString::from(value)))
        .chain([(RENDER_DEVICE, device)])
        .filter(|(name, _)| get(name).is_none())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(device: &str) -> Vec<(&'static str, OsString)> {
        vec![
            ("WEBKIT_DISABLE_COMPOSITING_MODE", "1".into()),
            ("WEBKIT_DISABLE_DMABUF_RENDERER", "1".into()),
            ("GDK_GL", "disable".into()),
            ("WEBKIT_WEB_RENDER_DEVICE_FILE", device.into()),
        ]
    }

    #[test]
    fn sets_what_the_user_has_not_set() {
        let node = Some(PathBuf::from("/dev/dri/renderD128"));
        assert_eq!(to_set(|_| None, node.clone()), fixed("/dev/dri/renderD128"));
        // No GPU: the device says so without WebKit asking EGL.
        assert_eq!(to_set(|_| None, None), fixed("/dev/null"));
        // A variable the user set is theirs; the rest still applies.
        let user = |name: &str| (name == "WEBKIT_DISABLE_COMPOSITING_MODE").then(|| "1".into());
        assert_eq!(
            to_set(user, node.clone()),
            fixed("/dev/dri/renderD128")[1..]
        );
        let device = |name: &str| (name == RENDER_DEVICE).then(|| "/dev/dri/renderD129".into());
        assert_eq!(to_set(device, node.clone()), fixed("")[..3]);
        // Asking for GPU compositing sets nothing.
        let gpu = |name: &str| (name == GPU_COMPOSITING).then(|| "1".into());
        assert!(to_set(gpu, node.clone()).is_empty());
        // Set to anything, even empty, counts as set.
        assert!(to_set(|_| Some(OsString::new()), node).is_empty());
    }

    #[test]
    fn first_render_node_by_number() {
        let dir = std::env::temp_dir().join(format!("hearth-dri-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("by-path")).expect("dir");
        assert_eq!(first_render_node(&dir), None, "no render node yet");
        for name in ["card0", "card1", "renderD129", "renderD128x", "renderD130"] {
            std::fs::write(dir.join(name), b"").expect("node");
        }
        assert_eq!(first_render_node(&dir), Some(dir.join("renderD129")));
        std::fs::write(dir.join("renderD128"), b"").expect("node");
        assert_eq!(first_render_node(&dir), Some(dir.join("renderD128")));
        std::fs::remove_dir_all(&dir).expect("clean up");
        assert_eq!(first_render_node(&dir), None, "no /dev/dri at all");
    }
}
