//! Which planned users already exist in the realm, matched the way partialImport matches them
//! (keycloak-target.md §2 "Users"): by exact username, and by email when the realm does not
//! allow duplicate emails. Used for a target-aware plan; call it per chunk of the input.

use serde::Serialize;
use tokio::task::JoinSet;

use crate::client::KeycloakClient;
use crate::error::SinkError;
use crate::lookup;
use crate::targets::UserToLoad;

/// How an existing user was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    Username,
    /// A different-username user holds the email: skip leaves the planned user out, overwrite
    /// deletes that other user.
    Email,
}

/// A planned user that partialImport would treat as existing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExistingUser {
    pub key: String,
    pub username: String,
    pub matched_by: MatchedBy,
    pub existing_id: Option<String>,
    pub existing_username: Option<String>,
}

/// Looks the users up with up to `concurrency` requests in flight; results keep input order.
pub async fn existing_users(
    client: &KeycloakClient,
    users: &[UserToLoad],
    duplicate_emails_allowed: bool,
) -> Result<Vec<ExistingUser>, SinkError> {
    let mut tasks: JoinSet<Result<(usize, Option<ExistingUser>), SinkError>> = JoinSet::new();
    let mut found = Vec::new();
    for (index, user) in users.iter().enumerate() {
        while tasks.len() >= client.concurrency() {
            collect(&mut tasks, &mut found).await?;
        }
        let Some(name) = user.import_name().map(str::to_string) else {
            continue;
        };
        let email = user
            .user
            .email
            .clone()
            .filter(|e| !e.is_empty() && !duplicate_emails_allowed);
        let key = user.key.clone();
        let client = client.clone();
        tasks.spawn(async move {
            if let Some(existing) = lookup::find_user_by_username(&client, &name).await? {
                return Ok((
                    index,
                    Some(ExistingUser {
                        key,
                        username: name,
                        matched_by: MatchedBy::Username,
                        existing_id: existing.id,
                        existing_username: existing.username,
                    }),
                ));
            }
            if let Some(email) = email {
                if let Some(existing) = lookup::find_user_by_email(&client, &email).await? {
                    return Ok((
                        index,
                        Some(ExistingUser {
                            key,
                            username: name,
                            matched_by: MatchedBy::Email,
                            existing_id: existing.id,
                            existing_username: existing.username,
                        }),
                    ));
                }
            }
            Ok((index, None))
        });
    }
    while !tasks.is_empty() {
        collect(&mut tasks, &mut found).await?;
    }
    found.sort_by_key(|(i, _)| *i);
    Ok(found.into_iter().map(|(_, e)| e).collect())
}

async fn collect(
    tasks: &mut JoinSet<Result<(usize, Option<ExistingUser>), SinkError>>,
    found: &mut Vec<(usize, ExistingUser)>,
) -> Result<(), SinkError> {
    if let Some(joined) = tasks.join_next().await {
        let (index, existing) =
            joined.map_err(|e| SinkError::HttpClient(format!("lookup task failed: {e}")))??;
        if let Some(e) = existing {
            found.push((index, e));
        }
    }
    Ok(())
}
