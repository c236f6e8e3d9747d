//! Case tracking: a resident follows a reported case with its receipt number, the query code printed
//! on the receipt and an SMS code to the phone registered on the case; the registry person's own
//! cases show directly. Who may see a case is decided in the SQL of every lookup ([`visible`]).

pub mod demo;
pub mod staff;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use jingtong_api::cases::rules::{
    LOOKUPS_PER_ACCOUNT_PER_HOUR, LOOKUPS_PER_ADDRESS_PER_HOUR, LOOKUPS_PER_RECEIPT_PER_DAY, LOOKUP_TTL_SECONDS,
    NOT_OPENED_NOTICE_DAYS, SMS_TRIES,
};
use jingtong_api::cases::{
    parse_query_code, parse_receipt_number, CaseEvent, CaseLookupRequest, CaseLookupStarted, CaseLookupVerify,
    CaseStatus, CaseView,
};
use jingtong_api::page::PageQuery;
use jingtong_api::{ErrorCode, Page, Phone, Problem};
use rand::Rng;
use tracing::instrument;

use crate::audit::{self, Event, Kind};
use crate::auth::resident;
use crate::auth::tokens::ACCESS;
use crate::auth::{AuthUser, ClientIp};
use crate::clock::rfc3339;
use crate::crypto::{constant_time_eq, sha256_hex};
use crate::error::{ApiJson, ApiProblem};
use crate::paging::Paging;
use crate::ratelimit::{self, Limit};
use crate::sms::{SmsMessage, PHONE};
use crate::state::AppState;

/// Purpose tags of keyed hashes.
pub const QUERY_CODE: &str = "case_query_code";
const LOOKUP_CODE: &str = "case_lookup_code";
const HOUR_MS: i64 = 3600 * 1000;

/// `hot::case_for_token`'s rows: the caller's role, then a case row with one of its events, all NULL
/// when the case is not there for this caller.
type TokenCaseRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

type CaseRow = (String, String, String, String, String, String, String, i64, Option<i64>);

/// A case row with one of its events (NULLs when it has none yet), as `hot::case_by_id` returns them.
type CaseEventRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

pub async fn view(state: &AppState, row: CaseRow) -> Result<CaseView, ApiProblem> {
    let events: Vec<(i64, String, String)> =
        sqlx::query_as(crate::hot::CASE_EVENTS).bind(&row.0).fetch_all(&state.db.pool).await?;
    render(row, events)
}

/// What a resident sees of the officer: a name as printed on the receipt, never a police number.
/// Registrations from before this rule (e.g. “值班民警（警号 …）”) show the station's desk instead.
pub fn officer_shown(officer: &str) -> String {
    if officer.chars().any(|c| c.is_ascii_digit()) || officer.contains("警号") {
        return DESK.to_owned();
    }
    officer.to_owned()
}

/// The officer shown to residents when the registration named no one they may see.
pub const DESK: &str = "值班民警";

/// A case event's text for residents, with anything shaped like a staff number (the word after
/// `警号`, letters then digits such as `JT1001`) masked.
pub fn redact_staff_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut after_label = false;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphanumeric() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let word = &chars[start..i];
            // Staff numbers are two or more letters then three or more digits (`JT1001`); a plate's
            // one letter (`A12345`) or an amount (`12000`) is left alone.
            let letters = word.iter().take_while(|c| c.is_ascii_alphabetic()).count();
            let staff_shaped =
                letters >= 2 && word.len() - letters >= 3 && word[letters..].iter().all(char::is_ascii_digit);
            if after_label || staff_shaped {
                out.push_str("***");
            } else {
                out.extend(word);
            }
            after_label = false;
            continue;
        }
        if text_at(&chars, i, "警号") {
            out.push_str("警号");
            i += 2;
            after_label = true;
            continue;
        }
        if !(c.is_whitespace() || matches!(c, ':' | '：')) {
            after_label = false;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn text_at(chars: &[char], i: usize, needle: &str) -> bool {
    needle.chars().enumerate().all(|(k, n)| chars.get(i + k) == Some(&n))
}

fn render(row: CaseRow, events: Vec<(i64, String, String)>) -> Result<CaseView, ApiProblem> {
    let (id, receipt_number, kind, title, station, officer, status, reported_at, changed_at) = row;
    let status = CaseStatus::parse(&status).ok_or_else(|| ApiProblem::internal(&"case status"))?;
    // 不予立案: the reporter is told in writing within 3 days of the decision.
    let deadline = (status == CaseStatus::NotOpened)
        .then(|| changed_at.unwrap_or(reported_at) + NOT_OPENED_NOTICE_DAYS * 24 * HOUR_MS)
        .map(rfc3339);
    Ok(CaseView {
        id,
        receipt_number,
        kind,
        title,
        station,
        officer: officer_shown(&officer),
        status,
        reported_at: rfc3339(reported_at),
        deadline_label: deadline.as_ref().map(|_| "不予立案通知书送达期限（3日内）".to_owned()),
        deadline,
        events: events
            .into_iter()
            .filter_map(|(at, s, text)| {
                Some(CaseEvent { at: rfc3339(at), status: CaseStatus::parse(&s)?, text: redact_staff_numbers(&text) })
            })
            .collect(),
    })
}

pub async fn load_visible(state: &AppState, user_id: &str, case_id: &str) -> Result<Option<CaseView>, ApiProblem> {
    let rows: Vec<CaseEventRow> = sqlx::query_as(sqlx::AssertSqlSafe(crate::hot::case_by_id()))
        .bind(case_id)
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await?;
    from_rows(rows)
}

/// The case from `hot::case_by_id`-shaped rows (one per event); `None` without rows.
fn from_rows(rows: Vec<CaseEventRow>) -> Result<Option<CaseView>, ApiProblem> {
    let Some(first) = rows.first() else { return Ok(None) };
    let case: CaseRow = (
        first.0.clone(),
        first.1.clone(),
        first.2.clone(),
        first.3.clone(),
        first.4.clone(),
        first.5.clone(),
        first.6.clone(),
        first.7,
        first.8,
    );
    let events = rows.into_iter().filter_map(|r| Some((r.9?, r.10?, r.11?))).collect();
    render(case, events).map(Some)
}

/// The cases the resident may follow, newest first.
#[utoipa::path(
    get, path = "/api/v1/cases", operation_id = "list_cases", tag = "cases", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Own and looked-up cases, newest first", body = Page<CaseView>),
        (status = 400, description = "`invalid_page`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn list_cases(
    State(state): State<AppState>,
    user: AuthUser,
    paging: Paging,
) -> Result<Json<Page<CaseView>>, ApiProblem> {
    resident(&user)?;
    let sql = crate::hot::my_cases(&paging.condition("c.reported_at, c.id", "<", 3));
    let mut q = sqlx::query_as::<_, CaseRow>(sqlx::AssertSqlSafe(sql)).bind(&user.user_id).bind(paging.fetch());
    if let Some(a) = &paging.after {
        q = q.bind(a.int_key()?).bind(&a.id);
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    let (rows, next_cursor) = paging.split(rows, |r| (r.7.to_string(), r.0.clone()));
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(view(&state, row).await?);
    }
    Ok(Json(Page { items, next_cursor }))
}

#[utoipa::path(
    get, path = "/api/v1/cases/{case_id}", operation_id = "get_case", tag = "cases", security(("bearer" = [])),
    params(("case_id" = String, Path)),
    responses(
        (status = 200, description = "The case and its public timeline", body = CaseView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(case_id = %case_id))]
pub async fn get_case(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(case_id): Path<String>,
) -> Result<Json<CaseView>, ApiProblem> {
    // The screen polls this: the bearer check and the case share one query instead of the
    // `AuthUser` extractor's own (same token rule, `LIVE_ACCESS_TOKEN`; same answers).
    let token = crate::auth::bearer(&headers).ok_or_else(|| ApiProblem::new(ErrorCode::Unauthorized))?;
    let rows: Vec<TokenCaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(crate::hot::case_for_token()))
        .bind(sha256_hex(token))
        .bind(ACCESS)
        .bind(state.now_ms())
        .bind(&case_id)
        .fetch_all(&state.db.pool)
        .await?;
    let Some(first) = rows.first() else { return Err(ApiProblem::new(ErrorCode::Unauthorized)) };
    if first.0 != "resident" {
        return Err(ApiProblem::new(ErrorCode::Forbidden));
    }
    // Case columns NULL: no such case, or not this resident's. Otherwise the same rows as `case_by_id`.
    let rows: Vec<CaseEventRow> = rows
        .into_iter()
        .filter_map(|r| Some((r.1?, r.2?, r.3?, r.4?, r.5?, r.6?, r.7?, r.8?, r.9, r.10, r.11, r.12)))
        .collect();
    from_rows(rows)?.map(Json).ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))
}

/// The limits a failed lookup counts against: per account, per address, per receipt.
fn lookup_limits(user: &AuthUser, ip: &Option<String>, receipt: &str) -> [(String, Limit); 3] {
    let limit = |max_hits, window_ms| Limit { max_hits, window_ms };
    [
        (format!("case:user:{}", user.user_id), limit(LOOKUPS_PER_ACCOUNT_PER_HOUR, HOUR_MS)),
        (format!("case:ip:{}", ip.as_deref().unwrap_or("-")), limit(LOOKUPS_PER_ADDRESS_PER_HOUR, HOUR_MS)),
        (format!("case:receipt:{receipt}"), limit(LOOKUPS_PER_RECEIPT_PER_DAY, 24 * HOUR_MS)),
    ]
}

/// Counts a hit against every limit, in one transaction: a refused request is counted in none. For
/// the lookup limits only failures count: a found receipt gives its try back ([`ratelimit::refund`]);
/// the SMS budgets count every code sent to the case's phone.
async fn claim(state: &AppState, limits: &[(String, Limit)]) -> Result<(), ApiProblem> {
    let mut tx = state.db.begin().await?;
    if let Some(wait) = ratelimit::hit_all(&mut tx, limits, state.now_ms()).await? {
        tx.rollback().await?;
        return Err(ApiProblem::new(ErrorCode::RateLimited).retry_after(wait));
    }
    tx.commit().await?;
    Ok(())
}

async fn failed_lookup(state: &AppState, user: &AuthUser, ip: &Option<String>) -> ApiProblem {
    let detail = Some("case_lookup_failed".to_owned());
    let e = Event { user_id: Some(&user.user_id), client_ip: ip.clone(), detail, ..Event::default() };
    match audit::record(&state.db, Kind::CaseLookup, state.now_ms(), e).await {
        Ok(()) => ApiProblem::new(ErrorCode::CaseLookupFailed),
        Err(e) => e.into(),
    }
}

/// Step 1 of a lookup: the receipt number and query code. Unknown receipts and wrong codes get the
/// same answer; on success an SMS code goes to the phone registered on the case.
#[utoipa::path(
    post, path = "/api/v1/case-lookups", operation_id = "start_case_lookup", tag = "cases", security(("bearer" = [])),
    request_body = CaseLookupRequest,
    responses(
        (status = 201, description = "An SMS code was sent to the case's phone", body = CaseLookupStarted),
        (status = 400, description = "`case_receipt_invalid` or `case_query_code_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`case_lookup_failed`: unknown receipt or wrong code (the same answer)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the SMS carrier did not take the code; try again after Retry-After",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn start_lookup(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CaseLookupRequest>,
) -> Result<(StatusCode, Json<CaseLookupStarted>), ApiProblem> {
    resident(&user)?;
    let receipt =
        parse_receipt_number(&req.receipt_number).map_err(|c| ApiProblem::new(c).field("receipt_number", c))?;
    let code = parse_query_code(&req.query_code).map_err(|c| ApiProblem::new(c).field("query_code", c))?;
    let limits = lookup_limits(&user, &ip, &receipt);
    claim(&state, &limits).await?;
    let row: Option<(String, Option<String>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT id, query_code_hash, phone_enc FROM cases WHERE receipt_number = $1")
            .bind(&receipt)
            .fetch_optional(&state.db.pool)
            .await?;
    // Hash even when the receipt is unknown, so the answer takes as long either way.
    let offered = state.keys.keyed_hash(QUERY_CODE, &format!("{receipt}:{code}"));
    let found = row.filter(|(_, stored, _)| stored.as_deref().is_some_and(|s| constant_time_eq(s, &offered)));
    let Some((case_id, _, Some(phone_enc))) = found else {
        return Err(failed_lookup(&state, &user, &ip).await);
    };
    ratelimit::refund(&mut *state.db.pool.acquire().await?, &limits, state.now_ms()).await?;
    let phone = state
        .keys
        .decrypt_string(PHONE, &phone_enc)
        .ok()
        .and_then(|p| Phone::parse(&p).ok())
        .ok_or_else(|| ApiProblem::internal(&"case phone"))?;
    let phone_hash = state.keys.keyed_hash(PHONE, phone.as_str());
    let budgets = ratelimit::sms_budgets(&phone_hash, Some(&case_id), ip.as_deref(), Some(&user.user_id));
    claim(&state, &budgets).await?;
    let now = state.now_ms();
    let sms_code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let lookup_id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO case_lookups (id, case_id, user_id, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&lookup_id)
    .bind(&case_id)
    .bind(&user.user_id)
    .bind(state.keys.keyed_hash(LOOKUP_CODE, &format!("{lookup_id}:{sms_code}")))
    .bind(now)
    .bind(now + LOOKUP_TTL_SECONDS * 1000)
    .execute(&state.db.pool)
    .await?;
    let text = format!(
        "【警通】您正在查询报案回执 {receipt} 的办理进度，验证码 {sms_code}，5分钟内有效。如非本人操作请忽略。"
    );
    state
        .sms
        .send(&SmsMessage::new(phone.clone(), text, sms_code))
        .await
        .map_err(|e| e.problem(crate::sms::OUTAGE_RETRY_AFTER_SECONDS))?;
    let e = Event {
        user_id: Some(&user.user_id),
        client_ip: ip.clone(),
        detail: Some("case_lookup_sms".into()),
        ..Event::default()
    };
    audit::record(&state.db, Kind::CaseLookup, now, e).await?;
    Ok((
        StatusCode::CREATED,
        Json(CaseLookupStarted {
            lookup_id,
            phone_masked: phone.masked(),
            expires_in_seconds: LOOKUP_TTL_SECONDS as u32,
        }),
    ))
}

/// Step 2: the SMS code. On success the case joins the resident's cases.
#[utoipa::path(
    post, path = "/api/v1/case-lookups/{lookup_id}/verify", operation_id = "verify_case_lookup", tag = "cases",
    security(("bearer" = [])), params(("lookup_id" = String, Path)), request_body = CaseLookupVerify,
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 400, description = "`sms_code_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such lookup of yours", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "`sms_code_expired`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(user_id = %user.user_id))]
pub async fn verify_lookup(
    State(state): State<AppState>,
    user: AuthUser,
    Path(lookup_id): Path<String>,
    ApiJson(req): ApiJson<CaseLookupVerify>,
) -> Result<Json<CaseView>, ApiProblem> {
    resident(&user)?;
    let now = state.now_ms();
    // Claim the try first: one statement refuses it once the tries are used up, so parallel
    // guesses are judged at most SMS_TRIES times.
    let claimed: Option<(String, String)> = sqlx::query_as(
        "UPDATE case_lookups SET wrong_tries = wrong_tries + 1
         WHERE id = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3 AND wrong_tries < $4
         RETURNING case_id, code_hash",
    )
    .bind(&lookup_id)
    .bind(&user.user_id)
    .bind(now)
    .bind(SMS_TRIES)
    .fetch_optional(&state.db.pool)
    .await?;
    let Some((case_id, stored)) = claimed else {
        let mine: Option<(String,)> = sqlx::query_as("SELECT id FROM case_lookups WHERE id = $1 AND user_id = $2")
            .bind(&lookup_id)
            .bind(&user.user_id)
            .fetch_optional(&state.db.pool)
            .await?;
        return Err(match mine {
            Some(_) => ApiProblem::new(ErrorCode::SmsCodeExpired).field("code", ErrorCode::SmsCodeExpired),
            None => ApiProblem::new(ErrorCode::NotFound),
        });
    };
    let offered = state.keys.keyed_hash(LOOKUP_CODE, &format!("{lookup_id}:{}", req.code.trim()));
    if !constant_time_eq(&stored, &offered) {
        return Err(ApiProblem::new(ErrorCode::SmsCodeInvalid).field("code", ErrorCode::SmsCodeInvalid));
    }
    let claimed = sqlx::query("UPDATE case_lookups SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(&lookup_id)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    if claimed == 1 {
        sqlx::query(
            "INSERT INTO case_viewers (user_id, case_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&user.user_id)
        .bind(&case_id)
        .bind(now)
        .execute(&state.db.pool)
        .await?;
    }
    load_visible(&state, &user.user_id, &case_id).await?.map(Json).ok_or_else(|| ApiProblem::new(ErrorCode::NotFound))
}

/// The accounts that follow a case: the reporter's verified account and the viewers.
pub async fn case_followers(state: &AppState, case_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT user_id FROM case_viewers WHERE case_id = $1
         UNION SELECT u.id FROM users u JOIN registry_persons p ON p.id_number_hash = u.id_number_hash
               JOIN cases c ON c.person_id = p.id WHERE c.id = $1",
    )
    .bind(case_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_numbers_are_masked_and_other_numbers_kept() {
        assert_eq!(redact_staff_numbers("已由民警JT1001受理，警号：123456 负责"), "已由民警***受理，警号：*** 负责");
        assert_eq!(redact_staff_numbers("损失 12000 元，车牌皖A12345"), "损失 12000 元，车牌皖A12345");
        assert_eq!(officer_shown("值班民警（警号 JT1001）"), DESK);
        assert_eq!(officer_shown("民警 张某"), "民警 张某");
    }
}
