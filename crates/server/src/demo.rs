//! The fictional demo data set (`fixtures/demo.json`), loaded by `--demo`.
//! Every row has a fixed id and is inserted with `ON CONFLICT DO NOTHING`, so loading twice adds nothing.

use std::path::Path;

use jingtong_api::bill::BillNumber;
use jingtong_api::{IdNumber, Phone, Plate};
use serde::Deserialize;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::blobs::BlobStore;
use crate::crypto::Keys;
use crate::db::Db;
use crate::sms::PHONE;

pub const FIXTURE: &str = include_str!("../fixtures/demo.json");
pub const NAME: &str = "name";
pub const ID_NUMBER: &str = "id_number";
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
/// Registry photos for demo residents (by position in the fixture), from the face test material
/// (`jingtong_face::asset_dir()/testdata`, fetched by scripts/fetch-face-assets).
pub const DEMO_PHOTOS: [(usize, &str); 2] = [(0, "franck_0600_frontal.png"), (1, "obama.jpg")];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("fixtures/demo.json is invalid: {0}")]
    Invalid(String),
    #[error("loading demo data failed: {0}")]
    Db(#[from] sqlx::Error),
    #[error("storing a demo registry photo failed: {0}")]
    Blob(#[from] crate::blobs::BlobError),
}

#[derive(Deserialize)]
struct DemoFile {
    residents: Vec<Resident>,
}

#[derive(Deserialize)]
struct Resident {
    id: String,
    name: String,
    id_number: IdNumber,
    phone: Phone,
    vehicles: Vec<Vehicle>,
    bills: Vec<Bill>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Vehicle {
    id: String,
    plate: Plate,
    vehicle_type: String,
    brand: String,
    color: String,
}

#[derive(Deserialize)]
struct Bill {
    id: String,
    bill_number: BillNumber,
    kind: String,
    /// 决定书编号 of a fine; `None` for a fee.
    decision_number: Option<String>,
    payee: String,
    description: String,
    amount_fen: i64,
    due_date: String,
    status: String,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    receipt_number: String,
    kind: String,
    title: String,
    status: String,
    #[serde(with = "time::serde::rfc3339")]
    reported_at: OffsetDateTime,
}

fn parse() -> Result<DemoFile, DemoError> {
    let file: DemoFile = serde_json::from_str(FIXTURE).map_err(|e| DemoError::Invalid(e.to_string()))?;
    for r in &file.residents {
        for id in std::iter::once(&r.id)
            .chain(r.vehicles.iter().map(|v| &v.id))
            .chain(r.bills.iter().map(|b| &b.id))
            .chain(r.cases.iter().map(|c| &c.id))
        {
            let ok = uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 7);
            if !ok {
                return Err(DemoError::Invalid(format!("{id} is not a UUIDv7")));
            }
        }
        if let Some(b) = r.bills.iter().find(|b| time::Date::parse(&b.due_date, DATE).is_err()) {
            return Err(DemoError::Invalid(format!("due_date {} of {} is not YYYY-MM-DD", b.due_date, b.id)));
        }
        if let Some(b) = r.bills.iter().find(|b| b.kind.ends_with("_fine") != b.decision_number.is_some()) {
            return Err(DemoError::Invalid(format!("bill {}: fines, and only fines, have a decision number", b.id)));
        }
    }
    Ok(file)
}

/// Loads the fixture, then the registry photos found in `face_testdata`.
pub async fn load(db: &Db, keys: &Keys, blobs: &dyn BlobStore, face_testdata: &Path) -> Result<(), DemoError> {
    let file = parse()?;
    let mut tx = db.begin().await?;
    for r in &file.residents {
        sqlx::query(
            "INSERT INTO registry_persons (id, name_enc, id_number_enc, id_number_hash, phone_enc, phone_hash, photo_ref)
             VALUES ($1, $2, $3, $4, $5, $6, NULL) ON CONFLICT DO NOTHING",
        )
        .bind(&r.id)
        .bind(keys.encrypt(NAME, r.name.as_bytes()))
        .bind(keys.encrypt(ID_NUMBER, r.id_number.as_str().as_bytes()))
        .bind(keys.keyed_hash(ID_NUMBER, r.id_number.as_str()))
        .bind(keys.encrypt(PHONE, r.phone.as_str().as_bytes()))
        .bind(keys.keyed_hash(PHONE, r.phone.as_str()))
        .execute(&mut *tx)
        .await?;
        for v in &r.vehicles {
            sqlx::query(
                "INSERT INTO registry_vehicles (id, owner_id, plate, vehicle_type, brand, color)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(&v.id)
            .bind(&r.id)
            .bind(v.plate.as_str())
            .bind(&v.vehicle_type)
            .bind(&v.brand)
            .bind(&v.color)
            .execute(&mut *tx)
            .await?;
        }
        for b in &r.bills {
            sqlx::query(
                "INSERT INTO bills (id, person_id, bill_number, kind, description, amount_fen, due_date, status,
                   decision_number, payee)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .bind(&b.id)
            .bind(&r.id)
            .bind(b.bill_number.as_str())
            .bind(&b.kind)
            .bind(&b.description)
            .bind(b.amount_fen)
            .bind(&b.due_date)
            .bind(&b.status)
            .bind(&b.decision_number)
            .bind(&b.payee)
            .execute(&mut *tx)
            .await?;
            // A demo database made before bills had payees gets the new numbers once.
            sqlx::query(
                "UPDATE bills SET bill_number = $1, decision_number = $2, payee = $3 WHERE id = $4 AND payee = ''",
            )
            .bind(b.bill_number.as_str())
            .bind(&b.decision_number)
            .bind(&b.payee)
            .bind(&b.id)
            .execute(&mut *tx)
            .await?;
        }
        for c in &r.cases {
            sqlx::query(
                "INSERT INTO cases (id, person_id, receipt_number, kind, title, status, reported_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(&c.id)
            .bind(&r.id)
            .bind(&c.receipt_number)
            .bind(&c.kind)
            .bind(&c.title)
            .bind(&c.status)
            .bind((c.reported_at.unix_timestamp_nanos() / 1_000_000) as i64)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(residents = file.residents.len(), "demo data loaded");
    load_photos(db, keys, blobs, &file, face_testdata).await
}

/// Gives demo residents their registry photos, encrypted, once: a resident who has one keeps it.
async fn load_photos(
    db: &Db,
    keys: &Keys,
    blobs: &dyn BlobStore,
    file: &DemoFile,
    dir: &Path,
) -> Result<(), DemoError> {
    for (index, name) in DEMO_PHOTOS {
        let Some(r) = file.residents.get(index) else { continue };
        let (current,): (Option<String>,) = sqlx::query_as("SELECT photo_ref FROM registry_persons WHERE id = $1")
            .bind(&r.id)
            .fetch_one(&db.pool)
            .await?;
        // Photos stored before they were encrypted (not `.enc`) are replaced by encrypted ones.
        if current.is_some_and(|r| r.ends_with(".enc")) {
            continue;
        }
        let path = dir.join(name);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e,
                    "demo registry photo missing (run scripts/fetch-face-assets); this resident cannot verify by face");
                continue;
            }
        };
        // Face data is sensitive personal data: the blob holds the photo encrypted, and the row the
        // sha256 of the photo itself (checked after decryption).
        let key = format!("registry/{}.enc", r.id);
        let sha = crate::blobs::sha256_bytes(&bytes);
        blobs.put(&key, &keys.encrypt(crate::registry::REGISTRY_PHOTO, &bytes)).await?;
        sqlx::query(
            "UPDATE registry_persons SET photo_ref = $1, photo_sha256 = $2
             WHERE id = $3 AND (photo_ref IS NULL OR photo_ref NOT LIKE '%.enc')",
        )
        .bind(&key)
        .bind(&sha)
        .bind(&r.id)
        .execute(&db.pool)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_is_valid_and_fictional() {
        let file = parse().unwrap();
        assert!(file.residents.len() >= 5);
        for r in &file.residents {
            assert!(r.name.starts_with("演示用户"), "{}", r.name);
            assert!(r.phone.as_str().starts_with("1990000"), "{:?}", r.phone);
            assert!(r.id_number.as_str().starts_with("3416"));
            let year = r.id_number.birth_date().year();
            assert!((1950..=2010).contains(&year), "{year}");
            assert!(r.bills.iter().all(|b| b.amount_fen > 0));
            assert!(r.bills.iter().all(|b| b.payee.starts_with("演示")));
        }
        assert!(FIXTURE.contains("\"_about\""));
    }
}
