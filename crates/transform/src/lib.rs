//! Mapping files and the transform stage: source records to planned Keycloak users, roles, groups and clients, with duplicate detection, filters and accounting.
