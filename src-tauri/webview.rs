//! WebKitGTK settings for a one-page app of forms and lists. Nothing here needs a GPU: with hardware
//! acceleration off WebKit draws in software and never loads OpenGL (under Xvfb, without a GPU, that
//! halves the page's memory and start-up time); the document-viewer cache model keeps no back/forward
//! page cache and a small memory cache (one page, served from the binary, never navigated away from).

#[cfg(target_os = "linux")]
pub fn lighten(window: &tauri::WebviewWindow) {
    use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt};
    let done = window.with_webview(|webview| {
        let view = webview.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    });
    if let Err(e) = done {
        tracing::warn!(error = %e, "webview settings not applied");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn lighten(_window: &tauri::WebviewWindow) {}
