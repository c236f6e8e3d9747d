//! The queries behind every resident's screens and the timer loop, written once: the handlers run
//! them and the scale benchmark (benches/scale.rs) EXPLAINs and times exactly these on a
//! province-sized data set.

/// My applications, newest first, one page: `after` is [`crate::paging::Paging::condition`] over
/// `created_at, id` from $3. $1 user, $2 rows.
pub fn my_applications(after: &str) -> String {
    format!(
        "SELECT id, created_at FROM applications WHERE user_id = $1 {after}
         ORDER BY created_at DESC, id DESC LIMIT $2"
    )
}

/// One application's timeline. $1 application.
pub const APPLICATION_EVENTS: &str =
    "SELECT at, status, actor, note FROM application_events WHERE application_id = $1 ORDER BY at, id";

/// My vehicle-moving requests, sent and received, newest first, one page: `after` over
/// `created_at, id` from $3. $1 user, $2 rows.
pub fn my_vehicle_moves(after: &str) -> String {
    format!(
        "SELECT id, created_at FROM vehicle_moves WHERE (requester_id = $1 OR owner_user_id = $1) {after}
         ORDER BY created_at DESC, id DESC LIMIT $2"
    )
}

/// The open request on a plate: the probe a new request's insert makes through the partial unique
/// index `vehicle_moves_open_plate` (ON CONFLICT). $1 plate.
pub const OPEN_MOVE_BY_PLATE: &str = "SELECT id FROM vehicle_moves WHERE plate = $1 AND status <> 'resolved'";

/// The vehicle registry's entry for a plate, its owner's phone, and the owner's account if they have
/// one (signed in with the phone on the registry file, or verified as that person; the oldest). $1 plate.
pub const PLATE_OWNER: &str = "SELECT v.id, v.brand, v.color, p.phone_enc,
       (SELECT u.id FROM users u WHERE u.role = 'resident' AND (u.phone_hash = p.phone_hash OR u.id_number_hash = p.id_number_hash)
         ORDER BY u.created_at LIMIT 1)
     FROM registry_vehicles v JOIN registry_persons p ON p.id = v.owner_id WHERE v.plate = $1";

pub const CASE_COLUMNS: &str =
    "c.id, c.receipt_number, c.kind, c.title, c.station, c.officer, c.status, c.reported_at, c.status_changed_at";

/// A case the user may see: they looked it up with its codes, or they are its verified reporter.
fn case_visible(uid: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM case_viewers v WHERE v.case_id = c.id AND v.user_id = {uid})
          OR c.person_id IN (SELECT p.id FROM registry_persons p JOIN users u ON u.id_number_hash = p.id_number_hash
                             WHERE u.id = {uid}))"
    )
}

/// Case status lookup with its public timeline in one round trip: one row per event (the case's
/// columns repeated), or one row with NULL event columns before any event. $1 case, $2 user.
pub fn case_by_id() -> String {
    format!(
        "SELECT {CASE_COLUMNS}, e.at, e.status, e.text FROM cases c LEFT JOIN case_events e ON e.case_id = c.id
         WHERE c.id = $1 AND {} ORDER BY e.at, e.id",
        case_visible("$2")
    )
}

/// Case status lookup by the caller's access token, in one round trip: the bearer check
/// ([`crate::auth::tokens::LIVE_ACCESS_TOKEN`]), then the case if that resident may see it, with its
/// timeline. No row: the token is not live. Case columns NULL: no such case, or not the caller's.
/// $1 token hash, $2 token kind, $3 now (ms), $4 case.
pub fn case_for_token() -> String {
    format!(
        "WITH me AS (SELECT u.id AS uid, u.role AS role {live})
         SELECT me.role, {CASE_COLUMNS}, e.at, e.status, e.text
         FROM me LEFT JOIN cases c ON c.id = $4 AND me.role = 'resident' AND {visible}
         LEFT JOIN case_events e ON e.case_id = c.id
         ORDER BY e.at, e.id",
        live = crate::auth::tokens::LIVE_ACCESS_TOKEN,
        visible = case_visible("me.uid")
    )
}

/// My cases, newest first, one page: each of the two ways to see a case through its own index;
/// `after` over `c.reported_at, c.id` from $3. $1 user, $2 rows.
pub fn my_cases(after: &str) -> String {
    format!(
        "SELECT {CASE_COLUMNS} FROM cases c WHERE c.id IN (
           SELECT v.case_id FROM case_viewers v WHERE v.user_id = $1
           UNION
           SELECT r.id FROM cases r JOIN registry_persons p ON p.id = r.person_id
             JOIN users u ON u.id_number_hash = p.id_number_hash WHERE u.id = $1) {after}
         ORDER BY c.reported_at DESC, c.id DESC LIMIT $2"
    )
}

/// One case's public timeline. $1 case.
pub const CASE_EVENTS: &str = "SELECT at, status, text FROM case_events WHERE case_id = $1 ORDER BY at, id";

/// Up to `$4` due jobs of kind `$3`, claimed together (queued SMS, sent in batches).
pub fn due_jobs_of_kind(lock: &str) -> String {
    format!(
        "UPDATE jobs SET locked_until = $1, attempts = attempts + 1
         WHERE id IN (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $2 AND kind = $3
                        AND (locked_until IS NULL OR locked_until <= $2) ORDER BY run_at, id LIMIT $4 {lock})
           AND done_at IS NULL AND (locked_until IS NULL OR locked_until <= $2)
         RETURNING id, payload"
    )
}

/// Claims the next due timer. $1 lease end, $2 now; `lock` is `FOR UPDATE SKIP LOCKED` on PostgreSQL.
/// Queued SMS are not among them: only [`due_jobs_of_kind`] claims those (in batches, short lease).
pub fn due_job(lock: &str) -> String {
    format!(
        "UPDATE jobs SET locked_until = $1, attempts = attempts + 1
         WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $2 AND kind <> '{sms}'
                       AND (locked_until IS NULL OR locked_until <= $2) ORDER BY run_at, id LIMIT 1 {lock})
           AND done_at IS NULL AND (locked_until IS NULL OR locked_until <= $2)
         RETURNING id, kind, payload, attempts",
        sms = crate::sms::SEND_JOB
    )
}
