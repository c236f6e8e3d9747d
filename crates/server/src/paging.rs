//! The one way a list is paged: `?cursor=…&limit=…` parsed into [`Paging`], keyset pagination in
//! the list's SQL (`AND (key, id) < ($n, $n+1) … LIMIT limit+1`), and [`Paging::split`] to cut the
//! extra row off and sign the next cursor.
//!
//! A cursor is base64url of the last row's sort key and id plus a MAC over them and the list's path,
//! under the server's data key. It only says where to continue: which rows may be seen is decided by
//! each list's own `WHERE`, so a cursor never widens what the caller sees. A changed, truncated or
//! borrowed-from-another-list cursor is `invalid_page`, never a 500.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jingtong_api::page::{cursor_well_formed, Limit};
use jingtong_api::ErrorCode;
use serde::Deserialize;

use crate::crypto::constant_time_eq;
use crate::error::ApiProblem;
use crate::state::AppState;

const MAC_PURPOSE: &str = "page-cursor";
/// Hex characters of the MAC kept in the cursor (128 bits).
const MAC_LEN: usize = 32;

/// Where the previous page ended: its last row's sort key (as text) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub key: String,
    pub id: String,
}

impl After {
    /// The sort key of a list ordered by a BIGINT column.
    pub fn int_key(&self) -> Result<i64, ApiProblem> {
        self.key.parse().map_err(|_| invalid("cursor"))
    }
}

/// A list request's page: how many rows, and after which one.
pub struct Paging {
    pub limit: u32,
    pub after: Option<After>,
    scope: String,
    keys: std::sync::Arc<crate::crypto::Keys>,
}

#[derive(Deserialize)]
struct RawQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

fn invalid(field: &'static str) -> ApiProblem {
    ApiProblem::new(ErrorCode::InvalidPage).field(field, ErrorCode::InvalidPage)
}

impl FromRequestParts<AppState> for Paging {
    type Rejection = ApiProblem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Other query fields (a queue's `status`) belong to the handler; a malformed query is ours to refuse.
        let Query(raw) = Query::<RawQuery>::try_from_uri(&parts.uri).map_err(|_| invalid("limit"))?;
        let limit = Limit::parse(raw.limit.as_deref()).map_err(|_| invalid("limit"))?.get();
        let scope = parts.uri.path().to_owned();
        let keys = state.keys.clone();
        let mut paging = Paging { limit, after: None, scope, keys };
        if let Some(cursor) = raw.cursor.as_deref() {
            paging.after = Some(paging.open(cursor).ok_or_else(|| invalid("cursor"))?);
        }
        Ok(paging)
    }
}

impl Paging {
    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// `AND (<columns>) <op> ($first, $first+1)` after a cursor, nothing on the first page.
    /// `op` is `<` for a list newest first, `>` for one oldest first.
    pub fn condition(&self, columns: &str, op: &str, first: usize) -> String {
        if self.after.is_some() {
            format!("AND ({columns}) {op} (${first}, ${})", first + 1)
        } else {
            String::new()
        }
    }

    /// Cuts `rows` (fetched with [`Paging::fetch`]) to the page; `position` gives a row's sort key and id.
    pub fn split<R>(&self, mut rows: Vec<R>, position: impl Fn(&R) -> (String, String)) -> (Vec<R>, Option<String>) {
        let limit = self.limit as usize;
        if rows.len() <= limit {
            return (rows, None);
        }
        rows.truncate(limit);
        let next = rows.last().map(|r| {
            let (key, id) = position(r);
            self.seal(&key, &id)
        });
        (rows, next)
    }

    fn mac(&self, key: &str, id: &str) -> String {
        let mut mac = self.keys.keyed_hash(MAC_PURPOSE, &format!("{}\n{key}\n{id}", self.scope));
        mac.truncate(MAC_LEN);
        mac
    }

    fn seal(&self, key: &str, id: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{key}\n{id}\n{}", self.mac(key, id)))
    }

    fn open(&self, cursor: &str) -> Option<After> {
        if !cursor_well_formed(cursor) {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let mut parts = text.split('\n');
        let (key, id, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !constant_time_eq(mac, &self.mac(key, id)) {
            return None;
        }
        Some(After { key: key.to_owned(), id: id.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(scope: &str) -> Paging {
        let keys = std::sync::Arc::new(crate::crypto::Keys::from_master(&[7; 32]));
        Paging { limit: 2, after: None, scope: scope.to_owned(), keys }
    }

    #[test]
    fn cursors_round_trip_and_refuse_changes() {
        let p = paging("/api/v1/bills");
        let (rows, next) = p.split(vec![1, 2, 3], |n| (format!("{n}0"), format!("id{n}")));
        assert_eq!(rows, vec![1, 2]);
        let next = next.unwrap();
        assert_eq!(p.open(&next), Some(After { key: "20".into(), id: "id2".into() }));
        // Another list's cursor, a changed position, garbage: all refused.
        assert_eq!(paging("/api/v1/cases").open(&next), None);
        let forged = URL_SAFE_NO_PAD.encode(format!("30\nid2\n{}", &p.mac("20", "id2")));
        assert_eq!(p.open(&forged), None);
        for bad in ["", "!!", "AAAA", &next[..next.len() - 2], &format!("{next}A")] {
            assert_eq!(p.open(bad), None, "{bad}");
        }
        assert_eq!(p.split(vec![1, 2], |n| (n.to_string(), n.to_string())).1, None);
    }
}
