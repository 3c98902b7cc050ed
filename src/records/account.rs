//! Customer accounts: the login record, its one-time tokens and its saved payment method.
//!
//! Pure data. The use cases live in `Accounts` (the service layer); the storage contract in
//! [`Store`](crate::ports::store::Store).

use std::fmt;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::records::tokens::ResetTokenHash;
use crate::values::email::address::EmailAddress;
use crate::values::ids::{AccountId, CustomerId};
use crate::values::password::hashing::PasswordHash;

/// A customer's login: email, password hash, verification and throttling state.
///
/// The account is separate from the profile ([`Customer`](crate::records::customer::Customer)): it *claims*
/// one once its email is verified, and then sees that profile's bookings. `Debug` never
/// shows the password hash or the payment token.
///
/// # Examples
///
/// ```
/// use customer_directory::records::Account;
/// use customer_directory::EmailAddress;
/// use customer_directory::values::PasswordHashing;
/// let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
/// let account = Account::new(EmailAddress::parse("ana@example.com")?, hash, chrono::Utc::now());
/// assert!(account.customer.is_none() && account.verified_at.is_none());
/// assert!(!format!("{account:?}").contains("argon2"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// The account's id.
    pub id: AccountId,
    /// The login address; its key is unique among accounts.
    pub email: EmailAddress,
    /// The address before the last email change: reset mail goes there too, so the owner
    /// learns of a takeover.
    pub previous_email: Option<EmailAddress>,
    /// The profile this account claimed once verified.
    pub customer: Option<CustomerId>,
    /// The argon2id PHC string (redacted in `Debug`).
    pub password: PasswordHash,
    /// Bumped by every password change: tokens issued before it are void.
    pub credential_version: u64,
    /// When the email was verified.
    pub verified_at: Option<DateTime<Utc>>,
    /// Failed logins since the last success or lock.
    pub failed_logins: u32,
    /// Logins are refused until then.
    pub throttled_until: Option<DateTime<Utc>>,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// The one saved payment method.
    pub payment_method: Option<SavedPaymentMethod>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Optimistic concurrency version, as for customers.
    pub version: u64,
}

impl Account {
    /// A new, unverified, unclaimed account (version 0: an insert).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::records::Account;
    /// # use customer_directory::EmailAddress;
    /// # use customer_directory::values::PasswordHashing;
    /// let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
    /// let account = Account::new(EmailAddress::parse("bo@example.com")?, hash, chrono::Utc::now());
    /// assert_eq!(account.version, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(email: EmailAddress, password: PasswordHash, now: DateTime<Utc>) -> Self {
        Self {
            id: AccountId::new(),
            email,
            previous_email: None,
            customer: None,
            password,
            credential_version: 1,
            verified_at: None,
            failed_logins: 0,
            throttled_until: None,
            last_login_at: None,
            payment_method: None,
            created_at: now,
            version: 0,
        }
    }

    /// Whether the email was verified.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::records::Account;
    /// # use customer_directory::EmailAddress;
    /// # use customer_directory::values::PasswordHashing;
    /// # let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
    /// let account = Account::new(EmailAddress::parse("cy@example.com")?, hash, chrono::Utc::now());
    /// assert!(!account.is_verified());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_verified(&self) -> bool {
        self.verified_at.is_some()
    }
}

/// What a one-time token is for.
///
/// # Examples
///
/// ```
/// use customer_directory::records::TokenPurpose;
/// assert_ne!(TokenPurpose::Verification, TokenPurpose::PasswordReset);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenPurpose {
    /// Proves the account's email address.
    Verification,
    /// Lets the customer choose a new password.
    PasswordReset,
}

/// A stored one-time token: only the SHA-256 of the secret (a [`ResetToken`](crate::records::tokens::ResetToken)
/// or a [`VerificationToken`](crate::records::tokens::VerificationToken)), never the secret.
///
/// # Examples
///
/// ```
/// use customer_directory::AccountId;
/// use customer_directory::records::{AccountToken, TokenPurpose};
/// use customer_directory::records::ResetToken;
/// let (_secret, hash) = ResetToken::generate()?;
/// let now = chrono::Utc::now();
/// let token = AccountToken::new(hash, AccountId::new(), TokenPurpose::PasswordReset, 1, now, now + chrono::TimeDelta::minutes(30));
/// assert!(token.is_usable(now, 1));
/// assert!(!token.is_usable(now, 2), "a password change voids it");
/// # Ok::<(), customer_directory::records::TokenError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountToken {
    /// SHA-256 of the secret; the store's key for the token.
    pub hash: ResetTokenHash,
    /// The account it belongs to.
    pub account: AccountId,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// The account's [`credential_version`](Account::credential_version) when issued.
    pub credential_version: u64,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// It is refused after this instant.
    pub expires_at: DateTime<Utc>,
    /// When it was used (single use).
    pub used_at: Option<DateTime<Utc>>,
    /// Optimistic concurrency version.
    pub version: u64,
}

impl AccountToken {
    /// A new, unused token (version 0: an insert).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::AccountId;
    /// # use customer_directory::records::{AccountToken, TokenPurpose};
    /// # use customer_directory::records::VerificationToken;
    /// let (_secret, hash) = VerificationToken::generate()?;
    /// let now = chrono::Utc::now();
    /// let token = AccountToken::new(hash, AccountId::new(), TokenPurpose::Verification, 1, now, now);
    /// assert!(token.used_at.is_none());
    /// # Ok::<(), customer_directory::records::TokenError>(())
    /// ```
    #[must_use]
    pub fn new(
        hash: ResetTokenHash,
        account: AccountId,
        purpose: TokenPurpose,
        credential_version: u64,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            hash,
            account,
            purpose,
            credential_version,
            created_at,
            expires_at,
            used_at: None,
            version: 0,
        }
    }

    /// Unused, not expired at `now`, and issued under the account's current credentials.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::AccountId;
    /// # use customer_directory::records::{AccountToken, TokenPurpose};
    /// # use customer_directory::records::VerificationToken;
    /// let (_secret, hash) = VerificationToken::generate()?;
    /// let now = chrono::Utc::now();
    /// let token = AccountToken::new(hash, AccountId::new(), TokenPurpose::Verification, 1, now, now);
    /// assert!(token.is_usable(now, 1));
    /// assert!(!token.is_usable(now + chrono::TimeDelta::seconds(1), 1), "expired");
    /// # Ok::<(), customer_directory::records::TokenError>(())
    /// ```
    #[must_use]
    pub fn is_usable(&self, now: DateTime<Utc>, credential_version: u64) -> bool {
        self.used_at.is_none()
            && now <= self.expires_at
            && self.credential_version == credential_version
    }
}

/// Why a saved payment method was refused.
///
/// # Examples
///
/// ```
/// use customer_directory::records::{PaymentMethodError, SavedPaymentMethod};
/// let error = SavedPaymentMethod::new("tok_4242 4242 4242 4242", "visa", "4242", 12, 2030).unwrap_err();
/// assert_eq!(error, PaymentMethodError::CardNumber);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentMethodError {
    /// Something that looks like a full card number (13 to 19 digits passing the Luhn check)
    /// was given: store the payment provider's token instead.
    #[error("a full card number was given: store the payment provider's token instead")]
    CardNumber,
    /// The provider token is empty, too long or has control characters.
    #[error("the provider token must be 1 to {max} printable characters")]
    Token {
        /// The longest token accepted.
        max: usize,
    },
    /// The brand is empty, too long or has control characters.
    #[error("the card brand must be 1 to {max} printable characters")]
    Brand {
        /// The longest brand accepted.
        max: usize,
    },
    /// The last four digits are not exactly four ASCII digits.
    #[error("the last four digits must be exactly four digits")]
    LastFour,
    /// The expiry month is not 1 to 12, or the year not 2000 to 2199.
    #[error("the expiry must be a month 1-12 and a year 2000-2199")]
    Expiry,
    /// The card expired before it was saved.
    #[error("the card has expired")]
    Expired,
}

/// A saved payment method: the payment provider's token plus what a customer needs to
/// recognise the card. Never a card number: anything that looks like one is refused.
///
/// `Debug` does not show the provider token.
///
/// # Examples
///
/// ```
/// use customer_directory::records::SavedPaymentMethod;
/// let card = SavedPaymentMethod::new("pm_1PqR2sT", "visa", "4242", 12, 2030)?;
/// assert_eq!(card.last4(), "4242");
/// assert!(!format!("{card:?}").contains("pm_1PqR2sT"));
/// # Ok::<(), customer_directory::records::PaymentMethodError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPaymentMethod {
    provider_token: String,
    brand: String,
    last4: String,
    expiry_month: u8,
    expiry_year: u16,
}

impl SavedPaymentMethod {
    /// Longest provider token accepted.
    pub const MAX_TOKEN_CHARS: usize = crate::limits::PAYMENT_TOKEN_MAX_CHARS;
    /// Longest brand accepted.
    pub const MAX_BRAND_CHARS: usize = crate::limits::PAYMENT_BRAND_MAX_CHARS;

    /// Checks every part and refuses anything that looks like a full card number, in the
    /// token or the brand.
    ///
    /// # Errors
    ///
    /// [`PaymentMethodError`]; [`CardNumber`](PaymentMethodError::CardNumber) first.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::{PaymentMethodError, SavedPaymentMethod};
    /// assert!(SavedPaymentMethod::new("pm_123", "visa", "4242", 1, 2031).is_ok());
    /// assert_eq!(SavedPaymentMethod::new("pm_123", "visa", "42", 1, 2031), Err(PaymentMethodError::LastFour));
    /// ```
    pub fn new(
        provider_token: &str,
        brand: &str,
        last4: &str,
        expiry_month: u8,
        expiry_year: u16,
    ) -> Result<Self, PaymentMethodError> {
        if contains_card_number(provider_token) || contains_card_number(brand) {
            return Err(PaymentMethodError::CardNumber);
        }
        let printable = |text: &str, max: usize| {
            let count = text.chars().count();
            (1..=max).contains(&count) && !text.chars().any(char::is_control)
        };
        let provider_token = provider_token.trim();
        if !printable(provider_token, Self::MAX_TOKEN_CHARS) {
            return Err(PaymentMethodError::Token {
                max: Self::MAX_TOKEN_CHARS,
            });
        }
        let brand = brand.trim();
        if !printable(brand, Self::MAX_BRAND_CHARS) {
            return Err(PaymentMethodError::Brand {
                max: Self::MAX_BRAND_CHARS,
            });
        }
        if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PaymentMethodError::LastFour);
        }
        if !(1..=12).contains(&expiry_month) || !(2000..=2199).contains(&expiry_year) {
            return Err(PaymentMethodError::Expiry);
        }
        Ok(Self {
            provider_token: provider_token.to_owned(),
            brand: brand.to_owned(),
            last4: last4.to_owned(),
            expiry_month,
            expiry_year,
        })
    }

    /// The payment provider's token, to charge the card through the provider.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::records::SavedPaymentMethod;
    /// let card = SavedPaymentMethod::new("pm_9", "visa", "4242", 12, 2030)?;
    /// assert_eq!(card.expose_provider_token(), "pm_9");
    /// # Ok::<(), customer_directory::records::PaymentMethodError>(())
    /// ```
    #[must_use]
    pub fn expose_provider_token(&self) -> &str {
        &self.provider_token
    }

    /// The card brand as the provider names it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::records::SavedPaymentMethod;
    /// assert_eq!(SavedPaymentMethod::new("pm_9", "amex", "0005", 12, 2030)?.brand(), "amex");
    /// # Ok::<(), customer_directory::records::PaymentMethodError>(())
    /// ```
    #[must_use]
    pub fn brand(&self) -> &str {
        &self.brand
    }

    /// The last four digits of the card.
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::records::SavedPaymentMethod;
    /// assert_eq!(SavedPaymentMethod::new("pm_9", "visa", "0042", 12, 2030)?.last4(), "0042");
    /// # Ok::<(), customer_directory::records::PaymentMethodError>(())
    /// ```
    #[must_use]
    pub fn last4(&self) -> &str {
        &self.last4
    }

    /// Expiry as (month, year).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::records::SavedPaymentMethod;
    /// assert_eq!(SavedPaymentMethod::new("pm_9", "visa", "4242", 3, 2031)?.expiry(), (3, 2031));
    /// # Ok::<(), customer_directory::records::PaymentMethodError>(())
    /// ```
    #[must_use]
    pub fn expiry(&self) -> (u8, u16) {
        (self.expiry_month, self.expiry_year)
    }

    /// Whether the card expired before `now` (it is valid through its expiry month).
    ///
    /// # Examples
    ///
    /// ```
    /// # use customer_directory::records::SavedPaymentMethod;
    /// use chrono::TimeZone;
    /// let card = SavedPaymentMethod::new("pm_9", "visa", "4242", 3, 2031)?;
    /// assert!(!card.is_expired(chrono::Utc.with_ymd_and_hms(2031, 3, 31, 23, 0, 0).unwrap()));
    /// assert!(card.is_expired(chrono::Utc.with_ymd_and_hms(2031, 4, 1, 0, 0, 0).unwrap()));
    /// # Ok::<(), customer_directory::records::PaymentMethodError>(())
    /// ```
    #[must_use]
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        let current = (now.year(), now.month());
        current > (i32::from(self.expiry_year), u32::from(self.expiry_month))
    }
}

impl fmt::Debug for SavedPaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedPaymentMethod")
            .field("provider_token", &"<redacted>")
            .field("brand", &self.brand)
            .field("last4", &self.last4)
            .field("expiry_month", &self.expiry_month)
            .field("expiry_year", &self.expiry_year)
            .finish()
    }
}

/// Whether `text` holds, anywhere, what a full card number looks like: 13 to 19 digits,
/// written together or in groups separated by spaces or dashes, that pass the Luhn check.
///
/// Within a run of digit groups, every stretch of whole consecutive groups is tried, so a
/// number next to other digit groups (`4242 4242 4242 4242 12 30`) is still found. Digits
/// glued to other digits form one group and are judged as a whole. Linear in the input.
///
/// # Examples
///
/// ```
/// use customer_directory::records::contains_card_number;
/// assert!(contains_card_number("4111-1111-1111-1111"));
/// assert!(contains_card_number("tok_4111111111111111_x"));
/// assert!(!contains_card_number("4111-1111-1111-1112"), "Luhn fails");
/// assert!(!contains_card_number("pm_1PqR2sT"));
/// ```
#[must_use]
pub fn contains_card_number(text: &str) -> bool {
    // Digit groups of the current run; a run ends at any character other than a digit, a
    // space or a dash.
    let mut groups: Vec<Vec<u8>> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            current.push(u8::try_from(c).map_or(0, |b| b - b'0'));
        } else if c == ' ' || c == '-' {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
        } else {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
            if run_has_card_number(&groups) {
                return true;
            }
            groups.clear();
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    run_has_card_number(&groups)
}

/// Tries every stretch of consecutive groups holding 13 to 19 digits.
fn run_has_card_number(groups: &[Vec<u8>]) -> bool {
    let mut digits: Vec<u8> = Vec::with_capacity(19);
    for start in 0..groups.len() {
        digits.clear();
        for group in &groups[start..] {
            digits.extend_from_slice(group);
            if digits.len() > 19 {
                break;
            }
            if digits.len() >= 13 && luhn_valid(&digits) {
                return true;
            }
        }
    }
    false
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_known_numbers() {
        assert!(luhn_valid(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!luhn_valid(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
    }

    #[test]
    fn card_numbers_are_found_in_every_shape() {
        for text in [
            "4242424242424242",
            "4242 4242 4242 4242",
            "4242-4242-4242-4242",
            "abc4242424242424242def",
            "378282246310005",       // amex, 15 digits
            "6011 0009 9013 9424",   // discover
            "99 4242424242424242 9", // inside a longer digit run
            "4242  4242 - 4242 4242",
        ] {
            assert!(contains_card_number(text), "{text}");
        }
        for text in [
            "4242424242424241",
            "424242424242", // 12 digits
            "pm_1PqR2sT",
            "",
        ] {
            assert!(!contains_card_number(text), "{text}");
        }
    }

    #[test]
    fn a_card_among_other_digit_groups_is_found() {
        assert!(contains_card_number("4242 4242 4242 4242 12 30"));
        assert!(contains_card_number("cvc 123 4242-4242-4242-4242"));
        assert!(
            !contains_card_number("12 34 56 78 90 12 34 5"),
            "Luhn fails for every stretch"
        );
    }
}
