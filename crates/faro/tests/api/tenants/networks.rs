//! `SUPER_ADMIN_NETWORKS`: the super-admin's powers work only from the listed networks, on
//! every request (not only at sign-in), with the client's address taken through trusted
//! proxies only; everything else the account does (its own tenant's panel and API) is
//! unaffected.

use reqwest::Method;

use crate::both;
use crate::common::TestApp;

async fn the_platform_api_answers_only_from_its_networks(app: TestApp) {
    // Tests connect from 127.0.0.1, outside 10.0.0.0/8.
    let fenced = app
        .sibling(&[
            ("SUPER_ADMIN_NETWORKS", "10.0.0.0/8"),
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ])
        .await;
    let r = fenced.admin_get("/api/v1/platform/tenants").await;
    r.assert_error(403, "super_admin_network");
    assert!(r.text.contains("SUPER_ADMIN_NETWORKS"), "{r}");
    // The same account still runs its own tenant.
    assert_eq!(fenced.admin_get("/api/v1/admin/staff").await.status, 200);
    // Through the trusted proxy, from an allowed address: the console's API answers.
    let req = fenced
        .admin(Method::GET, "/api/v1/platform/tenants")
        .await
        .header("x-forwarded-for", "10.1.2.3");
    assert_eq!(fenced.send(req).await.status, 200);
    // A token is no key to elsewhere: the one that worked above is refused from outside.
    let req = fenced
        .admin(Method::GET, "/api/v1/platform/plans")
        .await
        .header("x-forwarded-for", "192.0.2.7");
    fenced
        .send(req)
        .await
        .assert_error(403, "super_admin_network");

    // Without a trusted proxy the header is the client's word, and not believed.
    let strict = app.sibling(&[("SUPER_ADMIN_NETWORKS", "10.0.0.0/8")]).await;
    let req = strict
        .admin(Method::GET, "/api/v1/platform/tenants")
        .await
        .header("x-forwarded-for", "10.1.2.3");
    strict
        .send(req)
        .await
        .assert_error(403, "super_admin_network");

    // Listing the loopback network lets the console through again.
    let open = app
        .sibling(&[("SUPER_ADMIN_NETWORKS", "10.0.0.0/8, 127.0.0.0/8")])
        .await;
    assert_eq!(open.admin_get("/api/v1/platform/tenants").await.status, 200);
}
both!(the_platform_api_answers_only_from_its_networks);
