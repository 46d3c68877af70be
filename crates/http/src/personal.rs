//! Personal data across modules (GDPR): whose data a request is about ([`Subject`]), and how
//! each module hands over what it holds about them ([`Exporter`], declared in
//! `Mounted::personal`). The platform's export endpoints gather every mounted module's part
//! into one document. Erasure goes the other way, through events (`user.deleted`,
//! `visitor.deleted`) that each module consumes to erase its own rows: a module switched off
//! still erases, since its consumers run whenever the binary has it.

use std::sync::{Arc, OnceLock};

use faro_store::{BoxFuture, Db, StoreError, TenantId};
use serde_json::Value;

/// The person an export is about: an end user (with the visitor ids that became theirs), or
/// an anonymous visitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub tenant: TenantId,
    pub user_id: Option<String>,
    pub visitor_ids: Vec<String>,
}

/// A module's part of an export: a JSON value (an object or a list), `Value::Null` when it
/// holds nothing about the subject.
pub type Exporter =
    Arc<dyn Fn(Db, Subject) -> BoxFuture<'static, Result<Value, StoreError>> + Send + Sync>;

/// The exporters of the mounted modules, by module name, set once after mounting (the core
/// exists before the modules are mounted, and the platform's handlers read it later).
#[derive(Clone, Default)]
pub struct PersonalData(Arc<OnceLock<Vec<(&'static str, Exporter)>>>);

impl PersonalData {
    /// Sets the exporters; a second call is ignored (the binary mounts once).
    pub fn set(&self, exporters: Vec<(&'static str, Exporter)>) {
        let _ = self.0.set(exporters);
    }

    /// Every module's part, in module order, each under its module's name.
    pub async fn export(
        &self,
        db: &Db,
        subject: &Subject,
    ) -> Result<serde_json::Map<String, Value>, StoreError> {
        let mut out = serde_json::Map::new();
        for (name, exporter) in self.0.get().map(Vec::as_slice).unwrap_or(&[]) {
            let part = exporter(db.clone(), subject.clone()).await?;
            out.insert((*name).to_owned(), part);
        }
        Ok(out)
    }
}
