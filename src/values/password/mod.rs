//! Customer passwords: the secret itself, the policy a new one must meet, and argon2id
//! hashing.
//!
//! This module gathers everything the directory needs to protect customer
//! accounts with a password:
//!
//! * [`Password`](secret::Password) carries the secret; it never leaks through `Debug` or
//!   `Display` and is zeroed when dropped.
//! * [`PasswordPolicy`](policy::PasswordPolicy) checks a new password and reports **every**
//!   rule it breaks at once ([`PasswordViolations`](policy::PasswordViolations)), so a
//!   sign-up form can show all problems in one round trip. Three presets exist: the
//!   product's documented [`seed_rule`](policy::PasswordPolicy::seed_rule), the
//!   [`recommended`](policy::PasswordPolicy::recommended) default (seed rule plus a
//!   zxcvbn guessability floor) and [`nist_800_63b`](policy::PasswordPolicy::nist_800_63b)
//!   (length and guessability only, after NIST SP 800-63B).
//! * [`PasswordHashing`](hashing::PasswordHashing) hashes with argon2id into PHC strings
//!   using the parameters of the OWASP Password Storage Cheat Sheet (m = 19456 KiB,
//!   t = 2, p = 1), verifies, tells when a stored hash should be upgraded
//!   ([`Verification::ValidNeedsRehash`](hashing::Verification::ValidNeedsRehash)), refuses
//!   stored parameters that would be too expensive to evaluate, and offers
//!   [`verify_dummy`](hashing::PasswordHashing::verify_dummy) for unknown accounts.
//!
//! Secrets never leak through `Debug` or `Display`: [`Password`](secret::Password) and
//! [`PasswordHash`](hashing::PasswordHash) print a redacted placeholder. The one-time
//! tokens of reset and verification links belong to accounts and live in
//! [`records::tokens`](crate::records::tokens).
//!
//! # Unicode
//!
//! Passwords are normalised to Unicode NFKC before they are measured, checked
//! and hashed, as NIST SP 800-63B recommends ("the verifier SHOULD apply the
//! Normalization Process for Stabilization of Strings using either the NFKC or
//! NFKD normalization"). The same password typed on two systems that produce
//! different code point sequences (for example a precomposed `ä` versus `a`
//! followed by a combining diaeresis) therefore has the same length and the
//! same hash. ASCII is unchanged by NFKC. Length is the number of Unicode
//! scalar values of the normalised password (`chars().count()`); passwords are
//! never truncated.

pub(crate) mod hashing;
pub(crate) mod policy;
pub(crate) mod secret;
