//! The module's storage on both databases: the fan-out (through the real outbox consumer),
//! the senders' compare-and-set claims, recording, replays, tenant scoping and the purge.

use faro_store::outbox::{self, Batch};
use faro_store::{Db, NewEvent, TenantId, both_backends, unix_now_ms};
use faro_webhooks::fanout;
use faro_webhooks::state::Kick;
use faro_webhooks::store::{self, EndpointRow, Outcome};

fn t(id: &str) -> TenantId {
    TenantId::new(id)
}

async fn add_tenant(db: &Db, id: &str) {
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $1, 0)")
        .bind(id)
        .execute(db.writer())
        .await
        .expect("tenant");
}

async fn endpoint(db: &Db, tenant: &str, kinds: &[&str], enabled: bool) -> String {
    let id = faro_store::new_id();
    let row = EndpointRow {
        id: id.clone(),
        url: format!("https://receiver.example/{id}"),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        event_kinds: kinds.iter().map(|k| k.to_string()).collect(),
        enabled,
        created_at: 1,
        updated_at: 1,
    };
    store::insert_endpoint(db, &t(tenant), &row, 50, None)
        .await
        .expect("insert endpoint")
        .expect("room for it");
    id
}

async fn publish(db: &Db, events: &[NewEvent]) {
    let mut tx = db.begin_write().await.expect("tx");
    outbox::append(&mut tx, db.backend(), events)
        .await
        .expect("append");
    tx.commit().await.expect("commit");
}

fn ev(tenant: &str, kind: &str, subject: &str) -> NewEvent {
    NewEvent::new(
        tenant,
        kind,
        subject,
        &serde_json::json!({"subject": subject}),
    )
    .expect("event")
}

async fn deliveries_of(db: &Db, tenant: &str, endpoint: &str) -> Vec<store::DeliveryRow> {
    store::list_deliveries(db, &t(tenant), endpoint, None, None, 100)
        .await
        .expect("list")
}

/// Each event goes to every enabled endpoint of its own tenant whose patterns match, once,
/// with the envelope as its body.
async fn the_fan_out_queues_one_delivery_per_matching_enabled_endpoint(db: Db) {
    add_tenant(&db, "t2").await;
    let exact = endpoint(&db, "default", &["quiz.finished"], true).await;
    let module = endpoint(&db, "default", &["quiz.*"], true).await;
    let disabled = endpoint(&db, "default", &["quiz.*"], false).await;
    let other_kind = endpoint(&db, "default", &["leads.*"], true).await;
    let other_tenant = endpoint(&db, "t2", &["quiz.*"], true).await;
    publish(
        &db,
        &[
            ev("default", "quiz.finished", "s1"),
            ev("default", "quiz.started", "s2"),
        ],
    )
    .await;
    let consumer = fanout::consumer(Kick::default());
    match outbox::consume_batch(&db, &consumer, "test")
        .await
        .expect("batch")
    {
        Batch::Done { handled, .. } => assert_eq!(handled, 2),
        other => panic!("{other:?}"),
    }
    let d = deliveries_of(&db, "default", &exact).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].event_kind, "quiz.finished");
    assert_eq!(d[0].status, store::PENDING);
    assert_eq!(d[0].attempts, 0);
    assert_eq!(deliveries_of(&db, "default", &module).await.len(), 2);
    assert!(deliveries_of(&db, "default", &disabled).await.is_empty());
    assert!(deliveries_of(&db, "default", &other_kind).await.is_empty());
    assert!(deliveries_of(&db, "t2", &other_tenant).await.is_empty());

    // The body is the envelope, the payload an object.
    let due = store::due_all_tenants(&db, unix_now_ms(), 100)
        .await
        .expect("due");
    assert_eq!(due.len(), 3);
    let body: serde_json::Value = serde_json::from_str(&due[0].body).expect("json");
    for field in ["id", "tenant", "kind", "subject", "occurred_at", "payload"] {
        assert!(body.get(field).is_some(), "{field} in {body}");
    }
    assert!(body["payload"].is_object());
    assert_eq!(body["tenant"], "default");
    assert_eq!(due[0].event_id, body["id"].as_str().expect("id"));

    // Fanning the same events out again (a replayed cursor) creates nothing new.
    outbox::reset_cursor(&db, fanout::CONSUMER, 0)
        .await
        .expect("reset");
    assert!(matches!(
        outbox::consume_batch(&db, &consumer, "test").await,
        Ok(Batch::Done { .. })
    ));
    assert_eq!(deliveries_of(&db, "default", &module).await.len(), 2);
}

/// Only one of two senders wins a claim; the outcome is recorded by the winner only; a retry
/// is not due before its time; a replay makes it due at once with the count reset.
async fn claims_are_exclusive_and_outcomes_need_the_lease(db: Db) {
    let ep = endpoint(&db, "default", &["quiz.*"], true).await;
    publish(&db, &[ev("default", "quiz.finished", "s1")]).await;
    outbox::consume_batch(&db, &fanout::consumer(Kick::default()), "test")
        .await
        .expect("fan out");
    let tenant = t("default");
    let now = unix_now_ms();
    let due = store::due_all_tenants(&db, now, 10).await.expect("due");
    assert_eq!(due.len(), 1);
    let id = due[0].id.clone();
    let a = store::claim(&db, &tenant, &id, "a", now, now + 60_000)
        .await
        .expect("claim a");
    let b = store::claim(&db, &tenant, &id, "b", now, now + 60_000)
        .await
        .expect("claim b");
    assert_eq!((a, b), (Some(1), None));
    assert!(
        store::due_all_tenants(&db, now, 10)
            .await
            .expect("due")
            .is_empty(),
        "a leased delivery is not due"
    );
    let retry = Outcome {
        status: store::PENDING,
        next_attempt_at: Some(now + 5_000),
        status_code: Some(500),
        error: Some("HTTP 500".into()),
        response: Some("oops".into()),
        duration_ms: 12,
    };
    assert!(
        !store::record(&db, &tenant, &id, "b", &retry, now)
            .await
            .expect("record b"),
        "only the lease owner records"
    );
    assert!(
        store::record(&db, &tenant, &id, "a", &retry, now)
            .await
            .expect("record a")
    );
    assert_eq!(
        store::next_due_all_tenants(&db).await.expect("next"),
        Some(now + 5_000)
    );
    assert_eq!(
        store::claim(&db, &tenant, &id, "b", now + 1_000, now + 60_000)
            .await
            .expect("early"),
        None,
        "not before its next attempt"
    );
    assert_eq!(
        store::claim(&db, &tenant, &id, "b", now + 5_000, now + 60_000)
            .await
            .expect("due"),
        Some(2)
    );
    let failed = Outcome {
        status: store::FAILED,
        next_attempt_at: None,
        ..retry.clone()
    };
    assert!(
        store::record(&db, &tenant, &id, "b", &failed, now)
            .await
            .expect("record")
    );
    let d = store::get_delivery(&db, &tenant, &id)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(
        (d.status.as_str(), d.attempts, d.last_status_code),
        ("failed", 2, Some(500))
    );
    assert_eq!(d.last_response.as_deref(), Some("oops"));
    assert_eq!(store::next_due_all_tenants(&db).await.expect("next"), None);

    // A replay by another tenant's staff finds nothing; the owner's makes it due at once.
    assert_eq!(
        store::replay(&db, &t("t2"), &id, now)
            .await
            .expect("replay t2"),
        None
    );
    let replayed = store::replay(&db, &tenant, &id, now)
        .await
        .expect("replay")
        .expect("the owner's delivery");
    assert_eq!(
        (replayed.status.as_str(), replayed.attempts),
        ("pending", 0),
        "the row as the replay left it"
    );
    assert_eq!(
        store::claim(&db, &tenant, &id, "c", now, now + 60_000)
            .await
            .expect("claim"),
        Some(1)
    );
    // Disabling the endpoint pauses it: nothing of it is due.
    let paused = store::EndpointChange {
        enabled: Some(false),
        ..Default::default()
    };
    store::record(
        &db,
        &tenant,
        &id,
        "c",
        &Outcome {
            next_attempt_at: Some(now),
            ..retry
        },
        now,
    )
    .await
    .expect("record");
    assert!(
        store::update_endpoint(&db, &tenant, &ep, &paused, now, None)
            .await
            .expect("disable")
    );
    assert!(
        store::due_all_tenants(&db, now + 1, 10)
            .await
            .expect("due")
            .is_empty()
    );
    assert_eq!(store::next_due_all_tenants(&db).await.expect("next"), None);
}

/// Another tenant's endpoints are absent for every read and write.
async fn endpoints_are_scoped_to_their_tenant(db: Db) {
    add_tenant(&db, "t2").await;
    let ep = endpoint(&db, "default", &["quiz.*"], true).await;
    let other = t("t2");
    assert!(
        store::get_endpoint(&db, &other, &ep)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store::list_endpoints(&db, &other, None, 10)
            .await
            .expect("list")
            .is_empty()
    );
    let change = store::EndpointChange {
        url: Some("https://elsewhere.example/".into()),
        ..Default::default()
    };
    assert!(
        !store::update_endpoint(&db, &other, &ep, &change, 2, None)
            .await
            .expect("update")
    );
    assert!(
        !store::delete_endpoint(&db, &other, &ep, None)
            .await
            .expect("delete")
    );
    let mine = store::get_endpoint(&db, &t("default"), &ep)
        .await
        .expect("get")
        .expect("still there");
    assert!(mine.url.starts_with("https://receiver.example/"));
    assert_eq!(store::count_endpoints(&db, &other).await.expect("count"), 0);
    assert!(
        store::delete_endpoint(&db, &t("default"), &ep, None)
            .await
            .expect("delete")
    );
}

/// The purge removes finished deliveries older than the cut-off and keeps pending ones.
async fn the_purge_keeps_pending_and_recent_deliveries(db: Db) {
    let ep = endpoint(&db, "default", &["quiz.*"], true).await;
    publish(
        &db,
        &[
            ev("default", "quiz.finished", "old-done"),
            ev("default", "quiz.finished", "pending"),
        ],
    )
    .await;
    outbox::consume_batch(&db, &fanout::consumer(Kick::default()), "test")
        .await
        .expect("fan out");
    let tenant = t("default");
    let rows = deliveries_of(&db, "default", &ep).await;
    let done = rows.first().map(|d| d.id.clone()).expect("a row");
    let now = unix_now_ms();
    store::claim(&db, &tenant, &done, "a", now, now + 1000)
        .await
        .expect("claim")
        .expect("won");
    let delivered = Outcome {
        status: store::DELIVERED,
        next_attempt_at: None,
        status_code: Some(200),
        error: None,
        response: None,
        duration_ms: 3,
    };
    store::record(&db, &tenant, &done, "a", &delivered, now)
        .await
        .expect("record");
    assert_eq!(
        store::purge_finished_all_tenants(&db, now)
            .await
            .expect("purge"),
        0,
        "not older than the cut-off"
    );
    assert_eq!(
        store::purge_finished_all_tenants(&db, now + 1)
            .await
            .expect("purge"),
        1
    );
    let left = deliveries_of(&db, "default", &ep).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].status, store::PENDING);
}

both_backends!(with [&faro_webhooks::MIGRATIONS];
    the_fan_out_queues_one_delivery_per_matching_enabled_endpoint,
    claims_are_exclusive_and_outcomes_need_the_lease,
    endpoints_are_scoped_to_their_tenant,
    the_purge_keeps_pending_and_recent_deliveries,
);
