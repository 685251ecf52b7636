//! Accounts, sessions and roles.

use crossdock::accounts::Role;
use crossdock_app::AppError;
use crossdock_app::dto::{Me, UserEntry};
use crossdock_server::config::{Config, DatabaseUrl};
use crossdock_server::http::session::SessionSettings;

use crate::helpers::{demo_password, spawn_app_with, spawn_app_with_demo};

#[tokio::test]
async fn signing_in_sets_a_fresh_http_only_same_site_cookie() {
    let app = spawn_app_with_demo().await;
    let browser = app.browser();
    let response = browser.login("pat", demo_password("pat")).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("crossdock_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http here: {cookie}");
    let me: Option<Me> = browser.server_fn("current_user", &[]).await.json().await.unwrap();
    let me = me.expect("signed in");
    assert_eq!((me.username.as_str(), me.role), ("pat", Role::Staff));
    assert_eq!(me.queues, vec!["inventory-control", "receiving"]);
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_console_is_served_over_https() {
    let app = spawn_app_with(|c| c.public_url = "https://crossdock.example.com".into(), None).await;
    app.seed_demo().await;
    let response = app.browser().login("sam", demo_password("sam")).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in() {
    let app = spawn_app_with_demo().await;
    let first = app.browser().login("sam", demo_password("sam")).await;
    let second = app.browser().login("sam", demo_password("sam")).await;
    let id = |r: &reqwest::Response| r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert_ne!(id(&first), id(&second));
    // A session id planted before sign-in is not the one used after.
    let browser = app.browser();
    let planted = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = planted
        .post(format!("{}/console/login", app.address))
        .header("origin", &app.address)
        .header("cookie", "crossdock_session=planted-by-someone-else")
        .form(&[("username", "sam"), ("password", demo_password("sam"))])
        .send()
        .await
        .unwrap();
    assert!(!response.headers()["set-cookie"].to_str().unwrap().contains("planted"));
    drop(browser);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app_with_demo().await;
    let wrong = app.browser().login("pat", "not-the-password-at-all").await;
    let unknown = app.browser().login("nobody-here", "not-the-password-at-all").await;
    // A name no account can have (PostgreSQL text cannot even hold NUL).
    let garbled = app.browser().login("pa\u{0}t\u{7}", "not-the-password-at-all").await;
    assert_eq!(wrong.status(), 400);
    assert_eq!(unknown.status(), 400);
    assert_eq!(garbled.status(), 400);
    let wrong: AppError = wrong.json().await.unwrap();
    let unknown: AppError = unknown.json().await.unwrap();
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.for_field("password").as_deref(), Some("wrong user name or password"));
    let failures =
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login.failed' AND after LIKE '%127.0.0.1%'").await;
    assert_eq!(failures, 3, "failures are audited with the address");
}

#[tokio::test]
async fn repeated_failures_lock_the_name_without_telling_if_it_exists() {
    let app = spawn_app_with(|c| c.login_lock_after = 3, None).await;
    app.seed_demo().await;
    for name in ["pat", "ghost"] {
        for _ in 0..3 {
            assert_eq!(app.browser().login(name, "wrong-wrong-wrong").await.status(), 400);
        }
        let locked = app.browser().login(name, demo_password("pat")).await;
        assert_eq!(locked.status(), 429, "{name}");
        let error: AppError = locked.json().await.unwrap();
        assert!(error.to_string().contains("too many failed attempts"), "{error}");
    }
    // Another account is not affected.
    assert_eq!(app.browser().login("sam", demo_password("sam")).await.status(), 200);
}

#[tokio::test]
async fn guesses_from_a_shared_address_never_lock_out_a_right_password() {
    // Everyone behind one proxy or NAT shares the address.
    let app = spawn_app_with(|c| c.login_lock_after = 2, None).await;
    app.seed_demo().await;
    for i in 0..14 {
        assert_eq!(app.browser().login(&format!("guess-{i}"), "wrong-wrong-wrong").await.status(), 400);
    }
    assert_eq!(app.browser().login("sam", demo_password("sam")).await.status(), 200, "sam is let in");
}

#[tokio::test]
async fn at_once_wrong_passwords_check_no_more_passwords_than_the_lock_allows() {
    let app = spawn_app_with(|c| c.login_lock_after = 5, None).await;
    app.seed_demo().await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let browser = app.browser();
        attempts.spawn(async move { browser.login("pat", "wrong-wrong-wrong").await.status().as_u16() });
    }
    let statuses = attempts.join_all().await;
    let checked = statuses.iter().filter(|s| **s == 400).count();
    assert!(checked <= 5, "{checked} passwords were checked: {statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 400 | 429 | 503)), "{statuses:?}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM login_failures WHERE username = 'pat'").await, checked as i64);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_is_the_one_it_names() {
    let post = |app: &crate::helpers::TestApp, forwarded: &'static str| {
        let client = reqwest::Client::new();
        let url = format!("{}/console/login", app.address);
        let origin = app.address.clone();
        async move {
            client
                .post(url)
                .header("origin", origin)
                .header("x-forwarded-for", forwarded)
                .form(&[("username", "pat"), ("password", "wrong-wrong-wrong")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let audited = |app: &crate::helpers::TestApp| {
        let pool = app.services.pool().clone();
        let address = if app.on_postgres() { "after::json->>'address'" } else { "json_extract(after, '$.address')" };
        async move {
            sqlx::query_scalar::<_, String>(&format!("SELECT {address} FROM audit_log WHERE action = 'login.failed'"))
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    let behind = spawn_app_with(|c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()], None).await;
    behind.seed_demo().await;
    assert_eq!(post(&behind, "6.6.6.6, 198.51.100.7").await, 400);
    assert_eq!(audited(&behind).await, ["198.51.100.7"]);
    let direct = crate::helpers::spawn_app_with_demo().await;
    assert_eq!(post(&direct, "198.51.100.7").await, 400);
    assert_eq!(audited(&direct).await, ["127.0.0.1"], "a header from an untrusted peer is not believed");
}

#[tokio::test]
async fn a_password_reset_never_undoes_a_disable_made_while_it_hashed() {
    let app = crate::helpers::spawn_app_with_demo().await;
    let admin = app
        .services
        .session_user(crossdock_server::services::SessionStamp {
            user: crossdock_server::auth::UserId(app.scalar("SELECT id FROM users WHERE username = 'morgan'").await),
            epoch: app.scalar("SELECT session_epoch FROM users WHERE username = 'morgan'").await,
        })
        .await
        .unwrap()
        .expect("morgan")
        .admin()
        .expect("an admin");
    let pat = crossdock_server::auth::UserId(app.scalar("SELECT id FROM users WHERE username = 'pat'").await);
    for round in 0..3 {
        let password = secrecy::SecretString::from(format!("forklift-orbit-tangerine-{round}"));
        let (reset, disabled) = tokio::join!(
            app.services.reset_password(&admin, pat, password),
            app.services.set_user_disabled(&admin, pat, true)
        );
        reset.expect("reset");
        disabled.expect("disabled");
        let disabled_at: Option<i64> = sqlx::query_scalar("SELECT disabled_at FROM users WHERE id = $1")
            .bind(pat.0)
            .fetch_one(app.services.pool())
            .await
            .unwrap();
        assert!(disabled_at.is_some(), "round {round}: the disable stands");
        app.services.set_user_disabled(&admin, pat, false).await.expect("enabled again");
    }
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = spawn_app_with_demo().await;
    let browser = app.signed_in("alex").await;
    assert_eq!(browser.get("/audit").await.status(), 200);
    let cookie = browser.client.get(format!("{}/", app.address)).send().await.unwrap();
    drop(cookie);
    let out = browser.server_fn("logout", &[]).await;
    assert!(out.status().is_success() || out.status().is_redirection(), "{}", out.status());
    let page = browser.get("/audit").await;
    assert_eq!(page.status(), 302);
    assert_eq!(page.headers()["location"], "/login?next=%2Faudit", "back to the audit trail once signed in again");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'logout'").await, 1);
}

#[tokio::test]
async fn a_session_ends_after_the_idle_time_and_after_the_absolute_time() {
    let short = SessionSettings {
        idle: chrono::Duration::seconds(1),
        max: chrono::Duration::hours(8),
        ..Config::defaults(DatabaseUrl::SqliteMemory).session_settings()
    };
    let app = spawn_app_with(|_| {}, Some(short)).await;
    app.seed_demo().await;
    let browser = app.signed_in("sam").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(browser.server_fn("current_user", &[]).await.json::<Option<Me>>().await.unwrap(), None, "idle");

    let capped = SessionSettings {
        idle: chrono::Duration::minutes(30),
        max: chrono::Duration::seconds(2),
        ..Config::defaults(DatabaseUrl::SqliteMemory).session_settings()
    };
    let app = spawn_app_with(|_| {}, Some(capped)).await;
    app.seed_demo().await;
    let browser = app.signed_in("sam").await;
    for _ in 0..3 {
        // Active all along.
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        browser.server_fn("current_user", &[]).await;
    }
    assert_eq!(browser.server_fn("current_user", &[]).await.json::<Option<Me>>().await.unwrap(), None, "absolute");
}

async fn user_id(app: &crate::helpers::TestApp, username: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(app.services.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_at_once() {
    let app = spawn_app_with_demo().await;
    let admin = app.signed_in("morgan").await;
    let staff = app.signed_in("pat").await;
    assert_eq!(staff.server_fn("queue_page", &[("query", "")]).await.status(), 200);
    let id = user_id(&app, "pat").await.to_string();
    let disabled = admin.server_fn("set_user_disabled", &[("id", &id), ("disabled", "true")]).await;
    assert_eq!(disabled.status(), 200);
    assert_eq!(staff.server_fn("queue_page", &[("query", "")]).await.status(), 401);
    assert_eq!(app.browser().login("pat", demo_password("pat")).await.status(), 400, "cannot sign in either");
}

#[tokio::test]
async fn a_change_of_role_ends_the_users_sessions() {
    let app = spawn_app_with_demo().await;
    let admin = app.signed_in("morgan").await;
    let alex = app.signed_in("alex").await;
    let id = user_id(&app, "alex").await.to_string();
    let changed =
        admin.server_fn("update_user", &[("id", &id), ("display_name", "Alex Chen"), ("role", "supervisor")]).await;
    assert_eq!(changed.status(), 200, "{:?}", changed.text().await);
    assert_eq!(alex.server_fn("current_user", &[]).await.json::<Option<Me>>().await.unwrap(), None);
    let again = app.signed_in("alex").await;
    let me: Option<Me> = again.server_fn("current_user", &[]).await.json().await.unwrap();
    assert_eq!(me.unwrap().role, Role::Supervisor);
}

#[tokio::test]
async fn bad_user_input_is_answered_field_by_field_and_nothing_is_saved() {
    let app = spawn_app_with_demo().await;
    let admin = app.signed_in("morgan").await;
    let before = app.scalar("SELECT COUNT(*) FROM users").await;
    let long_name = "u".repeat(65);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("username", ""),
                ("display_name", "X Y"),
                ("role", "staff"),
                ("password", "forklift-orbit-tangerine-42"),
            ],
            "username",
        ),
        (
            vec![
                ("username", "pat"),
                ("display_name", "Pat Two"),
                ("role", "staff"),
                ("password", "forklift-orbit-tangerine-42"),
            ],
            "username",
        ),
        (
            vec![
                ("username", "new.user"),
                ("display_name", ""),
                ("role", "staff"),
                ("password", "forklift-orbit-tangerine-42"),
            ],
            "display_name",
        ),
        (
            vec![
                ("username", "new.user"),
                ("display_name", "New User"),
                ("role", "king"),
                ("password", "forklift-orbit-tangerine-42"),
            ],
            "role",
        ),
        (
            vec![("username", "new.user"), ("display_name", "New User"), ("role", "staff"), ("password", "short")],
            "password",
        ),
        (
            vec![
                ("username", "new.user"),
                ("display_name", "New User"),
                ("role", "staff"),
                ("password", "password1234"),
            ],
            "password",
        ),
        (
            vec![
                ("username", "new.user"),
                ("display_name", "New User"),
                ("role", "staff"),
                ("password", "forklift-orbit-tangerine-42"),
                ("queues[0]", "nowhere"),
            ],
            "queues",
        ),
        (
            vec![
                ("username", &long_name),
                ("display_name", "New User"),
                ("role", "staff"),
                ("password", "forklift-orbit-tangerine-42"),
            ],
            "username",
        ),
    ];
    for (form, field) in cases {
        let response = admin.server_fn("create_user", &form).await;
        assert_eq!(response.status(), 400, "{form:?}");
        let error: AppError = response.json().await.unwrap();
        assert!(error.for_field(field).is_some(), "{field}: {error:?}");
    }
    assert_eq!(app.scalar("SELECT COUNT(*) FROM users").await, before, "nothing half-saved");
    let created = admin
        .server_fn(
            "create_user",
            &[
                ("username", "Dana.Fox"),
                ("display_name", "Dana Fox"),
                ("role", "staff"),
                ("password", "forklift-orbit-tangerine-42"),
                ("queues[0]", "billing"),
            ],
        )
        .await;
    assert_eq!(created.status(), 200);
    let user: UserEntry = created.json().await.unwrap();
    assert_eq!((user.username.as_str(), user.queues.clone()), ("dana.fox", vec!["billing".to_owned()]));
    assert_eq!(app.browser().login("DANA.FOX", "forklift-orbit-tangerine-42").await.status(), 200, "names ignore case");
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    let app = spawn_app_with_demo().await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'pat'")
        .fetch_one(app.services.pool())
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains(demo_password("pat")));
}

mod csrf {
    use super::*;

    #[tokio::test]
    async fn a_state_change_from_another_origin_is_refused() {
        let app = spawn_app_with_demo().await;
        let admin = app.signed_in("morgan").await;
        let before = app.scalar("SELECT COUNT(*) FROM users").await;
        let form = [
            ("username", "evil"),
            ("display_name", "Evil"),
            ("role", "admin"),
            ("password", "forklift-orbit-tangerine-42"),
        ];
        let url = format!("{}/console/create_user", app.address);
        let foreign =
            admin.client.post(&url).header("origin", "https://evil.example").form(&form).send().await.unwrap();
        assert_eq!(foreign.status(), 403);
        let cross_site =
            admin.client.post(&url).header("sec-fetch-site", "cross-site").form(&form).send().await.unwrap();
        assert_eq!(cross_site.status(), 403);
        // A client that says nothing of where it comes from is refused too.
        let anonymous = reqwest::Client::new().post(&url).form(&form).send().await.unwrap();
        assert_eq!(anonymous.status(), 403);
        assert_eq!(app.scalar("SELECT COUNT(*) FROM users").await, before);
    }

    #[tokio::test]
    async fn nothing_changes_over_get() {
        let app = spawn_app_with_demo().await;
        let admin = app.signed_in("morgan").await;
        let before = app.scalar("SELECT COUNT(*) FROM users").await;
        let response = admin
            .get(
                "/console/create_user?username=viaget&display_name=Via&role=admin&password=forklift-orbit-tangerine-42",
            )
            .await;
        assert!(!response.status().is_success());
        assert_eq!(app.scalar("SELECT COUNT(*) FROM users").await, before);
    }

    #[tokio::test]
    async fn the_ingest_api_is_not_subject_to_the_origin_check() {
        let app = spawn_app_with_demo().await;
        let key = app.source("cli", "t-wms/", 10.0, 10).await;
        let event = serde_json::json!({"specversion": "1.0", "id": "o-1", "source": "t-wms/a", "type": "inventory.snapshot",
            "time": "2026-11-24T16:05:00Z", "data": {"item": "SKU-1", "erp_qty": 1, "wms_qty": 2}});
        assert_eq!(app.post_event(&key, &event).await.status(), 200);
    }
}

/// A server function, its arguments, and whether staff, supervisor, auditor
/// and admin may call it.
type Case<'a> = (&'a str, Vec<(&'a str, String)>, [bool; 4]);

/// Every action, for every role: allowed or denied by the server.
#[tokio::test]
async fn every_action_is_allowed_or_denied_by_role() {
    let app = spawn_app_with_demo().await;
    let pat_id = user_id(&app, "pat").await.to_string();
    let actions: Vec<Case> = vec![
        // name, arguments, allowed for [staff, supervisor, auditor, admin]
        ("queue_page", vec![("query", String::new())], [true, true, true, true]),
        ("queue_counts", vec![], [true, true, true, true]),
        ("assignees", vec![], [true, true, true, true]),
        ("list_queues", vec![], [true, true, true, true]),
        ("list_users", vec![], [false, false, false, true]),
        (
            "create_user",
            vec![
                ("username", "matrix.user".into()),
                ("display_name", "Matrix".into()),
                ("role", "staff".into()),
                ("password", "forklift-orbit-tangerine-42".into()),
            ],
            [false, false, false, true],
        ),
        (
            "update_user",
            vec![
                ("id", pat_id.clone()),
                ("display_name", "Pat Rivera".into()),
                ("role", "staff".into()),
                ("queues[0]", "receiving".into()),
            ],
            [false, false, false, true],
        ),
        (
            "reset_password",
            vec![("id", pat_id.clone()), ("password", "forklift-orbit-tangerine-43".into())],
            [false, false, false, true],
        ),
        ("list_sources", vec![], [false, false, false, true]),
        (
            "create_source",
            vec![
                ("name", "matrix".into()),
                ("prefixes", "mx/".into()),
                ("rate_per_sec", "5".into()),
                ("burst", "5".into()),
            ],
            [false, false, false, true],
        ),
        (
            "update_source",
            vec![
                ("name", "erp".into()),
                ("prefixes", "t-erp/".into()),
                ("rate_per_sec", "50".into()),
                ("burst", "500".into()),
            ],
            [false, false, false, true],
        ),
        ("rotate_source_key", vec![("name", "erp".into()), ("grace_hours", "1".into())], [false, false, false, true]),
        ("add_signing_secret", vec![("name", "tms".into()), ("replace", "false".into())], [false, false, false, true]),
        ("revoke_source_keys", vec![("name", "portal".into())], [false, false, false, true]),
        (
            "save_queue",
            vec![
                ("key", "returns".into()),
                ("name", "Returns".into()),
                ("team", "Warehouse operations".into()),
                ("sla_policy", "Warehouse".into()),
                ("site", "DC-DAL".into()),
            ],
            [false, false, false, true],
        ),
        ("audit_page", vec![("query", String::new())], [false, false, true, true]),
        ("set_user_disabled", vec![("id", pat_id.clone()), ("disabled", "false".into())], [false, false, false, true]),
    ];
    let roles = ["pat", "sam", "alex", "morgan"];
    let mut failures = Vec::new();
    for (i, user) in roles.iter().enumerate() {
        let browser = app.signed_in(user).await;
        for (name, args, allowed) in &actions {
            // Keep re-runs of creating actions distinct per role.
            let args: Vec<(&str, String)> = args
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        if *k == "username" || (*name == "create_source" && *k == "name") {
                            format!("{v}{i}")
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect();
            let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let status = browser.server_fn(name, &form).await.status().as_u16();
            let expected = if allowed[i] { 200 } else { 403 };
            if status != expected {
                failures.push(format!("{user} {name}: {status}, expected {expected}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn arguments_that_do_not_parse_are_a_bad_request() {
    let app = spawn_app_with_demo().await;
    let admin = app.signed_in("morgan").await;
    let response = admin.server_fn("set_user_disabled", &[("id", "not-a-number"), ("disabled", "true")]).await;
    assert_eq!(response.status(), 400);
    let missing = admin.server_fn("reset_password", &[("id", "1")]).await;
    assert_eq!(missing.status(), 400);
}
