//! URLs that may carry a password: the Moodle database URL (`DbUrl`) and the
//! masking used wherever a URL is printed. Only the small part of URL syntax
//! nosey needs is understood here: scheme, user info and the rest.

use std::fmt;

use super::secret::Secret;

/// Which database server the Moodle site runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DbKind {
    Postgres,
    MySql,
    Sqlite,
}

const SUPPORTED: &str = "postgres://, postgresql://, mysql://, mariadb:// or sqlite://";

/// The database URL. Printing it (`Debug`, `Display`) hides any password;
/// `expose()` gives the URL to connect with.
#[derive(Clone)]
pub struct DbUrl {
    url: String,
    kind: DbKind,
    password: Option<Secret>,
}

impl DbUrl {
    /// Checks the scheme. The error never repeats the URL, which may hold a password.
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(format!(
                "not a database URL (it should start with {SUPPORTED})"
            ));
        };
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => DbKind::Postgres,
            "mysql" | "mariadb" => DbKind::MySql,
            "sqlite" => DbKind::Sqlite,
            _ if is_scheme(scheme) => {
                return Err(format!(
                    "the scheme \"{scheme}\" is not supported (use {SUPPORTED})"
                ));
            }
            _ => {
                return Err(format!(
                    "not a database URL (it should start with {SUPPORTED})"
                ));
            }
        };
        if rest.is_empty() {
            return Err("the URL names no database".into());
        }
        Ok(DbUrl {
            url: url.into(),
            kind,
            password: None,
        })
    }

    /// Replaces any password in the URL with this one (from `password` or
    /// `password_file`), which may contain characters a URL cannot.
    pub fn with_password(mut self, password: Secret) -> Self {
        self.password = Some(password);
        self
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Whether the URL names a user (a separate password needs one).
    pub(crate) fn has_user(&self) -> bool {
        parts(&self.url).user.is_some_and(|u| !u.is_empty())
    }

    /// The URL to connect with: the real password, percent-encoded, and the
    /// `mariadb://` scheme spelled `mysql://`, which is what drivers know.
    pub fn expose(&self) -> String {
        let p = parts(&self.url);
        let scheme = match p.scheme.to_ascii_lowercase().as_str() {
            "mariadb" => "mysql",
            _ => p.scheme,
        };
        let password = match &self.password {
            Some(pw) => Some(percent_encode(pw.expose())),
            None => p.password.map(str::to_owned),
        };
        assemble(scheme, p.user, password.as_deref(), p.rest)
    }

    fn masked(&self) -> String {
        let p = parts(&self.url);
        let hidden = (p.password.is_some() || self.password.is_some()).then_some("***");
        assemble(p.scheme, p.user, hidden, p.rest)
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DbUrl").field(&self.masked()).finish()
    }
}

/// A URL split around its user info; `rest` is host, path and query.
struct Parts<'a> {
    scheme: &'a str,
    user: Option<&'a str>,
    password: Option<&'a str>,
    rest: &'a str,
}

fn parts(url: &str) -> Parts<'_> {
    let Some((scheme, after)) = url.split_once("://") else {
        return Parts {
            scheme: "",
            user: None,
            password: None,
            rest: url,
        };
    };
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    // The last '@' ends the user info: an unencoded '@' in a password is common.
    let Some(at) = after[..authority_end].rfind('@') else {
        return Parts {
            scheme,
            user: None,
            password: None,
            rest: after,
        };
    };
    let (user, password) = match after[..at].split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (&after[..at], None),
    };
    Parts {
        scheme,
        user: Some(user),
        password,
        rest: &after[at + 1..],
    }
}

fn assemble(scheme: &str, user: Option<&str>, password: Option<&str>, rest: &str) -> String {
    let mut out = format!("{scheme}://");
    if user.is_some() || password.is_some() {
        out.push_str(user.unwrap_or(""));
        if let Some(pw) = password {
            out.push(':');
            out.push_str(pw);
        }
        out.push('@');
    }
    out.push_str(rest);
    out
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// Hides the password of a URL's user info, for printing any URL.
pub fn mask_password(url: &str) -> String {
    let p = parts(url);
    match p.password {
        Some(_) if !p.scheme.is_empty() => assemble(p.scheme, p.user, Some("***"), p.rest),
        _ => url.to_owned(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Checks a webhook receiver URL. Messages name the scheme, never the URL.
pub(crate) fn check_http_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("not a URL (it should start with https:// or http://)".into());
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        if is_scheme(scheme) {
            return Err(format!(
                "the scheme \"{scheme}\" is not supported (use https:// or http://)"
            ));
        }
        return Err("not a URL (it should start with https:// or http://)".into());
    }
    let p = parts(url);
    let host_end = p.rest.find(['/', '?', '#']).unwrap_or(p.rest.len());
    if p.rest[..host_end].is_empty() {
        return Err("the URL names no host".into());
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL contains spaces or control characters (percent-encode them)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let cases = [
            ("postgres://u@h/db", DbKind::Postgres),
            ("postgresql://u@h/db", DbKind::Postgres),
            ("mysql://u@h/db", DbKind::MySql),
            ("mariadb://u@h/db", DbKind::MySql),
            ("sqlite://nosey-demo.db", DbKind::Sqlite),
        ];
        for (url, kind) in cases {
            assert_eq!(DbUrl::parse(url).unwrap().kind(), kind, "{url}");
        }
    }

    #[test]
    fn unsupported_schemes_name_the_supported_ones_but_not_the_url() {
        let err = DbUrl::parse("oracle://u:topsecret@h/db").unwrap_err();
        assert!(
            err.contains("\"oracle\"") && err.contains("postgres://"),
            "{err}"
        );
        assert!(!err.contains("topsecret"));
        let err = DbUrl::parse("topsecret").unwrap_err();
        assert!(
            !err.contains("topsecret") && err.contains("mysql://"),
            "{err}"
        );
    }

    #[test]
    fn printing_masks_the_password() {
        let url = DbUrl::parse("postgres://nosey:s3cr3t@db:5432/moodle?sslmode=require").unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://nosey:***@db:5432/moodle?sslmode=require"
        );
        assert!(!format!("{url:?}").contains("s3cr3t"));
        assert_eq!(
            url.expose(),
            "postgres://nosey:s3cr3t@db:5432/moodle?sslmode=require"
        );
    }

    #[test]
    fn password_override_is_percent_encoded() {
        let url = DbUrl::parse("mariadb://nosey:old@db/moodle")
            .unwrap()
            .with_password(Secret::new("p@ss/w:rd"));
        assert_eq!(url.expose(), "mysql://nosey:p%40ss%2Fw%3Ard@db/moodle");
        assert_eq!(url.to_string(), "mariadb://nosey:***@db/moodle");
        let url = DbUrl::parse("postgres://nosey@db/moodle")
            .unwrap()
            .with_password(Secret::new("p@ss/w:rd"));
        assert_eq!(url.expose(), "postgres://nosey:p%40ss%2Fw%3Ard@db/moodle");
        assert_eq!(url.to_string(), "postgres://nosey:***@db/moodle");
    }

    #[test]
    fn at_sign_in_password() {
        let url = DbUrl::parse("postgres://u:a@b@h/db").unwrap();
        assert_eq!(url.to_string(), "postgres://u:***@h/db");
        assert!(url.has_user());
        assert!(!DbUrl::parse("postgres://h/db").unwrap().has_user());
    }

    #[test]
    fn http_urls() {
        assert!(check_http_url("https://crm.example.org/hooks").is_ok());
        assert!(check_http_url("http://127.0.0.1:8080").is_ok());
        assert!(check_http_url("ftp://x").unwrap_err().contains("\"ftp\""));
        assert!(check_http_url("crm.example.org").is_err());
        assert!(check_http_url("https://").is_err());
        assert!(check_http_url("https://a b").is_err());
        assert_eq!(mask_password("https://u:pw@h/x"), "https://u:***@h/x");
        assert_eq!(mask_password("https://h/x?a=b"), "https://h/x?a=b");
    }
}
