//! Configuration, from flags and the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, FromArgMatches, ValueEnum};
use tracing_subscriber::EnvFilter;

use crate::clock::Clock;
use crate::http::session::SessionSettings;
use crate::jobs::Workers;
use crate::services::ingest::writer::WriterSettings;
use crate::services::{IngestSettings, LoginPolicy, ServiceSettings};

pub use crate::store::settings::{DatabaseUrl, Synchronous};

use crate::secrets::KeySource;

/// Everything the server and its commands are configured with.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address the console and API listen on.
    #[arg(long, env = "CROSSDOCK_BIND", default_value = "127.0.0.1:3000", global = true)]
    pub bind: SocketAddr,

    /// Database to use; a SQLite file is created when missing.
    #[arg(long, env = "CROSSDOCK_DATABASE_URL", default_value = "sqlite://data/crossdock.db", global = true)]
    pub database_url: DatabaseUrl,

    /// Log level filter, e.g. `info` or `crossdock_server=debug,info`.
    #[arg(long, env = "CROSSDOCK_LOG", default_value = "info", value_parser = parse_log_filter, global = true)]
    pub log: String,

    /// Log format.
    #[arg(long, env = "CROSSDOCK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Folder holding the built browser bundle (`pkg/`) and public files.
    #[arg(long, env = "CROSSDOCK_SITE_ROOT", default_value = "target/site", global = true)]
    pub site_root: PathBuf,

    /// SQLite durability: `full` syncs every commit to disk, `normal` may lose
    /// the last commits on a power cut (never on a crash of the process).
    #[arg(long, env = "CROSSDOCK_SQLITE_SYNCHRONOUS", default_value = "full", global = true)]
    pub sqlite_synchronous: Synchronous,

    /// Largest ingest request body, in bytes.
    #[arg(long, env = "CROSSDOCK_INGEST_MAX_BODY", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..=64 * 1024 * 1024), global = true)]
    pub ingest_max_body: u32,

    /// Most events in one ingest batch.
    #[arg(long, env = "CROSSDOCK_INGEST_MAX_BATCH", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000), global = true)]
    pub ingest_max_batch: u32,

    /// Ingest requests that may wait for the database writer before new ones
    /// are answered 503.
    #[arg(long, env = "CROSSDOCK_INGEST_QUEUE", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub ingest_queue: u32,

    /// Bytes of events that may wait for the database writer before new
    /// requests are answered 503.
    #[arg(long, env = "CROSSDOCK_INGEST_QUEUE_BYTES", default_value_t = 64 * 1024 * 1024,
          value_parser = clap::value_parser!(u32).range(64 * 1024..=2 * 1024 * 1024 * 1024), global = true)]
    pub ingest_queue_bytes: u32,

    /// The address people reach the console at; an https URL makes the
    /// session cookie Secure.
    #[arg(long, env = "CROSSDOCK_PUBLIC_URL", default_value = "http://127.0.0.1:3000", value_parser = parse_public_url, global = true)]
    pub public_url: String,

    /// Minutes without a request after which a session ends.
    #[arg(long, env = "CROSSDOCK_SESSION_IDLE_MINUTES", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=24 * 60), global = true)]
    pub session_idle_minutes: u32,

    /// Hours after sign-in at which a session ends, active or not.
    #[arg(long, env = "CROSSDOCK_SESSION_MAX_HOURS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=24 * 7), global = true)]
    pub session_max_hours: u32,

    /// Failed logins for one user name, within the window, that lock it.
    #[arg(long, env = "CROSSDOCK_LOGIN_LOCK_AFTER", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(2..=25), global = true)]
    pub login_lock_after: u32,

    /// The window failed logins are counted in, in minutes (the lock lasts
    /// until failures age out of it).
    #[arg(long, env = "CROSSDOCK_LOGIN_WINDOW_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u32).range(1..=24 * 60), global = true)]
    pub login_window_minutes: u32,

    /// Proxies (addresses or networks, comma-separated) whose
    /// `X-Forwarded-For` names the client; without one, the client is the
    /// address the connection comes from.
    #[arg(long, env = "CROSSDOCK_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// The key that seals secrets at rest: 32 bytes, base64. Without it, the
    /// key file is used (created at first start).
    #[arg(long, env = "CROSSDOCK_SECRET_KEY", hide_env_values = true, global = true)]
    pub secret_key: Option<secrecy::SecretString>,

    /// The key file (default: `crossdock.key` beside the SQLite database).
    #[arg(long, env = "CROSSDOCK_SECRET_KEY_FILE", global = true)]
    pub secret_key_file: Option<PathBuf>,

    /// Seconds a client may take to send a request's headers, or between two
    /// pieces of its body, before its connection is closed.
    #[arg(long, env = "CROSSDOCK_READ_TIMEOUT_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3600), global = true)]
    pub read_timeout_seconds: u32,

    /// Seconds between two sweeps of the lineage for overdue milestones and
    /// contradictions (0: none, for tests that drive it).
    #[arg(long, env = "CROSSDOCK_LINEAGE_SWEEP_SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(0..=3600), global = true)]
    pub lineage_sweep_seconds: u32,

    /// Seconds between two sweeps for SLA escalations (0: none, for tests
    /// that drive it).
    #[arg(long, env = "CROSSDOCK_ESCALATION_SWEEP_SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(0..=3600), global = true)]
    pub escalation_sweep_seconds: u32,

    /// Seconds between two background checks of the audit trail's hash
    /// chain (0: none; admins can still run one from the console).
    #[arg(long, env = "CROSSDOCK_AUDIT_CHECK_SECONDS", default_value_t = 3600,
          value_parser = clap::value_parser!(u32).range(0..=604_800), global = true)]
    pub audit_check_seconds: u32,

    /// Replays delivered at the same time (0 leaves replays queued, for
    /// tests that drive them by hand).
    #[arg(long, env = "CROSSDOCK_REPLAY_WORKERS", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(0..=64), global = true)]
    pub replay_workers: u32,

    /// Messages to notification channels delivered at the same time (0
    /// leaves them queued, for tests that drive them by hand).
    #[arg(long, env = "CROSSDOCK_DELIVERY_WORKERS", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(0..=16), global = true)]
    pub delivery_workers: u32,

    /// Turns `GET /metrics` on: scrapers send this as a bearer token.
    /// Without it the endpoint answers 404.
    #[arg(long, env = "CROSSDOCK_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<secrecy::SecretString>,

    /// A NATS server to take events from through JetStream, beside the HTTP
    /// API (e.g. `nats://127.0.0.1:4222`); without it, events arrive over
    /// HTTP only.
    #[arg(long, env = "CROSSDOCK_NATS_URL", global = true)]
    pub nats_url: Option<String>,

    /// The JetStream stream the events are in; created with `--nats-subjects`
    /// when it is missing.
    #[arg(long, env = "CROSSDOCK_NATS_STREAM", default_value = "CROSSDOCK", global = true)]
    pub nats_stream: String,

    /// The subjects of the stream when Crossdock creates it (comma-separated).
    #[arg(
        long,
        env = "CROSSDOCK_NATS_SUBJECTS",
        value_delimiter = ',',
        default_value = "crossdock.events.>",
        global = true
    )]
    pub nats_subjects: Vec<String>,

    /// The durable consumer every instance shares.
    #[arg(long, env = "CROSSDOCK_NATS_CONSUMER", default_value = "crossdock", global = true)]
    pub nats_consumer: String,

    /// Where a message that can never be accepted is published, with the
    /// reason in its `Crossdock-Reason` header; outside the stream's subjects.
    #[arg(long, env = "CROSSDOCK_NATS_DEAD_LETTER_SUBJECT", default_value = "crossdock.dead-letter", global = true)]
    pub nats_dead_letter_subject: String,

    /// For end-to-end tests only: a clock that `POST /api/v1/test/clock`
    /// (from the server's own machine) moves, so SLA deadlines pass in
    /// seconds. Never in production.
    #[arg(long, env = "CROSSDOCK_TEST_CLOCK", global = true, hide = true)]
    pub test_clock: bool,

    /// For end-to-end tests only: whole days the test clock starts ahead of
    /// the system's, so that specs run on a chosen day of the week (business
    /// calendars keep weekends) whatever day it is.
    #[arg(
        long,
        env = "CROSSDOCK_TEST_CLOCK_DAYS",
        default_value_t = 0,
        value_parser = clap::value_parser!(u16).range(0..=366),
        global = true,
        hide = true
    )]
    pub test_clock_days: u16,
}

impl Config {
    /// The defaults every flag declares, with this database: what tests and
    /// tools start from. The environment is not read.
    pub fn defaults(database_url: DatabaseUrl) -> Self {
        let command = Self::augment_args(clap::Command::new("crossdock")).mut_args(|arg| arg.env(None));
        let mut config = command
            .try_get_matches_from(["crossdock"])
            .and_then(|matches| Self::from_arg_matches(&matches))
            .unwrap_or_else(|e| unreachable!("the declared defaults always parse: {e}"));
        config.database_url = database_url;
        config
    }

    /// How the services are tuned.
    pub fn service_settings(&self) -> ServiceSettings {
        ServiceSettings {
            ingest: self.ingest_settings(),
            login: LoginPolicy {
                window: std::time::Duration::from_secs(u64::from(self.login_window_minutes) * 60),
                lock_after: self.login_lock_after,
                slow_after: (self.login_lock_after / 3).max(1),
                address_slow_after: self.login_lock_after * 5,
            },
            clock: if self.test_clock {
                let clock = Clock::adjustable();
                clock.advance(chrono::Duration::days(i64::from(self.test_clock_days)));
                clock
            } else {
                Clock::system()
            },
            public_origin: self.public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Where the key that seals secrets comes from.
    pub fn key_source(&self) -> KeySource {
        if let Some(key) = &self.secret_key {
            return KeySource::Given(key.clone());
        }
        if let Some(file) = &self.secret_key_file {
            return KeySource::File(file.clone());
        }
        match &self.database_url {
            DatabaseUrl::SqliteFile(db) => KeySource::File(db.with_file_name("crossdock.key")),
            DatabaseUrl::SqliteMemory => KeySource::Ephemeral,
            // Instances sharing a PostgreSQL database must share the key:
            // give it (CROSSDOCK_SECRET_KEY or _FILE); this file serves one.
            DatabaseUrl::Postgres(_) => KeySource::File(PathBuf::from("data/crossdock.key")),
        }
    }

    /// How long a client may stall while sending a request.
    pub fn read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.read_timeout_seconds))
    }

    /// Where events come from on NATS, when a server is given.
    pub fn nats_settings(&self) -> anyhow::Result<Option<crate::nats::NatsSettings>> {
        let Some(url) = self.nats_url.clone() else { return Ok(None) };
        crate::nats::NatsSettings::new(
            url,
            self.nats_stream.clone(),
            &self.nats_subjects,
            self.nats_consumer.clone(),
            self.nats_dead_letter_subject.clone(),
        )
        .map(Some)
    }

    /// How many background workers of each kind run.
    pub fn workers(&self) -> Workers {
        Workers {
            replays: self.replay_workers as usize,
            bulk_actions: 1,
            deliveries: self.delivery_workers as usize,
            lineage_every: (self.lineage_sweep_seconds > 0)
                .then(|| std::time::Duration::from_secs(u64::from(self.lineage_sweep_seconds))),
            escalation_every: (self.escalation_sweep_seconds > 0)
                .then(|| std::time::Duration::from_secs(u64::from(self.escalation_sweep_seconds))),
            audit_check_every: (self.audit_check_seconds > 0)
                .then(|| std::time::Duration::from_secs(u64::from(self.audit_check_seconds))),
        }
    }

    /// Session lifetimes.
    pub fn session_settings(&self) -> SessionSettings {
        SessionSettings {
            idle: chrono::Duration::minutes(i64::from(self.session_idle_minutes)),
            max: chrono::Duration::hours(i64::from(self.session_max_hours)),
            secure_cookie: self.public_url.starts_with("https://"),
            public_origin: self.public_url.trim_end_matches('/').to_owned(),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }

    /// The ingest limits and writer tuning this configuration asks for.
    pub fn ingest_settings(&self) -> IngestSettings {
        IngestSettings {
            max_body_bytes: self.ingest_max_body as usize,
            max_batch: self.ingest_max_batch as usize,
            writer: WriterSettings::with_queue(self.ingest_queue as usize, self.ingest_queue_bytes as usize),
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

/// A proxy: an address (`10.0.0.5`) or a network (`10.0.0.0/8`).
fn parse_proxy(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{s}` is neither an address nor a network such as 10.0.0.0/8"))
}

fn parse_public_url(s: &str) -> Result<String, String> {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(host) if !host.trim_end_matches('/').is_empty() && !host.contains(char::is_whitespace) => Ok(s.to_owned()),
        _ => Err("must be an http:// or https:// URL, e.g. https://crossdock.example.com".into()),
    }
}

fn parse_log_filter(s: &str) -> Result<String, String> {
    EnvFilter::try_new(s).map(|_| s.to_owned()).map_err(|e| format!("not a log filter ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_proxy_is_an_address_or_a_network() {
        assert_eq!(parse_proxy("10.0.0.5").unwrap().to_string(), "10.0.0.5/32");
        assert_eq!(parse_proxy(" 10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_proxy("::1").unwrap().to_string(), "::1/128");
        assert!(parse_proxy("proxy.example").is_err());
    }

    #[test]
    fn the_defaults_are_those_the_flags_declare() {
        let config = Config::defaults(DatabaseUrl::SqliteMemory);
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.sqlite_synchronous, Synchronous::Full);
        assert_eq!(config.session_idle_minutes, 30);
        assert_eq!(config.database_url, DatabaseUrl::SqliteMemory);
    }

    /// docs/events.md gives integrators the default limits of a request.
    #[test]
    fn the_event_contract_documents_the_default_limits() {
        let config = Config::defaults(DatabaseUrl::SqliteMemory);
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/events.md"))
            .expect("docs/events.md is readable");
        assert_eq!(config.ingest_max_body, 1024 * 1024);
        assert!(doc.contains("| 1 MiB (`CROSSDOCK_INGEST_MAX_BODY`) |"), "the body's limit");
        let batch = config.ingest_max_batch;
        let shown = format!("{},{:03}", batch / 1000, batch % 1000);
        assert!(doc.contains(&format!("| {shown} (`CROSSDOCK_INGEST_MAX_BATCH`) |")), "the batch's limit: {shown}");
    }
}
