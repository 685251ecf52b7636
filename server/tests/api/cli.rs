//! The `crossdock` binary as a person or a supervisor process runs it.

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary, without the CROSSDOCK_ settings of the test's own environment.
pub(crate) fn crossdock() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crossdock"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CROSSDOCK_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr).lines().map(str::to_owned).collect()
}

#[test]
fn help_lists_the_commands_and_settings() {
    let output = crossdock().arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for word in [
        "serve",
        "seed-demo",
        "migrate",
        "CROSSDOCK_BIND",
        "CROSSDOCK_DATABASE_URL",
        "CROSSDOCK_LOG",
        "CROSSDOCK_LOG_FORMAT",
    ] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }
}

#[test]
fn an_unknown_flag_stops_with_one_line_naming_it() {
    let output = crossdock().arg("--frobnicate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("--frobnicate"), "{lines:?}");
}

#[test]
fn an_unparsable_environment_value_stops_with_one_line_naming_it() {
    for (key, value) in [
        ("CROSSDOCK_LOG_FORMAT", "xml"),
        ("CROSSDOCK_BIND", "localhost:http"),
        ("CROSSDOCK_DATABASE_URL", "mysql://db/crossdock"),
        ("CROSSDOCK_LOG", "info,=[["),
    ] {
        let output = crossdock().env(key, value).arg("serve").output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{key}={value}");
        let lines = stderr_lines(&output);
        assert_eq!(lines.len(), 1, "{key}={value}: {lines:?}");
        assert!(lines[0].contains(key), "{key}={value}: {lines:?}");
    }
}

#[test]
fn a_database_that_cannot_be_opened_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "a file where a folder should be").unwrap();
    let url = format!("sqlite://{}/crossdock.db", blocker.display());
    let output =
        crossdock().env("CROSSDOCK_DATABASE_URL", &url).env("CROSSDOCK_LOG", "off").arg("migrate").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn migrate_and_seed_demo_create_and_fill_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/crossdock.db", dir.path().display());
    let migrate = crossdock().env("CROSSDOCK_DATABASE_URL", &url).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    assert!(dir.path().join("data/crossdock.db").exists());

    let seed = crossdock().env("CROSSDOCK_DATABASE_URL", &url).arg("seed-demo").output().unwrap();
    assert!(seed.status.success());
    assert!(String::from_utf8_lossy(&seed.stdout).contains("demo exceptions"));

    let again = crossdock().env("CROSSDOCK_DATABASE_URL", &url).arg("seed-demo").output().unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("no demo data added"));
}

#[test]
fn sigterm_stops_the_server_with_exit_code_zero() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = crossdock()
        .env("CROSSDOCK_DATABASE_URL", format!("sqlite://{}/c.db", dir.path().display()))
        .env("CROSSDOCK_BIND", format!("127.0.0.1:{port}"))
        .env("CROSSDOCK_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());

    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.lines().all(|l| l.starts_with('{')), "JSON logs: {logs}");
    assert!(logs.contains("shutdown requested"));
}

#[tokio::test]
async fn source_create_prints_a_working_key_as_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/c.db", dir.path().display());
    let output = crossdock()
        .env("CROSSDOCK_DATABASE_URL", &url)
        .args(["source", "create", "wms-dc-atl", "--prefix", "wms/dc-atl", "--rate", "50"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let key = stdout.lines().last().unwrap().trim().to_owned();
    assert!(key.starts_with("cdx_"), "{stdout}");

    let mut config = crossdock_server::config::Config::defaults(url.parse().unwrap());
    config.bind = "127.0.0.1:0".parse().unwrap();
    // The commands below share the file with this server: its background
    // sweeps would only add writers to wait for.
    config.lineage_sweep_seconds = 0;
    config.escalation_sweep_seconds = 0;
    let app = crossdock_server::startup::Application::build(&config).await.unwrap();
    let address = app.address();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let event = serde_json::json!({"specversion": "1.0", "id": "cli-1", "source": "wms/dc-atl", "type": "inventory.snapshot",
        "time": "2026-11-24T16:05:00Z", "data": {"item": "SKU-1", "erp_qty": 1, "wms_qty": 2}});
    let response = reqwest::Client::new()
        .post(format!("http://{address}/api/v1/events"))
        .bearer_auth(&key)
        .header("content-type", "application/cloudevents+json")
        .body(event.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let output = crossdock().env("CROSSDOCK_DATABASE_URL", &url).args(["source", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(listed.contains("wms-dc-atl") && listed.contains("wms/dc-atl"), "{listed} {output:?}");
    assert!(!listed.contains(&key), "the key is never shown again");
}

fn user_create(url: &str, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = crossdock()
        .env("CROSSDOCK_DATABASE_URL", url)
        .env("CROSSDOCK_LOG", "off")
        .args(["user", "create"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_first_admin_is_created_from_the_command_line_with_the_password_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/c.db", dir.path().display());
    let weak = user_create(&url, &["first.admin", "--role", "admin"], "password1234\n");
    assert_eq!(weak.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"), "{weak:?}");

    let made = user_create(
        &url,
        &["first.admin", "--role", "admin", "--display-name", "First Admin"],
        "forklift-orbit-tangerine-42\n",
    );
    assert!(made.status.success(), "{made:?}");
    assert!(String::from_utf8_lossy(&made.stdout).contains("created admin user first.admin"));

    let again = user_create(&url, &["first.admin", "--role", "admin"], "forklift-orbit-tangerine-42\n");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken"));

    let help = crossdock().args(["user", "create", "--help"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains("--password"), "never from argv");
}
