//! How Hearth sets up the system web view (WebKitGTK on Linux): pages painted on the CPU.
//!
//! Hearth's pages are charts and tables that change when data arrives, with no animation,
//! video or WebGL, so GPU compositing buys nothing and costs a lot: measured on the ten-year
//! vault (docs/PERFORMANCE.md), painting on the CPU cut a History range change from 56–240 ms
//! to under 45 ms and the web content process from 217 to about 110 MiB (PSS). (Turning the
//! JavaScript JIT off as well, `JSC_useJIT=0`, saved another 11 MiB but made a History change
//! 20 ms slower, past the 50 ms goal, so it stays on.) A variable the user has set already is
//! left as it is; WebKit disables compositing when its variable is set to anything, even `0`,
//! so a user who wants GPU compositing back starts Hearth with `HEARTH_GPU_COMPOSITING=1`. WebKit's
//! cache model for a single document (`DocumentViewer`) was tried too and made no measurable
//! difference, so the web view keeps its defaults otherwise.

use std::ffi::OsString;

/// The environment WebKitGTK reads at start-up: name, Hearth's value, and why.
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
];

/// Set (to anything) to keep WebKit's GPU compositing: then Hearth sets none of [`ENVIRONMENT`].
pub const GPU_COMPOSITING: &str = "HEARTH_GPU_COMPOSITING";

/// The variables of [`ENVIRONMENT`] to set, given how the environment reads now (`get`): those
/// the user has not set themselves, and none when [`GPU_COMPOSITING`] is set.
pub fn to_set(get: impl Fn(&str) -> Option<OsString>) -> Vec<(&'static str, &'static str)> {
    if get(GPU_COMPOSITING).is_some() {
        return Vec::new();
    }
    ENVIRONMENT
        .iter()
        .filter(|(name, _, _)| get(name).is_none())
        .map(|(name, value, _)| (*name, *value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_what_the_user_has_not_set() {
        assert_eq!(
            to_set(|_| None),
            vec![
                ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
                ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
            ]
        );
        // A variable the user set is theirs; the rest still applies.
        let user = |name: &str| (name == "WEBKIT_DISABLE_COMPOSITING_MODE").then(|| "1".into());
        assert_eq!(to_set(user), vec![("WEBKIT_DISABLE_DMABUF_RENDERER", "1")]);
        // Asking for GPU compositing sets nothing.
        let gpu = |name: &str| (name == GPU_COMPOSITING).then(|| "1".into());
        assert!(to_set(gpu).is_empty());
        // Set to anything, even empty, counts as set.
        assert!(to_set(|_| Some(OsString::new())).is_empty());
    }
}
