//! The plaintext [`Password`], redacted in `Debug` and `Display` and zeroed on drop, and
//! the NFKC normalisation every check and hash applies first.
//!
//! Separate from the policy and the hashing, which both build on it: this is the one place
//! that holds the secret text.

use std::borrow::Cow;
use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// A plaintext password whose `Debug` and `Display` output is redacted.
///
/// Use it to carry a password through request structs and logs safely; read
/// the text with [`expose`](Password::expose) only where it is checked or
/// hashed. The buffer is overwritten with zeros when the value is dropped
/// (best effort: copies made elsewhere, for example by a reallocation before
/// the value was built, are not reached).
///
/// # Examples
///
/// ```
/// use customer_directory::Password;
///
/// let password = Password::new("correct horse battery staple");
/// assert_eq!(format!("{password:?}"), "Password(***)");
/// assert_eq!(password.expose(), "correct horse battery staple");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a plaintext password.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::Password;
    ///
    /// let password = Password::new(String::from("hunter2-Hunter2"));
    /// assert_eq!(password.expose().len(), 15);
    /// ```
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// Returns the plaintext. Keep the result out of logs.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordContext, PasswordPolicy};
    /// use customer_directory::Password;
    ///
    /// let password = Password::new("Tr0ub4dor&3x");
    /// let policy = PasswordPolicy::seed_rule();
    /// assert!(policy.check(password.expose(), &PasswordContext::default()).is_ok());
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(password: String) -> Self {
        Self(password)
    }
}

impl From<&str> for Password {
    fn from(password: &str) -> Self {
        Self(password.to_owned())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        // Zeroes the whole buffer, spare capacity included, in a way the optimiser keeps.
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Normalises a password to NFKC, borrowing when it already is (always the
/// case for ASCII).
pub(super) fn normalize(password: &str) -> Cow<'_, str> {
    if unicode_normalization::is_nfkc(password) {
        Cow::Borrowed(password)
    } else {
        Cow::Owned(password.nfkc().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_borrows_ascii_and_composes() {
        assert!(matches!(normalize("abc"), Cow::Borrowed("abc")));
        assert_eq!(normalize("a\u{308}"), "ä");
        assert_eq!(normalize("ﬁ"), "fi");
    }

    #[test]
    fn password_drop_does_not_panic_and_clone_is_independent() {
        let a = Password::new("secret-Value-1");
        let b = a.clone();
        drop(a);
        assert_eq!(b.expose(), "secret-Value-1");
        assert_eq!(b.to_string(), "***");
    }
}
