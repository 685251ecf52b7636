use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_while_the_process_is_up() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readyz_answers_when_the_database_is_migrated() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn readyz_refuses_when_the_database_is_unreachable() {
    let app = spawn_app().await;
    app.services.pool().close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], 503);
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id(&first).len(), 36, "a UUID");
    assert_ne!(id(&first), id(&second));
}

#[tokio::test]
async fn a_request_id_given_by_the_caller_is_kept() {
    let app = spawn_app().await;
    let response =
        app.client.get(format!("{}/healthz", app.address)).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn stopping_lets_the_server_end_cleanly() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let address = app.address.clone();
    app.stop().await.expect("the server ends without error");
    assert!(reqwest::get(format!("{address}/healthz")).await.is_err(), "no longer accepting");
}
