//! Staff accounts (staff number and argon2id password hash), shared by every office's demo data,
//! the tests and, later, the staff console's administration.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use jingtong_api::auth::Role;

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes make a salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Creates (or keeps) a staff account; used by the demo data and by tests.
pub async fn ensure_account(
    db: &crate::db::Db,
    staff_number: &str,
    password: &str,
    role: Role,
    now: i64,
) -> Result<String, sqlx::Error> {
    let existing: Option<(String,)> = sqlx::query_as("SELECT user_id FROM staff_accounts WHERE staff_number = $1")
        .bind(staff_number)
        .fetch_optional(&db.pool)
        .await?;
    if let Some((id,)) = existing {
        return Ok(id);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let role = match role {
        Role::Clerk => "clerk",
        Role::Traffic => "traffic",
        Role::Officer => "officer",
        Role::Admin => "admin",
        Role::Resident => "resident",
    };
    let mut tx = db.begin().await?;
    // Staff have no phone sign-in: the phone columns hold a value no phone can hash to.
    sqlx::query(
        "INSERT INTO users (id, phone_hash, phone_enc, role, verification_level, created_at)
         VALUES ($1, $2, $3, $4, 'none', $5)",
    )
    .bind(&id)
    .bind(format!("staff:{staff_number}"))
    .bind(Vec::<u8>::new())
    .bind(role)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO staff_accounts (user_id, staff_number, password_hash) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(staff_number)
        .bind(hash_password(password))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}
