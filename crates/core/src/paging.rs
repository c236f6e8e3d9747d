//! Paged lists from the server: one page for a screen that loads more as the resident scrolls, or
//! every page (bounded) for a view that needs the whole list, such as "my progress".

use jingtong_api::page::{cursor_well_formed, MAX_LIMIT};
use jingtong_api::{ErrorCode, Page};
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::client::{Client, Request};
use crate::AppError;

/// Pages [`all`] reads at most: 5 × 100 rows per list, far more than one resident has.
pub(crate) const MAX_PAGES: usize = 5;

/// A list on the server: its path, and whether it needs the resident's session.
#[derive(Clone, Copy)]
pub(crate) struct List {
    pub path: &'static str,
    pub authed: bool,
}

/// One page of `list`: the first without a cursor, else the one after it.
pub(crate) async fn page<T: DeserializeOwned>(
    client: &Client,
    list: List,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<T>, AppError> {
    let mut query = Vec::new();
    if let Some(cursor) = cursor {
        // Only what the server's cursors look like goes into the URL.
        if !cursor_well_formed(cursor) {
            return Err(client.error(ErrorCode::InvalidPage));
        }
        query.push(format!("cursor={cursor}"));
    }
    if let Some(limit) = limit {
        query.push(format!("limit={limit}"));
    }
    let path = list.path;
    let url = if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) };
    let req = Request::new(Method::GET, &url);
    client.json(&if list.authed { req.authed() } else { req }).await
}

/// All of `list`, following `next_cursor` 100 rows at a time, at most [`MAX_PAGES`] pages.
pub(crate) async fn all<T: DeserializeOwned>(client: &Client, list: List) -> Result<Vec<T>, AppError> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page: Page<T> = page(client, list, cursor.as_deref(), Some(MAX_LIMIT)).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(items)
}
