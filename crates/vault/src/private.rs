//! Files only their owner may read: the vault, its side files and backups are created with
//! mode 0600 (and folders Hearth makes with 0700) whatever the umask, and a vault made by an
//! older build with looser modes is tightened when it is next opened for writing. SQLite gives
//! its `-wal` and `-shm` files the mode of the database file, so they follow.

use std::io;
use std::path::Path;

/// Creates `path` as an empty file only its owner may read and write; fails if it exists.
pub(crate) fn create_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

/// Takes group and other permissions away from `path` if it exists (a vault or side file an
/// older build made under umask 022). A file that is not ours to change is left as it is.
pub(crate) fn tighten(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && meta.is_file()
            && meta.permissions().mode() & 0o077 != 0
        {
            let mode = meta.permissions().mode() & 0o700;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Creates `dir` and its missing parents, each new one only its owner may enter.
pub fn create_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_and_folders_are_the_owner_s_alone_and_loose_ones_are_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        create_file(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        assert!(create_file(&f).is_err(), "an existing file is never reused");
        let d = dir.path().join("x/y");
        create_dirs(&d).unwrap();
        assert_eq!((mode(&dir.path().join("x")), mode(&d)), (0o700, 0o700));
        let loose = dir.path().join("loose");
        std::fs::write(&loose, b"").unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
        tighten(&loose);
        assert_eq!(mode(&loose), 0o600);
    }
}
