//! The group-commit writer of session rows, on SQLite and PostgreSQL: one batch mixing every
//! kind of write gives each job its own outcome, what it reports as written is exactly what is
//! in the tables, and a statement that fails writes nothing of its own kind and leaves the
//! other kinds alone.

use faro_quiz::store::{self, Finish, NewSession, SessionWrite, SessionWrites};
use faro_store::{BatchWrite, Db, both_backends};

const TENANT: &str = "default";

fn tenant() -> faro_store::TenantId {
    faro_store::TenantId::new(TENANT)
}

async fn demo_version(db: &Db) -> String {
    faro_quiz::seed::seed_demo(db, &tenant())
        .await
        .expect("seed")
        .expect("seeded");
    let test = store::served_tests(db, &tenant())
        .await
        .expect("served")
        .into_iter()
        .next()
        .expect("demo served");
    test.published_version_id.expect("published")
}

fn new_session(id: &str, version_id: &str) -> SessionWrite {
    SessionWrite::Insert(NewSession {
        id: id.to_string(),
        tenant: TENANT.to_string(),
        version_id: version_id.to_string(),
        state: "{}".to_string(),
        started_at: 1_000,
        expires_at: 9_999_999_999,
        source: Some("newsletter".to_string()),
        campaign: None,
    })
}

fn save(id: &str, rev: i64, state: &str) -> SessionWrite {
    SessionWrite::Save {
        tenant: TENANT.to_string(),
        id: id.to_string(),
        rev,
        state: state.to_string(),
    }
}

fn finish(id: &str, rev: i64, token: &str, answers: Option<&str>) -> SessionWrite {
    SessionWrite::Finish(Finish {
        tenant: TENANT.to_string(),
        session_id: id.to_string(),
        test_id: String::new(),
        version_id: String::new(),
        share_token: token.to_string(),
        profile_code: "MODERADO".to_string(),
        score: 7,
        dimensions: "[]".to_string(),
        finished_at: 2_000,
        test_slug: "demo".to_string(),
        share_url: format!("https://q.example/r/{token}"),
        rev,
        answers: answers.map(str::to_string),
        owner: Default::default(),
    })
}

async fn run(db: &Db, jobs: &[SessionWrite]) -> Vec<bool> {
    SessionWrites::default()
        .run(db, jobs)
        .await
        .into_iter()
        .map(|r| r.expect("written"))
        .collect()
}

async fn a_mixed_batch_reports_each_outcome(db: Db) {
    let version = demo_version(&db).await;
    // Inserts alone: one statement, the missing version loses.
    let won = run(
        &db,
        &[
            new_session("s1", &version),
            new_session("s2", &version),
            new_session("gone", "no-such-version"),
        ],
    )
    .await;
    assert_eq!(won, [true, true, false]);

    // Test and version ids as the finish would carry them.
    let test = store::served_tests(&db, &tenant()).await.expect("served");
    let test_id = test[0].id.clone();
    let with_ids = |mut job: SessionWrite| {
        if let SessionWrite::Finish(f) = &mut job {
            f.test_id = test_id.clone();
            f.version_id = version.clone();
        }
        job
    };

    // Everything at once: a new session, a save that wins, a stale save, the same session
    // twice, and a finish.
    let won = run(
        &db,
        &[
            new_session("s3", &version),
            save("s1", 0, r#"{"answered":1}"#),
            save("s3", 5, r#"{"stale":true}"#),
            with_ids(finish("s2", 0, "tok-s2", Some(r#"{"q":"a"}"#))),
            save("s1", 1, r#"{"twice":true}"#),
        ],
    )
    .await;
    assert_eq!(won, [true, true, false, true, false]);

    let s1 = store::get_session(&db, &tenant(), "s1")
        .await
        .expect("read")
        .expect("s1");
    assert_eq!((s1.rev, s1.state.as_str()), (1, r#"{"answered":1}"#));
    let s2 = store::get_session(&db, &tenant(), "s2")
        .await
        .expect("read")
        .expect("s2");
    assert_eq!(s2.status, store::SESSION_FINISHED);
    assert_eq!(s2.share_token.as_deref(), Some("tok-s2"));
    let result = store::get_result(&db, &tenant(), "tok-s2")
        .await
        .expect("read")
        .expect("result stored with the finish");
    assert_eq!(
        (result.profile_code.as_str(), result.score),
        ("MODERADO", 7)
    );
    let s3 = store::get_session(&db, &tenant(), "s3")
        .await
        .expect("read")
        .expect("inserted");
    assert_eq!(
        (s3.rev, s3.state.as_str()),
        (0, "{}"),
        "the stale save did not apply"
    );
    assert_eq!(
        store::get_session(&db, &tenant(), "s2")
            .await
            .expect("read")
            .map(|s| s.source),
        Some(Some("newsletter".to_string()))
    );

    // Finishing again, or finishing from a stale rev, loses and stores nothing more.
    let won = run(
        &db,
        &[
            with_ids(finish("s2", 1, "tok-again", None)),
            with_ids(finish("s3", 4, "tok-stale", None)),
        ],
    )
    .await;
    assert_eq!(won, [false, false]);
    for token in ["tok-again", "tok-stale"] {
        assert!(
            store::get_result(&db, &tenant(), token)
                .await
                .expect("read")
                .is_none()
        );
    }
    let answers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM quiz_answers")
        .fetch_one(db.reader())
        .await
        .expect("count");
    assert_eq!(answers, 1, "kept once, for the finish that won");
}

async fn a_failing_statement_fails_only_its_own_kind(db: Db) {
    let version = demo_version(&db).await;
    run(&db, &[new_session("dup", &version)]).await;
    // The same id again violates the primary key: that INSERT, the one new session beside it
    // included, writes nothing; the answer in the same batch is another statement and applies.
    let results = SessionWrites::default()
        .run(
            &db,
            &[
                new_session("fresh", &version),
                save("dup", 0, r#"{"x":1}"#),
                new_session("dup", &version),
            ],
        )
        .await;
    assert!(results[0].is_err() && results[2].is_err(), "{results:?}");
    assert_eq!(results[1].as_ref().ok(), Some(&true));
    assert!(
        store::get_session(&db, &tenant(), "fresh")
            .await
            .expect("read")
            .is_none()
    );
    let dup = store::get_session(&db, &tenant(), "dup")
        .await
        .expect("read")
        .expect("dup");
    assert_eq!((dup.rev, dup.state.as_str()), (1, r#"{"x":1}"#));
}

/// A finish that wins writes its `quiz.finished` event in the same commit; a finish that
/// loses (stale rev, or the session finished already) writes none.
async fn a_won_finish_writes_one_finished_event(db: Db) {
    let version = demo_version(&db).await;
    let test = store::served_tests(&db, &tenant()).await.expect("served");
    let with_ids = |mut job: SessionWrite| {
        if let SessionWrite::Finish(f) = &mut job {
            f.test_id = test[0].id.clone();
            f.version_id = version.clone();
        }
        job
    };
    let won = run(
        &db,
        &[new_session("e1", &version), new_session("e2", &version)],
    )
    .await;
    assert_eq!(won, [true, true]);
    let won = run(
        &db,
        &[
            with_ids(finish("e1", 0, "tok-e1", None)),
            with_ids(finish("e2", 9, "tok-e2", None)),
        ],
    )
    .await;
    assert_eq!(won, [true, false], "e2's rev is stale");
    // Finishing e1 again loses: it is finished already.
    let won = run(&db, &[with_ids(finish("e1", 1, "tok-e1b", None))]).await;
    assert_eq!(won, [false]);

    // PostgreSQL numbers committed events after the fact, as a consumer would before reading.
    faro_store::outbox::sequence(&db).await.expect("sequence");
    let events = faro_store::outbox::events_after(&db, 0, 100)
        .await
        .expect("events");
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(
        (e.kind.as_str(), e.subject.as_str()),
        ("quiz.finished", "e1")
    );
    assert_eq!((e.tenant.as_str(), e.occurred_at), (TENANT, 2_000));
    let payload: serde_json::Value = e.payload_as().expect("JSON payload");
    assert_eq!(payload["profile_code"], "MODERADO");
    assert_eq!(payload["score"], 7);
    assert_eq!(payload["test_slug"], "demo");
    assert_eq!(payload["share_url"], "https://q.example/r/tok-e1");
    assert_eq!(payload["dimensions"], serde_json::json!([]));
    assert!(payload["visitor_id"].is_null());
}

both_backends!(
    with [&faro_quiz::MIGRATIONS];
    a_won_finish_writes_one_finished_event,
    a_mixed_batch_reports_each_outcome,
    a_failing_statement_fails_only_its_own_kind
);
