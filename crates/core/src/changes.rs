//! Changes the server pushes while the app is open (server-sent events on `/api/v1/events`): the
//! shell waits on [`Changes::next`] in a loop and tells the UI, which refreshes what changed.

use jingtong_api::cases::ChangeEvent;
use jingtong_api::ErrorCode;
use tokio::sync::{Mutex, Notify};

use crate::client::Client;
use crate::AppError;

#[derive(Default)]
pub(crate) struct Changes {
    /// The open stream and the text received but not yet parsed.
    stream: Mutex<Option<(reqwest::Response, String)>>,
    /// Sign-out drops the stream at once, so nothing of the last account reaches the next one.
    cancel: Notify,
}

/// One SSE frame's `change` event; keep-alives and other events are `None`.
fn parse_frame(frame: &str) -> Option<ChangeEvent> {
    let mut event = "message";
    let mut data = String::new();
    for line in frame.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            event = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    (event == "change").then(|| serde_json::from_str(&data).ok()).flatten()
}

impl Changes {
    /// The next change for the signed-in resident. `offline` (or `unauthorized`) when the stream cannot
    /// be opened or breaks: the caller waits a little and asks again, which reconnects.
    pub async fn next(&self, client: &Client) -> Result<ChangeEvent, AppError> {
        let mut guard = self.stream.lock().await;
        loop {
            if guard.is_none() {
                *guard = Some((client.open_stream("/api/v1/events").await?, String::new()));
            }
            let Some((resp, buf)) = guard.as_mut() else { continue };
            if let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                if let Some(change) = parse_frame(&frame) {
                    return Ok(change);
                }
                continue;
            }
            let chunk = tokio::select! {
                chunk = resp.chunk() => chunk,
                () = self.cancel.notified() => {
                    *guard = None;
                    return Err(client.error(ErrorCode::Unauthorized));
                }
            };
            match chunk {
                Ok(Some(bytes)) => buf.push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
                Ok(None) | Err(_) => {
                    *guard = None;
                    return Err(client.error(ErrorCode::Offline));
                }
            }
        }
    }

    /// Closes the stream (sign-out): the next call opens one for whoever is signed in then.
    pub fn reset(&self) {
        self.cancel.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_as_the_server_writes_them() {
        let c =
            parse_frame("event: change\ndata: {\"kind\":\"case\",\"id\":\"c1\",\"summary\":\"已调取监控\"}").unwrap();
        assert_eq!((c.kind.as_str(), c.id.as_str()), ("case", "c1"));
        assert_eq!(parse_frame(":keep-alive"), None);
        assert_eq!(parse_frame("event: other\ndata: {}"), None);
    }
}
