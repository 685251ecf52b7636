use crossdock_server::config::{Config, DatabaseUrl};
use crossdock_server::services::Services;
use crossdock_server::startup::Application;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running on 127.0.0.1 with its own database file.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub services: Services,
    _dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Starts a server with an empty, migrated database.
pub async fn spawn_app() -> TestApp {
    init_logs();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config =
        Config::with_database(DatabaseUrl::SqliteFile(dir.path().join("crossdock.db")));
    config.bind = "127.0.0.1:0".parse().expect("address");
    let app = Application::build(&config)
        .await
        .expect("the server builds");
    let address = format!("http://{}", app.address());
    let services = app.services().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = rx.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::new(),
        services,
        _dir: dir,
        shutdown: Some(tx),
        handle: Some(handle),
    }
}

/// Starts a server whose database holds the demo data.
pub async fn spawn_app_with_demo() -> TestApp {
    let app = spawn_app().await;
    app.services
        .seed_demo(chrono::Utc::now())
        .await
        .expect("demo data is written");
    app
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request sent")
    }

    /// Calls a console server function with form-encoded arguments.
    pub async fn server_fn(&self, name: &str, args: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}/console/{}", self.address, name))
            .form(args)
            .send()
            .await
            .expect("request sent")
    }

    /// Stops accepting, waits for in-flight requests, and reports how the
    /// server ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.handle.take() {
            Some(handle) => handle.await.expect("the server task ends"),
            None => Ok(()),
        }
    }
}

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        crossdock_server::telemetry::init("debug", crossdock_server::config::LogFormat::Pretty);
    }
}
