//! An in-process Keycloak Admin REST API emulator for tests, faithful to Keycloak's status codes, transaction rules and strict parsing, with fault injection.
