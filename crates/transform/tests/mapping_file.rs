//! Mapping files: the examples load, and every kind of mistake is reported with file, line,
//! column and key.

use std::path::PathBuf;

use kcm_transform::{InvalidMapping, Mapping, MappingError};

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../mappings")
}

fn invalid(text: &str) -> InvalidMapping {
    match Mapping::from_str(text, "bad.toml") {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e
            .invalid()
            .cloned()
            .unwrap_or_else(|| panic!("not an invalid-mapping error: {e}")),
    }
}

#[test]
fn the_three_example_mappings_load() {
    for (file, source) in [
        ("auth0.toml", "auth0"),
        ("okta.toml", "okta"),
        ("firebase.toml", "firebase"),
    ] {
        let path = examples_dir().join(file);
        let m = Mapping::from_path(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(m.source().as_str(), source);
        assert_eq!(m.realm(), "acme");
        assert!(m.deterministic_ids());
        assert!(m.name().ends_with("-sample"), "{}", m.name());
        // The examples keep secrets out of the file: no literal-secret warning.
        assert!(
            !m.warnings()
                .iter()
                .any(|w| w.contains("written in the mapping file")),
            "{file}: {:?}",
            m.warnings()
        );
    }
}

#[test]
fn name_defaults_to_file_stem_and_missing_file_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prod-migration.toml");
    std::fs::write(&path, "source = \"okta\"\nrealm = \"r\"\n").unwrap();
    assert_eq!(Mapping::from_path(&path).unwrap().name(), "prod-migration");
    let err = Mapping::from_path(dir.path().join("nope.toml")).unwrap_err();
    assert!(matches!(err, MappingError::Read { .. }));
    assert!(err.to_string().contains("nope.toml"), "{err}");
}

#[test]
fn unknown_key_names_file_line_column_and_key() {
    let e = invalid("source = \"auth0\"\nrealm = \"r\"\n\n[email]\ninvalid_emails = \"drop\"\n");
    assert_eq!((e.file.as_str(), e.line, e.column), ("bad.toml", 5, 1));
    assert_eq!(e.key.as_deref(), Some("email.invalid_emails"));
    assert!(
        e.message.contains("unknown field `invalid_emails`"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("invalid_email"),
        "expected keys are listed: {}",
        e.message
    );
    let shown = e.to_string();
    assert!(
        shown.starts_with("bad.toml:5:1: `email.invalid_emails`: unknown field"),
        "{shown}"
    );

    let e = invalid("source = \"auth0\"\nrealm = \"r\"\ncolour = 1\n");
    assert_eq!((e.line, e.key.as_deref()), (3, Some("colour")));
}

#[test]
fn wrong_type_names_the_key_and_position() {
    let e = invalid("source = \"auth0\"\nrealm = \"r\"\ndeterministic_ids = \"yes\"\n");
    assert_eq!((e.line, e.column), (3, 21));
    assert_eq!(e.key.as_deref(), Some("deterministic_ids"));
    assert!(e.message.contains("invalid type"), "{}", e.message);

    let e = invalid("source = \"auth0\"\nrealm = \"r\"\n[username]\nmin_length = \"three\"\n");
    assert_eq!((e.line, e.key.as_deref()), (4, Some("username.min_length")));

    let e = invalid("source = \"ldap\"\nrealm = \"r\"\n");
    assert_eq!((e.line, e.key.as_deref()), (1, Some("source")));
    assert!(
        e.message.contains("unknown variant `ldap`"),
        "{}",
        e.message
    );

    let e = invalid("source = \"auth0\"\nrealm = \"r\"\n[email]\nduplicates = \"merge\"\n");
    assert!(e.message.contains("drop-email"), "{}", e.message);
    assert_eq!(e.key.as_deref(), Some("email.duplicates"));
}

#[test]
fn missing_required_key_is_reported() {
    let e = invalid("source = \"auth0\"\n");
    assert!(e.message.contains("missing field `realm`"), "{}", e.message);
}

#[test]
fn semantic_errors_point_at_the_value() {
    let head = "source = \"auth0\"\nrealm = \"r\"\n";
    let cases: &[(&str, usize, &str, &str)] = &[
        ("[username]\ntemplate = \"{first_name\"\n", 4, "username.template", "unclosed"),
        ("[username]\nfrom = [\"email\", \"template\"]\n", 4, "username.from[1]", "username.template is not set"),
        ("[username]\nfrom = [\"a..b\"]\n", 4, "username.from[0]", "empty path segment"),
        ("[username]\nmin_length = 0\n", 4, "username.min_length", "between 1 and 255"),
        (
            "[[attributes.map]]\nfrom = \"phone\"\nto = \"tel\"\ntransforms = [\"trim\", \"shout\"]\n",
            6,
            "attributes.map[0].transforms[1]",
            "unknown transform `shout`",
        ),
        ("[[attributes.map]]\nfrom = \"phone\"\nto = \"email\"\n", 5, "attributes.map[0].to", "user field"),
        ("[[attributes.map]]\nto = \"x\"\n", 4, "attributes.map[0]", "needs `from`"),
        ("[attributes]\nlegacy_id = true\n", 4, "attributes.legacy_id", "ambiguous"),
        (
            "[[filters]]\nname = \"f\"\nexclude = { field = \"status\" }\n",
            5,
            "filters[0].exclude",
            "exactly one of",
        ),
        ("[[filters]]\nname = \"f\"\n", 4, "filters[0]", "exactly one of `include` or `exclude`"),
        (
            "[[roles.rules]]\nsource = \"admin\"\n",
            3,
            "roles.rules[0]",
            "must grant",
        ),
        (
            "[[groups.rules]]\nsource = \"a\"\ngroups = [\"/x//y\"]\n",
            3,
            "groups.rules[0].groups",
            "empty segment",
        ),
        ("[identities.aliases]\nsamlp = \"\"\n", 4, "identities.aliases.samlp", "must not be empty"),
    ];
    for (body, line, key, needle) in cases {
        let e = invalid(&format!("{head}{body}"));
        assert_eq!(e.key.as_deref(), Some(*key), "{body}: {e}");
        assert_eq!(e.line, *line, "{body}: {e}");
        assert!(e.message.contains(needle), "{body}: {e}");
    }
    let e = invalid("source = \"auth0\"\nrealm = \"  \"\n");
    assert_eq!((e.line, e.column, e.key.as_deref()), (2, 9, Some("realm")));
}

#[test]
fn duplicate_filter_names_are_refused() {
    let e = invalid(
        "source = \"okta\"\nrealm = \"r\"\n[[filters]]\nname = \"x\"\nexclude = { field = \"status\", equals = \"A\" }\n[[filters]]\nname = \"x\"\ninclude = { field = \"status\", equals = \"B\" }\n",
    );
    assert_eq!((e.line, e.key.as_deref()), (7, Some("filters[1].name")));
}

#[test]
fn warnings_for_literal_secrets_and_foreign_statuses() {
    let m = Mapping::from_str(
        "source = \"firebase\"\nrealm = \"r\"\n[status.SUSPENDED]\nenabled = false\n[passwords.firebase]\nsigner_key = \"c2lnbmVy\"\nsalt_separator = \"env:SEP\"\nrounds = 8\nmem_cost = 14\n",
        "w.toml",
    )
    .unwrap();
    let w = m.warnings().join("\n");
    assert!(
        w.contains("passwords.firebase.signer_key is written in the mapping file"),
        "{w}"
    );
    assert!(!w.contains("salt_separator is written"), "{w}");
    assert!(w.contains("status.SUSPENDED"), "{w}");
    assert!(
        !format!("{m:?}").contains("c2lnbmVy"),
        "Debug must not show the literal secret"
    );
}

#[test]
fn every_error_display_carries_the_position() {
    let err = Mapping::from_str("source = \"auth0\"\nrealm = 5\n", "x.toml").unwrap_err();
    assert!(err.to_string().starts_with("x.toml:2:9: `realm`:"), "{err}");
}

#[test]
fn group_paths_keycloak_would_not_create_are_refused_at_their_key() {
    let head = "source = \"okta\"\nrealm = \"r\"\n";
    let e = invalid(&format!("{head}[groups]\ndefault_groups = [\"/a/../a\"]\n"));
    assert_eq!(e.key.as_deref(), Some("groups.default_groups[0]"));
    assert_eq!(e.line, 4);
    assert!(e.message.contains("`..` segment"), "{}", e.message);
    let e = invalid(&format!(
        "{head}[[roles.rules]]\nsource = \"x\"\ngroups = [\"/ok\", \"/staff/./eng\"]\n"
    ));
    assert_eq!(e.key.as_deref(), Some("roles.rules[0].groups"));
    let e = invalid(&format!(
        "{head}[[groups.rules]]\nsource = \"x\"\ngroups = [\"/a/{}\"]\n",
        "g".repeat(256)
    ));
    assert!(e.message.contains("at most 255"), "{}", e.message);
    let ok = Mapping::from_str(
        &format!("{head}[groups]\ndefault_groups = [\"/R\\\\/D/\", \"/v1.2\"]\n"),
        "ok.toml",
    );
    assert!(ok.is_ok(), "{:?}", ok.err());
}

#[test]
fn syntax_errors_are_one_line_and_a_missing_top_level_key_names_no_other_key() {
    let e = invalid("source = \"okta\"\nrealm = \"r\"\n[groups\n");
    assert!(!e.to_string().contains('\n'), "{e}");
    assert_eq!(e.line, 3);
    let e = invalid("source = \"okta\"\n[username]\nfrom = [\"login\"]\n");
    assert!(e.message.contains("missing field `realm`"), "{}", e.message);
    assert_eq!(e.key, None, "`source` is not the missing key");
    // A missing key inside a table still names the table.
    let e = invalid("source = \"okta\"\nrealm = \"r\"\n[[attributes.map]]\nfrom = \"x\"\n");
    assert_eq!(e.key.as_deref(), Some("attributes.map"));
}

#[test]
fn unreadable_oversized_and_non_utf8_mapping_files_say_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let err = Mapping::from_path(dir.path()).unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
    let missing = Mapping::from_path(dir.path().join("nope.toml")).unwrap_err();
    let shown = missing.to_string();
    assert_eq!(shown.matches("nope.toml").count(), 1, "{shown}");
    assert!(
        std::error::Error::source(&missing).is_none(),
        "cause shown once"
    );

    let big = dir.path().join("export.json");
    let line = format!("# {}\n", "x".repeat(1000));
    std::fs::write(
        &big,
        line.repeat((kcm_transform::MAX_MAPPING_BYTES / 1000 + 2) as usize),
    )
    .unwrap();
    let err = Mapping::from_path(&big).unwrap_err();
    assert!(
        matches!(err, MappingError::TooLarge { .. }) && err.to_string().contains("export.json"),
        "{err}"
    );

    let latin1 = dir.path().join("latin1.toml");
    std::fs::write(
        &latin1,
        b"source = \"okta\"\nrealm = \"r\xe9\"\n".as_slice(),
    )
    .unwrap();
    let err = Mapping::from_path(&latin1).unwrap_err();
    assert!(err.to_string().contains("not valid UTF-8"), "{err}");
}
