//! The outgoing-mail port: the crate decides what to send, the host sends it.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use crate::records::tokens::{ResetToken, VerificationToken};
use crate::values::email::address::EmailAddress;
use crate::values::ids::AccountId;

/// A message for the host to deliver. Tokens print redacted in `Debug`; read them with
/// [`VerificationToken::expose_secret`] or [`ResetToken::expose_secret`] when building the
/// link. Each kind of link carries its own token type, so the verification page cannot be
/// handed a reset token, nor the reset page a verification token.
///
/// # Examples
///
/// ```
/// use customer_directory::{AccountId, EmailAddress};
/// use customer_directory::ports::Notification;
/// use customer_directory::records::ResetToken;
/// let (token, _hash) = ResetToken::generate()?;
/// let secret = token.expose_secret();
/// let message = Notification::PasswordReset {
///     account: AccountId::new(),
///     to: vec![EmailAddress::parse("ana@example.com")?],
///     token,
/// };
/// assert!(!format!("{message:?}").contains(&secret));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notification {
    /// Confirm the address: send a link carrying `token` to `to`.
    VerifyEmail {
        /// The account.
        account: AccountId,
        /// Where to send it.
        to: EmailAddress,
        /// The one-time token for the link, for
        /// [`Accounts::verify_email`](crate::service::accounts::Accounts::verify_email).
        token: VerificationToken,
    },
    /// Reset the password: send a link carrying `token` to every address in `to` (the
    /// current one first; after an email change, the previous one too).
    PasswordReset {
        /// The account.
        account: AccountId,
        /// Where to send it.
        to: Vec<EmailAddress>,
        /// The one-time token for the link, for
        /// [`Accounts::reset_password`](crate::service::accounts::Accounts::reset_password).
        token: ResetToken,
    },
    /// Someone signed up with an address that already has a verified account: tell its
    /// owner (and suggest a reset) instead of telling the caller.
    AlreadyRegistered {
        /// The account.
        account: AccountId,
        /// Where to send it.
        to: EmailAddress,
    },
}

impl Notification {
    /// Every address the message goes to.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{AccountId, EmailAddress};
    /// use customer_directory::ports::Notification;
    /// let to = EmailAddress::parse("ana@example.com")?;
    /// let message = Notification::AlreadyRegistered { account: AccountId::new(), to: to.clone() };
    /// assert_eq!(message.recipients(), vec![&to]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn recipients(&self) -> Vec<&EmailAddress> {
        match self {
            Self::VerifyEmail { to, .. } | Self::AlreadyRegistered { to, .. } => vec![to],
            Self::PasswordReset { to, .. } => to.iter().collect(),
        }
    }

    /// The verification token the message carries: `Some` only for
    /// [`VerifyEmail`](Self::VerifyEmail).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{AccountId, EmailAddress};
    /// use customer_directory::ports::Notification;
    /// use customer_directory::records::VerificationToken;
    /// let (token, _) = VerificationToken::generate()?;
    /// let to = EmailAddress::parse("ana@example.com")?;
    /// let message = Notification::VerifyEmail { account: AccountId::new(), to, token: token.clone() };
    /// assert_eq!(message.verification_token(), Some(&token));
    /// assert!(message.reset_token().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn verification_token(&self) -> Option<&VerificationToken> {
        match self {
            Self::VerifyEmail { token, .. } => Some(token),
            Self::PasswordReset { .. } | Self::AlreadyRegistered { .. } => None,
        }
    }

    /// The reset token the message carries: `Some` only for
    /// [`PasswordReset`](Self::PasswordReset).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::{AccountId, EmailAddress};
    /// use customer_directory::ports::Notification;
    /// use customer_directory::records::ResetToken;
    /// let (token, _) = ResetToken::generate()?;
    /// let to = vec![EmailAddress::parse("ana@example.com")?];
    /// let message = Notification::PasswordReset { account: AccountId::new(), to, token: token.clone() };
    /// assert_eq!(message.reset_token(), Some(&token));
    /// assert!(message.verification_token().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn reset_token(&self) -> Option<&ResetToken> {
        match self {
            Self::PasswordReset { token, .. } => Some(token),
            Self::VerifyEmail { .. } | Self::AlreadyRegistered { .. } => None,
        }
    }
}

/// Why a message could not be handed over for delivery.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::NotifyError;
/// let error = NotifyError::new("SMTP relay refused", std::io::Error::other("550"));
/// assert_eq!(error.to_string(), "notification failed: SMTP relay refused");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("notification failed: {message}")]
pub struct NotifyError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl NotifyError {
    /// A failure with its cause.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = customer_directory::ports::NotifyError::new("queue full", "busy");
    /// assert!(std::error::Error::source(&error).is_some());
    /// ```
    pub fn new(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

/// The outgoing-mail port. The directory calls it only after the change that issued a
/// token was committed, so a message never carries a token the store does not know.
///
/// Implementations SHOULD queue rather than send inline: the call is on the request path.
///
/// # Examples
///
/// ```
/// use customer_directory::ports::{Notification, Notifier, NotifyError};
///
/// struct Log;
/// impl Notifier for Log {
///     async fn notify(&self, message: Notification) -> Result<(), NotifyError> {
///         println!("to {:?}", message.recipients());
///         Ok(())
///     }
/// }
/// ```
pub trait Notifier: Send + Sync {
    /// Hands `message` over for delivery.
    ///
    /// # Errors
    ///
    /// [`NotifyError`] when it could not be handed over.
    fn notify(&self, message: Notification)
    -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// A [`Notifier`] that keeps every message in memory, for tests and examples.
///
/// Clones share the same list.
///
/// # Examples
///
/// ```
/// use customer_directory::{AccountId, EmailAddress};
/// use customer_directory::ports::{Notification, Notifier, RecordingNotifier};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let notifier = RecordingNotifier::new();
/// let to = EmailAddress::parse("ana@example.com")?;
/// notifier.notify(Notification::AlreadyRegistered { account: AccountId::new(), to }).await?;
/// assert_eq!(notifier.sent().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct RecordingNotifier {
    sent: Arc<Mutex<Vec<Notification>>>,
}

impl RecordingNotifier {
    /// An empty recorder.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::RecordingNotifier::new().sent().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message so far, oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::RecordingNotifier::new().sent().is_empty());
    /// ```
    #[must_use]
    pub fn sent(&self) -> Vec<Notification> {
        self.list().clone()
    }

    /// Removes and returns every message so far.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::RecordingNotifier::new().take().is_empty());
    /// ```
    #[must_use]
    pub fn take(&self) -> Vec<Notification> {
        std::mem::take(&mut *self.list())
    }

    /// The token of the newest verification mail.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::RecordingNotifier::new().last_verification_token().is_none());
    /// ```
    #[must_use]
    pub fn last_verification_token(&self) -> Option<VerificationToken> {
        self.list()
            .iter()
            .rev()
            .find_map(|m| m.verification_token().cloned())
    }

    /// The token of the newest password-reset mail.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(customer_directory::ports::RecordingNotifier::new().last_reset_token().is_none());
    /// ```
    #[must_use]
    pub fn last_reset_token(&self) -> Option<ResetToken> {
        self.list()
            .iter()
            .rev()
            .find_map(|m| m.reset_token().cloned())
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Notification>> {
        // A plain list stays valid even if a holder panicked.
        self.sent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Notifier for RecordingNotifier {
    async fn notify(&self, message: Notification) -> Result<(), NotifyError> {
        self.list().push(message);
        Ok(())
    }
}
