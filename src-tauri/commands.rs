//! IPC commands, named as in ui/src/ipc/commands.ts. Each one only calls `Core`; errors cross as
//! `{code, message}`; tokens never do.

use jingtong_api::auth::SmsCodeSent;
use jingtong_api::{ErrorCode, Lang};
use jingtong_core::{AppError, AppInfo, Core, SessionInfo};
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
