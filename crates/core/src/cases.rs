//! Case lookup from the device: receipt number and query code checked here first (crates/api), then
//! the server sends an SMS code to the phone on the case; with it, the case joins "my cases".

use jingtong_api::cases::{
    parse_query_code, parse_receipt_number, CaseLookupRequest, CaseLookupStarted, CaseLookupVerify, CaseView,
};
use jingtong_api::{ErrorCode, Page};
use reqwest::Method;

use crate::client::{segment, Client, Request};
use crate::paging::{self, List};
use crate::AppError;

pub(crate) async fn start(client: &Client, receipt: &str, query_code: &str) -> Result<CaseLookupStarted, AppError> {
    let receipt_number = parse_receipt_number(receipt).map_err(|c| client.error(c))?;
    let query_code = parse_query_code(query_code).map_err(|c| client.error(c))?;
    let body = CaseLookupRequest { receipt_number, query_code };
    client.json(&Request::new(Method::POST, "/api/v1/case-lookups").json(&body).authed()).await
}

pub(crate) async fn verify(client: &Client, lookup_id: &str, code: &str) -> Result<CaseView, AppError> {
    let id = segment(lookup_id).map_err(|c| client.error(c))?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(client.error(ErrorCode::SmsCodeInvalid));
    }
    let path = format!("/api/v1/case-lookups/{id}/verify");
    client.json(&Request::new(Method::POST, &path).json(&CaseLookupVerify { code: code.to_owned() }).authed()).await
}

pub(crate) const LIST: List = List { path: "/api/v1/cases", authed: true };

pub(crate) async fn list(client: &Client, cursor: Option<&str>) -> Result<Page<CaseView>, AppError> {
    paging::page(client, LIST, cursor, None).await
}

pub(crate) async fn get(client: &Client, id: &str) -> Result<CaseView, AppError> {
    let id = segment(id).map_err(|c| client.error(c))?;
    client.json(&Request::new(Method::GET, &format!("/api/v1/cases/{id}")).authed()).await
}
