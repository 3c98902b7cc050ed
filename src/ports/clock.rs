//! The time port, so tests can fix the time.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

/// Where the directory gets the current time.
///
/// Reading the time never waits on I/O, so unlike the storage port this is a plain method.
///
/// # Examples
///
/// ```
/// use customer_directory::{Clock, SystemClock};
/// let before = chrono::Utc::now();
/// assert!(SystemClock.now() >= before);
/// ```
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
///
/// # Examples
///
/// ```
/// use customer_directory::{Clock, SystemClock};
/// let _now = SystemClock.now();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that shows a set time until told otherwise; clones share the time.
///
/// # Examples
///
/// ```
/// use customer_directory::Clock;
/// use customer_directory::ports::FixedClock;
/// use chrono::{TimeDelta, TimeZone, Utc};
/// let clock = FixedClock::new(Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap());
/// clock.advance(TimeDelta::minutes(30));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 5, 1, 9, 30, 0).unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct FixedClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl FixedClock {
    /// A clock stopped at `now`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Clock;
    /// use customer_directory::ports::FixedClock;
    /// let t = chrono::Utc::now();
    /// assert_eq!(FixedClock::new(t).now(), t);
    /// ```
    #[must_use]
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(now)),
        }
    }

    /// Sets the time.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Clock;
    /// use customer_directory::ports::FixedClock;
    /// let clock = FixedClock::new(chrono::DateTime::UNIX_EPOCH);
    /// let later = chrono::Utc::now();
    /// clock.set(later);
    /// assert_eq!(clock.now(), later);
    /// ```
    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time forward (or back, with a negative delta).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Clock;
    /// use customer_directory::ports::FixedClock;
    /// let clock = FixedClock::new(chrono::DateTime::UNIX_EPOCH);
    /// clock.advance(chrono::TimeDelta::seconds(5));
    /// assert_eq!(clock.now().timestamp(), 5);
    /// ```
    pub fn advance(&self, delta: TimeDelta) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.checked_add_signed(delta).unwrap_or(*now);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
