//! Okta source: user CSV exports (API names, profile.* names, console titles), Users API JSON, and group-membership CSV, streamed into the shared model.
