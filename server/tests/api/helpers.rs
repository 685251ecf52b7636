use crossdock_server::auth::Operator;
use crossdock_server::config::{Config, DatabaseUrl};
use crossdock_server::http::session::SessionSettings;
use crossdock_server::services::{Services, SourceSettings};
use crossdock_server::startup::Application;
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A server running on 127.0.0.1 with a database of its own: a SQLite file,
/// or, when `CROSSDOCK_TEST_DATABASE_URL` names a PostgreSQL server, a fresh
/// schema there (dropped when the test ends).
pub struct TestApp {
    pub address: String,
    /// A plain client: no cookies, no Origin header.
    pub client: reqwest::Client,
    pub services: Services,
    /// The database this server runs on.
    pub database: DatabaseUrl,
    /// The PostgreSQL schema this app created, to drop when it ends.
    schema: Option<String>,
    _dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    /// How the server ended, once it has.
    ended: Option<oneshot::Receiver<anyhow::Result<()>>>,
}

/// A browser's view of the console: keeps cookies, sends the console's own
/// Origin on every request, and does not follow redirects.
pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
}

/// Starts a server with an empty, migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}, None).await
}

/// Starts a server configured by `tune`, with session lifetimes when given.
pub async fn spawn_app_with(tune: impl FnOnce(&mut Config), sessions: Option<SessionSettings>) -> TestApp {
    init_logs();
    start_in(tempfile::tempdir().expect("temp dir"), tune, sessions).await
}

async fn start_in(dir: TempDir, tune: impl FnOnce(&mut Config), sessions: Option<SessionSettings>) -> TestApp {
    let (database, schema) = match postgres::server() {
        Some(server) => {
            let (url, schema) = postgres::fresh_schema(&server).await;
            (DatabaseUrl::Postgres(url), Some(schema))
        }
        None => (DatabaseUrl::SqliteFile(dir.path().join("crossdock.db")), None),
    };
    let key = dir.path().join("crossdock.key");
    let mut app = start_on(database, key, dir, tune, sessions).await;
    app.schema = schema;
    app
}

/// Starts a server on `database`, with the secret key in `key`, holding
/// `dir` while it runs.
async fn start_on(
    database: DatabaseUrl,
    key: std::path::PathBuf,
    dir: TempDir,
    tune: impl FnOnce(&mut Config),
    sessions: Option<SessionSettings>,
) -> TestApp {
    let mut config = Config::defaults(database.clone());
    config.secret_key_file = Some(key);
    config.bind = "127.0.0.1:0".parse().expect("address");
    tune(&mut config);
    let mut app = Application::build(&config).await.expect("the server builds");
    if let Some(sessions) = sessions {
        app.set_session_settings(sessions);
    }
    let address = format!("http://{}", app.address());
    let services = app.services().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let (ended_tx, ended) = oneshot::channel();
    // The server runs on a runtime of its own with several workers, as in
    // production: Leptos' streaming server-side rendering can stall for good
    // on a runtime with one worker, which is what each test's own is.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the server");
        let result = runtime.block_on(app.run_until_stopped(async {
            let _ = rx.await;
        }));
        let _ = ended_tx.send(result);
    });
    TestApp {
        address,
        client: reqwest::Client::new(),
        services,
        database,
        schema: None,
        _dir: dir,
        shutdown: Some(tx),
        ended: Some(ended),
    }
}

/// Starts a server on `database` (a fresh PostgreSQL schema from
/// [`postgres_schema`] is dropped when the app ends), with the secret key
/// in the file `key`.
pub async fn spawn_app_on(database: DatabaseUrl, schema: Option<String>, key: std::path::PathBuf) -> TestApp {
    init_logs();
    let mut app = start_on(database, key, tempfile::tempdir().expect("temp dir"), |_| {}, None).await;
    app.schema = schema;
    app
}

/// A fresh schema on the test PostgreSQL server, with the URL that works in
/// it; `None` when the suite runs without one.
pub async fn postgres_schema() -> Option<(String, String)> {
    let server = postgres::server()?;
    Some(postgres::fresh_schema(&server).await)
}

/// A PostgreSQL schema from [`postgres_schema`] that no server owns, dropped
/// when the test ends.
pub struct DroppedSchema(pub Option<String>);

impl Drop for DroppedSchema {
    fn drop(&mut self) {
        if let Some(schema) = self.0.take() {
            postgres::drop_schema(schema);
        }
    }
}

/// Starts a server whose database holds the demo data (and demo accounts).
pub async fn spawn_app_with_demo() -> TestApp {
    let app = spawn_app().await;
    app.seed_demo().await;
    app
}

/// A server with the demo data whose sweeps run only when the test says
/// (and `tune` for the rest).
pub async fn spawn_quiet_demo(tune: impl FnOnce(&mut Config)) -> TestApp {
    let app = spawn_app_with(
        |c| {
            c.escalation_sweep_seconds = 0;
            c.lineage_sweep_seconds = 0;
            tune(c);
        },
        None,
    )
    .await;
    app.seed_demo().await;
    app
}

/// The demo password of a demo user.
pub fn demo_password(username: &str) -> &'static str {
    crossdock_server::services::demo::DEMO_USERS
        .iter()
        .find(|(name, ..)| *name == username)
        .map(|(_, _, _, password, _)| *password)
        .expect("a demo user")
}

impl TestApp {
    /// A second server on the same database file, as a second instance
    /// beside this one (`tune` configures it).
    pub async fn beside(&self, tune: impl FnOnce(&mut Config)) -> TestApp {
        let key = self._dir.path().join("crossdock.key");
        start_on(self.database.clone(), key, tempfile::tempdir().expect("temp dir"), tune, None).await
    }

    /// True when the suite runs on PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        matches!(self.database, DatabaseUrl::Postgres(_))
    }

    /// The services started again on the same database, as after a restart
    /// (with a throwaway secret key).
    pub async fn restarted_services(&self) -> Services {
        let config = Config::defaults(DatabaseUrl::SqliteMemory);
        let sealer = crossdock_server::secrets::Sealer::load(&crossdock_server::secrets::KeySource::Ephemeral)
            .expect("an ephemeral key");
        Services::start(self.services.pool().clone(), config.service_settings(), sealer).await.expect("a restart")
    }

    pub async fn seed_demo(&self) {
        self.services.seed_demo(&Operator::command_line(), chrono::Utc::now()).await.expect("demo data is written");
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{}", self.address, path)).send().await.expect("request sent")
    }

    /// A new browser, signed in to nothing.
    pub fn browser(&self) -> Browser {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.address.parse().expect("origin"));
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Browser { address: self.address.clone(), client }
    }

    /// A browser signed in as a demo user.
    pub async fn signed_in(&self, username: &str) -> Browser {
        let browser = self.browser();
        let response = browser.login(username, demo_password(username)).await;
        assert!(response.status().is_success(), "{username} signs in: {}", response.status());
        browser
    }

    /// Claims the first new, unassigned exception of the receiving queue
    /// through `who`'s console; its id.
    pub async fn claim_a_new_receipt(&self, who: &Browser) -> i64 {
        let id = self
            .scalar(
                "SELECT id FROM exceptions WHERE status = 'new' AND queue = 'receiving' AND assignee IS NULL ORDER BY id",
            )
            .await;
        let version = self.scalar(&format!("SELECT version FROM exceptions WHERE id = {id}")).await;
        let claimed = who
            .server_fn_json("act", &serde_json::json!({"id": id, "seen": version, "action": {"kind": "claim"}}))
            .await;
        assert_eq!(claimed.status(), 200, "{:?}", claimed.text().await);
        id
    }

    /// Registers a source and returns its API key.
    pub async fn source(&self, name: &str, prefix: &str, rate: f64, burst: u32) -> String {
        let prefixes = crossdock::source::Prefixes::parse_list(prefix).expect("prefixes");
        let settings = SourceSettings { name: name.into(), prefixes, rate_per_sec: rate, burst, nats_subject: None };
        let issued = self.services.create_source(&Operator::command_line(), &settings).await.expect("source created");
        secrecy::ExposeSecret::expose_secret(&issued.key).to_owned()
    }

    /// Posts a body to the ingest endpoint.
    pub async fn post_events(
        &self,
        key: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request =
            self.client.post(format!("{}/api/v1/events", self.address)).header("content-type", content_type).body(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send().await.expect("request sent")
    }

    /// Posts one event in structured mode.
    pub async fn post_event(&self, key: &str, event: &serde_json::Value) -> reqwest::Response {
        self.post_events(Some(key), "application/cloudevents+json", event.to_string()).await
    }

    /// One number (or yes/no, as 1 or 0) read from the database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        use sqlx::Row;
        let row = sqlx::query(sql).fetch_one(self.services.pool()).await.expect("query");
        row.try_get::<i64, _>(0).or_else(|_| row.try_get::<bool, _>(0).map(i64::from)).expect("a number")
    }

    /// Stops the server and starts a new one over the same database file,
    /// as after a restart; `tune` configures the new one.
    pub async fn restart(mut self, tune: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let dir = std::mem::replace(&mut self._dir, dir);
        let (database, schema) = (self.database.clone(), self.schema.take());
        self.stop().await.expect("the server stops cleanly");
        let key = dir.path().join("crossdock.key");
        let mut app = start_on(database, key, dir, tune, None).await;
        app.schema = schema;
        app
    }

    /// Stops accepting, waits for in-flight requests, and reports how the
    /// server ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.ended.take() {
            Some(ended) => ended.await.expect("the server thread ends"),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(schema) = self.schema.take() {
            postgres::drop_schema(schema);
        }
    }
}

/// Each test's own PostgreSQL schema.
mod postgres {
    use std::sync::atomic::{AtomicU32, Ordering};

    use sqlx::{Connection, PgConnection};

    /// The PostgreSQL server to run on, when the suite is asked to.
    pub fn server() -> Option<String> {
        std::env::var("CROSSDOCK_TEST_DATABASE_URL").ok().filter(|url| !url.trim().is_empty())
    }

    const PREFIX: &str = "crossdock_test_";

    /// Creates an empty schema and gives the URL that works in it. Schemas
    /// that an earlier run of the suite left behind go first.
    pub async fn fresh_schema(server: &str) -> (String, String) {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
        let mut conn = PgConnection::connect(server).await.expect("the test PostgreSQL server answers");
        let pid = std::process::id();
        SWEPT
            .get_or_init(|| async {
                let stale: Vec<String> = sqlx::query_scalar(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 AND nspname NOT LIKE $2",
                )
                .bind(format!("{PREFIX}%"))
                .bind(format!("{PREFIX}{pid}_%"))
                .fetch_all(&mut conn)
                .await
                .expect("schemas listed");
                for schema in stale {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await;
                }
            })
            .await;
        let schema = format!("{PREFIX}{pid}_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.expect("a schema of the test's own");
        let joint = if server.contains('?') { '&' } else { '?' };
        (format!("{server}{joint}options=-c%20search_path%3D{schema}"), schema)
    }

    /// Drops the schema, in the background: the server may still be ending.
    pub fn drop_schema(schema: String) {
        let Some(server) = server() else { return };
        std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                std::thread::sleep(std::time::Duration::from_millis(500));
                if let Ok(mut conn) = PgConnection::connect(&server).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await;
                }
            });
        });
    }
}

impl Browser {
    /// Navigates to a page, as a browser does (asking for HTML).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .expect("request sent")
    }

    /// Calls a console server function with form-encoded arguments.
    pub async fn server_fn(&self, name: &str, args: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(format!("{}/console/{}", self.address, name)).form(args).send().await.expect("request sent")
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.server_fn("login", &[("username", username), ("password", password)]).await
    }
}

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        crossdock_server::telemetry::init("debug", crossdock_server::config::LogFormat::Pretty);
    }
}

impl Browser {
    /// Calls a console server function that takes JSON.
    pub async fn server_fn_json(&self, name: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client.post(format!("{}/console/{}", self.address, name)).json(body).send().await.expect("request sent")
    }
}
