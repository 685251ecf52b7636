//! Configuration, from flags and the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

/// Everything the server and its commands are configured with.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address the console and API listen on.
    #[arg(
        long,
        env = "CROSSDOCK_BIND",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub bind: SocketAddr,

    /// Database to use; a SQLite file is created when missing.
    #[arg(
        long,
        env = "CROSSDOCK_DATABASE_URL",
        default_value = "sqlite://data/crossdock.db",
        global = true
    )]
    pub database_url: DatabaseUrl,

    /// Log level filter, e.g. `info` or `crossdock_server=debug,info`.
    #[arg(long, env = "CROSSDOCK_LOG", default_value = "info", value_parser = parse_log_filter, global = true)]
    pub log: String,

    /// Log format.
    #[arg(long, env = "CROSSDOCK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Folder holding the built browser bundle (`pkg/`) and public files.
    #[arg(
        long,
        env = "CROSSDOCK_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,
}

impl Config {
    /// A configuration for tests and tools: the defaults, with this database.
    pub fn with_database(database_url: DatabaseUrl) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url,
            log: "info".to_owned(),
            log_format: LogFormat::Pretty,
            site_root: PathBuf::from("target/site"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

fn parse_log_filter(s: &str) -> Result<String, String> {
    EnvFilter::try_new(s)
        .map(|_| s.to_owned())
        .map_err(|e| format!("not a log filter ({e})"))
}

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (tests and tools only).
    SqliteMemory,
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some(rest) = s.strip_prefix("sqlite:") else {
            return Err("only sqlite: URLs are supported, e.g. sqlite://data/crossdock.db".into());
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file_relative_or_absolute() {
        assert_eq!(
            "sqlite://data/crossdock.db".parse(),
            Ok(DatabaseUrl::SqliteFile("data/crossdock.db".into()))
        );
        assert_eq!(
            "sqlite:///var/lib/crossdock.db".parse(),
            Ok(DatabaseUrl::SqliteFile("/var/lib/crossdock.db".into()))
        );
        assert_eq!("sqlite::memory:".parse(), Ok(DatabaseUrl::SqliteMemory));
    }

    #[test]
    fn other_urls_are_refused() {
        assert!("mysql://localhost/db".parse::<DatabaseUrl>().is_err());
        assert!("sqlite://".parse::<DatabaseUrl>().is_err());
    }
}
