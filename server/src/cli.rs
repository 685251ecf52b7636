//! The `crossdock` command line.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};

use crate::config::Config;
use crate::startup::Application;
use crate::{store, telemetry};

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
    /// Fill an empty database with demo exceptions.
    SeedDemo,
}

/// Runs the command line and tells the process how it ended.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("crossdock: {}", one_line(&err));
            return ExitCode::from(2);
        }
    };
    telemetry::init(&cli.config.log, cli.config.log_format);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
            let app = Application::build(&cli.config).await?;
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Migrate => {
            store::open(&cli.config.database_url).await?;
            println!("database {} is migrated", cli.config.database_url);
            Ok(())
        }
        Command::SeedDemo => {
            let pool = store::open(&cli.config.database_url).await?;
            let services = crate::services::Services::new(pool);
            match services.seed_demo(chrono::Utc::now()).await? {
                crate::services::SeedOutcome::Seeded(n) => println!("added {n} demo exceptions"),
                crate::services::SeedOutcome::NotEmpty(n) => {
                    println!("the database already holds {n} exceptions; no demo data added")
                }
            }
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}

/// The first line of clap's message, naming the environment variable too when
/// the bad value may have come from there.
fn one_line(err: &clap::Error) -> String {
    let rendered = err.to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("invalid command line")
        .trim_start_matches("error: ")
        .to_owned();
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return first;
    };
    let long = arg
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_start_matches("--");
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
