//! Drafts: what a resident typed into a form, saved on every change, encrypted, keyed by service item.
//! Each belongs to one account (`account`, `""` while signed out) and is sealed under its key.

use jingtong_api::ErrorCode;
use sqlx::SqlitePool;
use tracing::{instrument, warn};

use crate::db::{now, storage};
use crate::vault::Vault;

/// Item names are short identifiers chosen by the UI (`sign-in`, `id-card`…).
const MAX_ITEM_LEN: usize = 64;
/// A form, not a file: photos go through the blob store, not drafts.
const MAX_PAYLOAD: usize = 256 * 1024;

fn check_item(item: &str) -> Result<(), ErrorCode> {
    let ok = !item.is_empty()
        && item.len() <= MAX_ITEM_LEN
        && item.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(ErrorCode::InvalidRequest)
    }
}

fn aad(account: &str, item: &str) -> Vec<u8> {
    format!("draft:{account}:{item}").into_bytes()
}

#[instrument(skip(db, vault, payload))]
pub(crate) async fn save(
    db: &SqlitePool,
    vault: &Vault,
    account: &str,
    item: &str,
    payload: &serde_json::Value,
) -> Result<(), ErrorCode> {
    check_item(item)?;
    let plain = serde_json::to_vec(payload).map_err(|_| ErrorCode::InvalidRequest)?;
    if plain.len() > MAX_PAYLOAD {
        return Err(ErrorCode::PayloadTooLarge);
    }
    let (nonce, ciphertext) = vault.seal(account, &aad(account, item), &plain).await?;
    sqlx::query(
        "INSERT INTO drafts (account, item, nonce, ciphertext, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account, item) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(item)
    .bind(&nonce[..])
    .bind(ciphertext)
    .bind(now())
    .execute(db)
    .await
    .map_err(|e| storage(&e))?;
    Ok(())
}

/// A draft that fails to decrypt is removed and reported as `draft_corrupt`.
#[instrument(skip(db, vault))]
pub(crate) async fn load(
    db: &SqlitePool,
    vault: &Vault,
    account: &str,
    item: &str,
) -> Result<Option<serde_json::Value>, ErrorCode> {
    check_item(item)?;
    let row: Option<(Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT nonce, ciphertext FROM drafts WHERE account = ? AND item = ?")
            .bind(account)
            .bind(item)
            .fetch_optional(db)
            .await
            .map_err(|e| storage(&e))?;
    let Some((nonce, ciphertext)) = row else { return Ok(None) };
    let value = vault
        .open(account, &aad(account, item), &nonce, &ciphertext)
        .await?
        .and_then(|plain| serde_json::from_slice(&plain).ok());
    match value {
        Some(v) => Ok(Some(v)),
        None => {
            warn!("draft failed its integrity check; removed");
            discard(db, account, item).await?;
            Err(ErrorCode::DraftCorrupt)
        }
    }
}

#[instrument(skip(db))]
pub(crate) async fn discard(db: &SqlitePool, account: &str, item: &str) -> Result<(), ErrorCode> {
    check_item(item)?;
    sqlx::query("DELETE FROM drafts WHERE account = ? AND item = ?")
        .bind(account)
        .bind(item)
        .execute(db)
        .await
        .map_err(|e| storage(&e))?;
    Ok(())
}

pub(crate) async fn count(db: &SqlitePool, account: &str) -> Result<u32, ErrorCode> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM drafts WHERE account = ?")
        .bind(account)
        .fetch_one(db)
        .await
        .map_err(|e| storage(&e))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Every draft of `account`.
pub(crate) async fn remove_all(db: &SqlitePool, account: &str) -> Result<(), ErrorCode> {
    sqlx::query("DELETE FROM drafts WHERE account = ?").bind(account).execute(db).await.map_err(|e| storage(&e))?;
    Ok(())
}
