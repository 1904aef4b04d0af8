//! Putting `nosey init`'s files on disk without clobbering anything by accident, and without
//! a password ever sitting in a file others can read, not even for a moment.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::InitError;

/// Writes the configuration; an existing file is replaced only with `force`.
pub fn write_config(path: &Path, text: &str, force: bool) -> Result<(), InitError> {
    create_parent(path)?;
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| open_error(path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| write_error(path, e))
}

/// Writes a secret into a file of mode 0600. The file is created with that mode under a
/// temporary name, filled, and only then moved into place: an existing file's looser mode
/// never applies to the new content. Without `force` an existing file is kept.
pub fn write_secret(path: &Path, secret: &str, force: bool) -> Result<(), InitError> {
    if !force && path.exists() {
        return Err(InitError::Exists {
            path: path.to_path_buf(),
        });
    }
    create_parent(path)?;
    let tmp = temporary_name(path);
    let placed = fill_private(&tmp, secret).and_then(|()| {
        if force {
            std::fs::rename(&tmp, path).map_err(|e| write_error(path, e))
        } else {
            // A hard link fails if the name was taken meanwhile, where a rename would replace.
            std::fs::hard_link(&tmp, path).map_err(|e| open_error(path, e))
        }
    });
    let _ = std::fs::remove_file(&tmp);
    placed
}

fn fill_private(tmp: &Path, secret: &str) -> Result<(), InitError> {
    let mut file = private_file(tmp).map_err(|e| write_error(tmp, e))?;
    file.write_all(secret.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| write_error(tmp, e))
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// `.name.<random>.tmp` beside `path`, so the final rename stays on one file system.
fn temporary_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{:08x}.tmp", rand::random::<u32>()))
}

fn create_parent(path: &Path) -> Result<(), InitError> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e)),
        None => Ok(()),
    }
}

fn open_error(path: &Path, e: std::io::Error) -> InitError {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        InitError::Exists {
            path: path.to_path_buf(),
        }
    } else {
        write_error(path, e)
    }
}

fn write_error(path: &Path, source: std::io::Error) -> InitError {
    InitError::Write {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn secrets_are_private_and_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/pw");
        write_secret(&path, "s3cret", false).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cret\n");
        assert_eq!(mode(&path), 0o600);
        let err = write_secret(&path, "other", false).unwrap_err();
        assert!(matches!(err, InitError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("--force"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_secret(&path, "other", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "other\n");
        assert_eq!(mode(&path), 0o600);
        let leftovers = std::fs::read_dir(dir.path().join("sub")).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn configs_are_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nosey.toml");
        write_config(&path, "a = 1\n", false).unwrap();
        assert!(matches!(
            write_config(&path, "b = 2\n", false),
            Err(InitError::Exists { .. })
        ));
        write_config(&path, "b = 2\n", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b = 2\n");
    }
}
