//! `Core`: the one object the app shell talks to.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use jingtong_api::auth::{Me, SessionRequest, SmsCodeRequest, SmsCodeSent, TokenPair};
use jingtong_api::identity::{FaceChallenge, FaceChallengeRequest, FaceDecision, FaceOutcome};
use jingtong_api::payments::{BillView, PaymentOrder, Receipt};
use jingtong_api::{ErrorCode, IdNumber, Lang, Page, Phone};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use tokio::sync::Mutex;
use tracing::{info, instrument, warn};

use crate::client::{Client, Request};
use crate::face::{FaceFlow, FrameCheck};
use crate::lang::LangCell;
use crate::outbox::{self, FlushReport, OutboxEntry};
use crate::pay::Payments;
use crate::tokens::TokenStore;
use crate::vault::Vault;
use crate::{account, db, drafts, session, AppError, Keychain, KeychainBackend, Sensitive, SessionInfo, Unsent};

pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8080";
const REVOKE: &str = "/api/v1/auth/sessions/current";

#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Holds the local database; nothing secret is written here.
    pub data_dir: PathBuf,
    pub server_url: String,
    /// Service name of the keychain entries (tests use a unique one).
    pub keyring_service: String,
    pub keychain: KeychainBackend,
    /// YuNet + SFace models for the local frame check (`jingtong_face::asset_dir()/models` by default).
    /// Without them frames are checked by the server only.
    pub face_models: PathBuf,
}

impl CoreConfig {
    /// `JINGTONG_SERVER_URL` (default `http://127.0.0.1:8080`), `JINGTONG_KEYRING_SERVICE` (default `jingtong`).
    pub fn from_env(data_dir: PathBuf) -> CoreConfig {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        CoreConfig {
            data_dir,
            server_url: var("JINGTONG_SERVER_URL").unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned()),
            keyring_service: var("JINGTONG_KEYRING_SERVICE").unwrap_or_else(|| "jingtong".to_owned()),
            keychain: KeychainBackend::Auto,
            face_models: jingtong_face::asset_dir().join("models"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct AppInfo {
    pub version: String,
    pub server_url: String,
}

pub struct Core {
    db: SqlitePool,
    lang: Arc<LangCell>,
    client: Client,
    vault: Vault,
    server_url: String,
    flush_lock: Mutex<()>,
    face: FaceFlow,
    pay: Payments,
    changes: crate::changes::Changes,
}

impl Core {
    pub async fn open(config: CoreConfig) -> Result<Core, AppError> {
        let lang = Arc::new(LangCell::default());
        let url = reqwest::Url::parse(&config.server_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| AppError {
                code: ErrorCode::InvalidRequest,
                message: format!("JINGTONG_SERVER_URL is not an http(s) URL: {}", config.server_url),
            })?;
        let server_url = url.as_str().trim_end_matches('/').to_owned();
        let db = db::open(&config.data_dir).await.map_err(|c| AppError::new(c, Lang::ZhCn))?;
        let keychain = Keychain::new(config.keychain, &config.keyring_service);
        info!(backend = ?keychain.backend(), %server_url, "core opened");
        let client = Client::new(&server_url, lang.clone(), TokenStore::new(keychain.clone()))
            .map_err(|c| AppError::new(c, Lang::ZhCn))?;
        let face = FaceFlow::new(config.face_models);
        Ok(Core {
            db,
            lang,
            client,
            vault: Vault::new(keychain),
            server_url,
            flush_lock: Mutex::new(()),
            face,
            pay: Payments::default(),
            changes: crate::changes::Changes::default(),
        })
    }

    fn err(&self, code: ErrorCode) -> AppError {
        AppError::new(code, self.lang.get())
    }

    /// Messages (local ones, and the server's through `Accept-Language`) follow this language.
    pub fn set_language(&self, lang: Lang) {
        self.lang.set(lang);
    }

    pub fn language(&self) -> Lang {
        self.lang.get()
    }

    pub fn app_info(&self) -> AppInfo {
        AppInfo { version: env!("CARGO_PKG_VERSION").to_owned(), server_url: self.server_url.clone() }
    }

    #[instrument(skip_all)]
    pub async fn request_sms_code(&self, phone: &str) -> Result<SmsCodeSent, AppError> {
        let phone = Phone::parse(phone).map_err(|c| self.err(c))?;
        // No SMS for a sign-in whose tokens could not be kept.
        self.client.tokens.check().await.map_err(|c| self.err(c))?;
        info!(phone = %phone.masked(), "requesting code");
        let body = SmsCodeRequest { phone: phone.as_str().to_owned() };
        self.client.json(&Request::new(Method::POST, "/api/v1/auth/sms-codes").json(&body)).await
    }

    #[instrument(skip_all)]
    pub async fn sign_in(&self, phone: &str, code: &str) -> Result<SessionInfo, AppError> {
        let phone = Phone::parse(phone).map_err(|c| self.err(c))?;
        let code = code.trim();
        if code.len() != jingtong_api::auth::rules::CODE_LENGTH || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(ErrorCode::SmsCodeInvalid));
        }
        info!(phone = %phone.masked(), "signing in");
        let body = SessionRequest { phone: phone.as_str().to_owned(), code: code.to_owned() };
        let pair: TokenPair =
            self.client.json(&Request::new(Method::POST, "/api/v1/auth/sessions").json(&body)).await?;
        // No outbox entry may go out while the keychain holds this account's token but the session
        // still names the previous one (or the other way round).
        let _no_flush = self.flush_lock.lock().await;
        session::clear(&self.db).await.map_err(|c| self.err(c))?;
        self.vault.forget().await;
        if let Err(c) = self.client.tokens.save(&pair.access_token, &pair.refresh_token).await {
            // Tokens we cannot keep must not stay valid on the server either.
            let access = Sensitive::new(pair.access_token);
            let revoked = self.client.send(&Request::new(Method::DELETE, REVOKE), Some(&access)).await;
            warn!(revoked = revoked.is_ok_and(|r| r.status.is_success()), "keychain refused the tokens");
            return Err(self.err(c));
        }
        match self.refresh_session().await {
            Ok(info) => {
                // What was typed while signed out is the sign-in form of whoever just signed in.
                if let Err(c) = drafts::remove_all(&self.db, "").await {
                    warn!(code = %c, "signed-out drafts not removed");
                }
                Ok(info)
            }
            Err(e) => {
                let _ = self.client.empty(&Request::new(Method::DELETE, REVOKE).authed()).await;
                let _ = self.client.tokens.clear().await;
                Err(e)
            }
        }
    }

    /// Fetches `GET /me` and caches it (the verification level changes on the server).
    #[instrument(skip_all)]
    pub async fn refresh_session(&self) -> Result<SessionInfo, AppError> {
        let result: Result<Me, AppError> = self.client.json(&Request::new(Method::GET, "/api/v1/me").authed()).await;
        match result {
            Ok(me) => {
                let info = SessionInfo::from(me);
                session::save(&self.db, &info).await.map_err(|c| self.err(c))?;
                Ok(info)
            }
            Err(e) if e.code == ErrorCode::Unauthorized => {
                let _ = session::clear(&self.db).await;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// What the signed-in account has not sent yet (drafts, unconfirmed outbox entries): the UI asks
    /// before sign-out whether to keep them (only this account can see them again) or delete them.
    pub async fn unsent(&self) -> Result<Unsent, AppError> {
        let account = account::current(&self.db).await.map_err(|c| self.err(c))?;
        if account.is_empty() {
            return Ok(Unsent::default());
        }
        account::unsent(&self.db, &account).await.map_err(|c| self.err(c))
    }

    /// Revokes the session on the server and forgets it here. Offline, it still forgets it
    /// locally and succeeds; the server-side refresh token then simply expires. The account's drafts
    /// and outbox stay on this computer, readable only after this account signs in again.
    pub async fn sign_out(&self) -> Result<(), AppError> {
        self.sign_out_with(false).await
    }

    /// Signs out and removes the account's drafts and outbox entries from this computer, with its key.
    pub async fn sign_out_and_delete(&self) -> Result<(), AppError> {
        self.sign_out_with(true).await
    }

    #[instrument(skip(self))]
    async fn sign_out_with(&self, delete_local: bool) -> Result<(), AppError> {
        // A flush under way finishes first; none starts until the session is gone.
        let _no_flush = self.flush_lock.lock().await;
        if delete_local {
            let account = account::current(&self.db).await.map_err(|c| self.err(c))?;
            if !account.is_empty() {
                account::remove(&self.db, &self.vault, &account).await.map_err(|c| self.err(c))?;
                info!("local data of the account removed");
            }
        }
        let tokens = self.client.tokens.load().await.map_err(|c| self.err(c))?;
        if tokens.is_some() {
            match self.client.empty(&Request::new(Method::DELETE, REVOKE).authed()).await {
                Ok(()) => info!("session revoked"),
                Err(e) if e.code == ErrorCode::Offline => {
                    warn!("offline: revocation not confirmed; signed out locally")
                }
                Err(e) => warn!(code = %e.code, "server did not confirm revocation; signed out locally"),
            }
        }
        self.client.tokens.clear().await.map_err(|c| self.err(c))?;
        // Nothing of this account stays in memory for the next one.
        self.changes.reset();
        self.vault.forget().await;
        self.pay.forget().await;
        self.face.cancel().await;
        session::clear(&self.db).await.map_err(|c| self.err(c))
    }

    /// The account local data belongs to now (`""` while signed out).
    async fn account(&self) -> Result<String, AppError> {
        account::current(&self.db).await.map_err(|c| self.err(c))
    }

    /// The session as stored on this device; no network. `None` once the tokens are gone.
    pub async fn current_session(&self) -> Result<Option<SessionInfo>, AppError> {
        let Some(info) = session::load(&self.db).await.map_err(|c| self.err(c))? else { return Ok(None) };
        match self.client.tokens.load().await.map_err(|c| self.err(c))? {
            Some(_) => Ok(Some(info)),
            None => {
                session::clear(&self.db).await.map_err(|c| self.err(c))?;
                Ok(None)
            }
        }
    }

    pub async fn draft_save(&self, item: &str, payload: &serde_json::Value) -> Result<(), AppError> {
        let account = self.account().await?;
        drafts::save(&self.db, &self.vault, &account, item, payload).await.map_err(|c| self.err(c))
    }

    pub async fn draft_load(&self, item: &str) -> Result<Option<serde_json::Value>, AppError> {
        let account = self.account().await?;
        drafts::load(&self.db, &self.vault, &account, item).await.map_err(|c| self.err(c))
    }

    pub async fn draft_discard(&self, item: &str) -> Result<(), AppError> {
        let account = self.account().await?;
        drafts::discard(&self.db, &account, item).await.map_err(|c| self.err(c))
    }

    /// Queues a submission with a fresh Idempotency-Key (UUIDv7); `outbox_flush` sends it.
    pub async fn outbox_enqueue(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<OutboxEntry, AppError> {
        let account = self.account().await?;
        outbox::enqueue(&self.db, &self.vault, &account, method, path, body, None).await.map_err(|c| self.err(c))
    }

    /// Sends the signed-in account's pending entries (signed out: those queued while signed out).
    pub async fn outbox_flush(&self) -> Result<FlushReport, AppError> {
        let _one_at_a_time = self.flush_lock.lock().await;
        let account = self.account().await?;
        outbox::flush(&self.db, &self.vault, &self.client, &account).await.map_err(|c| self.err(c))
    }

    pub async fn outbox_entries(&self) -> Result<Vec<OutboxEntry>, AppError> {
        let account = self.account().await?;
        outbox::list(&self.db, &account).await.map_err(|c| self.err(c))
    }

    pub async fn outbox_discard(&self, id: &str) -> Result<(), AppError> {
        let account = self.account().await?;
        outbox::discard(&self.db, &account, id).await.map_err(|c| self.err(c))
    }

    /// Starts face verification: checks name and ID number here, then asks the server for a challenge.
    #[instrument(skip_all)]
    pub async fn face_start(&self, name: &str, id_number: &str) -> Result<FaceChallenge, AppError> {
        let id_number = IdNumber::parse(id_number).map_err(|c| self.err(c))?;
        let name = jingtong_api::identity::parse_name(name).map_err(|c| self.err(c))?;
        info!(id_number = %id_number.masked(), "requesting a face challenge");
        let body = FaceChallengeRequest { name, id_number: id_number.as_str().to_owned() };
        let challenge: FaceChallenge = self
            .client
            .json(&Request::new(Method::POST, "/api/v1/identity/face-challenges").json(&body).authed())
            .await?;
        self.face.begin(challenge.clone()).await.map_err(|c| self.err(c))?;
        Ok(challenge)
    }

    /// Checks one frame (base64 JPEG or PNG, as a camera canvas or a file import gives it) for `slot`.
    pub async fn face_check_frame(&self, slot: u32, image_base64: &str) -> Result<FrameCheck, AppError> {
        let data = image_base64.rsplit_once("base64,").map_or(image_base64, |(_, d)| d);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| self.err(ErrorCode::FaceFrameInvalid))?;
        let mut check = self.face.check(slot, bytes).await.map_err(|c| self.err(c))?;
        if let Some(problem) = check.problem {
            check.message = problem.message(self.lang.get()).to_owned();
        }
        Ok(check)
    }

    /// Sends the three accepted frames; on success the session shows the new verification level.
    #[instrument(skip_all)]
    pub async fn face_submit(&self) -> Result<FaceDecision, AppError> {
        let decision = crate::face::submit(&self.face, &self.client).await?;
        info!(outcome = ?decision.outcome, reason = ?decision.reason, "face decision");
        if decision.outcome == FaceOutcome::Verified {
            if let Err(e) = self.refresh_session().await {
                warn!(code = %e.code, "verified, but the session could not be refreshed yet");
            }
        }
        Ok(decision)
    }

    /// Drops the challenge and any frames taken for it.
    pub async fn face_cancel(&self) {
        self.face.cancel().await;
    }

    /// Reads the bill QR code in a picture (base64 JPEG/PNG: a camera frame or an imported photo) and
    /// asks the server for the bill. `qr_not_found` while the camera has no code in view.
    pub async fn pay_scan_image(&self, image_base64: &str) -> Result<BillView, AppError> {
        let data = image_base64.rsplit_once("base64,").map_or(image_base64, |(_, d)| d);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| self.err(ErrorCode::QrImageInvalid))?;
        let texts = tokio::task::spawn_blocking(move || crate::qr::decode_qr(&bytes))
            .await
            .map_err(|_| self.err(ErrorCode::Internal))?
            .map_err(|c| self.err(c))?;
        let code = crate::pay::pick_bill_code(texts).map_err(|c| self.err(c))?;
        self.pay.scan(&self.client, &code).await
    }

    /// The same for a code read by a phone's scanner plugin (text).
    pub async fn pay_scan_text(&self, code: &str) -> Result<BillView, AppError> {
        self.pay.scan(&self.client, code).await
    }

    /// One page of the resident's bills; `cursor` is the previous page's `next_cursor`.
    pub async fn bills(&self, cursor: Option<&str>) -> Result<Page<BillView>, AppError> {
        self.pay.bills(&self.client, cursor).await
    }

    pub async fn bill(&self, bill_id: &str) -> Result<BillView, AppError> {
        self.pay.bill(&self.client, bill_id).await
    }

    pub async fn pay_order(&self, bill_id: &str) -> Result<PaymentOrder, AppError> {
        self.pay.order(&self.client, bill_id).await
    }

    pub async fn pay_order_status(&self, order_id: &str) -> Result<PaymentOrder, AppError> {
        self.pay.order_status(&self.client, order_id).await
    }

    pub async fn receipt(&self, number: &str) -> Result<Receipt, AppError> {
        self.pay.receipt(&self.client, number).await
    }

    /// The receipt's verification QR code as SVG markup.
    pub fn receipt_qr_svg(&self, verify_code: &str) -> Result<String, AppError> {
        crate::pay::receipt_qr_svg(verify_code).map_err(|c| self.err(c))
    }

    /// Writes the receipt as a self-contained HTML file into `dir`; returns its path.
    pub async fn receipt_export(&self, number: &str, dir: &std::path::Path) -> Result<PathBuf, AppError> {
        let receipt = self.receipt(number).await?;
        let html = crate::pay::receipt_html(&receipt).map_err(|c| self.err(c))?;
        let path = dir.join(format!("jingtong-receipt-{}.html", receipt.receipt_number));
        tokio::fs::create_dir_all(dir).await.map_err(|_| self.err(ErrorCode::ExportFailed))?;
        tokio::fs::write(&path, html).await.map_err(|_| self.err(ErrorCode::ExportFailed))?;
        info!("receipt exported");
        Ok(path)
    }

    /// The provider page URL, only if it is on this app's server (the local provider) or HTTPS.
    pub fn provider_url(&self, pay_url: &str) -> Result<reqwest::Url, AppError> {
        let url = reqwest::Url::parse(pay_url).map_err(|_| self.err(ErrorCode::UnexpectedResponse))?;
        let ours = pay_url.starts_with(&format!("{}/", self.server_url));
        if ours || url.scheme() == "https" {
            Ok(url)
        } else {
            Err(self.err(ErrorCode::UnexpectedResponse))
        }
    }

    /// The service item page (fees, time limit, materials, legal sources) from the rules data; no network.
    pub fn service_item(&self, item: &str) -> Result<crate::ServiceItemPage, AppError> {
        crate::services::page(item, crate::services::shanghai_today()).map_err(|c| self.err(c))
    }

    /// Turns a photo (base64 JPEG/PNG) into a GA 461 ID photo on the device, or says what is wrong.
    pub async fn id_photo_check(&self, image_base64: &str) -> Result<crate::IdPhotoCheck, AppError> {
        let data = image_base64.rsplit_once("base64,").map_or(image_base64, |(_, d)| d);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| self.err(ErrorCode::FaceFrameInvalid))?;
        let engine = self.face.engine().await.ok_or_else(|| self.err(ErrorCode::ServiceUnavailable))?;
        let spec = crate::id_photo::GA_461;
        let p = tokio::task::spawn_blocking(move || crate::id_photo::process(&bytes, &engine, &spec))
            .await
            .map_err(|_| self.err(ErrorCode::Internal))?;
        Ok(crate::IdPhotoCheck {
            ok: p.problem.is_none(),
            problem: p.problem,
            message: p.problem.map(|c| c.message(self.lang.get()).to_owned()).unwrap_or_default(),
            bytes: p.jpeg.as_ref().map_or(0, |j| j.len() as u32),
            jpeg_base64: p.jpeg.map(|j| base64::engine::general_purpose::STANDARD.encode(j)),
            face_width_px: p.face_width_px,
            head_top_px: p.head_top_px,
            eye_line_from_bottom_px: p.eye_line_from_bottom_px,
        })
    }

    /// Submits an application made in the form whose draft is `draft_item`: sent now, or queued in the
    /// outbox when offline. The draft goes only when the server confirmed it.
    #[instrument(skip_all)]
    pub async fn application_submit(
        &self,
        request: &jingtong_api::applications::ApplicationRequest,
        draft_item: &str,
    ) -> Result<crate::SubmitOutcome, AppError> {
        let _one_at_a_time = self.flush_lock.lock().await;
        let account = self.account().await?;
        let (db, vault, lang) = (&self.db, &self.vault, self.lang.get());
        crate::applications::submit(db, vault, &self.client, &account, lang, request, draft_item).await
    }

    pub async fn pickup_stations(&self) -> Result<Vec<jingtong_api::applications::PickupStation>, AppError> {
        crate::applications::stations(&self.client).await
    }

    /// One page of the resident's applications, newest first.
    pub async fn applications(
        &self,
        cursor: Option<&str>,
    ) -> Result<Page<jingtong_api::applications::ApplicationView>, AppError> {
        crate::applications::list(&self.client, cursor).await
    }

    pub async fn application(&self, id: &str) -> Result<jingtong_api::applications::ApplicationView, AppError> {
        crate::applications::get(&self.client, id).await
    }

    pub async fn application_withdraw(
        &self,
        id: &str,
    ) -> Result<jingtong_api::applications::ApplicationView, AppError> {
        crate::applications::withdraw(&self.client, id).await
    }

    /// The vehicle-moving rules as the app shows them (embedded data, offline).
    pub fn move_rules(&self) -> jingtong_rules::MoveRules {
        jingtong_rules::MoveRules::load().clone()
    }

    /// Compresses a scene photo (base64 or data URL) on the device before it is attached.
    pub async fn move_photo_prepare(&self, image_base64: &str) -> Result<crate::PreparedPhoto, AppError> {
        let data = image_base64.rsplit_once("base64,").map_or(image_base64, |(_, d)| d);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| self.err(ErrorCode::MovePhotosInvalid))?;
        let prepared = tokio::task::spawn_blocking(move || crate::moves::prepare_photo(&bytes))
            .await
            .map_err(|_| self.err(ErrorCode::Internal))?
            .ok_or_else(|| self.err(ErrorCode::MovePhotosInvalid))?;
        let (jpeg, width, height) = prepared;
        Ok(crate::PreparedPhoto {
            bytes: u32::try_from(jpeg.len()).unwrap_or(u32::MAX),
            jpeg_base64: base64::engine::general_purpose::STANDARD.encode(jpeg),
            width,
            height,
        })
    }

    /// Files a vehicle-moving request from the form whose draft is `draft_item`: sent now, or queued.
    #[instrument(skip_all)]
    pub async fn move_submit(
        &self,
        request: &jingtong_api::moves::MoveRequest,
        draft_item: &str,
    ) -> Result<crate::MoveSubmitOutcome, AppError> {
        let _one_at_a_time = self.flush_lock.lock().await;
        let account = self.account().await?;
        crate::moves::submit(&self.db, &self.vault, &self.client, &account, self.lang.get(), request, draft_item).await
    }

    /// One page of the resident's vehicle-moving requests (sent and received), newest first.
    pub async fn vehicle_moves(&self, cursor: Option<&str>) -> Result<Page<jingtong_api::moves::MoveView>, AppError> {
        crate::moves::list(&self.client, cursor).await
    }

    pub async fn vehicle_move(&self, id: &str) -> Result<jingtong_api::moves::MoveView, AppError> {
        crate::moves::get(&self.client, id).await
    }

    pub async fn vehicle_move_remind(&self, id: &str) -> Result<jingtong_api::moves::MoveView, AppError> {
        crate::moves::act(&self.client, id, "remind").await
    }

    pub async fn vehicle_move_resolve(&self, id: &str) -> Result<jingtong_api::moves::MoveView, AppError> {
        crate::moves::act(&self.client, id, "resolve").await
    }

    pub async fn vehicle_move_report(&self, id: &str) -> Result<jingtong_api::moves::MoveView, AppError> {
        crate::moves::act(&self.client, id, "report").await
    }

    pub async fn vehicle_move_answer(
        &self,
        id: &str,
        answer: &jingtong_api::moves::MoveAnswer,
    ) -> Result<jingtong_api::moves::MoveView, AppError> {
        crate::moves::answer(&self.client, id, answer).await
    }

    pub async fn vehicle_move_message(&self, id: &str, text: &str) -> Result<jingtong_api::moves::MoveView, AppError> {
        crate::moves::message(&self.client, id, text).await
    }

    /// Step 1 of a case lookup: receipt number and query code; the server texts a code to the case's phone.
    pub async fn case_lookup_start(
        &self,
        receipt_number: &str,
        query_code: &str,
    ) -> Result<jingtong_api::cases::CaseLookupStarted, AppError> {
        crate::cases::start(&self.client, receipt_number, query_code).await
    }

    pub async fn case_lookup_verify(
        &self,
        lookup_id: &str,
        code: &str,
    ) -> Result<jingtong_api::cases::CaseView, AppError> {
        crate::cases::verify(&self.client, lookup_id, code).await
    }

    /// One page of the cases the resident follows, newest first.
    pub async fn cases(&self, cursor: Option<&str>) -> Result<Page<jingtong_api::cases::CaseView>, AppError> {
        crate::cases::list(&self.client, cursor).await
    }

    pub async fn case(&self, id: &str) -> Result<jingtong_api::cases::CaseView, AppError> {
        crate::cases::get(&self.client, id).await
    }

    /// Waits for the next change the server pushes for the signed-in resident (see `changes.rs`).
    pub async fn wait_change(&self) -> Result<jingtong_api::cases::ChangeEvent, AppError> {
        self.changes.next(&self.client).await
    }

    /// Applications, unpaid bills and cases in one list, what needs the resident first.
    pub async fn progress(&self) -> Result<Vec<jingtong_api::progress::ProgressItem>, AppError> {
        crate::progress::list(&self.client, self.lang.get()).await
    }
}
