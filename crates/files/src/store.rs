//! Every SQL statement of the module, tenant-scoped, on the `files` table.

use faro_store::quota::{self, Exceeded, Quota};
use faro_store::{Db, StoreError, TenantId};
use sqlx::Row;
use sqlx::any::AnyRow;

/// One stored file's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    pub id: String,
    pub tenant_id: String,
    pub key: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
    pub created_by: Option<String>,
}

const COLUMNS: &str =
    "id, tenant_id, key, name, content_type, size, sha256, created_at, created_by";

fn row(r: &AnyRow) -> Result<FileRow, StoreError> {
    Ok(FileRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        key: r.try_get("key")?,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
    })
}

/// What a tenant's files take, in bytes: what the storage quota counts.
/// SUM(bigint) is NUMERIC on PostgreSQL, which the Any driver cannot decode: cast it.
const STORED: &str =
    "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE tenant_id = $1";

/// The tenant's storage limit and the bytes it stores now, if its plan limits storage (read
/// without a lock: a hint to refuse an upload before its bytes are stored).
pub async fn storage_room(
    db: &Db,
    tenant: &TenantId,
) -> Result<Option<(quota::Limit, u64)>, StoreError> {
    quota::room(db, tenant, Quota::StorageMb, STORED).await
}

/// Writes a file's row, unless the tenant's plan has no room for its bytes (the inner `Err`).
pub async fn insert(
    db: &Db,
    f: &FileRow,
    by: Option<&faro_http::audit::Actor>,
) -> Result<Result<(), Exceeded>, StoreError> {
    let mut tx = db.writer().begin().await?;
    let tenant = TenantId::new(f.tenant_id.as_str());
    let adding = u64::try_from(f.size).unwrap_or(0);
    if let Err(e) = quota::guard(&mut tx, &tenant, Quota::StorageMb, STORED, adding).await? {
        return Ok(Err(e));
    }
    sqlx::query(
        "INSERT INTO files (id, tenant_id, key, name, content_type, size, sha256, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&f.id)
    .bind(&f.tenant_id)
    .bind(&f.key)
    .bind(&f.name)
    .bind(&f.content_type)
    .bind(f.size)
    .bind(&f.sha256)
    .bind(f.created_at)
    .bind(&f.created_by)
    .execute(&mut *tx)
    .await?;
    if let Some(by) = by {
        let after =
            serde_json::json!({"name": f.name, "content_type": f.content_type, "size": f.size});
        faro_http::audit::record_change(
            &mut tx,
            &tenant,
            by,
            "file.upload",
            &f.id,
            None,
            Some(after),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// A tenant's file; another tenant's id is `None`, as a missing one.
pub async fn get(db: &Db, tenant: &TenantId, id: &str) -> Result<Option<FileRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM files WHERE tenant_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .as_ref()
        .map(row)
        .transpose()
}

/// Any tenant's file by id: only for a download whose signed URL already proved the right to it.
pub async fn get_any_tenant(db: &Db, id: &str) -> Result<Option<FileRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM files WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.reader())
        .await?
        .as_ref()
        .map(row)
        .transpose()
}

/// A page of a tenant's files, newest first (ids are UUIDv7), after the id `before` if given.
pub async fn list(
    db: &Db,
    tenant: &TenantId,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<FileRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM files WHERE tenant_id = $1 AND ($2 = '' OR id < $2) \
         ORDER BY id DESC LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(before.unwrap_or_default())
        .bind(limit)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(row).collect()
}

/// Removes a tenant's file row; false when there was none.
pub async fn delete(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    by: Option<&faro_http::audit::Actor>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let before =
        sqlx::query("SELECT name, content_type, size FROM files WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let done = sqlx::query("DELETE FROM files WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if let (Some(by), Some(r)) = (by, before) {
        let before = serde_json::json!({
            "name": r.try_get::<String, _>(0)?,
            "content_type": r.try_get::<String, _>(1)?,
            "size": r.try_get::<i64, _>(2)?,
        });
        faro_http::audit::record_change(&mut tx, tenant, by, "file.delete", id, Some(before), None)
            .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

/// How many files a tenant has and their total size: what a quota compares with.
pub async fn usage(db: &Db, tenant: &TenantId) -> Result<(i64, i64), StoreError> {
    // SUM(bigint) is NUMERIC on PostgreSQL, which the Any driver cannot decode: cast it.
    let r = sqlx::query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_one(db.reader())
    .await?;
    Ok((r.try_get(0)?, r.try_get(1)?))
}

/// Every tenant's file count and total size (or only `only`'s; `None`: all), by tenant id:
/// the super-admin's usage view.
pub async fn usage_by_tenant(
    db: &Db,
    only: Option<&str>,
) -> Result<std::collections::HashMap<String, (i64, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT tenant_id, COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files \
         WHERE ($1 = '' OR tenant_id = $1) GROUP BY tenant_id",
    )
    .bind(only.unwrap_or_default())
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tenant: &str, name: &str, size: i64) -> FileRow {
        let id = faro_store::new_id();
        FileRow {
            key: format!("{tenant}/{id}"),
            id,
            tenant_id: tenant.into(),
            name: name.into(),
            content_type: "text/plain; charset=utf-8".into(),
            size,
            sha256: "00".repeat(32),
            created_at: faro_store::unix_now(),
            created_by: None,
        }
    }

    async fn rows_are_tenant_scoped_and_paged(db: Db) {
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ('t2', 'Two', 0)")
            .execute(db.writer())
            .await
            .expect("tenant");
        let t1 = TenantId::default_tenant();
        let t2 = TenantId::new("t2");
        let mut mine = Vec::new();
        for i in 0..5 {
            let f = file("default", &format!("f{i}.txt"), 10 + i);
            insert(&db, &f, None)
                .await
                .expect("insert")
                .expect("no quota");
            mine.push(f);
        }
        let theirs = file("t2", "secret.txt", 1_000);
        insert(&db, &theirs, None)
            .await
            .expect("insert")
            .expect("no quota");

        assert_eq!(
            get(&db, &t1, &mine[0].id).await.expect("get"),
            Some(mine[0].clone())
        );
        assert_eq!(get(&db, &t1, &theirs.id).await.expect("get"), None);
        assert_eq!(
            get_any_tenant(&db, &theirs.id)
                .await
                .expect("get")
                .map(|f| f.tenant_id),
            Some("t2".to_string())
        );

        let first = list(&db, &t1, None, 3).await.expect("page 1");
        let ids: Vec<_> = first.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(ids, ["f4.txt", "f3.txt", "f2.txt"]);
        let rest = list(&db, &t1, Some(&first[2].id), 3).await.expect("page 2");
        let ids: Vec<_> = rest.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(ids, ["f1.txt", "f0.txt"]);

        assert_eq!(
            usage(&db, &t1).await.expect("usage"),
            (5, 10 + 11 + 12 + 13 + 14)
        );
        assert_eq!(
            usage(&db, &TenantId::new("none")).await.expect("usage"),
            (0, 0)
        );

        assert!(!delete(&db, &t1, &theirs.id, None).await.expect("delete"));
        assert!(delete(&db, &t1, &mine[0].id, None).await.expect("delete"));
        assert!(!delete(&db, &t1, &mine[0].id, None).await.expect("delete"));
        assert_eq!(usage(&db, &t2).await.expect("usage"), (1, 1_000));
    }

    faro_store::both_backends!(with [&crate::MIGRATIONS]; rows_are_tenant_scoped_and_paged);
}
