//! The shared stop signal of background loops (consumers, the scheduler, the LISTEN task).

/// Resolves when `stop` turns true or its sender is gone.
pub(crate) async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}
