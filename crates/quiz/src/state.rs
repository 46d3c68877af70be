//! The module's state: the platform's `Core` plus the quiz caches and the session writer.

use std::sync::Arc;

use axum::extract::FromRef;
use faro_http::Core;

use crate::config::QuizConfig;
use crate::{cache, live, store};

/// The module's state: the platform's `Core` plus the quiz caches and the session writer.
/// Every request clones it (axum's `State`), so it is one `Arc`: a clone is one atomic
/// increment instead of one per shared handle inside (about a dozen; 2.5% of the server's CPU
/// on question reads).
#[derive(Clone)]
pub struct Quiz(Arc<QuizState>);

pub struct QuizState {
    pub core: Core,
    pub cfg: Arc<QuizConfig>,
    pub cache: Arc<cache::Cache>,
    pub live: Arc<live::LiveSessions>,
    /// Visitors' session writes, group-committed.
    pub writes: faro_store::Batcher<store::SessionWrite, bool>,
}

impl FromRef<Quiz> for Core {
    fn from_ref(q: &Quiz) -> Core {
        q.core.clone()
    }
}

impl Quiz {
    /// Must run inside the tokio runtime: it starts the session writer's task.
    pub fn new(core: Core, cfg: QuizConfig) -> Self {
        let cache = Arc::new(cache::Cache::new(cfg.catalog_ttl));
        let writes = faro_store::Batcher::spawn(
            core.db.clone(),
            store::SessionWrites {
                wake: Some(core.wake.clone()),
            },
            faro_store::BatchOptions::for_db(&core.db),
        );
        Quiz(Arc::new(QuizState {
            core,
            cfg: Arc::new(cfg),
            cache,
            live: Arc::default(),
            writes,
        }))
    }
}

impl std::ops::Deref for Quiz {
    type Target = QuizState;

    fn deref(&self) -> &QuizState {
        &self.0
    }
}
