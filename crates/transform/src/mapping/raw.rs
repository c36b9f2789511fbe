//! The mapping file exactly as written: serde structures with `deny_unknown_fields`
//! everywhere, so a misspelt key is an error with its line and column instead of a silently
//! ignored setting. Checked and compiled into [`super::Mapping`] by `super::compile`.

use std::collections::BTreeMap;

use kcm_model::SourceKind;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use toml::Spanned;

use crate::condition::RawCondition;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMapping {
    pub source: SourceKind,
    pub realm: Spanned<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub deterministic_ids: bool,
    #[serde(default)]
    pub username: RawUsername,
    #[serde(default)]
    pub email: RawEmail,
    #[serde(default)]
    pub names: RawNames,
    #[serde(default)]
    pub attributes: RawAttributes,
    #[serde(default)]
    pub status: BTreeMap<String, RawStatusRule>,
    #[serde(default)]
    pub roles: RawRoles,
    #[serde(default)]
    pub groups: RawGroups,
    #[serde(default)]
    pub identities: RawIdentities,
    #[serde(default)]
    pub filters: Vec<RawFilter>,
    #[serde(default)]
    pub passwords: RawPasswords,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUsername {
    pub from: Option<Vec<Spanned<String>>>,
    pub template: Option<Spanned<String>>,
    pub min_length: Option<Spanned<usize>>,
    #[serde(default)]
    pub ascii_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawInvalidPolicy {
    Drop,
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawDuplicatePolicy {
    Reject,
    DropEmail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawVerified {
    Source,
    Always,
    Never,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEmail {
    pub from: Option<Spanned<String>>,
    pub invalid_email: Option<RawInvalidPolicy>,
    pub duplicates: Option<RawDuplicatePolicy>,
    pub verified: Option<RawVerified>,
    #[serde(default)]
    pub verify_email_action: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNames {
    pub first_name: Option<Vec<Spanned<String>>>,
    pub last_name: Option<Vec<Spanned<String>>>,
    pub split_display_name: Option<bool>,
    pub invalid: Option<RawInvalidPolicy>,
}

/// `legacy_id = "name"` or `legacy_id = false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawLegacyId {
    Name(String),
    Disabled,
}

impl<'de> Deserialize<'de> for RawLegacyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawLegacyId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an attribute name or false")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawLegacyId, E> {
                Ok(RawLegacyId::Name(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawLegacyId, E> {
                if v {
                    Err(E::custom(
                        "legacy_id = true is ambiguous: give the attribute name or false",
                    ))
                } else {
                    Ok(RawLegacyId::Disabled)
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAttributes {
    pub legacy_id: Option<Spanned<RawLegacyId>>,
    #[serde(default, alias = "keep_unmapped_attributes")]
    pub keep_unmapped: bool,
    #[serde(default)]
    pub map: Vec<RawAttributeRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAttributeRule {
    pub from: Option<Spanned<String>>,
    pub to: Spanned<String>,
    #[serde(default)]
    pub transforms: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStatusRule {
    pub enabled: Option<bool>,
    pub required_actions: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawUnmapped {
    Drop,
    Create,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoles {
    pub from: Option<Vec<Spanned<String>>>,
    pub unmapped: Option<RawUnmapped>,
    #[serde(default)]
    pub default_roles: Vec<Spanned<String>>,
    #[serde(default)]
    pub default_client_roles: BTreeMap<String, Vec<Spanned<String>>>,
    #[serde(default)]
    pub rules: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGroups {
    pub from: Option<Vec<Spanned<String>>>,
    pub unmapped: Option<RawUnmapped>,
    #[serde(default)]
    pub default_groups: Vec<Spanned<String>>,
    #[serde(default)]
    pub rules: Vec<Spanned<RawRule>>,
}

/// One role/group rule: a source name (or glob) or a condition, and what it grants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub source: Option<String>,
    pub when: Option<RawCondition>,
    #[serde(default)]
    pub realm_roles: Vec<String>,
    #[serde(default)]
    pub client_roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawUnknownProvider {
    Drop,
    Keep,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIdentities {
    #[serde(default)]
    pub aliases: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub ignore: Vec<String>,
    pub unknown: Option<RawUnknownProvider>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFilter {
    pub name: Spanned<String>,
    pub include: Option<Spanned<RawCondition>>,
    pub exclude: Option<Spanned<RawCondition>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPasswords {
    #[serde(default)]
    pub providers: Vec<String>,
    #[serde(default)]
    pub social_only_update_password: bool,
    pub firebase: Option<Spanned<RawFirebase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFirebase {
    pub signer_key: String,
    pub salt_separator: String,
    pub rounds: u32,
    pub mem_cost: u32,
}

impl std::fmt::Debug for RawFirebase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawFirebase")
            .field("rounds", &self.rounds)
            .field("mem_cost", &self.mem_cost)
            .finish_non_exhaustive()
    }
}
