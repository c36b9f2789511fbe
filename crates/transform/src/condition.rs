//! Conditions over source fields, used by filters and by role/group rules:
//! `{ field = "status", in = ["SUSPENDED", "DEPROVISIONED"] }`,
//! `{ field = "email_domain", equals = "example.com" }`, `{ field = "email", glob = "*@corp.*" }`,
//! `{ field = "app_metadata.plan", exists = true }`, combined with `all`, `any` and `not`.
//!
//! A field may have several values (roles, arrays in metadata): a comparison holds when any
//! value satisfies it. Comparisons ignore case unless `case_sensitive = true`.

use kcm_model::User;
use serde::Deserialize;

use crate::fields::FieldPath;

/// A condition as written in a mapping file (exactly one operator per table).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    pub field: Option<String>,
    pub equals: Option<toml::Value>,
    #[serde(rename = "in")]
    pub in_: Option<Vec<toml::Value>>,
    pub glob: Option<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub exists: Option<bool>,
    pub case_sensitive: Option<bool>,
    pub all: Option<Vec<RawCondition>>,
    pub any: Option<Vec<RawCondition>>,
    pub not: Option<Box<RawCondition>>,
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Compare {
        field: FieldPath,
        op: Op,
        case_sensitive: bool,
    },
    Exists {
        field: FieldPath,
        present: bool,
    },
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

/// A comparison operator with its operand(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Equals(String),
    In(Vec<String>),
    Glob(String),
    Prefix(String),
    Suffix(String),
}

fn scalar_text(v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!(
            "expected a string, number or boolean to compare with, found {}",
            other.type_str()
        )),
    }
}

impl RawCondition {
    /// Check the shape and compile. Errors are plain messages; the caller adds the place.
    pub(crate) fn compile(&self) -> Result<Condition, String> {
        let ops = [
            self.equals.is_some(),
            self.in_.is_some(),
            self.glob.is_some(),
            self.prefix.is_some(),
            self.suffix.is_some(),
            self.exists.is_some(),
            self.all.is_some(),
            self.any.is_some(),
            self.not.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if ops != 1 {
            return Err(
                "a condition needs exactly one of equals, in, glob, prefix, suffix, exists, all, any, not".into(),
            );
        }
        let combinator = self.all.is_some() || self.any.is_some() || self.not.is_some();
        if combinator {
            if self.field.is_some() || self.case_sensitive.is_some() {
                return Err("all/any/not take conditions, not `field` or `case_sensitive`".into());
            }
            let list = |items: &Vec<RawCondition>| -> Result<Vec<Condition>, String> {
                if items.is_empty() {
                    return Err("all/any need at least one condition".into());
                }
                items.iter().map(RawCondition::compile).collect()
            };
            if let Some(items) = &self.all {
                return Ok(Condition::All(list(items)?));
            }
            if let Some(items) = &self.any {
                return Ok(Condition::Any(list(items)?));
            }
            if let Some(inner) = &self.not {
                return Ok(Condition::Not(Box::new(inner.compile()?)));
            }
        }
        let field = self
            .field
            .as_deref()
            .ok_or_else(|| "this condition needs `field`".to_string())?;
        let field = FieldPath::parse(field).map_err(|e| e.to_string())?;
        if let Some(present) = self.exists {
            return Ok(Condition::Exists { field, present });
        }
        let case_sensitive = self.case_sensitive.unwrap_or(false);
        let fold = |s: String| if case_sensitive { s } else { s.to_lowercase() };
        let op = if let Some(v) = &self.equals {
            Op::Equals(fold(scalar_text(v)?))
        } else if let Some(list) = &self.in_ {
            Op::In(
                list.iter()
                    .map(|v| scalar_text(v).map(fold))
                    .collect::<Result<_, _>>()?,
            )
        } else if let Some(p) = &self.glob {
            Op::Glob(fold(p.clone()))
        } else if let Some(p) = &self.prefix {
            Op::Prefix(fold(p.clone()))
        } else if let Some(p) = &self.suffix {
            Op::Suffix(fold(p.clone()))
        } else {
            return Err("unreachable condition shape".into());
        };
        Ok(Condition::Compare {
            field,
            op,
            case_sensitive,
        })
    }
}

impl Condition {
    /// Whether `user` satisfies the condition.
    pub fn matches(&self, user: &User) -> bool {
        match self {
            Condition::All(items) => items.iter().all(|c| c.matches(user)),
            Condition::Any(items) => items.iter().any(|c| c.matches(user)),
            Condition::Not(inner) => !inner.matches(user),
            Condition::Exists { field, present } => {
                let found = field.values(user).iter().any(|v| !v.trim().is_empty());
                found == *present
            }
            Condition::Compare {
                field,
                op,
                case_sensitive,
            } => field.values(user).into_iter().any(|v| {
                let v = if *case_sensitive { v } else { v.to_lowercase() };
                match op {
                    Op::Equals(x) => v == *x,
                    Op::In(xs) => xs.contains(&v),
                    Op::Glob(p) => glob_match(p, &v),
                    Op::Prefix(p) => v.starts_with(p.as_str()),
                    Op::Suffix(p) => v.ends_with(p.as_str()),
                }
            }),
        }
    }
}

/// Shell-style wildcard match: `*` any run of characters, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` and the text position it was tried at, for backtracking.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether a rule's source name is a glob pattern rather than an exact name.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains('*') || pattern.contains('?')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(text: &str) -> Result<Condition, String> {
        #[derive(Deserialize)]
        struct W {
            c: RawCondition,
        }
        let w: W = toml::from_str(&format!("c = {text}")).map_err(|e| e.to_string())?;
        w.c.compile()
    }

    #[test]
    fn glob_basics() {
        assert!(glob_match("*@corp.com", "ada@corp.com"));
        assert!(glob_match("a?c*", "abcdef"));
        assert!(!glob_match("*@corp.com", "ada@corp.co"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
    }

    #[test]
    fn operators_and_combinators() {
        let mut u = User {
            status: "SUSPENDED".into(),
            email: Some("Ada@Corp.com".into()),
            roles: vec!["admin".into(), "dev".into()],
            ..User::default()
        };
        u.metadata
            .insert("app_metadata".into(), serde_json::json!({"vip": true}));
        let m = |t: &str| cond(t).unwrap().matches(&u);
        assert!(m(r#"{ field = "status", equals = "suspended" }"#));
        assert!(!m(
            r#"{ field = "status", equals = "suspended", case_sensitive = true }"#
        ));
        assert!(m(
            r#"{ field = "status", in = ["DEPROVISIONED", "SUSPENDED"] }"#
        ));
        assert!(m(r#"{ field = "email_domain", equals = "corp.com" }"#));
        assert!(m(r#"{ field = "email", glob = "*@corp.*" }"#));
        assert!(m(r#"{ field = "email", suffix = "@corp.com" }"#));
        assert!(m(r#"{ field = "roles", prefix = "ad" }"#));
        assert!(m(r#"{ field = "app_metadata.vip", equals = true }"#));
        assert!(m(r#"{ field = "phone", exists = false }"#));
        assert!(m(
            r#"{ all = [{ field = "roles", equals = "dev" }, { not = { field = "phone", exists = true } }] }"#
        ));
        assert!(!m(
            r#"{ any = [{ field = "roles", equals = "x" }, { field = "status", equals = "ACTIVE" }] }"#
        ));
    }

    #[test]
    fn shape_errors() {
        assert!(cond(r#"{ field = "status" }"#)
            .unwrap_err()
            .contains("exactly one"));
        assert!(cond(r#"{ field = "status", equals = "a", in = ["b"] }"#).is_err());
        assert!(cond(r#"{ equals = "a" }"#)
            .unwrap_err()
            .contains("needs `field`"));
        assert!(cond(r#"{ all = [] }"#).is_err());
        assert!(cond(r#"{ field = "a..b", equals = "x" }"#).is_err());
        assert!(cond(r#"{ field = "a", equals = [1] }"#).is_err());
        assert!(cond(r#"{ field = "a", equal = 1 }"#)
            .unwrap_err()
            .contains("unknown field"));
    }
}
