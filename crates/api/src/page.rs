//! Paged lists: every list answers one page and, if there is more, an opaque cursor for the next.
//! No list hands out an unbounded number of rows, however many a resident or a queue has.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ErrorCode;

/// Rows per page when the caller does not say.
pub const DEFAULT_LIMIT: u32 = 20;
/// The most rows one page may ask for.
pub const MAX_LIMIT: u32 = 100;
/// A cursor longer than this was not made by the server.
pub const MAX_CURSOR_LEN: usize = 512;

/// One page of a list, in the list's own order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, ts_rs::TS)]
#[ts(export)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page. Opaque: only the server reads it.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

/// The query every list takes (documentation; the server parses it with [`Limit::parse`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `next_cursor` of the page before; absent for the first page.
    pub cursor: Option<String>,
    /// Rows per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page size the server accepts: 1 to [`MAX_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    /// `None` is the default; anything but a whole number from 1 to 100 is `invalid_page`.
    pub fn parse(raw: Option<&str>) -> Result<Limit, ErrorCode> {
        let Some(raw) = raw else { return Ok(Limit(DEFAULT_LIMIT)) };
        match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) && raw.len() <= 3 => Ok(Limit(n)),
            _ => Err(ErrorCode::InvalidPage),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Limit(DEFAULT_LIMIT)
    }
}

/// A cursor as a client may pass it on: base64url characters only, bounded length.
pub fn cursor_well_formed(cursor: &str) -> bool {
    !cursor.is_empty()
        && cursor.len() <= MAX_CURSOR_LEN
        && cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(Limit::parse(None).unwrap().get(), 20);
        assert_eq!(Limit::parse(Some("1")).unwrap().get(), 1);
        assert_eq!(Limit::parse(Some("100")).unwrap().get(), 100);
        for bad in ["0", "101", "-1", "", "abc", "1e2", "0100", " 5", "4294967296"] {
            assert_eq!(Limit::parse(Some(bad)), Err(ErrorCode::InvalidPage), "{bad}");
        }
    }

    #[test]
    fn cursors() {
        assert!(cursor_well_formed("MTcwMDAwMDAwMDAwMAphYmM"));
        assert!(!cursor_well_formed(""));
        assert!(!cursor_well_formed("a b"));
        assert!(!cursor_well_formed("abc="));
        assert!(!cursor_well_formed(&"a".repeat(MAX_CURSOR_LEN + 1)));
    }
}
