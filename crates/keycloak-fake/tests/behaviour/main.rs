//! Behaviour tests of the Keycloak emulator, each driving it with a real HTTP client.

mod common;

mod auth;
mod cutover;
mod faults;
mod groups_roles;
mod login;
mod misc;
mod partial_import;
mod users;
