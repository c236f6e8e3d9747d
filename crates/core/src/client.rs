//! The REST client: one place that knows HTTP, problem+json and token refresh.

use std::sync::Arc;
use std::time::Duration;

use jingtong_api::auth::{RefreshRequest, TokenPair};
use jingtong_api::ErrorCode;
use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::sync::Mutex;
use tracing::{debug, info, instrument, warn};

use crate::lang::LangCell;
use crate::tokens::{TokenStore, Tokens};
use crate::{AppError, Sensitive};

/// A dead network should say "offline" quickly, not hang the screen.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Request<'a> {
    pub method: Method,
    pub path: &'a str,
    /// Body bytes and their content type.
    pub body: Option<(String, Vec<u8>)>,
    /// Send the stored access token (and refresh it once on 401).
    pub auth: bool,
    pub idempotency_key: Option<&'a str>,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, path: &'a str) -> Request<'a> {
        Request { method, path, body: None, auth: false, idempotency_key: None }
    }

    pub fn json(mut self, body: &impl serde::Serialize) -> Request<'a> {
        self.body = Some(("application/json".to_owned(), serde_json::to_vec(body).expect("request types serialise")));
        self
    }

    /// A body built elsewhere (multipart), kept as bytes so a retry sends exactly the same request.
    pub fn raw(mut self, content_type: String, bytes: Vec<u8>) -> Request<'a> {
        self.body = Some((content_type, bytes));
        self
    }

    pub fn idempotent(mut self, key: &'a str) -> Request<'a> {
        self.idempotency_key = Some(key);
        self
    }

    pub fn authed(mut self) -> Request<'a> {
        self.auth = true;
        self
    }
}

/// An id from the UI or the server as one URL path segment: only what our ids look like (UUIDs,
/// bill and receipt numbers), so nothing can step into another path.
pub(crate) fn segment(id: &str) -> Result<&str, ErrorCode> {
    let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(id).ok_or(ErrorCode::NotFound)
}

pub(crate) struct Response {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

pub(crate) struct Client {
    http: reqwest::Client,
    /// For server-sent events: no overall timeout, the stream stays open.
    streaming: reqwest::Client,
    base: String,
    lang: Arc<LangCell>,
    pub tokens: TokenStore,
    /// Refresh tokens rotate: two concurrent refreshes would burn the second one.
    refresh_lock: Mutex<()>,
}

impl Client {
    pub fn new(base_url: &str, lang: Arc<LangCell>, tokens: TokenStore) -> Result<Client, ErrorCode> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("jingtong-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ErrorCode::Internal)?;
        let streaming = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // The server sends a keep-alive every 15 s: silence this long means the connection is gone.
            .read_timeout(Duration::from_secs(40))
            .user_agent(concat!("jingtong-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ErrorCode::Internal)?;
        Ok(Client {
            http,
            streaming,
            base: base_url.trim_end_matches('/').to_owned(),
            lang,
            tokens,
            refresh_lock: Mutex::new(()),
        })
    }

    pub fn error(&self, code: ErrorCode) -> AppError {
        AppError::new(code, self.lang.get())
    }

    /// One HTTP exchange. Any status is `Ok`; only a transport failure is an error (`offline`).
    pub async fn send(&self, req: &Request<'_>, bearer: Option<&Sensitive<String>>) -> Result<Response, AppError> {
        let mut rb = self
            .http
            .request(req.method.clone(), format!("{}{}", self.base, req.path))
            .header(ACCEPT, "application/json, application/problem+json")
            .header(ACCEPT_LANGUAGE, self.lang.get().tag());
        if let Some(token) = bearer {
            rb = rb.bearer_auth(token.expose());
        }
        if let Some(key) = req.idempotency_key {
            rb = rb.header("Idempotency-Key", key);
        }
        if let Some((content_type, body)) = &req.body {
            rb = rb.header(CONTENT_TYPE, content_type.as_str()).body(body.clone());
        }
        let resp = rb.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| self.transport(e))?.to_vec();
        debug!(%status, "response");
        Ok(Response { status, body })
    }

    fn transport(&self, e: reqwest::Error) -> AppError {
        // reqwest errors name the URL, never a header or body.
        info!(error = %e, "server unreachable");
        self.error(ErrorCode::Offline)
    }

    /// Sends; for `auth` requests attaches the stored access token and, on 401, refreshes once and retries.
    /// Non-2xx answers come back as `Ok` so callers (the outbox) can judge them.
    #[instrument(skip_all, fields(method = %req.method, path = req.path))]
    pub async fn exchange(&self, req: &Request<'_>) -> Result<Response, AppError> {
        if !req.auth {
            return self.send(req, None).await;
        }
        let lang = self.lang.get();
        let tokens = self.tokens.load().await.map_err(|c| AppError::new(c, lang))?;
        let Some(tokens) = tokens else { return Err(self.error(ErrorCode::Unauthorized)) };
        let resp = self.send(req, Some(&tokens.access)).await?;
        if resp.status != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let fresh = self.refresh(&tokens.access).await?;
        self.send(req, Some(&fresh.access)).await
    }

    /// Opens a server-sent event stream with the stored access token (refreshed once on 401).
    pub async fn open_stream(&self, path: &str) -> Result<reqwest::Response, AppError> {
        let lang = self.lang.get();
        let tokens = self.tokens.load().await.map_err(|c| AppError::new(c, lang))?;
        let Some(tokens) = tokens else { return Err(self.error(ErrorCode::Unauthorized)) };
        let open = |token: &Sensitive<String>| {
            self.streaming
                .get(format!("{}{path}", self.base))
                .header(ACCEPT, "text/event-stream")
                .header(ACCEPT_LANGUAGE, lang.tag())
                .bearer_auth(token.expose())
                .send()
        };
        let mut resp = open(&tokens.access).await.map_err(|e| self.transport(e))?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            let fresh = self.refresh(&tokens.access).await?;
            resp = open(&fresh.access).await.map_err(|e| self.transport(e))?;
        }
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| self.transport(e))?.to_vec();
        Err(self.problem(&Response { status, body }))
    }

    /// 2xx → parsed body; anything else → the server's problem as an `AppError`.
    pub async fn json<T: DeserializeOwned>(&self, req: &Request<'_>) -> Result<T, AppError> {
        let resp = self.exchange(req).await?;
        if !resp.status.is_success() {
            return Err(self.problem(&resp));
        }
        serde_json::from_slice(&resp.body).map_err(|_| {
            warn!(status = %resp.status, "unparseable success body");
            self.error(ErrorCode::UnexpectedResponse)
        })
    }

    pub async fn empty(&self, req: &Request<'_>) -> Result<(), AppError> {
        let resp = self.exchange(req).await?;
        if resp.status.is_success() {
            Ok(())
        } else {
            Err(self.problem(&resp))
        }
    }

    /// Reads problem+json. A code this app does not know yet still shows the server's message.
    pub fn problem(&self, resp: &Response) -> AppError {
        #[derive(Deserialize)]
        struct Loose {
            code: String,
            #[serde(default)]
            detail: String,
        }
        match serde_json::from_slice::<Loose>(&resp.body) {
            Ok(p) => {
                let code = p.code.parse().unwrap_or_else(|_| by_status(resp.status));
                let message =
                    if p.detail.trim().is_empty() { code.message(self.lang.get()).to_owned() } else { p.detail };
                AppError { code, message }
            }
            // A proxy's HTML error page in front of a down server.
            Err(_) if matches!(resp.status.as_u16(), 502..=504) => self.error(ErrorCode::ServiceUnavailable),
            Err(_) => {
                warn!(status = %resp.status, "unparseable error body");
                self.error(ErrorCode::UnexpectedResponse)
            }
        }
    }

    /// Exchanges the refresh token for a new pair, once per expired access token however many
    /// requests noticed. A rejected refresh ends the session locally.
    #[instrument(skip_all)]
    async fn refresh(&self, used_access: &Sensitive<String>) -> Result<Tokens, AppError> {
        let _one_at_a_time = self.refresh_lock.lock().await;
        let lang = self.lang.get();
        let current = self.tokens.load().await.map_err(|c| AppError::new(c, lang))?;
        let Some(current) = current else { return Err(self.error(ErrorCode::Unauthorized)) };
        if &current.access != used_access {
            debug!("already refreshed by another request");
            return Ok(current);
        }
        let body = RefreshRequest { refresh_token: current.refresh.expose().clone() };
        let resp = self.send(&Request::new(Method::POST, "/api/v1/auth/refresh").json(&body), None).await?;
        if resp.status.is_success() {
            let pair: TokenPair =
                serde_json::from_slice(&resp.body).map_err(|_| self.error(ErrorCode::UnexpectedResponse))?;
            info!("session refreshed");
            return self.tokens.save(&pair.access_token, &pair.refresh_token).await.map_err(|c| AppError::new(c, lang));
        }
        if resp.status.is_client_error() {
            info!(status = %resp.status, "refresh rejected; session ended");
            self.tokens.clear().await.map_err(|c| AppError::new(c, lang))?;
            return Err(self.error(ErrorCode::Unauthorized));
        }
        Err(self.problem(&resp))
    }
}

fn by_status(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        400 | 422 => ErrorCode::InvalidRequest,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        413 => ErrorCode::PayloadTooLarge,
        423 => ErrorCode::PhoneLocked,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::ServiceUnavailable,
        500..=599 => ErrorCode::Internal,
        _ => ErrorCode::UnexpectedResponse,
    }
}
