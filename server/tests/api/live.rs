//! Consoles hear of changes as they happen, whichever instance made them:
//! `GET /console/changes` streams an event after each change.

use std::time::Duration;

use tokio::time::Instant;

use crate::helpers::{Browser, spawn_quiet_demo};

/// Opens the stream of changes as a signed-in browser does.
async fn follow(browser: &Browser) -> reqwest::Response {
    let response = browser
        .client
        .get(format!("{}/console/changes", browser.address))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response
}

/// What the stream says within `within` (stopping early at a change).
async fn said(stream: &mut reqwest::Response, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut text = String::new();
    while !text.contains("event: change") {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(Ok(None)) => {
                text.push_str("<end>");
                break;
            }
            Ok(Err(_)) | Err(_) => break,
        }
    }
    text
}

/// Whether the stream ends within `within` (whatever it says before).
async fn ends(stream: &mut reqwest::Response, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None)) => return true,
            Ok(Err(_)) | Err(_) => return false,
        }
    }
}

/// Waits until the stream has been quiet for a second (whatever was under
/// way when it opened has been told).
async fn quiet(stream: &mut reqwest::Response) {
    for _ in 0..20 {
        if !said(stream, Duration::from_secs(1)).await.contains("event: change") {
            return;
        }
    }
    panic!("the stream never went quiet");
}

#[tokio::test]
async fn a_console_hears_of_a_claim_made_through_another_instance() {
    // No sweeps: the only change is the claim.
    let first = spawn_quiet_demo(|_| {}).await;
    let second = first
        .beside(|c| {
            c.escalation_sweep_seconds = 0;
            c.lineage_sweep_seconds = 0;
        })
        .await;
    let sam_first = first.signed_in("sam").await;
    let sam_second = second.signed_in("sam").await;
    let mut stream = follow(&sam_second).await;
    assert!(said(&mut stream, Duration::from_secs(5)).await.contains("retry: 2000"), "the stream opens");
    quiet(&mut stream).await;

    first.claim_a_new_receipt(&sam_first).await;
    let heard = said(&mut stream, Duration::from_secs(10)).await;
    assert!(heard.contains("event: change"), "the second instance told of the claim: {heard:?}");
}

#[tokio::test]
async fn only_a_signed_in_console_follows_changes_and_streams_end_when_the_instance_stops() {
    let app = spawn_quiet_demo(|_| {}).await;
    let anonymous = app.browser().client.get(format!("{}/console/changes", app.address)).send().await.expect("sent");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["content-type"], "application/problem+json");

    let sam = app.signed_in("sam").await;
    let mut stream = follow(&sam).await;
    assert!(said(&mut stream, Duration::from_secs(5)).await.contains("retry: 2000"));
    // The drain waits 30 s for requests in flight: an open stream must not
    // hold the stop up.
    let stopped = tokio::spawn(app.stop());
    assert!(ends(&mut stream, Duration::from_secs(10)).await, "the stream ended with the instance");
    let stopped = tokio::time::timeout(Duration::from_secs(10), stopped).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "the instance stopped cleanly");
}
