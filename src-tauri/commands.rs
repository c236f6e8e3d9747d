//! IPC commands, named as in ui/src/ipc/commands.ts. Each one only calls `Core`; errors cross as
//! `{code, message}`; tokens never do.

use jingtong_api::auth::SmsCodeSent;
use jingtong_api::identity::{FaceChallenge, FaceDecision};
use jingtong_api::{ErrorCode, Lang};
use jingtong_core::{AppError, AppInfo, Core, FrameCheck, SessionInfo};
use serde_json::Value;
use tauri::State;

type Reply<T> = Result<T, AppError>;

#[tauri::command]
pub async fn request_sms_code(core: State<'_, Core>, phone: String) -> Reply<SmsCodeSent> {
    core.request_sms_code(&phone).await
}

#[tauri::command]
pub async fn sign_in(core: State<'_, Core>, phone: String, code: String) -> Reply<SessionInfo> {
    core.sign_in(&phone, &code).await
}

#[tauri::command]
pub async fn sign_out(core: State<'_, Core>) -> Reply<()> {
    core.sign_out().await
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
