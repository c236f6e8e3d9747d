//! ID card applications from the device: the request is checked here with the same rules as the
//! server (crates/api), then goes through the outbox with one Idempotency-Key, so a dropped network
//! or a crash at submit sends it once when the network returns. The form's draft is removed only
//! when the server confirmed the application.

use jingtong_api::applications::{ApplicationRequest, ApplicationView, PickupStation};
use jingtong_api::{ErrorCode, Lang, Page};
use jingtong_rules::Catalogue;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use crate::client::{segment, Client, Request};
use crate::outbox::{self, Sent};
use crate::paging::{self, List};
use crate::services::shanghai_today;
use crate::vault::Vault;
use crate::AppError;

/// What the submit button led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum SubmitOutcome {
    /// The server has it: the application as created (usually awaiting payment).
    Sent { application: Box<ApplicationView> },
    /// No network: it waits in the outbox and goes once when the network is back. The draft stays.
    Queued { outbox_id: String },
}

/// The form field a problem is about, in the resident's words.
fn label(field: &str, lang: Lang) -> &'static str {
    match (field, lang) {
        ("photo", Lang::ZhCn) => "证件照",
        ("photo", Lang::En) => "ID photo",
        ("loss_date", Lang::ZhCn) => "丢失日期",
        ("loss_date", Lang::En) => "Date of loss",
        ("damage_description", Lang::ZhCn) => "损坏情况",
        ("damage_description", Lang::En) => "Damage",
        ("delivery.recipient", Lang::ZhCn) => "收件人",
        ("delivery.recipient", Lang::En) => "Recipient",
        ("delivery.phone", Lang::ZhCn) => "收件人手机号",
        ("delivery.phone", Lang::En) => "Recipient's phone",
        ("delivery.station_id", Lang::ZhCn) => "领证地点",
        ("delivery.station_id", Lang::En) => "Pickup station",
        (_, Lang::ZhCn) => "领取方式",
        (_, Lang::En) => "Delivery",
    }
}

/// The first field problem as `{code, message}`, the message naming the field by `label`.
pub(crate) fn field_error_with(
    errors: &[(&'static str, ErrorCode)],
    lang: Lang,
    label: fn(&str, Lang) -> &'static str,
) -> AppError {
    let (field, code) = errors.first().copied().unwrap_or(("", ErrorCode::InvalidRequest));
    let sep = if lang == Lang::ZhCn { "：" } else { ": " };
    AppError { code, message: format!("{}{sep}{}", label(field, lang), code.message(lang)) }
}

fn field_error(errors: &[(&'static str, ErrorCode)], lang: Lang) -> AppError {
    field_error_with(errors, lang, label)
}

pub(crate) async fn submit(
    db: &SqlitePool,
    vault: &Vault,
    client: &Client,
    account: &str,
    lang: Lang,
    request: &ApplicationRequest,
    draft_item: &str,
) -> Result<SubmitOutcome, AppError> {
    let offered = &Catalogue::load().item(request.item).delivery;
    request.parse(shanghai_today(), offered).map_err(|errors| field_error(&errors, lang))?;
    let body = serde_json::to_value(request).map_err(|_| client.error(ErrorCode::InvalidRequest))?;
    let entry = outbox::enqueue(db, vault, account, "POST", "/api/v1/applications", Some(&body), Some(draft_item))
        .await
        .map_err(|c| client.error(c))?;
    match outbox::send_now(db, vault, client, account, &entry.id).await.map_err(|c| client.error(c))? {
        Sent::Done(body) => {
            let application = serde_json::from_slice(&body).map_err(|_| client.error(ErrorCode::UnexpectedResponse))?;
            Ok(SubmitOutcome::Sent { application })
        }
        Sent::Later(_) => Ok(SubmitOutcome::Queued { outbox_id: entry.id }),
        Sent::Refused(e) => {
            // The resident is looking at the form: say why there and keep the draft, not a failed entry.
            outbox::discard(db, account, &entry.id).await.map_err(|c| client.error(c))?;
            Err(e)
        }
    }
}

pub(crate) const LIST: List = List { path: "/api/v1/applications", authed: true };
const STATIONS: List = List { path: "/api/v1/pickup-stations", authed: false };

/// Every station (bounded): the delivery step picks from all of them.
pub(crate) async fn stations(client: &Client) -> Result<Vec<PickupStation>, AppError> {
    paging::all(client, STATIONS).await
}

pub(crate) async fn list(client: &Client, cursor: Option<&str>) -> Result<Page<ApplicationView>, AppError> {
    paging::page(client, LIST, cursor, None).await
}

pub(crate) async fn get(client: &Client, id: &str) -> Result<ApplicationView, AppError> {
    let id = segment(id).map_err(|c| client.error(c))?;
    client.json(&Request::new(Method::GET, &format!("/api/v1/applications/{id}")).authed()).await
}

pub(crate) async fn withdraw(client: &Client, id: &str) -> Result<ApplicationView, AppError> {
    let id = segment(id).map_err(|c| client.error(c))?;
    let path = format!("/api/v1/applications/{id}/withdraw");
    client.json(&Request::new(Method::POST, &path).json(&serde_json::json!({})).authed()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_problems_name_the_field() {
        let e = field_error(&[("loss_date", ErrorCode::DateInvalid)], Lang::ZhCn);
        assert_eq!(e.code, ErrorCode::DateInvalid);
        assert!(e.message.starts_with("丢失日期："), "{}", e.message);
        assert!(field_error(&[("delivery.phone", ErrorCode::PhoneInvalid)], Lang::En)
            .message
            .starts_with("Recipient's phone: "));
    }
}
