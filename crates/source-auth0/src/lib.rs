//! Auth0 source: bulk-export NDJSON/JSON/CSV users, the support password-hash export, and roles files, streamed into the shared model.
