//! Purging a tenant deletes its files' bytes from the backend too (the `tenant.purged`
//! consumer), and no other tenant's.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Ctx, files_test, form};
use crate::tenants::{OWNER_PASSWORD, create_tenant, token_on};

async fn a_purged_tenants_files_leave_the_backend(ctx: Ctx) {
    let app = &ctx.app;
    create_tenant(app, "bytes", "bytes.test").await;
    let token = token_on(app, "bytes.test", "owner", OWNER_PASSWORD).await;
    let (ct, body) = form("file", "plano.txt", "text/plain", b"cocina en L\n");
    let theirs = ctx.upload_raw(ct, body, Some(&token)).await;
    assert_eq!(theirs.status, 201, "{theirs}");
    let their_id = theirs.json()["id"].as_str().expect("id").to_owned();
    let ours = ctx.upload("ours.txt", "text/plain", b"keep me\n").await;
    assert_eq!(ours.status, 201, "{ours}");
    let our_id = ours.json()["id"].as_str().expect("id").to_owned();
    let tenant: String = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'bytes'")
        .fetch_one(app.core.db.reader())
        .await
        .expect("the tenant");
    assert!(ctx.stored(&tenant, &their_id).await);

    let paused = app
        .send(
            app.admin(reqwest::Method::PATCH, "/api/v1/platform/tenants/bytes")
                .await
                .json(&json!({"status": "paused"})),
        )
        .await;
    assert_eq!(paused.status, 200, "{paused}");
    let r = app
        .admin_post(
            "/api/v1/platform/tenants/bytes/purge",
            &json!({"confirm": "bytes"}),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    // Waits on the listing alone: `stored` compares HEAD with the listing, which can
    // disagree for a moment while the consumer is deleting.
    let prefix = format!("{tenant}/");
    let deadline = Instant::now() + Duration::from_secs(10);
    while ctx
        .all_objects()
        .await
        .iter()
        .any(|k| k.starts_with(&prefix))
    {
        assert!(
            Instant::now() < deadline,
            "the purged tenant's file is still stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !ctx.stored(&tenant, &their_id).await,
        "nothing of it is left"
    );
    assert!(
        ctx.stored("default", &our_id).await,
        "another tenant's file stays"
    );
}
files_test!(a_purged_tenants_files_leave_the_backend);
