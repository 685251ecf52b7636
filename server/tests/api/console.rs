use crossdock::ExceptionKind;
use crossdock::triage::QueuePage;
use crossdock_app::AppError;
use crossdock_server::services::SeedOutcome;

use crate::helpers::{spawn_app, spawn_app_with_demo};

#[tokio::test]
async fn the_home_page_lists_the_demo_exceptions_rendered_on_the_server() {
    let app = spawn_app_with_demo().await;
    let browser = app.signed_in("sam").await;
    let response = browser.get("/").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("<h1>Exceptions</h1>"), "{html}");
    assert!(html.contains("Partial receipt"));
    assert!(html.contains("rating API timed out"));
    assert!(html.contains("DC-ATL") && html.contains("DC-DAL") && html.contains("DC-RNO"));
}

#[tokio::test]
async fn a_visitor_who_is_not_signed_in_is_sent_to_the_sign_in_page() {
    let app = spawn_app_with_demo().await;
    let response = app.browser().get("/").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login");
    let listed = app.browser().server_fn("queue_page", &[("query", "")]).await;
    assert_eq!(listed.status(), 401);
    assert_eq!(listed.json::<AppError>().await.unwrap(), AppError::Unauthenticated);
}

#[tokio::test]
async fn the_filter_narrows_the_list_to_matching_business_keys() {
    let app = spawn_app_with_demo().await;
    let browser = app.signed_in("sam").await;
    let all: QueuePage = browser.server_fn("queue_page", &[("query", "")]).await.json().await.unwrap();
    let all = all.items;
    let po: QueuePage = browser.server_fn("queue_page", &[("query", "q=PO-10045")]).await.json().await.unwrap();
    let po = po.items;
    let open = app.scalar("SELECT COUNT(*) FROM exceptions WHERE status NOT IN ('resolved', 'dismissed')").await;
    assert_eq!(all.len() as i64, open.min(50));
    assert_eq!(po.len(), 1);
    assert_eq!(po[0].kind, ExceptionKind::PartialReceipt);
    assert_eq!(po[0].refs.get(crossdock::RefKind::Po), Some("PO-10045"));
}

#[tokio::test]
async fn staff_see_only_the_queues_they_work_in() {
    let app = spawn_app_with_demo().await;
    let page: QueuePage =
        app.signed_in("pat").await.server_fn("queue_page", &[("query", "")]).await.json().await.unwrap();
    let items = page.items;
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i.queue == "receiving" || i.queue == "inventory-control"), "{items:?}");
}

#[tokio::test]
async fn the_filter_matches_words_of_the_summary_in_any_case() {
    let app = spawn_app_with_demo().await;
    let page: QueuePage =
        app.signed_in("alex").await.server_fn("queue_page", &[("query", "q=RATING+api")]).await.json().await.unwrap();
    let items = page.items;
    let matching = app
        .scalar(
            "SELECT COUNT(*) FROM exceptions WHERE lower(summary) LIKE '%rating api%' \
             AND status NOT IN ('resolved', 'dismissed')",
        )
        .await;
    assert!(matching > 0);
    assert_eq!(items.len() as i64, matching);
    assert!(items.iter().all(|i| i.kind == ExceptionKind::Integration));
}

#[tokio::test]
async fn wildcards_in_the_filter_are_taken_literally() {
    let app = spawn_app_with_demo().await;
    let page: QueuePage =
        app.signed_in("sam").await.server_fn("queue_page", &[("query", "q=%25")]).await.json().await.unwrap();
    let items = page.items;
    assert!(items.is_empty());
}

#[tokio::test]
async fn an_overlong_filter_is_refused_with_a_message_for_the_field() {
    let app = spawn_app_with_demo().await;
    let text = "x".repeat(500);
    let query = format!("q={text}");
    let response = app.signed_in("sam").await.server_fn("queue_page", &[("query", &query)]).await;
    assert_eq!(response.status(), 400);
    let error: AppError = response.json().await.unwrap();
    assert!(error.for_field("q").is_some(), "{error:?}");
}

#[tokio::test]
async fn demo_data_is_added_to_an_empty_database_only() {
    let app = spawn_app().await;
    let operator = crossdock_server::auth::Operator::command_line();
    let first = app.services.seed_demo(&operator, chrono::Utc::now()).await.unwrap();
    let SeedOutcome::Seeded { exceptions, keys } = first else { panic!("seeded: {first:?}") };
    assert_eq!(exceptions, app.scalar("SELECT COUNT(*) FROM exceptions").await);
    assert!(exceptions > 0);
    assert_eq!(keys.len(), 5, "one demo source per system");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM users WHERE demo = 1").await, 4, "one demo user per role");
    let second = app.services.seed_demo(&operator, chrono::Utc::now()).await.unwrap();
    assert!(matches!(second, SeedOutcome::NotEmpty(n) if n == exceptions), "{second:?}");
}

#[tokio::test]
async fn an_unknown_page_answers_not_found() {
    let app = spawn_app().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}
