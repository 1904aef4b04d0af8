//! Values kept in other files: `X_file` keys (passwords, tokens, signing
//! secrets) and the TLS files. Relative paths are taken from the config
//! file's directory, so a config works the same whatever directory nosey is
//! started from. Messages name the key and the path, never the content.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::error::Problems;
use super::secret::Secret;

/// `path` as written, made relative to the config file's directory.
pub(crate) fn resolve(base: Option<&Path>, path: &str) -> PathBuf {
    let p = Path::new(path);
    match base {
        Some(base) if p.is_relative() => base.join(p),
        _ => p.to_path_buf(),
    }
}

/// The whole content of a file, or a message naming the path.
pub(crate) fn read(base: Option<&Path>, path: &str) -> Result<String, String> {
    let full = resolve(base, path);
    std::fs::read_to_string(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))
}

/// A secret read from a file, trimmed of surrounding whitespace (editors and
/// `echo` add a newline nobody means as part of the password).
pub(crate) fn read_secret(base: Option<&Path>, path: &str) -> Result<Secret, String> {
    let text = read(base, path)?;
    let value = text.trim();
    if value.is_empty() {
        return Err(format!("{} is empty", resolve(base, path).display()));
    }
    Ok(Secret::new(value))
}

/// A file nosey will open later (a certificate, a key): checked now so a
/// typo fails at startup rather than at the first delivery.
pub(crate) fn check_readable(base: Option<&Path>, path: &str) -> Result<PathBuf, String> {
    let full = resolve(base, path);
    if full.is_dir() {
        return Err(format!("{} is a directory, not a file", full.display()));
    }
    File::open(&full)
        .map(|_| full.clone())
        .map_err(|e| format!("cannot read {}: {e}", full.display()))
}

/// Where a secret setting came from, for `pick_secret`.
pub(crate) struct SecretKey<'a> {
    /// What comes before the key in messages: `moodle.`, `route "crm": `.
    pub prefix: &'a str,
    /// The inline key, e.g. `auth.bearer`; the file key is this plus `_file`.
    pub key: &'a str,
    pub inline: Option<String>,
    pub file: Option<String>,
}

/// Resolves a secret written either inline or as `X_file`, never both.
pub(crate) fn pick_secret(
    k: SecretKey<'_>,
    base: Option<&Path>,
    problems: &mut Problems,
) -> Option<Secret> {
    let key = |suffix: &str| format!("{}{}{suffix}", k.prefix, k.key);
    match (k.inline, k.file) {
        (Some(_), Some(_)) => {
            let short = k.key.rsplit('.').next().unwrap_or(k.key);
            problems.push(
                key(""),
                format!("set either `{short}` or `{short}_file`, not both"),
            );
            None
        }
        (Some(v), None) => Some(Secret::new(v)),
        (None, Some(path)) => read_secret(base, &path)
            .map_err(|m| problems.push(key("_file"), m))
            .ok(),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_follow_the_config_file() {
        let base = Path::new("/etc/nosey");
        assert_eq!(
            resolve(Some(base), "ca.pem"),
            Path::new("/etc/nosey/ca.pem")
        );
        assert_eq!(resolve(Some(base), "/x/ca.pem"), Path::new("/x/ca.pem"));
        assert_eq!(resolve(None, "ca.pem"), Path::new("ca.pem"));
    }

    #[test]
    fn secrets_are_trimmed_and_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "  s3cret\n").unwrap();
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        let secret = read_secret(Some(dir.path()), "pw").unwrap();
        assert_eq!(secret.expose(), "s3cret");
        let err = read_secret(Some(dir.path()), "missing").unwrap_err();
        assert!(err.contains("missing"), "{err}");
        assert!(
            read_secret(Some(dir.path()), "empty")
                .unwrap_err()
                .contains("is empty")
        );
        assert!(
            check_readable(Some(dir.path()), ".")
                .unwrap_err()
                .contains("directory")
        );
    }
}
