//! Building and running the server.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use leptos::config::get_configuration;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::http::{self, AppState};
use crate::jobs::{self, Workers};
use crate::nats::NatsIngest;
use crate::secrets::Sealer;
use crate::services::Services;
use crate::store;

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    services: Services,
    state: AppState,
    workers: Workers,
    read_timeout: std::time::Duration,
    nats: Option<NatsIngest>,
}

impl Application {
    /// Opens and migrates the database and binds the listener (port 0 picks a
    /// free port).
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        // Recorded from the first request on, scraped or not.
        crate::metrics::handle();
        let pool = store::open(&config.database_url, config.sqlite_synchronous).await?;
        let sealer = Sealer::load(&config.key_source())?;
        let services = Services::start(pool, config.service_settings(), sealer).await?;
        let nats = match config.nats_settings()? {
            Some(settings) => Some(NatsIngest::connect(settings).await?),
            None => None,
        };

        let mut leptos_options = get_configuration(None).context("invalid LEPTOS_* environment")?.leptos_options;
        leptos_options.site_root = config.site_root.to_string_lossy().as_ref().into();

        let listener =
            TcpListener::bind(config.bind).await.with_context(|| format!("cannot listen on {}", config.bind))?;
        let address = listener.local_addr().context("cannot read the bound address")?;
        leptos_options.site_addr = address;

        Ok(Self {
            listener,
            address,
            state: AppState {
                leptos_options,
                services: services.clone(),
                sessions: config.session_settings(),
                metrics: crate::http::metrics::MetricsToken(config.metrics_token.clone()),
            },
            services,
            workers: config.workers(),
            read_timeout: config.read_timeout(),
            nats,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Replaces the session lifetimes (tests use seconds).
    pub fn set_session_settings(&mut self, sessions: crate::http::session::SessionSettings) {
        self.state.sessions = sessions;
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight
    /// requests finish, stops the background workers and returns.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(address = %self.address, "crossdock is listening");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let workers = tokio::spawn(jobs::run(self.services.clone(), self.workers, stopped.clone()));
        let live = tokio::spawn({
            let (services, stopped) = (self.services.clone(), stopped.clone());
            async move { services.follow_changes(stopped).await }
        });
        let nats = self.nats.map(|nats| tokio::spawn(nats.run(self.services.clone(), stopped)));
        let app = http::router(self.state, self.read_timeout);
        // The consoles' streams end first, or the drain would wait for them.
        let services = self.services.clone();
        let shutdown = async move {
            shutdown.await;
            services.close_changes();
        };
        http::serve::serve(self.listener, app, self.read_timeout, shutdown).await;
        let _ = stop.send(true);
        let _ = workers.await;
        let _ = live.await;
        if let Some(nats) = nats {
            let _ = nats.await;
        }
        tracing::info!("crossdock stopped");
        Ok(())
    }
}
