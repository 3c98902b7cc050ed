//! One-time tokens of account links: the secret of a password-reset link
//! ([`ResetToken`]) and of an email-verification link ([`VerificationToken`]), the digest
//! that is stored of either ([`ResetTokenHash`]), and why one was refused ([`TokenError`]).
//!
//! They belong to accounts, not to passwords: an
//! [`AccountToken`](crate::records::account::AccountToken) keeps the digest, and a reset
//! link is only one of the two kinds. Only the SHA-256 digest of a 256-bit secret is ever
//! stored; the secret is mailed to the customer.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const TOKEN_BYTES: usize = 32;

/// Errors of [`ResetToken`], [`VerificationToken`] and [`ResetTokenHash`] parsing and
/// generation.
/// Messages never include the token.
///
/// # Examples
///
/// ```
/// use customer_directory::records::{ResetToken, TokenError};
///
/// assert_eq!(
///     ResetToken::parse("abc").unwrap_err(),
///     TokenError::InvalidLength { length: 3, expected: 64 }
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The text is not 64 characters long.
    #[error("a one-time token must be {expected} hexadecimal characters, got {length} bytes")]
    InvalidLength {
        /// Length of the text, in bytes.
        length: usize,
        /// The expected length (64).
        expected: usize,
    },
    /// The text has a character other than `0-9`, `a-f`, `A-F`.
    #[error("a one-time token contains a character that is not hexadecimal")]
    InvalidCharacter,
    /// The operating system's random number generator failed.
    #[error("the operating system random number generator failed")]
    Random,
}

fn encode_hex(bytes: &[u8; TOKEN_BYTES]) -> String {
    hex::encode(bytes)
}

fn decode_hex(text: &str) -> Result<[u8; TOKEN_BYTES], TokenError> {
    if text.len() != TOKEN_BYTES * 2 {
        return Err(TokenError::InvalidLength {
            length: text.len(),
            expected: TOKEN_BYTES * 2,
        });
    }
    let mut out = [0u8; TOKEN_BYTES];
    // The length is right, so the only failure left is a character that is not a hex digit.
    hex::decode_to_slice(text, &mut out).map_err(|_| TokenError::InvalidCharacter)?;
    Ok(out)
}

/// Defines a one-time token type: 32 secret bytes with `generate`, `parse`,
/// `expose_secret`, `expose_bytes` and `hash`, a constant-time `PartialEq`, redacted
/// `Debug` and `Display`, `FromStr`, and zeroing on drop. Each kind of link gets a type of its
/// own from it, so one kind's token cannot be passed where another's is expected.
macro_rules! one_time_token {
    ($(#[$doc:meta])* $name:ident, display = $display:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name([u8; TOKEN_BYTES]);

        impl Drop for $name {
            fn drop(&mut self) {
                // The secret leaves memory with the value, not when the allocator reuses it.
                zeroize::Zeroize::zeroize(&mut self.0);
            }
        }

        impl $name {
            /// A new random token and its hash (the only part to store).
            ///
            /// # Errors
            ///
            /// [`TokenError::Random`] if the OS random number generator fails.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::records::", stringify!($name), ";")]
            ///
            #[doc = concat!("let (token, hash) = ", stringify!($name), "::generate()?;")]
            /// assert_eq!(token.hash(), hash);
            /// # Ok::<(), customer_directory::records::TokenError>(())
            /// ```
            pub fn generate() -> Result<($name, ResetTokenHash), TokenError> {
                let token = $name(random_token_bytes()?);
                let hash = token.hash();
                Ok((token, hash))
            }

            /// Reads a token from the text of a link: exactly 64 hex characters (either
            /// case; no surrounding white space).
            ///
            /// # Errors
            ///
            /// [`TokenError::InvalidLength`] or [`TokenError::InvalidCharacter`].
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use customer_directory::records::{TokenError, ", stringify!($name), "};")]
            ///
            /// let text = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
            #[doc = concat!("assert_eq!(", stringify!($name), "::parse(text)?.expose_secret(), text);")]
            /// assert_eq!(
            #[doc = concat!("    ", stringify!($name), "::parse(&text.replace('a', \"g\")).unwrap_err(),")]
            ///     TokenError::InvalidCharacter
            /// );
            /// assert_eq!(
            #[doc = concat!("    ", stringify!($name), "::parse(&text[1..]).unwrap_err(),")]
            ///     TokenError::InvalidLength { length: 63, expected: 64 }
            /// );
            /// # Ok::<(), TokenError>(())
            /// ```
            pub fn parse(text: &str) -> Result<$name, TokenError> {
                decode_hex(text).map($name)
            }

            /// The token as the 64 lower-case hex characters to put in the link. This is
            /// the secret: do not log or store it.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let (token, _) = customer_directory::records::", stringify!($name), "::generate()?;")]
            /// assert_eq!(token.expose_secret().len(), 64);
            /// # Ok::<(), customer_directory::records::TokenError>(())
            /// ```
            pub fn expose_secret(&self) -> String {
                encode_hex(&self.0)
            }

            /// The 32 raw bytes of the token (the secret).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let (token, _) = customer_directory::records::", stringify!($name), "::generate()?;")]
            /// assert_eq!(token.expose_bytes().len(), 32);
            /// # Ok::<(), customer_directory::records::TokenError>(())
            /// ```
            pub fn expose_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// SHA-256 of the token's 32 raw bytes (not of its text, so the case of the hex
            /// digits does not matter), the same for every kind of token: the stored
            /// token's purpose is what tells the kinds apart.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let token = customer_directory::records::", stringify!($name), "::parse(&\"0\".repeat(64))?;")]
            /// assert_eq!(
            ///     token.hash().to_hex(),
            ///     "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
            /// );
            /// # Ok::<(), customer_directory::records::TokenError>(())
            /// ```
            pub fn hash(&self) -> ResetTokenHash {
                ResetTokenHash(Sha256::digest(self.0).into())
            }
        }

        impl PartialEq for $name {
            /// Constant-time comparison.
            fn eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
            }
        }

        impl Eq for $name {}

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($display)
            }
        }

        impl FromStr for $name {
            type Err = TokenError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

one_time_token! {
/// The secret of a password-reset link: 256 bits from the operating
/// system's random number generator, written as 64 lower-case hex
/// characters (URL-safe).
///
/// Mail the text ([`expose_secret`](Self::expose_secret)) and store only its
/// [`ResetTokenHash`]; when the link is used, [`parse`](Self::parse) the text
/// and look the hash up. Expiry and single use are up to the caller.
/// `Debug` and `Display` are redacted; equality is constant-time.
///
/// # Examples
///
/// ```
/// use customer_directory::records::ResetToken;
///
/// let (token, stored) = ResetToken::generate()?;
/// let link = format!("https://example.com/reset?token={}", token.expose_secret());
/// // ... later, from the link:
/// let from_link = ResetToken::parse(&link[link.len() - 64..])?;
/// assert!(stored.matches(&from_link));
/// assert_eq!(format!("{token:?}"), "ResetToken(<redacted>)");
/// # Ok::<(), customer_directory::records::TokenError>(())
/// ```
    ResetToken,
    display = "<redacted reset token>"
}

one_time_token! {
/// The secret of an email-verification link: 256 bits from the operating system's random
/// number generator, written as 64 lower-case hex characters, like a [`ResetToken`] but a
/// type of its own, so a verification link's token cannot be handed to
/// [`Accounts::reset_password`](crate::service::accounts::Accounts::reset_password), nor a reset link's to
/// [`Accounts::verify_email`](crate::service::accounts::Accounts::verify_email).
///
/// Only its digest is stored, as a [`ResetTokenHash`] (the digest type of every one-time
/// token; the stored token's [`purpose`](crate::records::account::AccountToken::purpose) tells the two kinds
/// apart). `Debug` and `Display` are redacted; equality is constant-time.
///
/// # Examples
///
/// ```
/// use customer_directory::records::VerificationToken;
///
/// let (token, stored) = VerificationToken::generate()?;
/// let link = format!("https://example.com/verify?token={}", token.expose_secret());
/// // ... later, from the link:
/// let from_link: VerificationToken = link[link.len() - 64..].parse()?;
/// assert_eq!(from_link.hash(), stored);
/// assert_eq!(format!("{token:?}"), "VerificationToken(<redacted>)");
/// assert_eq!(token.to_string(), "<redacted verification token>");
/// # Ok::<(), customer_directory::records::TokenError>(())
/// ```
    VerificationToken,
    display = "<redacted verification token>"
}

/// 32 bytes from the operating system's random number generator: the secret of a one-time
/// token.
fn random_token_bytes() -> Result<[u8; TOKEN_BYTES], TokenError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|_| TokenError::Random)?;
    Ok(bytes)
}

/// The SHA-256 digest of a [`ResetToken`]: the only part of a reset token
/// that is stored. Store it as hex ([`to_hex`](Self::to_hex),
/// [`from_hex`](Self::from_hex)). `==` and [`matches`](Self::matches)
/// compare in constant time (the `subtle` crate, already a dependency of
/// `password-hash`). `Debug` and `Display` are redacted.
///
/// # Examples
///
/// ```
/// use customer_directory::records::{ResetToken, ResetTokenHash};
///
/// let (token, hash) = ResetToken::generate()?;
/// let stored = hash.to_hex();
/// let loaded = ResetTokenHash::from_hex(&stored)?;
/// assert!(loaded.matches(&token));
/// assert_eq!(format!("{loaded:?}"), "ResetTokenHash(<redacted>)");
/// # Ok::<(), customer_directory::records::TokenError>(())
/// ```
#[derive(Clone)]
pub struct ResetTokenHash([u8; 32]);

impl ResetTokenHash {
    /// The digest as 64 lower-case hex characters.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::ResetToken;
    ///
    /// let (_, hash) = ResetToken::generate()?;
    /// assert_eq!(hash.to_hex().len(), 64);
    /// # Ok::<(), customer_directory::records::TokenError>(())
    /// ```
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// Reads a digest stored with [`to_hex`](Self::to_hex) (either case).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::{ResetTokenHash, TokenError};
    ///
    /// assert!(ResetTokenHash::from_hex(&"ab".repeat(32)).is_ok());
    /// assert!(ResetTokenHash::from_hex("xyz").is_err());
    /// ```
    pub fn from_hex(text: &str) -> Result<ResetTokenHash, TokenError> {
        decode_hex(text).map(ResetTokenHash)
    }

    /// The 32 digest bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::ResetToken;
    ///
    /// let (_, hash) = ResetToken::generate()?;
    /// assert_eq!(hash.as_bytes().len(), 32);
    /// # Ok::<(), customer_directory::records::TokenError>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `token` hashes to this digest (constant-time comparison).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::records::ResetToken;
    ///
    /// let (token, hash) = ResetToken::generate()?;
    /// let (other, _) = ResetToken::generate()?;
    /// assert!(hash.matches(&token));
    /// assert!(!hash.matches(&other));
    /// # Ok::<(), customer_directory::records::TokenError>(())
    /// ```
    pub fn matches(&self, token: &ResetToken) -> bool {
        *self == token.hash()
    }
}

impl PartialEq for ResetTokenHash {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for ResetTokenHash {}

impl std::hash::Hash for ResetTokenHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for ResetTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResetTokenHash(<redacted>)")
    }
}

impl fmt::Display for ResetTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted reset token hash>")
    }
}

impl serde::Serialize for ResetTokenHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for ResetTokenHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ResetTokenHash::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37));
        let text = encode_hex(&bytes);
        assert_eq!(decode_hex(&text), Ok(bytes));
        assert_eq!(decode_hex(&text.to_uppercase()), Ok(bytes));
        // Multi-byte characters: 64 bytes but not hex.
        assert_eq!(
            decode_hex(&"é".repeat(32)),
            Err(TokenError::InvalidCharacter)
        );
    }
}
