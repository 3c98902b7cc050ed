//! What the service tells a `tracing` subscriber: one span per use case, a child span per
//! store call, and events for conflicts, exhausted retries, failed commits and throttled
//! logins. Everything here compiles to nothing without the cargo feature `tracing` (on by
//! default), so the call sites carry no `cfg`.
//!
//! **No personal data** reaches a span or an event: fields hold ids, counts, kinds (stable
//! snake_case names such as [`Error::kind`]) and durations, and messages are fixed text. An
//! email is never logged; a host that wants to correlate one person's operations across
//! logs configures an [`EmailCorrelation`], whose keyed tag stands in for the address.
//!
//! | span or event | level | fields |
//! |---|---|---|
//! | a span per use case, named after the method (`record_booking`, `merge`, `log_in`, ...) | `debug` | the ids it was given (`customer`, `booking`, `merge`, `account`, `list`, `note`), `outcome` (`ok`, `error`, or the attribution outcome's kind for bookings), `error` (the error's kind), counts where the use case has them (`merged`, `moved_bookings`, `conflicts`, `rows`, `hits`, ...), `email_tag` with an [`EmailCorrelation`] |
//! | `store`: every store call the service makes, named by its method (`commit`, `lookup_email`, `customer`, `customer_bookings`, `search_customers`, ...) | `debug` | `op`, `elapsed_us`; on the SQL adapters every commit also records `rows_affected` |
//! | a commit conflicted; the use case decides again | `debug` | `attempt` (the attempt that conflicted, from 1), `conflict` ([`Conflict::kind`]) |
//! | retries exhausted ([`Error::Contention`]) | `warn` | `attempts`, `conflict` |
//! | a commit failed in the store | `error` | `error` (`backend`, or `conflict` for a conflict the use case does not retry) |
//! | a login refused because the account is throttled | `warn` | `account` |

use std::fmt;
use std::future::Future;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::decisions::attribution::AttributionOutcome;
#[cfg(feature = "tracing")]
use crate::ports::store::Conflict;
#[cfg(feature = "tracing")]
use crate::ports::store::StoreError;
use crate::service::error::{AccountError, Error};
use crate::values::email::EmailKeyPolicy;
use crate::values::email::key::EmailKey;
#[cfg(feature = "tracing")]
use crate::values::ids::AccountId;

/// A keyed hash of email keys, so a host can follow one person's operations through its
/// logs without the logs holding the address: the tag is the first 16 hexadecimal digits
/// of HMAC-SHA256(secret, email key). Without the secret a tag cannot be tested against a
/// list of guessed addresses, as a plain hash could; rotate the secret and old tags stop
/// matching new ones.
///
/// Configure it with [`Directory::with_email_correlation`](crate::service::directory::Directory::with_email_correlation);
/// the use cases given an email (`record_booking`, `sign_up`, `log_in`,
/// `request_password_reset`) then record the tag in their span's `email_tag` field.
///
/// # Examples
///
/// ```
/// use customer_directory::service::EmailCorrelation;
/// use customer_directory::values::{EmailKey, EmailKeyPolicy};
/// let correlation = EmailCorrelation::new(b"a secret the host keeps, 32 bytes")?;
/// let key = EmailKey::parse("Ana@Example.com", EmailKeyPolicy::default())?;
/// let tag = correlation.tag(&key);
/// assert_eq!(tag.len(), 16);
/// assert!(!tag.contains("ana"));
/// // The same key, however it was typed, gives the same tag.
/// let again = EmailKey::parse("ana@example.com", EmailKeyPolicy::default())?;
/// assert_eq!(correlation.tag(&again), tag);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct EmailCorrelation {
    mac: Hmac<Sha256>,
}

/// The secret given to [`EmailCorrelation::new`] is shorter than
/// [`EmailCorrelation::MIN_SECRET_BYTES`]: a short secret can be guessed, and then every
/// tag can be tested against guessed addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an email correlation secret must be at least {min} bytes, got {length}")]
pub struct CorrelationSecretTooShort {
    /// The length given.
    pub length: usize,
    /// The minimum.
    pub min: usize,
}

impl EmailCorrelation {
    /// The shortest secret accepted: 128 bits.
    pub const MIN_SECRET_BYTES: usize = 16;

    /// A correlation keyed with `secret` (at least [`MIN_SECRET_BYTES`](Self::MIN_SECRET_BYTES),
    /// ideally 32 random bytes the host keeps with its other secrets).
    ///
    /// # Errors
    ///
    /// [`CorrelationSecretTooShort`] for a shorter secret.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::service::EmailCorrelation;
    /// assert!(EmailCorrelation::new(b"short").is_err());
    /// assert!(EmailCorrelation::new([7u8; 32]).is_ok());
    /// ```
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, CorrelationSecretTooShort> {
        let secret = secret.as_ref();
        if secret.len() < Self::MIN_SECRET_BYTES {
            return Err(CorrelationSecretTooShort {
                length: secret.len(),
                min: Self::MIN_SECRET_BYTES,
            });
        }
        // HMAC takes a key of any length; the length was checked above.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|_| {
            CorrelationSecretTooShort {
                length: secret.len(),
                min: Self::MIN_SECRET_BYTES,
            }
        })?;
        Ok(Self { mac })
    }

    /// The tag of `key`: 16 lower-case hexadecimal digits (64 bits of the HMAC).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::service::EmailCorrelation;
    /// use customer_directory::values::{EmailKey, EmailKeyPolicy};
    /// let one = EmailCorrelation::new([1u8; 32])?;
    /// let two = EmailCorrelation::new([2u8; 32])?;
    /// let key = EmailKey::parse("bo@example.com", EmailKeyPolicy::default())?;
    /// assert_ne!(one.tag(&key), two.tag(&key), "the tag depends on the secret");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tag(&self, key: &EmailKey) -> String {
        let mut mac = self.mac.clone();
        mac.update(key.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        hex::encode(&digest[..8])
    }
}

/// The secret stays out of debug output.
impl fmt::Debug for EmailCorrelation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailCorrelation(..)")
    }
}

/// An error that names itself by a stable kind, for the `error` field of a use case's span.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) trait ErrorKind {
    /// The kind (see [`Error::kind`]).
    fn error_kind(&self) -> &'static str;
}

impl ErrorKind for Error {
    fn error_kind(&self) -> &'static str {
        self.kind()
    }
}

impl ErrorKind for AccountError {
    fn error_kind(&self) -> &'static str {
        self.kind()
    }
}

/// The kind of an attribution outcome, for the `outcome` field of a booking's span.
pub(crate) fn attribution_kind(outcome: &AttributionOutcome) -> &'static str {
    match outcome {
        AttributionOutcome::Blocked(_) => "blocked",
        AttributionOutcome::Attached { .. } => "attached",
        AttributionOutcome::Related { .. } => "related",
        AttributionOutcome::CreatedCustomer(_) => "created_customer",
        AttributionOutcome::Unattributed(_) => "unattributed",
        AttributionOutcome::AlreadyAttributed(_) => "already_attributed",
    }
}

/// The span of one use case. Made by [`use_case!`]; without the feature it is empty and
/// every method does nothing.
#[must_use = "a use case span does nothing until it runs the use case"]
pub(crate) struct UseCase {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

impl UseCase {
    /// The use case's span.
    #[cfg(feature = "tracing")]
    pub(crate) fn new(span: tracing::Span) -> Self {
        Self { span }
    }

    /// Nothing to record: the feature is off.
    #[cfg(not(feature = "tracing"))]
    pub(crate) fn new() -> Self {
        Self {}
    }

    /// Records a count in a field the span declared.
    #[allow(unused_variables)]
    pub(crate) fn record_count(&self, field: &'static str, count: usize) {
        #[cfg(feature = "tracing")]
        self.span.record(field, count as u64);
    }

    /// Records an id in a field the span declared; it is formatted only if a subscriber
    /// wants the span.
    #[allow(unused_variables)]
    pub(crate) fn record_id(&self, field: &'static str, id: &dyn fmt::Display) {
        #[cfg(feature = "tracing")]
        self.span.record(field, tracing::field::display(id));
    }

    /// Records the keyed tag of `key` in the span's `email_tag` field, when the host
    /// configured a correlation and a subscriber wants the span (the HMAC is not computed
    /// otherwise).
    #[allow(unused_variables)]
    pub(crate) fn record_email(
        &self,
        correlation: Option<&EmailCorrelation>,
        key: Option<&EmailKey>,
    ) {
        #[cfg(feature = "tracing")]
        if let (Some(correlation), Some(key)) = (correlation, key) {
            if !self.span.is_disabled() {
                self.span.record("email_tag", correlation.tag(key).as_str());
            }
        }
    }

    /// Records the keyed tag of the email typed as `email` in the span's `email_tag`
    /// field, parsing it only when a correlation is configured and a subscriber wants the
    /// span; text that is not an email records nothing.
    #[allow(unused_variables)]
    pub(crate) fn record_email_of(
        &self,
        correlation: Option<&EmailCorrelation>,
        email: &str,
        policy: EmailKeyPolicy,
    ) {
        #[cfg(feature = "tracing")]
        if let Some(correlation) = correlation {
            if !self.span.is_disabled() {
                if let Ok(key) = EmailKey::parse(email, policy) {
                    self.span
                        .record("email_tag", correlation.tag(&key).as_str());
                }
            }
        }
    }

    /// Runs the use case inside the span. On success `outcome` names the outcome (and may
    /// record more fields); on failure the span records `outcome = "error"` and the error's
    /// kind. Without the feature this is the use case's own future, unwrapped; with it, a
    /// thin wrapper that enters the span while the use case is polled.
    #[cfg(feature = "tracing")]
    pub(crate) fn run<T, E, Fut, O>(
        self,
        use_case: Fut,
        outcome: O,
    ) -> impl Future<Output = Result<T, E>>
    where
        E: ErrorKind,
        Fut: Future<Output = Result<T, E>>,
        O: FnOnce(&UseCase, &T) -> &'static str,
    {
        traced::UseCaseFuture {
            use_case,
            span: self,
            outcome: Some(outcome),
        }
    }

    /// Runs the use case (the feature `tracing` is off: the use case's own future).
    #[cfg(not(feature = "tracing"))]
    pub(crate) fn run<T, E, Fut, O>(
        self,
        use_case: Fut,
        _outcome: O,
    ) -> impl Future<Output = Result<T, E>>
    where
        E: ErrorKind,
        Fut: Future<Output = Result<T, E>>,
        O: FnOnce(&UseCase, &T) -> &'static str,
    {
        use_case
    }
}

/// The span of one use case: `use_case!("name", [fields recorded later], field = value, ...)`.
/// The span is at `debug` and declares `outcome` and `error` besides the fields named;
/// values use `tracing`'s syntax (`customer = %id`). Without the feature it expands to an
/// empty [`UseCase`] and the values are not evaluated.
#[cfg(feature = "tracing")]
macro_rules! use_case {
    ($name:literal, [$($later:ident),* $(,)?] $(, $($field:tt)+)?) => {
        $crate::service::telemetry::UseCase::new(::tracing::debug_span!(
            $name,
            $($($field)+ ,)?
            $($later = ::tracing::field::Empty,)*
            outcome = ::tracing::field::Empty,
            error = ::tracing::field::Empty
        ))
    };
}

/// The span of one use case (the feature `tracing` is off: nothing).
#[cfg(not(feature = "tracing"))]
macro_rules! use_case {
    ($name:literal, [$($later:ident),* $(,)?] $(, $($field:tt)+)?) => {
        $crate::service::telemetry::UseCase::new()
    };
}

pub(crate) use use_case;

/// Runs a store call inside a `debug` span named `store` with the call's name (`op`) and,
/// when it ends, its duration in microseconds (`elapsed_us`, measured only when a
/// subscriber wants the span). The SQL adapters record `rows_affected` on it for every
/// commit (read only when a subscriber records the span). Without the feature this is the
/// call's own future.
#[cfg(feature = "tracing")]
pub(crate) fn store<T, Fut: Future<Output = T>>(
    op: &'static str,
    call: Fut,
) -> impl Future<Output = T> {
    let span = tracing::debug_span!(
        "store",
        op,
        elapsed_us = tracing::field::Empty,
        rows_affected = tracing::field::Empty
    );
    let started = (!span.is_disabled()).then(std::time::Instant::now);
    traced::StoreFuture {
        call,
        span,
        started,
    }
}

/// Runs a store call (the feature `tracing` is off: the call's own future).
#[cfg(not(feature = "tracing"))]
pub(crate) fn store<T, Fut: Future<Output = T>>(
    _op: &'static str,
    call: Fut,
) -> impl Future<Output = T> {
    call
}

/// The futures that enter a span while the wrapped one is polled and record how it ended.
/// Hand-written rather than `async fn`s so that a use case's future is not moved once more
/// into an await slot: with no subscriber they cost a check of the span per poll.
#[cfg(feature = "tracing")]
mod traced {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, ready};

    use crate::service::telemetry::{ErrorKind, UseCase};

    pin_project_lite::pin_project! {
        /// A use case's future inside its span.
        pub(crate) struct UseCaseFuture<Fut, O> {
            #[pin]
            pub(crate) use_case: Fut,
            pub(crate) span: UseCase,
            pub(crate) outcome: Option<O>,
        }
    }

    impl<T, E, Fut, O> Future for UseCaseFuture<Fut, O>
    where
        E: ErrorKind,
        Fut: Future<Output = Result<T, E>>,
        O: FnOnce(&UseCase, &T) -> &'static str,
    {
        type Output = Result<T, E>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            let result = {
                let _entered = this.span.span.enter();
                ready!(this.use_case.poll(cx))
            };
            if !this.span.span.is_disabled() {
                match &result {
                    Ok(value) => {
                        if let Some(outcome) = this.outcome.take() {
                            let kind = outcome(this.span, value);
                            this.span.span.record("outcome", kind);
                        }
                    }
                    Err(error) => {
                        this.span.span.record("outcome", "error");
                        this.span.span.record("error", error.error_kind());
                    }
                }
            }
            Poll::Ready(result)
        }
    }

    pin_project_lite::pin_project! {
        /// A store call inside its span.
        pub(crate) struct StoreFuture<Fut> {
            #[pin]
            pub(crate) call: Fut,
            pub(crate) span: tracing::Span,
            pub(crate) started: Option<std::time::Instant>,
        }
    }

    impl<Fut: Future> Future for StoreFuture<Fut> {
        type Output = Fut::Output;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            let output = {
                let _entered = this.span.enter();
                ready!(this.call.poll(cx))
            };
            if let Some(started) = this.started.take() {
                let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                this.span.record("elapsed_us", elapsed);
            }
            Poll::Ready(output)
        }
    }
}

/// A commit conflicted with a concurrent change and the use case decides again.
#[cfg(feature = "tracing")]
pub(crate) fn conflict_retry(attempt: u32, conflict: &Conflict) {
    tracing::debug!(
        attempt,
        conflict = conflict.kind(),
        "commit conflicted with a concurrent change; deciding again"
    );
}

/// Every attempt conflicted: the use case gives up with [`Error::Contention`].
#[cfg(feature = "tracing")]
pub(crate) fn retries_exhausted(attempts: u32, conflict: &Conflict) {
    tracing::warn!(
        attempts,
        conflict = conflict.kind(),
        "commit retries exhausted; giving up"
    );
}

/// The store failed a commit (not a conflict the use case retries).
#[cfg(feature = "tracing")]
pub(crate) fn commit_failed(error: &StoreError) {
    let kind = match error {
        StoreError::Conflict(_) => "conflict",
        StoreError::Backend { .. } => "backend",
    };
    tracing::error!(error = kind, "store commit failed");
}

/// A login was refused because the account is throttled.
#[cfg(feature = "tracing")]
pub(crate) fn login_throttled(account: AccountId) {
    tracing::warn!(
        account = %account,
        "login refused: the account is throttled after too many failed logins"
    );
}

/// Without the feature the events are no-ops with the same signatures.
#[cfg(not(feature = "tracing"))]
mod off {
    use crate::ports::store::{Conflict, StoreError};
    use crate::values::ids::AccountId;

    pub(crate) fn conflict_retry(_attempt: u32, _conflict: &Conflict) {}
    pub(crate) fn retries_exhausted(_attempts: u32, _conflict: &Conflict) {}
    pub(crate) fn commit_failed(_error: &StoreError) {}
    pub(crate) fn login_throttled(_account: AccountId) {}
}

#[cfg(not(feature = "tracing"))]
pub(crate) use off::{commit_failed, conflict_retry, login_throttled, retries_exhausted};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_keyed_short_hex_and_never_the_address() {
        let key = EmailKey::parse("ana@example.com", EmailKeyPolicy::default()).unwrap();
        let correlation = EmailCorrelation::new([9u8; 32]).unwrap();
        let tag = correlation.tag(&key);
        assert_eq!(tag.len(), 16);
        assert!(
            tag.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(tag, EmailCorrelation::new([8u8; 32]).unwrap().tag(&key));
        let other = EmailKey::parse("bo@example.com", EmailKeyPolicy::default()).unwrap();
        assert_ne!(tag, correlation.tag(&other));
        assert_eq!(format!("{correlation:?}"), "EmailCorrelation(..)");
    }

    #[test]
    fn a_short_secret_is_refused_with_its_length() {
        assert_eq!(
            EmailCorrelation::new(b"fifteen bytes..").unwrap_err(),
            CorrelationSecretTooShort {
                length: 15,
                min: 16
            }
        );
    }
}
