//! IPC commands, named as in ui/src/ipc/commands.ts. Each one only calls `Core`; errors cross as
//! `{code, message}`; tokens never do.

use jingtong_api::applications::{ApplicationRequest, ApplicationView, PickupStation};
use jingtong_api::auth::SmsCodeSent;
use jingtong_api::cases::{CaseLookupStarted, CaseView};
use jingtong_api::identity::{FaceChallenge, FaceDecision};
use jingtong_api::moves::{MoveAnswer, MoveRequest, MoveView};
use jingtong_api::payments::{BillView, PaymentOrder, Receipt};
use jingtong_api::{ErrorCode, Lang, Page};
use jingtong_core::{
    AppError, AppInfo, Core, FlushReport, FrameCheck, MoveSubmitOutcome, OutboxEntry, PreparedPhoto, SessionInfo,
    SubmitOutcome, Unsent,
};
use serde_json::Value;
use tauri::{Manager, State};

type Reply<T> = Result<T, AppError>;

/// The UI's first screen is on show: logs the start-up time once (a figure for `scripts/bench` and
/// for the field; nothing personal).
#[tauri::command]
pub fn app_ready() {
    crate::first_screen_shown();
}

#[tauri::command]
pub async fn request_sms_code(core: State<'_, Core>, phone: String) -> Reply<SmsCodeSent> {
    core.request_sms_code(&phone).await
}

#[tauri::command]
pub async fn sign_in(core: State<'_, Core>, phone: String, code: String) -> Reply<SessionInfo> {
    core.sign_in(&phone, &code).await
}

/// `delete_local`: also remove this account's drafts and unsent submissions from this computer;
/// otherwise they stay, readable only by this account after it signs in again.
#[tauri::command]
pub async fn sign_out(core: State<'_, Core>, delete_local: Option<bool>) -> Reply<()> {
    if delete_local.unwrap_or(false) {
        core.sign_out_and_delete().await
    } else {
        core.sign_out().await
    }
}

/// What sign-out would leave behind (drafts, unconfirmed submissions), asked before signing out.
#[tauri::command]
pub async fn unsent_items(core: State<'_, Core>) -> Reply<Unsent> {
    core.unsent().await
}

#[tauri::command]
pub async fn current_session(core: State<'_, Core>) -> Reply<Option<SessionInfo>> {
    core.current_session().await
}

/// Takes a string so an unknown tag still answers `{code, message}`.
#[tauri::command]
pub fn set_language(core: State<'_, Core>, lang: String) -> Reply<()> {
    let lang: Lang = serde_json::from_value(Value::String(lang))
        .map_err(|_| AppError::new(ErrorCode::InvalidRequest, core.language()))?;
    core.set_language(lang);
    Ok(())
}

#[tauri::command]
pub fn app_info(core: State<'_, Core>) -> Reply<AppInfo> {
    Ok(core.app_info())
}

#[tauri::command]
pub async fn draft_load(core: State<'_, Core>, item: String) -> Reply<Option<Value>> {
    core.draft_load(&item).await
}

#[tauri::command]
pub async fn draft_save(core: State<'_, Core>, item: String, payload: Value) -> Reply<()> {
    core.draft_save(&item, &payload).await
}

#[tauri::command]
pub async fn draft_discard(core: State<'_, Core>, item: String) -> Reply<()> {
    core.draft_discard(&item).await
}

#[tauri::command]
pub async fn face_start(core: State<'_, Core>, name: String, id_number: String) -> Reply<FaceChallenge> {
    core.face_start(&name, &id_number).await
}

/// `image` is base64 (a data URL is fine): a camera frame or an imported photo.
#[tauri::command]
pub async fn face_check_frame(core: State<'_, Core>, slot: u32, image: String) -> Reply<FrameCheck> {
    core.face_check_frame(slot, &image).await
}

#[tauri::command]
pub async fn face_submit(core: State<'_, Core>) -> Reply<FaceDecision> {
    core.face_submit().await
}

#[tauri::command]
pub async fn face_cancel(core: State<'_, Core>) -> Reply<()> {
    core.face_cancel().await;
    Ok(())
}

#[tauri::command]
pub async fn refresh_session(core: State<'_, Core>) -> Reply<SessionInfo> {
    core.refresh_session().await
}

/// `image` is base64 (a data URL is fine): a camera frame or an imported photo of a bill's QR code.
#[tauri::command]
pub async fn pay_scan_image(core: State<'_, Core>, image: String) -> Reply<BillView> {
    core.pay_scan_image(&image).await
}

#[tauri::command]
pub async fn pay_scan_text(core: State<'_, Core>, code: String) -> Reply<BillView> {
    core.pay_scan_text(&code).await
}

/// One page of bills; `cursor` is the page before's `next_cursor` (none for the first page).
#[tauri::command]
pub async fn bills(core: State<'_, Core>, cursor: Option<String>) -> Reply<Page<BillView>> {
    core.bills(cursor.as_deref()).await
}

#[tauri::command]
pub async fn bill(core: State<'_, Core>, bill_id: String) -> Reply<BillView> {
    core.bill(&bill_id).await
}

#[tauri::command]
pub async fn pay_order(core: State<'_, Core>, bill_id: String) -> Reply<PaymentOrder> {
    core.pay_order(&bill_id).await
}

#[tauri::command]
pub async fn pay_order_status(core: State<'_, Core>, order_id: String) -> Reply<PaymentOrder> {
    core.pay_order_status(&order_id).await
}

/// Opens the provider's page for an order of this resident in its own window (remote content: no IPC).
#[tauri::command]
pub async fn pay_open_provider<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    core: State<'_, Core>,
    order_id: String,
) -> Reply<()> {
    let order = core.pay_order_status(&order_id).await?;
    let url = core.provider_url(&order.pay_url)?;
    let label = format!("pay-{}", order.order_id.replace(|c: char| !c.is_ascii_alphanumeric(), ""));
    if let Some(existing) = app.get_webview_window(&label) {
        let _ = existing.set_focus();
        return Ok(());
    }
    tauri::WebviewWindowBuilder::new(&app, label, tauri::WebviewUrl::External(url))
        .title("支付 Payment")
        .inner_size(420.0, 640.0)
        .build()
        .map_err(|_| AppError::new(ErrorCode::Internal, core.language()))?;
    Ok(())
}

#[tauri::command]
pub async fn receipt(core: State<'_, Core>, number: String) -> Reply<Receipt> {
    core.receipt(&number).await
}

#[tauri::command]
pub fn receipt_qr_svg(core: State<'_, Core>, verify_code: String) -> Reply<String> {
    core.receipt_qr_svg(&verify_code)
}

/// Saves the e-receipt into the downloads folder and answers the file's path.
#[tauri::command]
pub async fn receipt_export<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    core: State<'_, Core>,
    number: String,
) -> Reply<String> {
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().document_dir())
        .map_err(|_| AppError::new(ErrorCode::ExportFailed, core.language()))?;
    Ok(core.receipt_export(&number, &dir).await?.display().to_string())
}

#[tauri::command]
pub fn service_item(core: State<'_, Core>, item: String) -> Reply<jingtong_core::ServiceItemPage> {
    core.service_item(&item)
}

/// `image` is base64 (a data URL is fine): a photo to turn into a GA 461 ID photo.
#[tauri::command]
pub async fn id_photo_check(core: State<'_, Core>, image: String) -> Reply<jingtong_core::IdPhotoCheck> {
    core.id_photo_check(&image).await
}

#[tauri::command]
pub async fn pickup_stations(core: State<'_, Core>) -> Reply<Vec<PickupStation>> {
    core.pickup_stations().await
}

/// Submits the application made in the form whose draft is `draft_item`: sent now, or queued until online.
#[tauri::command]
pub async fn application_submit(
    core: State<'_, Core>,
    request: ApplicationRequest,
    draft_item: String,
) -> Reply<SubmitOutcome> {
    core.application_submit(&request, &draft_item).await
}

#[tauri::command]
pub async fn applications(core: State<'_, Core>, cursor: Option<String>) -> Reply<Page<ApplicationView>> {
    core.applications(cursor.as_deref()).await
}

#[tauri::command]
pub async fn application(core: State<'_, Core>, id: String) -> Reply<ApplicationView> {
    core.application(&id).await
}

#[tauri::command]
pub async fn application_withdraw(core: State<'_, Core>, id: String) -> Reply<ApplicationView> {
    core.application_withdraw(&id).await
}

/// Sends what waits in the outbox (called at start, when the network returns, and from "send now").
#[tauri::command]
pub async fn outbox_flush(core: State<'_, Core>) -> Reply<FlushReport> {
    core.outbox_flush().await
}

#[tauri::command]
pub async fn outbox_entries(core: State<'_, Core>) -> Reply<Vec<OutboxEntry>> {
    core.outbox_entries().await
}

/// Step 1 of a case lookup: the receipt number and query code printed on the 报案回执.
#[tauri::command]
pub async fn case_lookup_start(
    core: State<'_, Core>,
    receipt_number: String,
    query_code: String,
) -> Reply<CaseLookupStarted> {
    core.case_lookup_start(&receipt_number, &query_code).await
}

#[tauri::command]
pub async fn case_lookup_verify(core: State<'_, Core>, lookup_id: String, code: String) -> Reply<CaseView> {
    core.case_lookup_verify(&lookup_id, &code).await
}

#[tauri::command]
pub async fn cases(core: State<'_, Core>, cursor: Option<String>) -> Reply<Page<CaseView>> {
    core.cases(cursor.as_deref()).await
}

#[tauri::command]
pub async fn case(core: State<'_, Core>, id: String) -> Reply<CaseView> {
    core.case(&id).await
}

#[tauri::command]
pub async fn progress(core: State<'_, Core>) -> Reply<Vec<jingtong_api::progress::ProgressItem>> {
    core.progress().await
}

/// The vehicle-moving rules with their sources (embedded data, offline).
#[tauri::command]
pub fn move_rules(core: State<'_, Core>) -> Reply<jingtong_rules::MoveRules> {
    Ok(core.move_rules())
}

/// Compresses a scene photo on the device (orientation fixed, metadata dropped).
#[tauri::command]
pub async fn move_photo_prepare(core: State<'_, Core>, image: String) -> Reply<PreparedPhoto> {
    core.move_photo_prepare(&image).await
}

/// Files the vehicle-moving request made in the form whose draft is `draft_item`: sent now, or queued.
#[tauri::command]
pub async fn move_submit(core: State<'_, Core>, request: MoveRequest, draft_item: String) -> Reply<MoveSubmitOutcome> {
    core.move_submit(&request, &draft_item).await
}

#[tauri::command]
pub async fn vehicle_moves(core: State<'_, Core>, cursor: Option<String>) -> Reply<Page<MoveView>> {
    core.vehicle_moves(cursor.as_deref()).await
}

#[tauri::command]
pub async fn vehicle_move(core: State<'_, Core>, id: String) -> Reply<MoveView> {
    core.vehicle_move(&id).await
}

#[tauri::command]
pub async fn vehicle_move_remind(core: State<'_, Core>, id: String) -> Reply<MoveView> {
    core.vehicle_move_remind(&id).await
}

#[tauri::command]
pub async fn vehicle_move_resolve(core: State<'_, Core>, id: String) -> Reply<MoveView> {
    core.vehicle_move_resolve(&id).await
}

#[tauri::command]
pub async fn vehicle_move_report(core: State<'_, Core>, id: String) -> Reply<MoveView> {
    core.vehicle_move_report(&id).await
}

#[tauri::command]
pub async fn vehicle_move_answer(core: State<'_, Core>, id: String, answer: MoveAnswer) -> Reply<MoveView> {
    core.vehicle_move_answer(&id, &answer).await
}

#[tauri::command]
pub async fn vehicle_move_message(core: State<'_, Core>, id: String, text: String) -> Reply<MoveView> {
    core.vehicle_move_message(&id, &text).await
}
