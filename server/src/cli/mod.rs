//! The `crossdock` command line.

mod events;

use std::process::ExitCode;

use anyhow::Context;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};
use crossdock::audit::chain::KeptHead;
use crossdock::source::{Prefixes, SubjectPattern};

use crate::auth::Operator;
use crate::config::Config;
use crate::services::{NewUser, PreviousSecrets, SeedOutcome, ServiceError, Services, SourceSettings};
use crate::startup::Application;
use crate::{store, telemetry};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Parser)]
#[command(
    name = "crossdock",
    version,
    about = "Crossdock: the exception-management console for distribution",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console and the API (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Copy everything in the database (the one `--database-url` names) into
    /// an empty PostgreSQL database, the audit trail included, then check
    /// the copy: every table's rows counted on both sides, and the audit
    /// chain walked on the target up to this database's head. Stop every
    /// instance first.
    MigrateTo {
        /// The PostgreSQL database to fill, e.g. postgres://crossdock@db/crossdock.
        to: crate::config::DatabaseUrl,
    },
    /// Fill an empty database with the demo configuration, sources and exceptions.
    SeedDemo {
        /// Where the demo connectors replay to (see `demo-target`).
        #[arg(long, default_value = crate::services::demo::DEMO_TARGET)]
        replay_target: String,
    },
    /// Serve the demo's replay target (the carrier, ERP and WMS the demo
    /// connectors deliver to), for trying replays on the demo data.
    DemoTarget {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3900")]
        listen: std::net::SocketAddr,
    },
    /// Manage the sources that send events, and their API keys.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Manage the people who use the console.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the audit trail's hash chain, or an export of it.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Send events as a source, as its systems would.
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Send the events of a file (one CloudEvent, or a JSON array of them)
    /// as a registered source, through the API's own path; prints each
    /// event's answer. Exits non-zero when one was rejected.
    Send {
        /// The source to send as, e.g. `wms-dc-atl`.
        #[arg(long)]
        source: String,
        /// The file of events (`-` for standard input).
        #[arg(long)]
        file: std::path::PathBuf,
        /// Check the events and print what each would do, storing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole chain (or an export file) and name the first record
    /// that was edited, deleted, inserted or reordered; exits non-zero when
    /// one was.
    Verify {
        /// An export (`.jsonl`, or `.csv`) to check instead of the database.
        #[arg(long)]
        file: Option<std::path::PathBuf>,
        /// A head kept outside the database (`<seq>:<hash>`, as `audit head`
        /// prints it) that the chain must still hold.
        #[arg(long)]
        head: Option<String>,
    },
    /// Print the chain's head (`<seq>:<hash>`), to keep outside the database.
    Head,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (the first admin, say). The password is read from
    /// standard input, or asked for at a terminal; never from the command line.
    Create {
        /// User name to sign in with.
        name: String,
        /// staff, supervisor, auditor or admin.
        #[arg(long)]
        role: String,
        /// Name people see (default: the user name).
        #[arg(long)]
        display_name: Option<String>,
        /// Queues a staff member works in (repeat or separate with commas).
        #[arg(long, value_delimiter = ',')]
        queue: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Register a source; its API key is printed once, as the last line.
    Create {
        /// Name of the source, e.g. `wms-dc-atl`.
        name: String,
        /// A prefix of the `source` values its events carry: `wms` covers `wms`
        /// and `wms/...`. Repeat it for a middleware forwarding several
        /// systems (default: the name).
        #[arg(long = "prefix")]
        prefixes: Vec<String>,
        /// Events a second the source may send, on average.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Events the source may send at once.
        #[arg(long, default_value_t = 1000)]
        burst: u32,
        /// The NATS subjects its messages are published on, when it sends
        /// through JetStream, e.g. `crossdock.events.wms.>`.
        #[arg(long)]
        nats_subject: Option<String>,
    },
    /// Issue a new API key (printed once, as the last line); the old ones stay
    /// valid for the grace period.
    Rotate {
        name: String,
        /// Hours the previous keys stay valid.
        #[arg(long, default_value_t = 24)]
        grace_hours: i64,
    },
    /// Revoke every API key of a source at once.
    Revoke { name: String },
    /// Add a Standard Webhooks signing secret (printed once, as the last line);
    /// from then on every request of the source must be signed.
    Sign {
        name: String,
        /// Drop the previous secrets at once.
        #[arg(long, conflicts_with = "retire_after_hours")]
        replace: bool,
        /// Keep the previous secrets this many hours (while senders move to
        /// the new one), then refuse them.
        #[arg(long)]
        retire_after_hours: Option<u32>,
    },
    /// List the sources.
    List,
}

/// Runs the command line and tells the process how it ended.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("crossdock: {}", one_line(&err));
            return ExitCode::from(2);
        }
    };
    telemetry::init(&cli.config.log, cli.config.log_format);

    // At least four workers whatever the machine: Leptos' streaming
    // server-side rendering can stall on a runtime with very few.
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get().max(4));
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("crossdock: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "crossdock stopped");
            eprintln!("crossdock: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let stop = shutdown_signal();
            let app = Application::build(&cli.config).await?;
            app.run_until_stopped(stop).await
        }
        Command::Migrate => {
            store::open(&cli.config.database_url, cli.config.sqlite_synchronous).await?;
            println!("database {} is migrated", cli.config.database_url);
            Ok(())
        }
        Command::MigrateTo { to } => migrate_to(&cli.config, &to).await,
        Command::SeedDemo { replay_target } => {
            let services = services(&cli.config).await?;
            // The services' time: a test clock's, when the server keeps one.
            let now = services.clock().now();
            match services.seed_demo_with(&Operator::command_line(), now, &replay_target).await? {
                SeedOutcome::Seeded { exceptions, keys } => {
                    println!("added the demo configuration and {exceptions} demo exceptions");
                    println!("demo accounts (user name / password):");
                    for (name, _, role, password, _) in crate::services::demo::DEMO_USERS {
                        println!("  {name:<8} {password:<26} {role}");
                    }
                    println!("API keys of the demo sources (shown once):");
                    for key in keys {
                        println!("  {:<12} {}", key.source, key.key.expose_secret());
                    }
                }
                SeedOutcome::NotEmpty(n) => {
                    println!("the database already holds {n} exceptions; no demo data added")
                }
            }
            Ok(())
        }
        Command::DemoTarget { listen } => {
            let stop = shutdown_signal();
            crate::demo_target::serve(listen, stop).await
        }
        Command::Source(command) => source(&services(&cli.config).await?, command).await,
        Command::Audit(command) => audit(&cli.config, command).await,
        Command::Events(EventsCommand::Send { source, file, dry_run }) => {
            events::send(&services(&cli.config).await?, &source, &file, dry_run).await
        }
        Command::User(UserCommand::Create { name, role, display_name, queue }) => {
            let services = services(&cli.config).await?;
            let password = read_password()?;
            let new = NewUser {
                display_name: display_name.unwrap_or_else(|| name.clone()),
                username: name,
                role,
                password,
                queues: queue,
            };
            let user = services.create_user(&Operator::command_line(), &new).await.map_err(explain)?;
            println!("created {} user {}", user.role, user.username);
            Ok(())
        }
    }
}

/// The new password: from a terminal, asked twice without echo; otherwise
/// the first line of standard input.
fn read_password() -> anyhow::Result<SecretString> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = SecretString::from(rpassword::prompt_password("Password (12 characters or more): ")?);
        let second = SecretString::from(rpassword::prompt_password("Same password again: ")?);
        anyhow::ensure!(first.expose_secret() == second.expose_secret(), "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(SecretString::from(line.trim_end_matches(['\r', '\n'])))
    }
}

async fn audit(config: &Config, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Head => {
            let pool = store::open(&config.database_url, config.sqlite_synchronous).await?;
            let (seq, hash) = store::audit::head(&pool).await?;
            println!("{}", KeptHead { seq, hash });
            Ok(())
        }
        AuditCommand::Verify { file, head } => {
            let kept = head
                .map(|h| {
                    h.parse::<KeptHead>()
                        .map_err(|_| anyhow::anyhow!("--head is <seq>:<hash>, as `audit head` prints it"))
                })
                .transpose()?;
            if let Some(path) = file {
                let reader = std::io::BufReader::new(
                    std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?,
                );
                let csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
                let report = crate::services::audit::verify_export(reader, csv, kept)?;
                anyhow::ensure!(report.broken.is_none(), "{report}");
                println!("{report}");
                return Ok(());
            }
            let pool = store::open(&config.database_url, config.sqlite_synchronous).await?;
            let report = store::audit::verify(&pool, kept).await?;
            let verified = match report.verified {
                Some((seq, hash)) => format!("verified up to record {seq} ({hash})"),
                None => "nothing verified".to_owned(),
            };
            if let Some(broken) = report.broken {
                anyhow::bail!("the audit chain is broken: {broken}; {verified}");
            }
            println!("the audit chain holds: {} records checked, {verified}", report.checked);
            Ok(())
        }
    }
}

async fn migrate_to(config: &Config, to: &crate::config::DatabaseUrl) -> anyhow::Result<()> {
    anyhow::ensure!(
        matches!(to, crate::config::DatabaseUrl::Postgres(_)),
        "migrate-to moves an installation to PostgreSQL: give a postgres:// URL"
    );
    let from = store::open(&config.database_url, config.sqlite_synchronous).await?;
    let target = store::open(to, config.sqlite_synchronous).await?;
    let copied = store::copy::copy_all(&from, &target).await?;
    for (table, rows) in &copied {
        println!("{table:<28} {rows:>12} rows");
    }
    let differ = store::copy::differences(&from, &target, &copied).await?;
    anyhow::ensure!(differ.is_empty(), "the copy differs: {}", differ.join("; "));
    let (seq, hash) = store::audit::head(&from).await?;
    let report = store::audit::verify(&target, (seq > 0).then_some(KeptHead { seq, hash })).await?;
    if let Some(broken) = report.broken {
        anyhow::bail!("the audit chain does not hold on {to}: {broken}");
    }
    println!(
        "copied into {to}: every table counted alike; the audit chain holds, {} records up to {seq}",
        report.checked
    );
    if let crate::secrets::KeySource::File(key) = config.key_source() {
        println!("connector and channel secrets stay sealed with {}: give it to every instance", key.display());
    }
    Ok(())
}

async fn services(config: &Config) -> anyhow::Result<Services> {
    let pool = store::open(&config.database_url, config.sqlite_synchronous).await?;
    let sealer = crate::secrets::Sealer::load(&config.key_source())?;
    Services::start(pool, config.service_settings(), sealer).await
}

async fn source(services: &Services, command: SourceCommand) -> anyhow::Result<()> {
    let actor = Operator::command_line();
    match command {
        SourceCommand::Create { name, prefixes, rate, burst, nats_subject } => {
            let typed = if prefixes.is_empty() { name.clone() } else { prefixes.join(" ") };
            let prefixes = Prefixes::parse_list(&typed).map_err(|e| anyhow::anyhow!("--prefix: {e}"))?;
            let nats_subject = nats_subject
                .map(|s| SubjectPattern::parse(&s).map_err(|rule| anyhow::anyhow!("--nats-subject: {rule}")))
                .transpose()?;
            let settings = SourceSettings { name, prefixes, rate_per_sec: rate, burst, nats_subject };
            let issued = services.create_source(&actor, &settings).await.map_err(explain)?;
            println!("created source {} for events whose source is under {}", issued.source, settings.prefixes);
            println!("API key (shown once; store it now):");
            println!("{}", issued.key.expose_secret());
        }
        SourceCommand::Rotate { name, grace_hours } => {
            let issued = services
                .rotate_source_key(&actor, &name, chrono::Duration::hours(grace_hours))
                .await
                .map_err(explain)?;
            println!("new API key for {name}; the previous keys stay valid for {grace_hours} h (shown once):");
            println!("{}", issued.key.expose_secret());
        }
        SourceCommand::Revoke { name } => {
            let n = services.revoke_source_keys(&actor, &name).await.map_err(explain)?;
            println!("revoked {n} API key(s) of {name}");
        }
        SourceCommand::Sign { name, replace, retire_after_hours } => {
            let previous = match (replace, retire_after_hours) {
                (true, _) => PreviousSecrets::RetireAfter(chrono::Duration::zero()),
                (false, Some(hours)) => PreviousSecrets::RetireAfter(chrono::Duration::hours(i64::from(hours))),
                (false, None) => PreviousSecrets::Keep,
            };
            let secret = services.add_signing_secret(&actor, &name, previous).await.map_err(explain)?;
            println!("requests of {name} must now be signed (Standard Webhooks); signing secret (shown once):");
            println!("{}", secret.expose_secret());
        }
        SourceCommand::List => {
            for s in services.list_sources(&actor).await.map_err(explain)? {
                let signed = if s.signed { "signed" } else { "unsigned" };
                println!(
                    "{:<20} {:<24} {:>8}/s burst {:<6} {signed}",
                    s.name,
                    s.prefixes.to_string(),
                    s.rate_per_sec,
                    s.burst
                );
            }
        }
    }
    Ok(())
}

/// A service error as one line for the operator.
pub(super) fn explain(err: ServiceError) -> anyhow::Error {
    match err {
        ServiceError::Internal(err) => err,
        ServiceError::Problems(problems) => anyhow::anyhow!(
            "{}",
            problems.iter().map(|p| format!("{}: {}", p.pointer, p.message)).collect::<Vec<_>>().join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed at the call,
/// not when the future is first polled: a signal sent as soon as the port
/// answers must stop the server cleanly, not kill it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let handlers = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()).ok(), signal(SignalKind::terminate()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |handler: Option<tokio::signal::unix::Signal>| async move {
                match handler {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let (interrupt, terminate) = handlers;
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown requested: finishing in-flight requests");
    }
}

/// The first line of clap's message, naming the environment variable too when
/// the bad value may have come from there.
fn one_line(err: &clap::Error) -> String {
    let rendered = err.to_string();
    let first = rendered.lines().next().unwrap_or("invalid command line").trim_start_matches("error: ").to_owned();
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return first;
    };
    let long = arg.split_whitespace().next().unwrap_or_default().trim_start_matches("--");
    let env = Cli::command()
        .get_arguments()
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_env())
        .map(|env| env.to_string_lossy().into_owned());
    match env {
        Some(env) => format!("{first} (flag --{long} or environment variable {env})"),
        None => first,
    }
}
