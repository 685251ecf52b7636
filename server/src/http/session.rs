//! Console sessions (cookie, stored in the database), the origin check that
//! guards every state change, and no caching of private pages.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::auth::{CurrentUser, UserId};
use crate::http::problem::Problem;
use crate::services::{ServiceError, Services, SessionStamp};
use crate::store::{self, Pool};

/// Session lifetimes and cookie settings.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// A session ends this long after sign-in, active or not.
    pub max: Duration,
    pub secure_cookie: bool,
    /// `scheme://host[:port]` of the console as people reach it.
    pub public_origin: String,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// The client a request comes from: the peer, unless the peer is a trusted
/// proxy, then the nearest address in `X-Forwarded-For` that is not one.
pub fn client_ip(peer: std::net::IpAddr, forwarded_for: Option<&str>, trusted: &[ipnet::IpNet]) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.unwrap_or_default().rsplit(',') {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // A hop that is not an address: trust nothing beyond it.
            Err(_) => return client,
        }
    }
    client
}

const KEY: &str = "crossdock.user";
/// How stale the last-seen time may get before it is written again (each
/// write also pushes the cookie's and the stored session's expiry on).
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct SessionData {
    user: i64,
    epoch: i64,
    login_at: i64,
    seen_at: i64,
}

/// The session layer: HttpOnly, SameSite=Lax, Secure over https, expiring
/// after the idle time.
pub fn layer(pool: Pool, settings: &SessionSettings) -> SessionManagerLayer<Sessions> {
    let idle = time::Duration::seconds(settings.idle.num_seconds());
    SessionManagerLayer::new(Sessions { pool })
        .with_name("crossdock_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure_cookie)
        .with_expiry(Expiry::OnInactivity(idle))
}

/// The session records, in the database every instance shares.
#[derive(Debug, Clone)]
pub struct Sessions {
    pool: Pool,
}

fn backend(err: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn encoded(record: &Record) -> session_store::Result<(String, String, i64)> {
    let data = serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let expires_at = (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64;
    Ok((record.id.to_string(), data, expires_at))
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let now = Utc::now().timestamp_millis();
        loop {
            let (id, data, expires_at) = encoded(record)?;
            if store::sessions::create(&self.pool, &id, &data, expires_at, now).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (id, data, expires_at) = encoded(record)?;
        store::sessions::save(&self.pool, &id, &data, expires_at).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = Utc::now().timestamp_millis();
        let Some(data) = store::sessions::load(&self.pool, &id.to_string(), now).await.map_err(backend)? else {
            return Ok(None);
        };
        // A record this version cannot read is no session: sign in again.
        Ok(serde_json::from_str(&data).ok())
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        store::sessions::delete(&self.pool, &id.to_string()).await.map_err(backend)
    }
}

/// Starts a signed-in session with a fresh id.
pub async fn sign_in(session: &Session, stamp: SessionStamp) -> anyhow::Result<()> {
    session.cycle_id().await?;
    let now = Utc::now().timestamp_millis();
    let data = SessionData { user: stamp.user.0, epoch: stamp.epoch, login_at: now, seen_at: now };
    session.insert(KEY, data).await?;
    Ok(())
}

/// Ends the session and forgets it.
pub async fn sign_out(session: &Session) -> anyhow::Result<()> {
    session.flush().await?;
    Ok(())
}

/// The user of this session, if it is signed in and still valid: not idle
/// too long, not older than the absolute limit, and the account unchanged.
pub async fn signed_in(
    session: &Session,
    services: &Services,
    settings: &SessionSettings,
) -> Result<Option<CurrentUser>, ServiceError> {
    let data: Option<SessionData> =
        session.get(KEY).await.map_err(|e| ServiceError::Internal(anyhow::anyhow!("session store: {e}")))?;
    let Some(mut data) = data else { return Ok(None) };
    let now = Utc::now().timestamp_millis();
    let expired =
        now - data.seen_at > settings.idle.num_milliseconds() || now - data.login_at > settings.max.num_milliseconds();
    let user = if expired {
        None
    } else {
        services.session_user(SessionStamp { user: UserId(data.user), epoch: data.epoch }).await?
    };
    let Some(user) = user else {
        session.flush().await.map_err(|e| ServiceError::Internal(anyhow::anyhow!("session store: {e}")))?;
        return Ok(None);
    };
    if now - data.seen_at > TOUCH_EVERY_MS {
        data.seen_at = now;
        session.insert(KEY, data).await.map_err(|e| ServiceError::Internal(anyhow::anyhow!("session store: {e}")))?;
    }
    Ok(Some(user))
}

/// Refuses a state-changing request that does not come from the console's own
/// origin (`Sec-Fetch-Site`, else `Origin`). The ingest API, which
/// authenticates with API keys and sets no cookies, is exempt.
pub async fn same_origin_only(State(settings): State<SessionSettings>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || request.uri().path().starts_with("/api/v1/") {
        return next.run(request).await;
    }
    let headers = request.headers();
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let own_origin = |origin: &str| {
        origin == settings.public_origin
            || host.is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"))
    };
    let allowed = match (fetch_site, origin) {
        (Some(site), _) if site != "same-origin" => false,
        (_, Some(origin)) => own_origin(origin),
        (Some(_), None) => true,
        (None, None) => false,
    };
    if allowed {
        next.run(request).await
    } else {
        Problem::new(StatusCode::FORBIDDEN, "/problems/cross-site", "Cross-site request refused")
            .detail("state changes are accepted only from the console's own pages")
            .into_response()
    }
}

/// Private pages and answers are not kept in any cache, so the back button
/// after signing out shows nothing.
pub async fn no_store(request: Request<Body>, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let static_asset = path.starts_with("/pkg/") || path.starts_with("/favicon");
    if !static_asset {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A server-function call whose arguments do not parse is the caller's
/// mistake: answer 400, not 500.
pub async fn bad_arguments_are_bad_requests(request: Request<Body>, next: Next) -> Response {
    let console_call = request.uri().path().starts_with("/console/");
    let response = next.run(request).await;
    if !console_call || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let error: Option<crossdock_app::AppError> = serde_json::from_slice(&bytes).ok();
    if let Some(crossdock_app::AppError::Transport(
        leptos::server_fn::error::ServerFnErrorErr::Args(_)
        | leptos::server_fn::error::ServerFnErrorErr::MissingArg(_)
        | leptos::server_fn::error::ServerFnErrorErr::Deserialization(_),
    )) = error
    {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_names_it() {
        let proxies: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "192.168.1.1/32".parse().unwrap()];
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert_eq!(client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &proxies), ip("203.0.113.9"), "an untrusted peer");
        assert_eq!(client_ip(ip("10.1.2.3"), Some("198.51.100.7"), &proxies), ip("198.51.100.7"));
        assert_eq!(
            client_ip(ip("10.1.2.3"), Some("6.6.6.6, 198.51.100.7, 192.168.1.1"), &proxies),
            ip("198.51.100.7"),
            "the nearest hop that is not a proxy; what the client wrote further left is not believed"
        );
        assert_eq!(client_ip(ip("10.1.2.3"), None, &proxies), ip("10.1.2.3"));
        assert_eq!(client_ip(ip("10.1.2.3"), Some("junk, 10.9.9.9"), &proxies), ip("10.9.9.9"));
        assert_eq!(client_ip(ip("10.1.2.3"), Some("198.51.100.7"), &[]), ip("10.1.2.3"), "no proxies, no header");
    }
}
