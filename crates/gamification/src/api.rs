//! `/api/v1/gamification/*` and `/api/v1/admin/gamification/*`: thin handlers (extract → use
//! case → view).
//!
//! | route | who |
//! |---|---|
//! | `POST /api/v1/gamification/events` | staff (admin) or an API key with `gamification:write` |
//! | `POST /api/v1/gamification/me/events` | the signed-in end user, kinds the design lists in `user_events` |
//! | `GET /api/v1/gamification/users/{user}/profile` | staff or an API key (`gamification:read`) |
//! | `GET /api/v1/gamification/profile` | the signed-in end user |
//! | `GET /api/v1/gamification/leaderboard` | anyone, on the tenant's host (names masked, no ids) |
//! | `GET /api/v1/admin/gamification/leaderboard` | staff or an API key: the same with user ids |
//! | `GET`, `PUT /api/v1/admin/gamification/design` | staff read; admins (or a write key) replace |
//! | `POST /api/v1/gamification/redeem` | the signed-in end user: points into credits |
//! | `POST /api/v1/gamification/users/{user}/redeem` | staff (admin) or a write key, for a user |
//! | `POST /api/v1/admin/gamification/reversals` | staff (admin) or a write key: take an award back |

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use faro_http::audit::Actor;
use faro_http::auth::{AdminUser, Viewer};
use faro_http::enduser::EndUser;
use faro_http::tenant::PublicTenant;
use faro_http::{ApiResult, ClientAddr, Json, Query};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Gamification;
use crate::design::{self, Design};
use crate::error::GamificationError;
use crate::ingest::{self, Incoming, Outcomes};
use crate::profile::{self, Leaderboard, Profile};
use crate::spend::{self, Redeemed, Reversed};

pub fn router(g: Gamification) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(send_event))
        .routes(routes!(send_my_event))
        .routes(routes!(user_profile))
        .routes(routes!(my_profile))
        .routes(routes!(public_leaderboard))
        .routes(routes!(staff_leaderboard))
        .routes(routes!(get_design, put_design))
        .routes(routes!(redeem_mine))
        .routes(routes!(redeem_for))
        .routes(routes!(reverse_award))
        .with_state(g)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// The tenant's end-user id, or an id of the tenant's own choosing.
    #[schema(example = "user-42")]
    pub user: String,
    /// The event kind: lowercase words joined by dots.
    #[serde(rename = "type")]
    #[schema(example = "conversion.completed")]
    pub kind: String,
    /// Makes the event idempotent: the same key again changes nothing. Absent: the
    /// `Idempotency-Key` header, else the event is taken as new.
    pub key: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object, example = json!({"target_format": "pdf", "size_mb": 12}))]
    pub props: Map<String, Value>,
    /// RFC 3339; default now. At most 30 days ago.
    pub occurred_at: Option<String>,
    /// The user's name for leaderboards; only its masked form ("María G.") is stored.
    pub display_name: Option<String>,
}

/// Takes in an event and applies the tenant's rules to it.
#[utoipa::path(post, path = "/api/v1/gamification/events", tag = "gamification",
    request_body = EventBody, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Used as the event key when the body has none")),
    responses(
        (status = 201, description = "Applied: the awards, badges and level it caused", body = Outcomes),
        (status = 200, description = "The key was seen before: nothing changed", body = Outcomes),
        (status = 422, description = "Every problem of the event (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn send_event(
    State(g): State<Gamification>,
    AdminUser(staff): AdminUser,
    headers: HeaderMap,
    Json(body): Json<EventBody>,
) -> ApiResult<(StatusCode, Json<Outcomes>)> {
    let occurred_at = match body.occurred_at.as_deref() {
        None => None,
        Some(t) => Some(
            t.parse::<jiff::Timestamp>()
                .map_err(|_| GamificationError::invalid("occurred_at", "an RFC 3339 time"))?
                .as_second(),
        ),
    };
    let key = body.key.unwrap_or_else(|| idempotency_key(&headers));
    let out = ingest::ingest(
        &g,
        &staff.tenant,
        Incoming {
            user: body.user,
            kind: body.kind,
            key,
            props: body.props,
            occurred_at,
            display_name: body.display_name,
        },
    )
    .await?;
    Ok((applied(&out), Json(out)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MyEventBody {
    /// One of the kinds the site's design lists in `user_events`.
    #[serde(rename = "type")]
    #[schema(example = "user.daily_login")]
    pub kind: String,
    /// Makes the event idempotent for this user (1 to 100 characters): the same key again
    /// changes nothing. Absent: the `Idempotency-Key` header, else the event is taken as new.
    pub key: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object, example = json!({"page": "/pricing"}))]
    pub props: Map<String, Value>,
}

/// An event the signed-in end user reports about themselves (a daily visit, an opinion):
/// dated now, applied to their own profile.
#[utoipa::path(post, path = "/api/v1/gamification/me/events", tag = "gamification",
    request_body = MyEventBody, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Used as the event key when the body has none")),
    responses(
        (status = 201, description = "Applied: the awards, badges and level it caused", body = Outcomes),
        (status = 200, description = "The key was seen before: nothing changed", body = Outcomes),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "`event_not_allowed`: a kind the site keeps for servers", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem of the event (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn send_my_event(
    State(g): State<Gamification>,
    user: EndUser,
    headers: HeaderMap,
    Json(body): Json<MyEventBody>,
) -> ApiResult<(StatusCode, Json<Outcomes>)> {
    let key = body.key.unwrap_or_else(|| idempotency_key(&headers));
    let out = ingest::ingest_own(&g, &user.tenant, &user.id, body.kind, key, body.props).await?;
    Ok((applied(&out), Json(out)))
}

fn applied(out: &Outcomes) -> StatusCode {
    if out.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

/// A player's profile (staff, or an API key with `gamification:read`).
#[utoipa::path(get, path = "/api/v1/gamification/users/{user}/profile", tag = "gamification",
    params(("user" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Profile)))]
pub async fn user_profile(
    State(g): State<Gamification>,
    Viewer(staff): Viewer,
    Path(user): Path<String>,
) -> ApiResult<Json<Profile>> {
    Ok(Json(profile::profile(&g, &staff.tenant, &user).await?))
}

/// The signed-in end user's own profile.
#[utoipa::path(get, path = "/api/v1/gamification/profile", tag = "gamification",
    security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 401, body = faro_http::ErrorBody)))]
pub async fn my_profile(State(g): State<Gamification>, user: EndUser) -> ApiResult<Json<Profile>> {
    Ok(Json(profile::profile(&g, &user.tenant, &user.id).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    /// all_time (default), weekly or monthly (the tenant's calendar).
    pub period: Option<String>,
    /// 1 to 100; default 50.
    pub limit: Option<usize>,
}

/// The tenant's leaderboard, names masked and no ids (public, on the tenant's host).
#[utoipa::path(get, path = "/api/v1/gamification/leaderboard", tag = "gamification",
    params(BoardQuery),
    responses((status = 200, body = Leaderboard), (status = 422, body = faro_http::ErrorBody)))]
pub async fn public_leaderboard(
    State(g): State<Gamification>,
    PublicTenant(tenant): PublicTenant,
    Query(q): Query<BoardQuery>,
) -> ApiResult<Json<Leaderboard>> {
    Ok(Json(
        profile::leaderboard(&g, &tenant, q.period.as_deref(), q.limit, false).await?,
    ))
}

/// The leaderboard with the user ids (staff, or an API key with `gamification:read`).
#[utoipa::path(get, path = "/api/v1/admin/gamification/leaderboard", tag = "gamification",
    params(BoardQuery), security(("bearer" = [])),
    responses((status = 200, body = Leaderboard), (status = 422, body = faro_http::ErrorBody)))]
pub async fn staff_leaderboard(
    State(g): State<Gamification>,
    Viewer(staff): Viewer,
    Query(q): Query<BoardQuery>,
) -> ApiResult<Json<Leaderboard>> {
    Ok(Json(
        profile::leaderboard(&g, &staff.tenant, q.period.as_deref(), q.limit, true).await?,
    ))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignDoc {
    /// The version read; a `PUT` must send it back (0 before the first save).
    pub version: i64,
    pub design: Design,
}

/// The tenant's rules, multipliers, levels, badges and challenge templates.
#[utoipa::path(get, path = "/api/v1/admin/gamification/design", tag = "gamification",
    security(("bearer" = [])), responses((status = 200, body = DesignDoc)))]
pub async fn get_design(
    State(g): State<Gamification>,
    Viewer(staff): Viewer,
) -> ApiResult<Json<DesignDoc>> {
    let loaded = design::load(&g, &staff.tenant).await?;
    Ok(Json(DesignDoc {
        version: loaded.version,
        design: loaded.design.clone(),
    }))
}

/// Replaces the design; every problem is listed with its path and nothing is saved when
/// there is one. A stale `version` is refused (409 `stale_version`).
#[utoipa::path(put, path = "/api/v1/admin/gamification/design", tag = "gamification",
    request_body = DesignDoc, security(("bearer" = [])),
    responses(
        (status = 200, body = DesignDoc),
        (status = 409, description = "Changed meanwhile (`stale_version`)", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn put_design(
    State(g): State<Gamification>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Json(body): Json<DesignDoc>,
) -> ApiResult<Json<DesignDoc>> {
    let by = Actor::staff(&staff, client.as_deref());
    let version = design::save(&g, &staff.tenant, &body.design, body.version, &by).await?;
    Ok(Json(DesignDoc {
        version,
        design: body.design,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    /// Points to turn into credits: at least the design's minimum, a whole number of credits
    /// (the demo: 100 points = 1 credit, at least 100).
    #[schema(example = 300)]
    pub points: i64,
}

fn idempotency_key(headers: &HeaderMap) -> String {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map_or_else(faro_store::new_id, str::to_owned)
}

/// Redeems the signed-in user's points into credits. With an `Idempotency-Key`, a retry
/// returns the first result and spends nothing more.
#[utoipa::path(post, path = "/api/v1/gamification/redeem", tag = "gamification",
    request_body = RedeemBody, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = Redeemed),
        (status = 401, body = faro_http::ErrorBody),
        (status = 409, description = "Not enough points (`insufficient_points`)", body = faro_http::ErrorBody),
        (status = 422, description = "Under the minimum or not a whole number of credits", body = faro_http::ErrorBody),
    ))]
pub async fn redeem_mine(
    State(g): State<Gamification>,
    user: EndUser,
    headers: HeaderMap,
    Json(body): Json<RedeemBody>,
) -> ApiResult<Json<Redeemed>> {
    let key = idempotency_key(&headers);
    Ok(Json(
        spend::redeem(&g, &user.tenant, &user.id, body.points, &key, None).await?,
    ))
}

/// Redeems a user's points into credits (staff or a `gamification:write` key).
#[utoipa::path(post, path = "/api/v1/gamification/users/{user}/redeem", tag = "gamification",
    request_body = RedeemBody, security(("bearer" = [])),
    params(("user" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = Redeemed),
        (status = 409, description = "Not enough points (`insufficient_points`)", body = faro_http::ErrorBody),
        (status = 422, description = "Under the minimum or not a whole number of credits", body = faro_http::ErrorBody),
    ))]
pub async fn redeem_for(
    State(g): State<Gamification>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(user): Path<String>,
    headers: HeaderMap,
    Json(body): Json<RedeemBody>,
) -> ApiResult<Json<Redeemed>> {
    let key = idempotency_key(&headers);
    let by = Actor::staff(&staff, client.as_deref());
    Ok(Json(
        spend::redeem(&g, &staff.tenant, &user, body.points, &key, Some(&by)).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalBody {
    pub user: String,
    /// The award's rule (`conversion`, `badge:primer_paso`, `challenge:<id>`, `streak`).
    pub rule: String,
    /// The award's source: the event key (or `unlock`, `complete`, the day for a streak).
    pub source: String,
    /// How many points to take back; absent: all that is left of the award.
    pub points: Option<i64>,
    /// Why: kept with the entry and in the event.
    pub reason: String,
}

/// Takes (part of) an award back, with a reason. Never more than is left of the award or of
/// the balance (points spent stay spent); levels do not go down.
#[utoipa::path(post, path = "/api/v1/admin/gamification/reversals", tag = "gamification",
    request_body = ReversalBody, security(("bearer" = [])),
    responses(
        (status = 201, body = Reversed),
        (status = 404, description = "No such award for this user", body = faro_http::ErrorBody),
        (status = 409, description = "Nothing left to take back (`conflict`)", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
    ))]
pub async fn reverse_award(
    State(g): State<Gamification>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Json(body): Json<ReversalBody>,
) -> ApiResult<(StatusCode, Json<Reversed>)> {
    let by = Actor::staff(&staff, client.as_deref());
    let done = spend::reverse(
        &g,
        &staff.tenant,
        &body.user,
        &body.rule,
        &body.source,
        body.points,
        &body.reason,
        &by,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}
