//! Text templates over source fields: `"{first_name}.{last_name}"`,
//! `"{app_metadata.employee_id}"`. `{{` and `}}` stand for literal braces. Inside an
//! attribute transform, `{value}` is the value being transformed.
//!
//! Rendering is strict: when any referenced field is absent the template yields nothing, so a
//! username fallback moves on to its next source instead of producing `".smith"`.

use kcm_model::User;

use crate::fields::{FieldPath, PathError};

/// The placeholder that names the current value in attribute transforms.
const VALUE_PLACEHOLDER: &str = "value";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field(FieldPath),
    Value,
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed `{{` in template")]
    Unclosed,
    #[error("unmatched `}}` in template (write `}}}}` for a literal brace)")]
    Unmatched,
    #[error("template has no placeholder; use constant(...) for fixed text")]
    NoPlaceholder,
    #[error(transparent)]
    Path(#[from] PathError),
}

impl Template {
    /// Parse `text`. `allow_value` permits the `{value}` placeholder.
    pub fn parse(text: &str, allow_value: bool) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(TemplateError::Unmatched),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(TemplateError::Unclosed),
                        }
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    let name = name.trim();
                    if allow_value && name == VALUE_PLACEHOLDER {
                        parts.push(Part::Value);
                    } else {
                        parts.push(Part::Field(FieldPath::parse(name)?));
                    }
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        if !parts.iter().any(|p| !matches!(p, Part::Literal(_))) {
            return Err(TemplateError::NoPlaceholder);
        }
        Ok(Template { parts })
    }

    /// Render for `user`; `value` fills `{value}`. `None` when a referenced field (or the
    /// value) is absent. Multi-valued fields contribute their first value.
    pub fn render(&self, user: &User, value: Option<&str>) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Field(path) => out.push_str(path.first(user)?.trim()),
                Part::Value => out.push_str(value?),
            }
        }
        Some(out)
    }

    /// Whether the template uses `{value}`.
    pub fn uses_value(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fields_and_escapes_and_fails_on_missing() {
        let mut u = User {
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            ..User::default()
        };
        u.metadata.insert(
            "app_metadata".into(),
            serde_json::json!({"employee_id": 42}),
        );
        let t = Template::parse("{first_name}.{last_name}", false).unwrap();
        assert_eq!(t.render(&u, None).as_deref(), Some("Ada.Lovelace"));
        let t = Template::parse("{{e}}-{app_metadata.employee_id}", false).unwrap();
        assert_eq!(t.render(&u, None).as_deref(), Some("{e}-42"));
        let t = Template::parse("{display_name}", false).unwrap();
        assert_eq!(t.render(&u, None), None);
        let t = Template::parse("{value}@corp", true).unwrap();
        assert!(t.uses_value());
        assert_eq!(t.render(&u, Some("x")).as_deref(), Some("x@corp"));
    }

    #[test]
    fn reports_syntax_errors() {
        assert_eq!(Template::parse("{a", false), Err(TemplateError::Unclosed));
        assert_eq!(Template::parse("a}", false), Err(TemplateError::Unmatched));
        assert_eq!(
            Template::parse("plain", false),
            Err(TemplateError::NoPlaceholder)
        );
        // Without `allow_value`, `{value}` is an ordinary metadata path.
        assert!(!Template::parse("{value}", false).unwrap().uses_value());
        assert!(matches!(
            Template::parse("{a b}", false),
            Err(TemplateError::Path(_))
        ));
    }
}
