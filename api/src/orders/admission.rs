//! Admission control for orders: how many reservations this process holds in hand at once.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Admission control: at most so many reservations are in hand at once in this process (from
/// their first database read to their workflow's answer); the next one is shed at once (503 with
/// `Retry-After`), before any work.
#[derive(Clone)]
pub struct Admission(Arc<Semaphore>);

impl Admission {
    pub fn new(in_flight: usize) -> Self {
        Admission(Arc::new(Semaphore::new(in_flight.max(1))))
    }

    /// A place among the reservations in flight, held until it is dropped.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.0
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy("too many reservations in flight".into()))
    }
}
