//! Demo pickup stations and a demo clerk (`--demo`). All fictional: the stations are in "演示市",
//! and the clerk's password is printed in the README.

use jingtong_api::auth::Role;

use crate::db::Db;

/// Staff number and password of the demo clerk.
pub const DEMO_CLERK: (&str, &str) = ("JT0001", "demo-clerk-2026");

/// id, name, address, hours, region code, remote.
const STATIONS: [(&str, &str, &str, &str, &str, i64); 3] = [
    ("st-shushan", "演示市公安局蜀山分局 演示路派出所", "演示市蜀山区演示路 100 号", "工作日 9:00–17:00", "340104", 0),
    (
        "st-luyang",
        "演示市公安局庐阳分局 样例街派出所",
        "演示市庐阳区样例街 8 号",
        "工作日 9:00–17:00，周六上午",
        "340103",
        0,
    ),
    ("st-shanqu", "演示县公安局 山区示例派出所", "演示县示例乡示例村 1 号", "工作日 8:30–16:30", "341881", 1),
];

pub async fn load(db: &Db, now: i64) -> Result<(), sqlx::Error> {
    for (id, name, address, hours, region, remote) in STATIONS {
        sqlx::query(
            "INSERT INTO pickup_stations (id, name, address, hours, region_code, remote) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .bind(address)
        .bind(hours)
        .bind(region)
        .bind(remote)
        .execute(&db.pool)
        .await?;
    }
    crate::auth::staff_accounts::ensure_account(db, DEMO_CLERK.0, DEMO_CLERK.1, Role::Clerk, now).await?;
    Ok(())
}
