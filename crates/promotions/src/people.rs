//! The module's part of a person's GDPR export: the paid orders it recorded for "first
//! purchase". Erasure is [`crate::orders`]' (on `user.deleted`).

use std::sync::Arc;

use faro_http::personal::{Exporter, Subject};
use serde_json::{Value, json};

use crate::store;

pub fn exporter() -> Exporter {
    Arc::new(|db, subject: Subject| {
        Box::pin(async move {
            let Some(user) = subject.user_id.as_deref() else {
                return Ok(Value::Null);
            };
            let orders = store::orders_of(&db, &subject.tenant, user).await?;
            if orders.is_empty() {
                return Ok(Value::Null);
            }
            Ok(json!({"paid_orders": orders.iter()
                .map(|o| json!({"order": o.order_ref, "paid_at": o.paid_at}))
                .collect::<Vec<_>>()}))
        })
    })
}
