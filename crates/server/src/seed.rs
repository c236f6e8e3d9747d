//! Generated, visibly fictional people and vehicles for benchmarks and fault tests: names 压测用户N,
//! phones 1990001NNNN, ID numbers of region 340104 with a 1990s birth date and a valid check digit,
//! plates 皖TNNNNN (owners 1990002NNNN, reached by SMS). Never loaded by the app or `--demo`.

use jingtong_api::{IdNumber, Phone};

use crate::demo::{ID_NUMBER, NAME};
use crate::sms::PHONE;
use crate::state::AppState;

/// A verified resident with a session, ready to call the API.
#[derive(Debug, Clone)]
pub struct Resident {
    pub n: usize,
    pub person_id: String,
    pub user_id: String,
    pub access_token: String,
}

/// The `n`-th generated ID number (n < 3,650,000): birth dates walk from 1990-01-01, 1000 serials a day.
pub fn id_number(n: usize) -> IdNumber {
    let birth = time::macros::date!(1990 - 01 - 01) + time::Duration::days((n / 1000) as i64);
    let first17 = format!("340104{:04}{:02}{:02}{:03}", birth.year(), u8::from(birth.month()), birth.day(), n % 1000);
    IdNumber::from_first17(&first17).expect("generated ID numbers are well-formed")
}

pub fn phone(n: usize) -> Phone {
    Phone::parse(&format!("1990001{:04}", n % 10_000)).expect("generated phones are well-formed")
}

pub fn plate(n: usize) -> String {
    format!("皖T{n:05}")
}

async fn person(state: &AppState, n: usize, phone: Option<&str>) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    let number = id_number(n);
    sqlx::query(
        "INSERT INTO registry_persons (id, name_enc, id_number_enc, id_number_hash, phone_enc, phone_hash)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(state.keys.encrypt(NAME, format!("压测用户{n}").as_bytes()))
    .bind(state.keys.encrypt(ID_NUMBER, number.as_str().as_bytes()))
    .bind(state.keys.keyed_hash(ID_NUMBER, number.as_str()))
    .bind(phone.map(|p| state.keys.encrypt(PHONE, p.as_bytes())))
    .bind(phone.map(|p| state.keys.keyed_hash(PHONE, p)))
    .execute(&state.db.pool)
    .await?;
    Ok(id)
}

/// Residents `from..from + count`: registry person, account bound to it (as face verification
/// would), and a session.
pub async fn residents(state: &AppState, from: usize, count: usize) -> Result<Vec<Resident>, sqlx::Error> {
    let mut out = Vec::with_capacity(count);
    for n in from..from + count {
        let phone = phone(n);
        let person_id = person(state, n, Some(phone.as_str())).await?;
        let hash = state.keys.keyed_hash(PHONE, phone.as_str());
        let user_id = crate::auth::accounts::find_or_create(state, &phone, &hash).await?;
        sqlx::query("UPDATE users SET verification_level = 'real_name', id_number_hash = $1 WHERE id = $2")
            .bind(state.keys.keyed_hash(ID_NUMBER, id_number(n).as_str()))
            .bind(&user_id)
            .execute(&state.db.pool)
            .await?;
        let access_token = crate::auth::tokens::start_session(state, &user_id).await?.access_token;
        out.push(Resident { n, person_id, user_id, access_token });
    }
    Ok(out)
}

/// Vehicles `from..from + count` (plates [`plate`]), each with an owner who has no app account.
/// Owners take ID numbers from 2,000,000 up so they never meet a resident's.
pub async fn vehicles(state: &AppState, from: usize, count: usize) -> Result<Vec<String>, sqlx::Error> {
    let mut plates = Vec::with_capacity(count);
    for n in from..from + count {
        let owner_phone = format!("1990002{:04}", n % 10_000);
        let owner = person(state, 2_000_000 + n, Some(&owner_phone)).await?;
        sqlx::query(
            "INSERT INTO registry_vehicles (id, owner_id, plate, vehicle_type, brand, color)
             VALUES ($1, $2, $3, '小型轿车', '演示', '白色')",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&owner)
        .bind(plate(n))
        .execute(&state.db.pool)
        .await?;
        plates.push(plate(n));
    }
    Ok(plates)
}

/// One case reported by each resident (receipt J + 17 digits), which their own account sees.
pub async fn cases(state: &AppState, residents: &[Resident]) -> Result<Vec<String>, sqlx::Error> {
    let mut ids = Vec::with_capacity(residents.len());
    for r in residents {
        let receipt = format!("J{:017}", r.n);
        let fields = ("盗窃", "压测案件：电动车被盗", "演示派出所", "压测警官");
        let at = state.now_ms();
        ids.push(
            crate::cases::staff::insert_case(state, &r.person_id, &receipt, "000000", &phone(r.n), fields, at).await?,
        );
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_distinct_and_valid() {
        let a = id_number(0);
        let b = id_number(999);
        let c = id_number(1000);
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(&c.as_str()[6..14], "19900102");
        assert!(IdNumber::parse(id_number(2_000_123).as_str()).is_ok());
    }
}
