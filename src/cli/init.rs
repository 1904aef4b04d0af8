//! `nosey init --moodle-config /path/to/config.php`: writes `nosey.toml` and the database
//! password file from Moodle's own settings, then prints the SQL for a read-only database
//! user and the next steps.
//!
//! Moodle's password goes only into the password file (mode 0600): never into the TOML, never
//! onto the terminal.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::{MapEnv, load_from_str};
use crate::init::{
    self, InitError, MoodleSite, PasswordSource, TomlInput, generate_password, readonly_user,
    write_config, write_secret,
};
use crate::moodle::config_php::{DbConnection, DbKind};

const DEFAULT_PASSWORD_FILE: &str = "nosey-db-password";
const DEFAULT_STORE: &str = "nosey.db";
const ROOT_STORE: &str = "/var/lib/nosey/nosey.db";

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    sudo nosey init --moodle-config /var/www/moodle/config.php --output /etc/nosey/nosey.toml")]
pub struct InitArgs {
    /// Moodle's config.php, in the folder Moodle is installed in. Read as text: no PHP needed.
    #[arg(long, value_name = "PATH")]
    moodle_config: PathBuf,

    /// Where to write the configuration.
    #[arg(long, short, value_name = "PATH", default_value = "nosey.toml")]
    output: PathBuf,

    /// The file for the database password, mode 0600 [default: nosey-db-password next to the
    /// output].
    #[arg(long, value_name = "PATH")]
    password_file: Option<PathBuf>,

    /// nosey's state file [default: /var/lib/nosey/nosey.db as root, else nosey.db next to the
    /// output].
    #[arg(long, value_name = "PATH")]
    store: Option<PathBuf>,

    /// Overwrite the output and the password file if they exist.
    #[arg(long)]
    force: bool,
}

/// Where the files go, and how the TOML names them.
struct Paths {
    output: PathBuf,
    password_file: PathBuf,
    password_in_toml: String,
    store_in_toml: String,
}

pub fn run(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let site = init::read_site(&args.moodle_config)?;
    let paths = paths(args)?;
    let password = site.password();
    if !args.force {
        refuse_existing(&paths.output)?;
        if password.is_some() {
            refuse_existing(&paths.password_file)?;
        }
    }
    let toml = |source| {
        init::render(&TomlInput {
            site: &site,
            password_file: &paths.password_in_toml,
            password: source,
            store: &paths.store_in_toml,
        })
    };
    // Checked before anything is written (the password file does not exist yet, so that one
    // line is left out of this check).
    validate(&toml(PasswordSource::Empty), &paths.output)?;
    if let Some(pw) = &password {
        write_secret(&paths.password_file, pw, args.force)?;
    }
    write_config(&paths.output, &toml(site.password_source()), args.force)?;
    verify_written(&paths.output)?;
    report(&site, &paths);
    Ok(ExitCode::SUCCESS)
}

fn refuse_existing(path: &Path) -> Result<(), InitError> {
    if path.exists() {
        return Err(InitError::Exists {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

fn paths(args: &InitArgs) -> anyhow::Result<Paths> {
    let absolute = |p: &Path| {
        std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()))
    };
    let output = absolute(&args.output)?;
    let dir = output.parent().unwrap_or(Path::new("/")).to_path_buf();
    let password_file = match &args.password_file {
        Some(p) => absolute(p)?,
        None => dir.join(DEFAULT_PASSWORD_FILE),
    };
    let store = match &args.store {
        Some(p) => absolute(p)?,
        None if running_as_root() => PathBuf::from(ROOT_STORE),
        None => dir.join(DEFAULT_STORE),
    };
    Ok(Paths {
        password_in_toml: relative_to(&dir, &password_file),
        store_in_toml: relative_to(&dir, &store),
        output: args.output.clone(),
        password_file,
    })
}

/// The TOML resolves relative paths against its own folder: a file beside it is named alone,
/// anything else in full.
fn relative_to(dir: &Path, file: &Path) -> String {
    match (file.parent(), file.file_name()) {
        (Some(parent), Some(name)) if parent == dir => name.to_string_lossy().into_owned(),
        _ => file.display().to_string(),
    }
}

/// Root's services keep state under /var/lib. `/proc/self` belongs to the process's
/// effective user, which tells without unsafe code; elsewhere the answer is "not root".
fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

fn validate(toml: &str, output: &Path) -> Result<(), InitError> {
    let dir = std::path::absolute(output)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    load_from_str(toml, dir.as_deref(), &MapEnv::default())
        .map(drop)
        .map_err(|e| InitError::Invalid(e.to_string()))
}

/// The file on disk, password file included, loads.
fn verify_written(output: &Path) -> Result<(), InitError> {
    let text = std::fs::read_to_string(output).map_err(|source| InitError::Read {
        path: output.to_path_buf(),
        source,
    })?;
    validate(&text, output)
}

fn report(site: &MoodleSite, paths: &Paths) {
    let output = paths.output.display();
    println!(
        "Read {}: {}.",
        site.config_php.display(),
        describe(&site.connection)
    );
    println!("Wrote {output}");
    let password_file = paths.password_file.display();
    match site.password_source() {
        PasswordSource::Literal => {
            println!("Wrote {password_file} (mode 0600): Moodle's database password");
            warn_if_padded(site);
        }
        PasswordSource::Computed(expression) => println!(
            "No password file: config.php computes the password ({expression}). Put it in \
             {password_file} (chmod 600) and uncomment password_file in {output}."
        ),
        PasswordSource::Empty => println!(
            "No password file: config.php sets no password. If the server asks for one, put it \
             in {password_file} (chmod 600) and uncomment password_file in {output}."
        ),
    }
    print_readonly_user(site, paths);
    print_next_steps(&paths.output);
}

fn describe(c: &DbConnection) -> String {
    let engine = match c.kind {
        DbKind::Postgres => "PostgreSQL",
        DbKind::MySql => "MySQL/MariaDB",
    };
    let place = match (&c.socket, &c.host) {
        (Some(socket), _) => format!("through the socket {socket}"),
        (None, host) => format!(
            "at {}:{}",
            host.as_deref().unwrap_or("localhost"),
            c.port_or_default()
        ),
    };
    format!(
        "{engine} database '{}' {place}, user '{}', table prefix '{}'",
        c.dbname, c.user, c.prefix
    )
}

/// nosey trims password files, so a password with spaces at either end cannot work from one.
fn warn_if_padded(site: &MoodleSite) {
    if site.password().is_some_and(|p| p.trim() != p.as_str()) {
        eprintln!(
            "nosey: warning: Moodle's database password starts or ends with whitespace, which \
             nosey trims when it reads a password file, so the server will refuse it. Use the \
             read-only user below (its password has no spaces)."
        );
    }
}

fn print_readonly_user(site: &MoodleSite, paths: &Paths) {
    let user = readonly_user(&site.connection, &generate_password());
    println!(
        "\nA read-only database user for nosey\n\
         nosey only reads Moodle's database, but Moodle's own user may change and drop every \
         table.\nCreate a user that can only read, {}:\n",
        user.run_as
    );
    for statement in &user.statements {
        println!("    {statement}");
    }
    println!(
        "\nThen switch nosey to it: put the new password (from the SQL above) into {}, \
         replacing what is there, and in {} set\n\n    url = \"{}\"",
        paths.password_file.display(),
        paths.output.display(),
        user.url
    );
}

fn print_next_steps(output: &Path) {
    let config = if output == Path::new("nosey.toml") {
        String::new()
    } else {
        format!(" --config {}", output.display())
    };
    println!(
        "\nNext steps\n    \
         nosey{config} check   # the database, its privileges, Moodle's log settings, receivers, store\n    \
         nosey{config} tail    # watch Moodle's events as a route would send them\n    \
         nosey{config} run     # deliver: first give a route a url and delete its enabled = false"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_beside_the_config_are_named_alone() {
        let dir = Path::new("/etc/nosey");
        assert_eq!(relative_to(dir, Path::new("/etc/nosey/pw")), "pw");
        assert_eq!(
            relative_to(dir, Path::new("/var/lib/nosey/nosey.db")),
            "/var/lib/nosey/nosey.db"
        );
    }
}
