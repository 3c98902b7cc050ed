//! Ports: what the service needs from the world, as traits a host can implement.
//!
//! The [`store`] (where records live, with the query language it answers: [`CustomerQuery`]), the
//! [`Clock`] (what time it is) and the [`Notifier`] (how mail reaches a customer).

pub(crate) mod clock;
pub(crate) mod notify;
pub(crate) mod query;
pub mod store;

pub use clock::{Clock, FixedClock, SystemClock};
pub use notify::{Notification, Notifier, NotifyError, RecordingNotifier};
pub use query::builder::{
    CountRange, CustomerQuery, MAX_PAGE_SIZE, SortBy, SortDirection, StatusKind, TimeRange,
};
pub use query::cursor::{Cursor, CursorError, CustomerPage};
