//! The demo test a fresh install starts with, seeded once (deleting it does not bring it back).

use faro_quiz_domain::Format;
use faro_store::TenantId;
use faro_store::{Db, get_setting, put_setting};

use crate::service::{self, QuizError};

/// The published demo: "¿Qué tipo de ahorrista sos?".
pub const DEMO_YAML: &str = include_str!("../demo/ahorrista.yaml");

const SEEDED_KEY: &str = "quiz.demo_seeded";

/// Seeds and publishes the demo unless it was seeded before. Returns the slug when it did.
pub async fn seed_demo(db: &Db, tenant: &TenantId) -> Result<Option<String>, QuizError> {
    if get_setting(db, SEEDED_KEY).await?.is_some() {
        return Ok(None);
    }
    let def = service::parse_draft(DEMO_YAML, Format::Yaml)?;
    let slug = def.slug.clone();
    // Create, never add a version to an existing test: when several instances start together,
    // exactly one create wins the slug and publishes; the others leave the demo to it.
    let created = match service::create_test(db, tenant, &def, None).await {
        Ok(created) => created,
        Err(QuizError::Conflict("slug_taken", _)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let test = service::test_or_404(db, tenant, &created.test_id).await?;
    let version = service::version_or_404(db, tenant, &test.id, 1).await?;
    service::publish(db, tenant, &test, &version, None).await?;
    put_setting(db, SEEDED_KEY, "1").await?;
    Ok(Some(slug))
}
