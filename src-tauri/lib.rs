//! The Tauri shell: opens `jingtong_core::Core` and exposes it as IPC commands. No logic here.

mod commands;
#[cfg(test)]
mod commands_tests;

use jingtong_core::{Core, CoreConfig};
use tauri::Manager;

/// Registers the IPC commands; `run` and the mock-runtime tests share it.
pub fn with_commands<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::app_ready,
        commands::request_sms_code,
        commands::sign_in,
        commands::sign_out,
        commands::unsent_items,
        commands::current_session,
        commands::set_language,
        commands::app_info,
        commands::draft_load,
        commands::draft_save,
        commands::draft_discard,
        commands::face_start,
        commands::face_check_frame,
        commands::face_submit,
        commands::face_cancel,
        commands::refresh_session,
        commands::pay_scan_image,
        commands::pay_scan_text,
        commands::bills,
        commands::bill,
        commands::pay_order,
        commands::pay_order_status,
        commands::pay_open_provider,
        commands::receipt,
        commands::receipt_qr_svg,
        commands::receipt_export,
        commands::service_item,
        commands::id_photo_check,
        commands::pickup_stations,
        commands::application_submit,
        commands::applications,
        commands::application,
        commands::application_withdraw,
        commands::outbox_flush,
        commands::outbox_entries,
        commands::case_lookup_start,
        commands::case_lookup_verify,
        commands::cases,
        commands::case,
        commands::progress,
        commands::move_rules,
        commands::move_photo_prepare,
        commands::move_submit,
        commands::vehicle_moves,
        commands::vehicle_move,
        commands::vehicle_move_remind,
        commands::vehicle_move_resolve,
        commands::vehicle_move_report,
        commands::vehicle_move_answer,
        commands::vehicle_move_message,
    ])
}

/// Forwards what the server pushes (a case event, an application moved on) to the UI as the
/// `changed` event; reconnects after a pause when offline or signed out.
fn watch_changes(app: tauri::AppHandle) {
    use tauri::Emitter;
    tauri::async_runtime::spawn(async move {
        loop {
            let core = app.state::<Core>();
            match core.wait_change().await {
                Ok(change) => {
                    let _ = app.emit_to("main", "changed", &change);
                    notify_if_away(&app, &change);
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_secs(3)).await,
            }
        }
    });
}

/// A desktop notification when the resident is not looking at the app (the UI shows its own banner).
fn notify_if_away(app: &tauri::AppHandle, change: &jingtong_api::cases::ChangeEvent) {
    use tauri_plugin_notification::NotificationExt;
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false);
    if focused || change.summary.is_empty() {
        return;
    }
    // No notification service (a bare X server): the in-app banner and the list still show the change.
    if let Err(e) = app.notification().builder().title("警通 · 办理进度有更新").body(&change.summary).show() {
        tracing::debug!(error = %e, "desktop notification not shown");
    }
}

static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
static SHOWN: std::sync::Once = std::sync::Once::new();

fn first_screen_shown() {
    SHOWN.call_once(|| {
        let ms = STARTED.get().map_or(0, |t| t.elapsed().as_millis());
        tracing::info!(startup_ms = ms as u64, "first screen shown");
    });
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,jingtong=debug".into()),
        )
        .init();
    with_commands(tauri::Builder::default())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            // app_data_dir follows XDG_DATA_HOME on Linux.
            let config = CoreConfig::from_env(app.path().app_data_dir()?);
            let core = tauri::async_runtime::block_on(Core::open(config))?;
            app.manage(core);
            watch_changes(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running Jingtong");
}
