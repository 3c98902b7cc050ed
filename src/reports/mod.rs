//! Reports: what the directory hands back to people and other systems.
//!
//! A customer's booking [`summary`], CSV export and import ([`csv`]), the reading of
//! another system's booking history ([`booking_import`]) and the account
//! [`statement`] (text and PDF). Reports read records and never change them.

pub mod booking_import;
pub mod csv;
pub mod statement;
pub mod summary;
