//! Argon2id hashing of passwords into PHC strings: [`PasswordHashing`] with its
//! parameters ([`HashParams`]) and the limits on stored ones ([`HashLimits`]), the stored
//! [`PasswordHash`], the outcome of a check ([`Verification`]) and why one failed
//! ([`HashError`]).
//!
//! Separate from the policy: hashing runs on every login and must stay cheap to reason
//! about for its cost and timing, whatever the policy says.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use argon2::password_hash::{self, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use subtle::ConstantTimeEq;

use crate::values::password::secret::normalize;

/// Longest password, in UTF-8 bytes before normalisation, that
/// [`PasswordHashing`] hashes. Far above any policy maximum; it only stops
/// absurd inputs from being normalised and fed to argon2.
pub const MAX_PASSWORD_BYTES: usize = crate::limits::PASSWORD_MAX_BYTES;

/// Longest PHC string [`PasswordHash::from_phc`] accepts.
const MAX_PHC_LEN: usize = 512;

/// Salt length in bytes (OWASP and RFC 9106 recommend 16).
const SALT_LEN: usize = 16;

/// Output (tag) length in bytes.
const OUTPUT_LEN: usize = 32;

/// Which argon2 cost parameter an error is about.
///
/// # Examples
///
/// ```
/// use customer_directory::values::HashParameter;
///
/// assert_eq!(HashParameter::Memory.to_string(), "memory (m, KiB)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashParameter {
    /// Memory cost `m`, in KiB.
    Memory,
    /// Iterations (time cost) `t`.
    Iterations,
    /// Parallelism (lanes) `p`.
    Parallelism,
}

impl fmt::Display for HashParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HashParameter::Memory => "memory (m, KiB)",
            HashParameter::Iterations => "iterations (t)",
            HashParameter::Parallelism => "parallelism (p)",
        })
    }
}

/// Errors of [`PasswordHashing`] and [`PasswordHash`]. Their messages never
/// contain a password or a hash.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{HashError, PasswordHash};
///
/// let error = PasswordHash::from_phc("not a hash").unwrap_err();
/// assert!(matches!(error, HashError::Malformed { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The stored string is not a well-formed argon2 PHC string.
    #[error("malformed password hash: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The PHC string names an algorithm other than argon2id, argon2i or
    /// argon2d.
    #[error("unsupported password hash algorithm `{algorithm}`")]
    UnsupportedAlgorithm {
        /// The algorithm identifier found.
        algorithm: String,
    },
    /// A stored hash asks for more work than the [`HashLimits`] allow; it was
    /// refused without running argon2.
    #[error("password hash {parameter} is {value}, above the limit of {limit}")]
    ParametersExceedLimits {
        /// The parameter over its limit.
        parameter: HashParameter,
        /// Its value in the stored hash (or the configuration).
        value: u32,
        /// The limit.
        limit: u32,
    },
    /// Parameters that argon2 does not accept.
    #[error("invalid argon2 parameters: {reason}")]
    InvalidParameters {
        /// argon2's explanation.
        reason: String,
    },
    /// The password is longer than [`MAX_PASSWORD_BYTES`].
    #[error("password is too long to hash: {length} bytes, at most {max}")]
    PasswordTooLong {
        /// Its length in bytes.
        length: usize,
        /// The maximum.
        max: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system random number generator failed")]
    Random,
    /// argon2 itself failed (not expected with validated parameters).
    #[error("argon2 failed: {reason}")]
    Argon2 {
        /// argon2's explanation.
        reason: String,
    },
}

fn malformed(error: impl fmt::Display) -> HashError {
    HashError::Malformed {
        reason: error.to_string(),
    }
}

/// Argon2 cost parameters.
///
/// # Examples
///
/// ```
/// use customer_directory::values::HashParams;
///
/// let owasp = HashParams::OWASP;
/// assert_eq!((owasp.memory_kib(), owasp.iterations(), owasp.parallelism()), (19456, 2, 1));
/// let lighter = HashParams::new(8192, 1, 1)?;
/// assert_eq!(lighter.memory_kib(), 8192);
/// # Ok::<(), customer_directory::values::HashError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HashParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl HashParams {
    /// The OWASP Password Storage Cheat Sheet's argon2id configuration:
    /// m = 19456 KiB (19 MiB), t = 2, p = 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::HashParams;
    ///
    /// assert_eq!(HashParams::OWASP, HashParams::default());
    /// ```
    pub const OWASP: HashParams = HashParams {
        memory_kib: 19456,
        iterations: 2,
        parallelism: 1,
    };

    /// Validated parameters: argon2 requires `iterations >= 1`,
    /// `1 <= parallelism < 2^24` and `memory_kib >= 8 * parallelism`.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashError, HashParams};
    ///
    /// assert!(HashParams::new(65536, 3, 4).is_ok());
    /// assert!(matches!(HashParams::new(4, 1, 1), Err(HashError::InvalidParameters { .. })));
    /// ```
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, HashError> {
        Params::new(memory_kib, iterations, parallelism, Some(OUTPUT_LEN)).map_err(|e| {
            HashError::InvalidParameters {
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            memory_kib,
            iterations,
            parallelism,
        })
    }

    /// Memory cost in KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::values::HashParams::OWASP.memory_kib(), 19456);
    /// ```
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Number of passes over memory.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::values::HashParams::OWASP.iterations(), 2);
    /// ```
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Number of lanes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(customer_directory::values::HashParams::OWASP.parallelism(), 1);
    /// ```
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    fn argon2_params(&self) -> Result<Params, HashError> {
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(OUTPUT_LEN),
        )
        .map_err(|e| HashError::InvalidParameters {
            reason: e.to_string(),
        })
    }
}

impl Default for HashParams {
    /// [`HashParams::OWASP`].
    fn default() -> Self {
        Self::OWASP
    }
}

/// The most expensive parameters a stored hash may ask for. A hash above
/// any of them is refused with [`HashError::ParametersExceedLimits`] before
/// argon2 runs, so a tampered or imported hash cannot make a login allocate
/// gigabytes or spin for seconds.
///
/// The defaults are m = 262144 KiB (256 MiB), t = 10, p = 8.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{HashLimits, PasswordHashing};
///
/// let mut limits = HashLimits::default();
/// assert_eq!(limits.max_memory_kib, 262_144);
/// limits.max_memory_kib = 65_536;
/// let hashing = PasswordHashing::new().with_limits(limits)?;
/// assert_eq!(hashing.limits().max_memory_kib, 65_536);
/// # Ok::<(), customer_directory::values::HashError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HashLimits {
    /// Largest memory cost `m`, in KiB.
    pub max_memory_kib: u32,
    /// Largest iteration count `t`.
    pub max_iterations: u32,
    /// Largest parallelism `p`.
    pub max_parallelism: u32,
}

impl Default for HashLimits {
    fn default() -> Self {
        Self {
            max_memory_kib: 262_144,
            max_iterations: 10,
            max_parallelism: 8,
        }
    }
}

impl HashLimits {
    fn check(&self, memory_kib: u32, iterations: u32, parallelism: u32) -> Result<(), HashError> {
        let checks = [
            (HashParameter::Memory, memory_kib, self.max_memory_kib),
            (HashParameter::Iterations, iterations, self.max_iterations),
            (
                HashParameter::Parallelism,
                parallelism,
                self.max_parallelism,
            ),
        ];
        for (parameter, value, limit) in checks {
            if value > limit {
                return Err(HashError::ParametersExceedLimits {
                    parameter,
                    value,
                    limit,
                });
            }
        }
        Ok(())
    }
}

/// A stored password hash: a validated argon2 PHC string such as
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
///
/// `Debug` and `Display` never show it; read it with
/// [`as_phc`](Self::as_phc) to store it. Serde (de)serialises it as the PHC
/// string, validating on the way in.
///
/// # Examples
///
/// ```
/// use customer_directory::values::PasswordHashing;
///
/// let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
/// assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
/// assert_eq!(format!("{hash:?}"), "PasswordHash(<redacted>)");
/// # Ok::<(), customer_directory::values::HashError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PasswordHash(String);

/// The parts of a parsed stored hash that verification needs.
struct ParsedHash {
    algorithm: Algorithm,
    version: Option<Version>,
    params: Params,
    salt: Vec<u8>,
    output: Vec<u8>,
}

impl PasswordHash {
    /// Parses and validates a PHC string: well-formed, argon2id/argon2i/
    /// argon2d, version 16 or 19 (or none), valid parameters, salt and hash
    /// present. Cost limits are not checked here but by
    /// [`PasswordHashing::verify`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashError, PasswordHash};
    ///
    /// let phc = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$\
    ///            ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNoZmFrZWhhcw";
    /// assert!(PasswordHash::from_phc(phc).is_ok());
    /// assert!(matches!(
    ///     PasswordHash::from_phc("$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"),
    ///     Err(HashError::UnsupportedAlgorithm { .. })
    /// ));
    /// ```
    pub fn from_phc(phc: &str) -> Result<Self, HashError> {
        parse_phc(phc)?;
        Ok(Self(phc.to_owned()))
    }

    /// The PHC string, for storage.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordHash, PasswordHashing};
    ///
    /// let hash = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?;
    /// let again = PasswordHash::from_phc(hash.as_phc())?;
    /// assert_eq!(hash, again);
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Takes the PHC string out.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// let phc: String = PasswordHashing::new().hash("Plum-Tractor-Velvet-9")?.into_phc();
    /// assert!(phc.starts_with("$argon2id$"));
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn into_phc(self) -> String {
        self.0
    }
}

fn parse_phc(phc: &str) -> Result<ParsedHash, HashError> {
    if phc.len() > MAX_PHC_LEN {
        return Err(malformed(format_args!("longer than {MAX_PHC_LEN} bytes")));
    }
    let parsed = password_hash::PasswordHash::new(phc).map_err(malformed)?;
    let algorithm =
        Algorithm::try_from(parsed.algorithm).map_err(|_| HashError::UnsupportedAlgorithm {
            algorithm: parsed.algorithm.as_str().to_owned(),
        })?;
    let version = match parsed.version {
        None => None,
        Some(v) => Some(Version::try_from(v).map_err(malformed)?),
    };
    let params = Params::try_from(&parsed).map_err(malformed)?;
    let salt = parsed.salt.ok_or_else(|| malformed("no salt"))?;
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(malformed)?.to_vec();
    if salt.len() < argon2::MIN_SALT_LEN {
        return Err(malformed(format_args!(
            "salt shorter than {} bytes",
            argon2::MIN_SALT_LEN
        )));
    }
    let output = parsed
        .hash
        .ok_or_else(|| malformed("no hash value"))?
        .as_bytes()
        .to_vec();
    Ok(ParsedHash {
        algorithm,
        version,
        params,
        salt,
        output,
    })
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted password hash>")
    }
}

impl FromStr for PasswordHash {
    type Err = HashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_phc(s)
    }
}

impl TryFrom<String> for PasswordHash {
    type Error = HashError;

    fn try_from(phc: String) -> Result<Self, Self::Error> {
        parse_phc(&phc)?;
        Ok(Self(phc))
    }
}

impl serde::Serialize for PasswordHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PasswordHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let phc = String::deserialize(deserializer)?;
        PasswordHash::try_from(phc).map_err(serde::de::Error::custom)
    }
}

/// The outcome of [`PasswordHashing::verify`].
///
/// # Examples
///
/// ```
/// use customer_directory::values::Verification;
///
/// assert!(Verification::ValidNeedsRehash.is_valid());
/// assert!(!Verification::Invalid.is_valid());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum Verification {
    /// Wrong password.
    Invalid,
    /// Right password; the stored hash uses the current parameters.
    Valid,
    /// Right password, but the stored hash was made with other parameters,
    /// another argon2 variant or version: hash the password again and store
    /// the new hash.
    ValidNeedsRehash,
}

impl Verification {
    /// `true` for [`Valid`](Self::Valid) and
    /// [`ValidNeedsRehash`](Self::ValidNeedsRehash).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::Verification;
    ///
    /// assert!(Verification::Valid.is_valid());
    /// ```
    pub fn is_valid(self) -> bool {
        !matches!(self, Verification::Invalid)
    }
}

/// Hashes and verifies passwords with argon2id (RFC 9106), as the OWASP
/// Password Storage Cheat Sheet recommends.
///
/// Passwords are NFKC-normalised before hashing and verifying (NIST SP
/// 800-63B), so two encodings of one password match. Salts are 16 bytes from
/// the operating system's random number generator; hashes are 32 bytes,
/// stored as PHC strings.
///
/// Build one and share it (it is `Send + Sync`); the dummy hash used by
/// [`verify_dummy`](Self::verify_dummy) is computed once per value.
///
/// # Examples
///
/// ```
/// use customer_directory::values::{PasswordHashing, Verification};
///
/// let hashing = PasswordHashing::new();
/// let stored = hashing.hash("Plum-Tractor-Velvet-9")?;
/// assert_eq!(hashing.verify("Plum-Tractor-Velvet-9", &stored)?, Verification::Valid);
/// assert_eq!(hashing.verify("plum-tractor-velvet-9", &stored)?, Verification::Invalid);
/// # Ok::<(), customer_directory::values::HashError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PasswordHashing {
    params: HashParams,
    limits: HashLimits,
    dummy: OnceLock<PasswordHash>,
}

impl PasswordHashing {
    /// Hashing with [`HashParams::OWASP`] and the default [`HashLimits`].
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashParams, PasswordHashing};
    ///
    /// assert_eq!(PasswordHashing::new().params(), HashParams::OWASP);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashing with other parameters (checked against the default limits).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashError, HashParams, PasswordHashing};
    ///
    /// let stronger = PasswordHashing::with_params(HashParams::new(47104, 1, 1)?)?;
    /// assert_eq!(stronger.params().memory_kib(), 47104);
    /// let too_big = HashParams::new(1 << 20, 1, 1)?;
    /// assert!(matches!(
    ///     PasswordHashing::with_params(too_big),
    ///     Err(HashError::ParametersExceedLimits { .. })
    /// ));
    /// # Ok::<(), HashError>(())
    /// ```
    pub fn with_params(params: HashParams) -> Result<Self, HashError> {
        let limits = HashLimits::default();
        limits.check(params.memory_kib, params.iterations, params.parallelism)?;
        Ok(Self {
            params,
            limits,
            dummy: OnceLock::new(),
        })
    }

    /// Replaces the limits on stored hashes; the current parameters must be
    /// within them.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashError, HashLimits, PasswordHashing};
    ///
    /// let mut limits = HashLimits::default();
    /// limits.max_iterations = 1; // below the OWASP t = 2
    /// assert!(matches!(
    ///     PasswordHashing::new().with_limits(limits),
    ///     Err(HashError::ParametersExceedLimits { .. })
    /// ));
    /// ```
    pub fn with_limits(self, limits: HashLimits) -> Result<Self, HashError> {
        limits.check(
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
        )?;
        Ok(Self { limits, ..self })
    }

    /// The parameters new hashes are made with.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// assert_eq!(PasswordHashing::new().params().iterations(), 2);
    /// ```
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// The limits stored hashes are checked against.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// assert_eq!(PasswordHashing::new().limits().max_parallelism, 8);
    /// ```
    pub fn limits(&self) -> HashLimits {
        self.limits
    }

    fn argon2(&self) -> Result<Argon2<'static>, HashError> {
        Ok(Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.params.argon2_params()?,
        ))
    }

    /// Hashes a password with a fresh random salt.
    ///
    /// The password is not checked against any policy here; do that first
    /// with
    /// [`PasswordPolicy::check`](crate::values::password::policy::PasswordPolicy::check).
    ///
    /// # Errors
    ///
    /// [`HashError::PasswordTooLong`] above [`MAX_PASSWORD_BYTES`],
    /// [`HashError::Random`] if the OS random number generator fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// let hashing = PasswordHashing::new();
    /// let a = hashing.hash("Plum-Tractor-Velvet-9")?;
    /// let b = hashing.hash("Plum-Tractor-Velvet-9")?;
    /// assert_ne!(a.as_phc(), b.as_phc()); // different salts
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn hash(&self, password: &str) -> Result<PasswordHash, HashError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::PasswordTooLong {
                length: password.len(),
                max: MAX_PASSWORD_BYTES,
            });
        }
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|_| HashError::Random)?;
        self.hash_with_salt(password, &salt)
    }

    fn hash_with_salt(&self, password: &str, salt: &[u8]) -> Result<PasswordHash, HashError> {
        use argon2::PasswordHasher as _;
        let salt = SaltString::encode_b64(salt).map_err(|e| HashError::Argon2 {
            reason: e.to_string(),
        })?;
        let normalized = normalize(password);
        let hash = self
            .argon2()?
            .hash_password(normalized.as_bytes(), &salt)
            .map_err(|e| HashError::Argon2 {
                reason: e.to_string(),
            })?;
        Ok(PasswordHash(hash.to_string()))
    }

    /// Verifies a password against a stored hash.
    ///
    /// Returns [`Verification::ValidNeedsRehash`] for a right password whose
    /// hash was made with other parameters, output length, argon2 variant or
    /// version than this value's (store a new [`hash`](Self::hash) then). A
    /// password longer than [`MAX_PASSWORD_BYTES`] cannot have been hashed
    /// and is [`Invalid`](Verification::Invalid) without running argon2.
    ///
    /// # Errors
    ///
    /// [`HashError::ParametersExceedLimits`] when the stored hash asks for
    /// more than the [`HashLimits`] (argon2 is not run);
    /// [`HashError::Malformed`] or [`HashError::Argon2`] for hashes argon2
    /// cannot evaluate.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{HashParams, PasswordHashing, Verification};
    ///
    /// let old = PasswordHashing::with_params(HashParams::new(8192, 1, 1)?)?;
    /// let stored = old.hash("Plum-Tractor-Velvet-9")?;
    /// let current = PasswordHashing::new();
    /// assert_eq!(
    ///     current.verify("Plum-Tractor-Velvet-9", &stored)?,
    ///     Verification::ValidNeedsRehash
    /// );
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn verify(&self, password: &str, stored: &PasswordHash) -> Result<Verification, HashError> {
        let parsed = parse_phc(&stored.0)?;
        self.limits.check(
            parsed.params.m_cost(),
            parsed.params.t_cost(),
            parsed.params.p_cost(),
        )?;
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(Verification::Invalid);
        }
        // A missing version means argon2 1.0 (0x10), as in the reference
        // implementation's decoder.
        let version = parsed.version.unwrap_or(Version::V0x10);
        let argon2 = Argon2::new(parsed.algorithm, version, parsed.params.clone());
        let normalized = normalize(password);
        let mut computed = vec![0u8; parsed.output.len()];
        argon2
            .hash_password_into(normalized.as_bytes(), &parsed.salt, &mut computed)
            .map_err(|e| HashError::Argon2 {
                reason: e.to_string(),
            })?;
        let matches: bool = computed.ct_eq(&parsed.output).into();
        if !matches {
            Ok(Verification::Invalid)
        } else if self.is_current(&parsed) {
            Ok(Verification::Valid)
        } else {
            Ok(Verification::ValidNeedsRehash)
        }
    }

    fn is_current(&self, parsed: &ParsedHash) -> bool {
        parsed.algorithm == Algorithm::Argon2id
            && parsed.version == Some(Version::V0x13)
            && parsed.params.m_cost() == self.params.memory_kib
            && parsed.params.t_cost() == self.params.iterations
            && parsed.params.p_cost() == self.params.parallelism
            && parsed.output.len() == OUTPUT_LEN
            && parsed.params.keyid().is_empty()
            && parsed.params.data().is_empty()
    }

    /// Whether a stored hash differs from what [`hash`](Self::hash) would
    /// produce now (parameters, variant, version or output length), without
    /// running argon2. Malformed hashes count as needing a rehash.
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::PasswordHashing;
    ///
    /// let hashing = PasswordHashing::new();
    /// let stored = hashing.hash("Plum-Tractor-Velvet-9")?;
    /// assert!(!hashing.needs_rehash(&stored));
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn needs_rehash(&self, stored: &PasswordHash) -> bool {
        parse_phc(&stored.0).map_or(true, |parsed| !self.is_current(&parsed))
    }

    /// Spends the time of one verification and returns
    /// [`Verification::Invalid`]. Call it when the account does not exist so
    /// a login takes about as long whether or not it does (which would
    /// otherwise reveal who has an account).
    ///
    /// It verifies the password against a fixed hash made with this value's
    /// parameters, computed on first use and kept (a `OnceLock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use customer_directory::values::{PasswordHash, PasswordHashing, Verification};
    ///
    /// let hashing = PasswordHashing::new();
    /// let stored: Option<PasswordHash> = None; // no such customer
    /// let outcome = match &stored {
    ///     Some(hash) => hashing.verify("guess", hash)?,
    ///     None => hashing.verify_dummy("guess"),
    /// };
    /// assert_eq!(outcome, Verification::Invalid);
    /// # Ok::<(), customer_directory::values::HashError>(())
    /// ```
    pub fn verify_dummy(&self, password: &str) -> Verification {
        let dummy = match self.dummy.get() {
            Some(dummy) => dummy,
            None => {
                match self.hash_with_salt("customer-directory dummy password", &[0x5a; SALT_LEN]) {
                    Ok(hash) => self.dummy.get_or_init(|| hash),
                    Err(_) => return Verification::Invalid,
                }
            }
        };
        // Same path as a real verification; whatever the outcome, the answer
        // is "invalid": there is no account.
        let _ = std::hint::black_box(self.verify(password, dummy));
        Verification::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_report_first_parameter_over() {
        let limits = HashLimits::default();
        assert_eq!(limits.check(262_144, 10, 8), Ok(()));
        assert_eq!(
            limits.check(262_145, 11, 9),
            Err(HashError::ParametersExceedLimits {
                parameter: HashParameter::Memory,
                value: 262_145,
                limit: 262_144
            })
        );
        assert_eq!(
            limits.check(1024, 10, 9),
            Err(HashError::ParametersExceedLimits {
                parameter: HashParameter::Parallelism,
                value: 9,
                limit: 8
            })
        );
    }

    #[test]
    fn verify_normalises_like_hash() {
        let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
        let stored = hashing.hash("Pa\u{308}sswort-9").unwrap();
        assert_eq!(
            hashing.verify("Pässwort-9", &stored).unwrap(),
            Verification::Valid
        );
    }

    #[test]
    fn missing_version_is_argon2_1_0_and_needs_rehash() {
        // Hash with version 0x10 by hand, then strip "v=16$" from the PHC.
        let params = Params::new(64, 1, 1, Some(32)).unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x10, params);
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let phc = {
            use argon2::PasswordHasher as _;
            argon2
                .hash_password(b"Legacy-Pass-1", &salt)
                .unwrap()
                .to_string()
        };
        assert!(phc.starts_with("$argon2id$v=16$"), "{phc}");
        let without_version = phc.replacen("v=16$", "", 1);
        let stored = PasswordHash::from_phc(&without_version).unwrap();
        let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
        assert_eq!(
            hashing.verify("Legacy-Pass-1", &stored).unwrap(),
            Verification::ValidNeedsRehash
        );
        assert_eq!(
            hashing.verify("Legacy-Pass-2", &stored).unwrap(),
            Verification::Invalid
        );
    }

    #[test]
    fn dummy_hash_uses_current_parameters_and_is_cached() {
        let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
        assert_eq!(hashing.verify_dummy("anything"), Verification::Invalid);
        let dummy = hashing.dummy.get().expect("computed on first use").clone();
        assert!(dummy.as_phc().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(!hashing.needs_rehash(&dummy));
        // The dummy's own password still yields Invalid.
        assert_eq!(
            hashing.verify_dummy("customer-directory dummy password"),
            Verification::Invalid
        );
        assert_eq!(hashing.dummy.get(), Some(&dummy));
    }

    #[test]
    fn over_long_password_is_refused_or_invalid() {
        let hashing = PasswordHashing::with_params(HashParams::new(64, 1, 1).unwrap()).unwrap();
        let long = "A".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(
            hashing.hash(&long),
            Err(HashError::PasswordTooLong {
                length: MAX_PASSWORD_BYTES + 1,
                max: MAX_PASSWORD_BYTES
            })
        );
        let stored = hashing.hash(&long[..MAX_PASSWORD_BYTES]).unwrap();
        assert_eq!(
            hashing.verify(&long, &stored).unwrap(),
            Verification::Invalid
        );
        assert_eq!(
            hashing
                .verify(&long[..MAX_PASSWORD_BYTES], &stored)
                .unwrap(),
            Verification::Valid
        );
    }
}
