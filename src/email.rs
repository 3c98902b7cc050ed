//! TEMPORARY STUB (replaced by the real module)
#![allow(missing_docs, dead_code)]
use serde::{Deserialize, Serialize};
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EmailKeyPolicy {
    #[default]
    CaseInsensitive,
    ExactCase,
}
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EmailAddress {
    original: Box<str>,
    key: EmailKey,
}
impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        Self::parse_with_policy(raw, EmailKeyPolicy::default())
    }
    pub fn parse_with_policy(raw: &str, policy: EmailKeyPolicy) -> Result<Self, EmailError> {
        let key = EmailKey::parse(raw, policy)?;
        Ok(Self {
            original: raw.trim().into(),
            key,
        })
    }
    pub fn as_str(&self) -> &str {
        &self.original
    }
    pub fn key(&self) -> &EmailKey {
        &self.key
    }
}
impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.original)
    }
}
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EmailKey(Box<str>);
impl EmailKey {
    pub fn parse(raw: &str, _policy: EmailKeyPolicy) -> Result<Self, EmailError> {
        let t = raw.trim();
        let (l, d) = t.split_once('@').ok_or(EmailError::MissingAt)?;
        if l.is_empty() || !d.contains('.') || d.contains('@') || d.ends_with('.') {
            return Err(EmailError::MissingAt);
        }
        Ok(Self(t.to_lowercase().into()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn loose(&self) -> LooseEmailKey {
        LooseEmailKey(self.0.clone())
    }
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|p| p.1).unwrap_or("")
    }
}
impl std::borrow::Borrow<str> for EmailKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}
impl std::fmt::Display for EmailKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LooseEmailKey(Box<str>);
impl LooseEmailKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl std::borrow::Borrow<str> for LooseEmailKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    #[error("missing @")]
    MissingAt,
}
