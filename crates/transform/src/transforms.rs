//! Value transforms applied by attribute mappings, written as `lower`, `upper`, `trim`,
//! `split(",")`, `join(";")`, `constant("x")` and `template("{value}@corp")`.
//!
//! A transform turns the list of values read from the source into a new list; an attribute
//! whose final list is empty is not written.

use kcm_model::User;

use crate::template::{Template, TemplateError};

/// One transform step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueTransform {
    Lower,
    Upper,
    Trim,
    /// Split every value on the separator; empty pieces are dropped.
    Split(String),
    /// Join all values into one.
    Join(String),
    /// Replace the values with one fixed value.
    Constant(String),
    /// Render a template once per value (`{value}` is the value), or once when there are
    /// no values and the template does not use `{value}`.
    Template(Template),
}

/// Why a transform string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    #[error("unknown transform `{0}` (expected lower, upper, trim, split(sep), join(sep), constant(value) or template(\"...\"))")]
    Unknown(String),
    #[error("transform `{0}` needs an argument, e.g. {0}(\",\")")]
    MissingArgument(&'static str),
    #[error("transform `{0}` takes no argument")]
    UnexpectedArgument(&'static str),
    #[error("split needs a non-empty separator")]
    EmptySeparator,
    #[error("malformed transform `{0}`: expected name(argument)")]
    Malformed(String),
    #[error("in template(...): {0}")]
    Template(#[from] TemplateError),
}

impl ValueTransform {
    /// Parse one transform as written in a mapping file.
    pub fn parse(raw: &str) -> Result<ValueTransform, TransformError> {
        let s = raw.trim();
        let (name, arg) = match s.find('(') {
            Some(open) => {
                let inner = s[open + 1..]
                    .strip_suffix(')')
                    .ok_or_else(|| TransformError::Malformed(raw.to_string()))?;
                (s[..open].trim(), Some(unquote(inner.trim())))
            }
            None => (s, None),
        };
        let no_arg = |t: ValueTransform, n: &'static str| match arg {
            None => Ok(t),
            Some(_) => Err(TransformError::UnexpectedArgument(n)),
        };
        match name {
            "lower" => no_arg(ValueTransform::Lower, "lower"),
            "upper" => no_arg(ValueTransform::Upper, "upper"),
            "trim" => no_arg(ValueTransform::Trim, "trim"),
            "split" => match arg {
                Some(sep) if sep.is_empty() => Err(TransformError::EmptySeparator),
                Some(sep) => Ok(ValueTransform::Split(sep)),
                None => Err(TransformError::MissingArgument("split")),
            },
            "join" => arg
                .map(ValueTransform::Join)
                .ok_or(TransformError::MissingArgument("join")),
            "constant" => arg
                .map(ValueTransform::Constant)
                .ok_or(TransformError::MissingArgument("constant")),
            "template" => match arg {
                Some(text) => Ok(ValueTransform::Template(Template::parse(&text, true)?)),
                None => Err(TransformError::MissingArgument("template")),
            },
            other => Err(TransformError::Unknown(other.to_string())),
        }
    }

    /// Whether this transform produces values without any input (so an attribute mapping
    /// that starts with it needs no `from`).
    pub fn is_generator(&self) -> bool {
        match self {
            ValueTransform::Constant(_) => true,
            ValueTransform::Template(t) => !t.uses_value(),
            _ => false,
        }
    }

    /// Apply to `values` for `user`.
    pub fn apply(&self, values: Vec<String>, user: &User) -> Vec<String> {
        match self {
            ValueTransform::Lower => values.into_iter().map(|v| v.to_lowercase()).collect(),
            ValueTransform::Upper => values.into_iter().map(|v| v.to_uppercase()).collect(),
            ValueTransform::Trim => values
                .into_iter()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect(),
            ValueTransform::Split(sep) => values
                .iter()
                .flat_map(|v| v.split(sep.as_str()))
                .map(str::to_string)
                .filter(|v| !v.trim().is_empty())
                .collect(),
            ValueTransform::Join(_) if values.is_empty() => Vec::new(),
            ValueTransform::Join(sep) => vec![values.join(sep)],
            ValueTransform::Constant(v) => vec![v.clone()],
            ValueTransform::Template(t) if values.is_empty() => {
                if t.uses_value() {
                    Vec::new()
                } else {
                    t.render(user, None).into_iter().collect()
                }
            }
            ValueTransform::Template(t) => values
                .iter()
                .filter_map(|v| t.render(user, Some(v)))
                .collect(),
        }
    }
}

/// Strip one pair of matching quotes; `\"` / `\'` / `\\` inside are unescaped.
fn unquote(s: &str) -> String {
    let quoted = s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')));
    if !quoted {
        return s.to_string();
    }
    let inner = &s[1..s.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\'' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Apply a chain of transforms.
pub fn apply_all(
    transforms: &[ValueTransform],
    mut values: Vec<String>,
    user: &User,
) -> Vec<String> {
    for t in transforms {
        values = t.apply(values, user);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(spec: &[&str], input: &[&str]) -> Vec<String> {
        let ts: Vec<_> = spec
            .iter()
            .map(|s| ValueTransform::parse(s).unwrap())
            .collect();
        let user = User {
            first_name: Some("Ada".into()),
            ..User::default()
        };
        apply_all(&ts, input.iter().map(|s| s.to_string()).collect(), &user)
    }

    #[test]
    fn each_transform() {
        assert_eq!(run(&["lower"], &["AbC"]), vec!["abc"]);
        assert_eq!(run(&["upper"], &["AbC"]), vec!["ABC"]);
        assert_eq!(run(&["trim"], &[" a ", "  "]), vec!["a"]);
        assert_eq!(
            run(&["split(\",\")", "trim"], &["a, b,,c"]),
            vec!["a", "b", "c"]
        );
        assert_eq!(run(&["join(';')"], &["a", "b"]), vec!["a;b"]);
        assert_eq!(run(&["join(;)"], &[]), Vec::<String>::new());
        assert_eq!(run(&["constant(\"x y\")"], &[]), vec!["x y"]);
        assert_eq!(
            run(&["template(\"{value}-{first_name}\")"], &["a", "b"]),
            vec!["a-Ada", "b-Ada"]
        );
        assert_eq!(run(&["template(\"{first_name}!\")"], &[]), vec!["Ada!"]);
        assert_eq!(run(&["template(\"{value}!\")"], &[]), Vec::<String>::new());
    }

    #[test]
    fn parse_errors() {
        assert!(matches!(
            ValueTransform::parse("shout"),
            Err(TransformError::Unknown(_))
        ));
        assert!(matches!(
            ValueTransform::parse("split"),
            Err(TransformError::MissingArgument("split"))
        ));
        assert!(matches!(
            ValueTransform::parse("split(\"\")"),
            Err(TransformError::EmptySeparator)
        ));
        assert!(matches!(
            ValueTransform::parse("lower(x)"),
            Err(TransformError::UnexpectedArgument("lower"))
        ));
        assert!(matches!(
            ValueTransform::parse("join(,"),
            Err(TransformError::Malformed(_))
        ));
        assert!(matches!(
            ValueTransform::parse("template(\"{a\")"),
            Err(TransformError::Template(_))
        ));
    }
}
