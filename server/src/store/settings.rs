//! What the store is opened with: where the database lives and how durable
//! its commits are.

use std::path::PathBuf;
use std::str::FromStr;

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (tests and tools only).
    SqliteMemory,
    /// A PostgreSQL database (`postgres://user:password@host:port/name?…`).
    Postgres(String),
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            let parsed = url::Url::parse(s).map_err(|e| format!("not a valid PostgreSQL URL: {e}"))?;
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err("the PostgreSQL URL names no host".into());
            }
            return Ok(DatabaseUrl::Postgres(s.to_owned()));
        }
        let Some(rest) = s.strip_prefix("sqlite:") else {
            return Err(
                "must be a sqlite: or postgres: URL, e.g. sqlite://data/crossdock.db or postgres://crossdock@db/crossdock"
                    .into(),
            );
        };
        if rest == ":memory:" || rest == "//:memory:" {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() {
            return Err("the sqlite URL names no file".into());
        }
        Ok(DatabaseUrl::SqliteFile(PathBuf::from(path)))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::SqliteFile(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::SqliteMemory => f.write_str("sqlite::memory:"),
            // The password is never shown.
            DatabaseUrl::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    write!(f, "{parsed}")
                }
                Err(_) => f.write_str("postgres://…"),
            },
        }
    }
}

/// SQLite durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// Every commit is on disk before it is answered.
    Full,
    /// Faster; may lose the last commits on a power cut (never on a crash of
    /// the process).
    Normal,
}

impl FromStr for Synchronous {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(Synchronous::Full),
            "normal" => Ok(Synchronous::Normal),
            _ => Err("must be full or normal".into()),
        }
    }
}

impl std::fmt::Display for Synchronous {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Synchronous::Full => "full",
            Synchronous::Normal => "normal",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file_relative_or_absolute() {
        assert_eq!("sqlite://data/crossdock.db".parse(), Ok(DatabaseUrl::SqliteFile("data/crossdock.db".into())));
        assert_eq!(
            "sqlite:///var/lib/crossdock.db".parse(),
            Ok(DatabaseUrl::SqliteFile("/var/lib/crossdock.db".into()))
        );
        assert_eq!("sqlite::memory:".parse(), Ok(DatabaseUrl::SqliteMemory));
    }

    #[test]
    fn postgres_urls_are_kept_and_shown_without_their_password() {
        let url: DatabaseUrl = "postgres://crossdock:secret@db.internal:5432/crossdock".parse().unwrap();
        assert_eq!(url, DatabaseUrl::Postgres("postgres://crossdock:secret@db.internal:5432/crossdock".into()));
        assert_eq!(url.to_string(), "postgres://crossdock:***@db.internal:5432/crossdock");
        assert!("postgres:///nohost".parse::<DatabaseUrl>().is_err());
    }

    #[test]
    fn other_urls_are_refused() {
        assert!("mysql://localhost/db".parse::<DatabaseUrl>().is_err());
        assert!("sqlite://".parse::<DatabaseUrl>().is_err());
    }
}
