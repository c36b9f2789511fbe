//! Password hashes: conversion to Keycloak password credentials per target hash capabilities,
//! and verification of known passwords (bcrypt, PBKDF2, Argon2, Firebase scrypt, digests).
//!
//! [`to_credential`] turns a source [`kcm_model::PasswordHash`] into the exact
//! `CredentialRepresentation` Keycloak (or a hash plugin) expects, or explains with an
//! [`Unusable`] why the user cannot keep the password on a target with the given
//! [`HashCapabilities`]. Keycloak accepts any algorithm id at import and only fails at login,
//! so the capability check here is the only place an unusable hash is caught.
//!
//! [`verify`] checks a known password against a source hash, so an operator can confirm the
//! hash data and the Firebase project parameters before a migration.
//!
//! Secrets (hash and salt bytes, Firebase signer key and salt separator) never appear in
//! `Debug` output, error values or messages produced by this crate. Note that the returned
//! `CredentialRepresentation` itself carries the hash in `secretData` and its `Debug` shows
//! it: never log it.

mod b64;
mod capabilities;
mod credential;
mod firebase;
mod phc;
mod verify;

pub use capabilities::{provider, HashCapabilities};
pub use credential::{provider_for, to_credential, Unusable, UnusableReason};
pub use firebase::{FirebaseScryptParams, ParamsError};
pub use verify::{verify, VerifyError};
