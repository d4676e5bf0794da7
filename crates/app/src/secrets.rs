//! Keeping the process that holds keys out of other processes' reach: no core dump of it is
//! written and no process of the same user can attach to it or read its memory through
//! `/proc` (Linux `PR_SET_DUMPABLE`). Both faces call [`protect_process`] first thing.

/// Makes this process non-dumpable (Linux); elsewhere nothing changes. Returns whether it
/// took effect.
pub fn protect_process() -> bool {
    #[cfg(target_os = "linux")]
    {
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
            .is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The kernel's own answer (`PR_GET_DUMPABLE`) after the call.
    #[test]
    fn the_process_is_no_longer_dumpable() {
        assert!(protect_process());
        assert_eq!(
            rustix::process::dumpable_behavior().expect("prctl"),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
