//! Guessing one account's password, from many addresses, is slowed down without locking its
//! owner out. Failed sign-ins are counted per account (all instances share the count: it is
//! a row); the first `free` failures cost nothing, then each further attempt from a browser
//! that never signed into the account waits a delay that doubles with every failure (1 s,
//! 2 s, 4 s, ... at most [`MAX_DELAY`]). Only one such attempt is let through per delay,
//! claimed atomically, so a botnet sending at once still gets one guess. A browser that
//! signed into the account before (a signed `faro_device` cookie) is never delayed: the
//! account's owner gets in during an attack, which the old wall of ten tries a minute
//! (429 to the right password too) did not allow. Failures are forgotten [`FORGET_AFTER`]
//! after the last one. The rules are pure ([`wait`]); the store claims and counts.

use std::time::Duration;

use faro_http::{ApiError, Core};
use faro_store::{StoreError, TenantId};
use sqlx::Row;

/// The longest wait between two guesses at one account from unknown browsers.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// An account's failures are forgotten this long after the last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// The known-device cookie: `<device id>.<signature>`, HttpOnly, for [`DEVICE_DAYS`].
pub const DEVICE_COOKIE: &str = "faro_device";
pub const DEVICE_DAYS: u64 = 90;

/// An account's failed sign-ins, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    /// Unix milliseconds of the last failure, or of the last attempt let through the delay.
    pub last_ms: i64,
}

/// How long an attempt from an unknown browser must still wait at `now_ms`; `None`: it may
/// go on. `free` failures cost nothing; each one past them doubles the delay.
pub fn wait(failures: Option<Failures>, free: u32, now_ms: i64) -> Option<Duration> {
    let f = failures?;
    if now_ms.saturating_sub(f.last_ms) >= FORGET_AFTER.as_millis() as i64 {
        return None;
    }
    let over = f.count - i64::from(free);
    if over < 0 {
        return None;
    }
    let delay = delay_after(over);
    let until = f.last_ms.saturating_add(delay.as_millis() as i64);
    (now_ms < until).then(|| Duration::from_millis((until - now_ms) as u64))
}

/// The delay after `over` failures past the free ones: 1 s, 2 s, 4 s, ..., [`MAX_DELAY`].
pub fn delay_after(over: i64) -> Duration {
    let secs = 1u64
        .checked_shl(over.clamp(0, 32) as u32)
        .unwrap_or(u64::MAX);
    Duration::from_secs(secs).min(MAX_DELAY)
}

/// The row key of an account: a keyed hash, so a username typed into the password field (or
/// the other way round) is never stored in clear.
pub fn account_key(core: &Core, tenant: &TenantId, username: &str) -> String {
    core.clients.limit_key(&format!(
        "login:{}:{}",
        tenant.as_str(),
        username.to_lowercase()
    ))
}

/// The value of a known-device cookie for this account, made from a fresh device id.
pub fn device_mark(core: &Core, tenant: &TenantId, username: &str, device: &str) -> String {
    let sig = core.clients.limit_key(&format!(
        "device:{}:{}:{device}",
        tenant.as_str(),
        username.to_lowercase()
    ));
    format!("{device}.{sig}")
}

/// Whether a known-device cookie was made for this account (by this installation).
pub fn is_known_device(core: &Core, tenant: &TenantId, username: &str, mark: &str) -> bool {
    let Some((device, _)) = mark.split_once('.') else {
        return false;
    };
    !device.is_empty()
        && faro_http::auth::same_secret(mark, &device_mark(core, tenant, username, device))
}

async fn read(core: &Core, key: &str) -> Result<Option<Failures>, StoreError> {
    let row = sqlx::query("SELECT failures, last_at_ms FROM login_failures WHERE account = $1")
        .bind(key)
        .fetch_optional(core.db.writer())
        .await?;
    Ok(match row {
        Some(r) => Some(Failures {
            count: r.try_get("failures")?,
            last_ms: r.try_get("last_at_ms")?,
        }),
        None => None,
    })
}

/// Lets an attempt from an unknown browser go on, or refuses it with 429 and the wait. Past
/// the free failures the attempt claims its slot (moves `last_at_ms` to now, if no other
/// attempt did first), so concurrent guesses get one evaluation per delay.
pub async fn admit(core: &Core, key: &str, free: u32, now_ms: i64) -> Result<(), ApiError> {
    let current = read(core, key).await?;
    if let Some(left) = wait(current, free, now_ms) {
        return Err(throttled(left));
    }
    if let Some(f) = current
        && f.count >= i64::from(free)
        && now_ms.saturating_sub(f.last_ms) < FORGET_AFTER.as_millis() as i64
    {
        let claimed = sqlx::query(
            "UPDATE login_failures SET last_at_ms = $3 WHERE account = $1 AND last_at_ms = $2",
        )
        .bind(key)
        .bind(f.last_ms)
        .bind(now_ms)
        .execute(core.db.writer())
        .await
        .map_err(StoreError::from)?
        .rows_affected();
        if claimed == 0 {
            return Err(throttled(delay_after(f.count - i64::from(free))));
        }
    }
    Ok(())
}

/// Counts a failed attempt (starting over once the last failure is forgotten).
pub async fn failed(
    core: &Core,
    tenant: &TenantId,
    key: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let stale = now_ms - FORGET_AFTER.as_millis() as i64;
    sqlx::query(
        "INSERT INTO login_failures (account, tenant_id, failures, last_at_ms) \
         VALUES ($1, $2, 1, $3) \
         ON CONFLICT (account) DO UPDATE SET \
           failures = CASE WHEN login_failures.last_at_ms < $4 THEN 1 \
                           ELSE login_failures.failures + 1 END, \
           last_at_ms = $3",
    )
    .bind(key)
    .bind(tenant.as_str())
    .bind(now_ms)
    .bind(stale)
    .execute(core.db.writer())
    .await?;
    Ok(())
}

/// Forgets failures past [`FORGET_AFTER`] (hourly, with the tokens).
pub async fn purge(db: &faro_store::Db, now_ms: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM login_failures WHERE last_at_ms < $1")
            .bind(now_ms - FORGET_AFTER.as_millis() as i64)
            .execute(db.writer())
            .await?
            .rows_affected(),
    )
}

fn throttled(left: Duration) -> ApiError {
    let retry = left.as_millis().div_ceil(1000).max(1) as u64;
    ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "too many failed sign-ins to this account; retry in {retry} s, or sign in from a \
             browser that signed into it before"
        ),
    )
    .with_details(serde_json::json!({ "retry_after": retry, "bucket": "login_account" }))
    .with_header(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(retry),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FREE: u32 = 10;

    fn f(count: i64, last_ms: i64) -> Option<Failures> {
        Some(Failures { count, last_ms })
    }

    #[test]
    fn the_free_failures_cost_nothing() {
        assert_eq!(wait(None, FREE, 0), None);
        assert_eq!(wait(f(9, 1_000), FREE, 1_000), None);
    }

    #[test]
    fn each_failure_past_them_doubles_the_wait() {
        assert_eq!(wait(f(10, 0), FREE, 0), Some(Duration::from_secs(1)));
        assert_eq!(wait(f(11, 0), FREE, 0), Some(Duration::from_secs(2)));
        assert_eq!(
            wait(f(13, 0), FREE, 500),
            Some(Duration::from_millis(7_500))
        );
        assert_eq!(wait(f(13, 0), FREE, 8_000), None);
        assert_eq!(wait(f(40, 0), FREE, 0), Some(MAX_DELAY));
        assert_eq!(wait(f(i64::MAX, 0), FREE, 0), Some(MAX_DELAY));
    }

    #[test]
    fn failures_are_forgotten_an_hour_after_the_last() {
        let hour = FORGET_AFTER.as_millis() as i64;
        assert!(
            wait(f(30, 0), FREE, hour - 1).is_none(),
            "the delay ran out first"
        );
        assert_eq!(wait(f(12, 0), FREE, hour), None);
    }

    proptest! {
        #[test]
        fn the_wait_never_passes_the_cap_nor_shrinks_with_more_failures(
            count in 0i64..200, last in 0i64..10_000_000, later in 0i64..4_000_000,
        ) {
            let now = last + later;
            let w = wait(f(count, last), FREE, now);
            prop_assert!(w.is_none_or(|d| d <= MAX_DELAY));
            let more = wait(f(count + 1, last), FREE, now);
            prop_assert!(more >= w);
        }
    }
}
