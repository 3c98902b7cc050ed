//! Reports: what the directory hands back to people and other systems.
//!
//! A customer's booking [`summary`], CSV export and import ([`csv`]) and the account
//! [`statement`] (text and PDF). Reports read records and never change them.

pub mod csv;
pub mod statement;
pub mod summary;
