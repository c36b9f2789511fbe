//! User CSV exports: the three header styles, statuses, extra columns, CSV quoting.

mod common;

use common::{attr, users_from};
use serde_json::json;

#[test]
fn rockstar_console_titles_with_all_cells_quoted() {
    let run = users_from(
        "rockstar.csv",
        "User Id,Status,Username,First name,Last name,Primary email\n\
         \"00u1\",\"ACTIVE\",\"ada@example.com\",\"Ada\",\"Lovelace\",\"ada@example.com\"\n\
         \"00u2\",\"STAGED\",\"alan\",\"Alan\",\"Turing\",\"alan.turing@example.org\"\n",
    );
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    let users = run.users();
    assert_eq!(users.len(), 2);
    let ada = users[0];
    assert_eq!(ada.source_id, "00u1");
    assert_eq!(ada.username.as_deref(), Some("ada@example.com"));
    assert_eq!(ada.email.as_deref(), Some("ada@example.com"));
    assert_eq!(ada.first_name.as_deref(), Some("Ada"));
    assert_eq!(ada.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(ada.status, "ACTIVE");
    assert!(ada.enabled);
    assert_eq!((ada.provenance.line, ada.provenance.record), (2, 1));
    assert!(ada.attributes.is_empty(), "{:?}", ada.attributes);
    assert!(ada.diagnostics.is_empty(), "{:?}", ada.diagnostics);
    assert_eq!(users[1].status, "STAGED");
    assert_eq!(
        (users[1].provenance.line, users[1].provenance.record),
        (3, 2)
    );
}

#[test]
fn api_variable_names_as_in_the_import_template() {
    let run = users_from(
        "api.csv",
        "id,status,login,email,firstName,lastName,displayName,secondEmail,mobilePhone,primaryPhone,created,lastLogin,department\n\
         00u9,ACTIVE,grace,grace@example.com,Grace,Hopper,Amazing Grace,g.hopper@example.net,+1 555 0100,+1 555 0199,2022-04-04T15:56:05.000Z,2022-05-04T19:50:52.000Z,Navy\n",
    );
    let u = run.user("grace");
    assert_eq!(u.source_id, "00u9");
    assert_eq!(u.display_name.as_deref(), Some("Amazing Grace"));
    assert_eq!(u.phone.as_deref(), Some("+1 555 0100"));
    assert_eq!(u.created_at, Some(1_649_087_765_000));
    assert_eq!(u.last_login_at, Some(1_651_693_852_000));
    assert_eq!(
        attr(u, "secondEmail"),
        Some(&["g.hopper@example.net".to_string()][..])
    );
    assert_eq!(attr(u, "department"), Some(&["Navy".to_string()][..]));
    // The phone not used as `phone` is kept, so nothing is lost.
    assert_eq!(
        attr(u, "primaryPhone"),
        Some(&["+1 555 0199".to_string()][..])
    );
    assert_eq!(attr(u, "mobilePhone"), None);
    assert!(u.diagnostics.is_empty(), "{:?}", u.diagnostics);
}

#[test]
fn dotted_profile_and_credentials_paths() {
    let run = users_from(
        "dotted.csv",
        "id,status,profile.login,profile.email,profile.firstName,profile.lastName,profile.primaryPhone,activated,statusChanged,credentials.provider.type,credentials.provider.name,type.id\n\
         00u5,PROVISIONED,joan,joan@example.com,Joan,Clarke,+44 20 7946 0000,2021-01-02T03:04:05.000Z,2021-01-03T00:00:00.000Z,OKTA,OKTA,oty1\n",
    );
    let u = run.user("joan");
    assert_eq!(u.status, "PROVISIONED");
    assert_eq!(u.phone.as_deref(), Some("+44 20 7946 0000"));
    assert_eq!(
        u.metadata["credentials"],
        json!({"provider": {"type": "OKTA", "name": "OKTA"}})
    );
    assert_eq!(u.metadata["activated"], json!("2021-01-02T03:04:05.000Z"));
    assert_eq!(
        u.metadata["statusChanged"],
        json!("2021-01-03T00:00:00.000Z")
    );
    assert_eq!(u.metadata["type"], json!({"id": "oty1"}));
    assert_eq!(
        u.metadata_path("profile.primaryPhone"),
        Some(&json!("+44 20 7946 0000"))
    );
    assert!(
        u.attributes.is_empty(),
        "first-class and metadata fields are not attributes: {:?}",
        u.attributes
    );
}

#[test]
fn headers_match_case_insensitively_in_any_order() {
    let run = users_from(
        "mixed.csv",
        "PRIMARY EMAIL,  last  name ,USERNAME,status,Profile.FirstName,ID\n\
         m@example.com,Hamilton,margaret,active,Margaret,00u7\n",
    );
    let u = run.user("margaret");
    assert_eq!(u.source_id, "00u7");
    assert_eq!(u.email.as_deref(), Some("m@example.com"));
    assert_eq!(u.first_name.as_deref(), Some("Margaret"));
    assert_eq!(u.last_name.as_deref(), Some("Hamilton"));
    assert_eq!(u.status, "ACTIVE");
}

#[test]
fn schema_titles_map_to_api_names() {
    let titles = [
        ("Middle name", "middleName"),
        ("Honorific prefix", "honorificPrefix"),
        ("Nickname", "nickName"),
        ("Profile Url", "profileUrl"),
        ("Secondary email", "secondEmail"),
        ("Street address", "streetAddress"),
        ("Zip code", "zipCode"),
        ("Country code", "countryCode"),
        ("Postal Address", "postalAddress"),
        ("Preferred language", "preferredLanguage"),
        ("Time zone", "timezone"),
        ("User type", "userType"),
        ("Employee number", "employeeNumber"),
        ("Cost center", "costCenter"),
        ("ManagerId", "managerId"),
    ];
    let header: Vec<&str> = titles.iter().map(|(t, _)| *t).collect();
    let values: Vec<String> = titles.iter().map(|(_, api)| format!("v-{api}")).collect();
    let run = users_from(
        "titles.csv",
        &format!(
            "Username,{}\nkatherine,{}\n",
            header.join(","),
            values.join(",")
        ),
    );
    let u = run.user("katherine");
    for (title, api) in titles {
        assert_eq!(
            attr(u, api),
            Some(&[format!("v-{api}")][..]),
            "{title} → {api}"
        );
    }
    assert_eq!(u.attributes.len(), titles.len());
}

#[test]
fn extra_and_custom_columns_are_kept_as_attributes_and_profile_metadata() {
    let run = users_from(
        "extra.csv",
        "login,email,department,title,locale,Badge Number,profile.costCenter,profile.shiftPattern\n\
         rosalind,r@example.com,Biophysics,Researcher,en_GB,4711,CC-42,\"early,late\"\n",
    );
    let u = run.user("rosalind");
    assert_eq!(attr(u, "department"), Some(&["Biophysics".to_string()][..]));
    assert_eq!(attr(u, "title"), Some(&["Researcher".to_string()][..]));
    assert_eq!(attr(u, "locale"), Some(&["en_GB".to_string()][..]));
    assert_eq!(attr(u, "Badge Number"), Some(&["4711".to_string()][..]));
    assert_eq!(attr(u, "costCenter"), Some(&["CC-42".to_string()][..]));
    assert_eq!(
        attr(u, "shiftPattern"),
        Some(&["early,late".to_string()][..])
    );
    assert_eq!(
        u.metadata["profile"],
        json!({
            "login": "rosalind", "email": "r@example.com", "department": "Biophysics",
            "title": "Researcher", "locale": "en_GB", "Badge Number": "4711",
            "costCenter": "CC-42", "shiftPattern": "early,late"
        })
    );
    assert_eq!(
        u.metadata_path("profile.department"),
        Some(&json!("Biophysics"))
    );
}

#[test]
fn every_api_status_enum_is_kept_with_enabled() {
    let cases = [
        ("STAGED", true),
        ("PROVISIONED", true),
        ("ACTIVE", true),
        ("RECOVERY", true),
        ("PASSWORD_EXPIRED", true),
        ("LOCKED_OUT", true),
        ("SUSPENDED", false),
        ("DEPROVISIONED", false),
        ("ACTIVATING", true),
    ];
    let mut csv = String::from("id,login,status\n");
    for (i, (status, _)) in cases.iter().enumerate() {
        csv.push_str(&format!("00u{i},user{i},{status}\n"));
    }
    let run = users_from("statuses.csv", &csv);
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    let users = run.users();
    assert_eq!(users.len(), cases.len());
    for (user, (status, enabled)) in users.iter().zip(cases) {
        assert_eq!((user.status.as_str(), user.enabled), (status, enabled));
    }
}

#[test]
fn every_console_label_maps_to_the_api_enum() {
    let cases = [
        ("Staged", "STAGED", true),
        ("Pending user action", "PROVISIONED", true),
        ("Active", "ACTIVE", true),
        ("Password reset", "RECOVERY", true),
        ("Password expired", "PASSWORD_EXPIRED", true),
        ("Locked out", "LOCKED_OUT", true),
        ("Suspended", "SUSPENDED", false),
        ("Deactivated", "DEPROVISIONED", false),
    ];
    let mut csv = String::from("User Id,Status,Username\n");
    for (i, (label, _, _)) in cases.iter().enumerate() {
        csv.push_str(&format!("\"00u{i}\",\"{label}\",\"user{i}\"\n"));
    }
    let run = users_from("labels.csv", &csv);
    let users = run.users();
    assert_eq!(users.len(), cases.len(), "{:?}", run.errors());
    for (user, (label, status, enabled)) in users.iter().zip(cases) {
        assert_eq!(
            (user.status.as_str(), user.enabled),
            (status, enabled),
            "{label}"
        );
    }
}

#[test]
fn unknown_status_is_rejected_naming_the_value() {
    let run = users_from(
        "s.csv",
        "id,login,status\n00u1,a,ACTIVE\n00u2,b,On leave\n00u3,c,SUSPENDED\n",
    );
    assert_eq!(run.users().len(), 2);
    let errors = run.errors();
    assert_eq!(errors.len(), 1);
    let e = errors[0];
    assert_eq!(e.reason, kcm_model::Reason::InvalidField);
    assert_eq!((e.provenance.line, e.provenance.record), (3, 2));
    assert_eq!(e.source_id.as_deref(), Some("00u2"));
    assert!(e.message.contains("`On leave`"), "{}", e.message);
}

#[test]
fn no_status_column_means_active_with_a_diagnostic() {
    let run = users_from("nostatus.csv", "id,login\n00u1,a\n");
    let u = run.user("a");
    assert_eq!(u.status, "ACTIVE");
    assert!(u.enabled);
    assert!(
        u.diagnostics
            .iter()
            .any(|d| d.code == "okta_status_missing"),
        "{:?}",
        u.diagnostics
    );
}

#[test]
fn no_id_column_uses_the_login_as_source_id_with_a_diagnostic() {
    let run = users_from(
        "noid.csv",
        "login,email,status\nbarbara,b@example.com,ACTIVE\n",
    );
    let u = run.user("barbara");
    assert_eq!(u.source_id, "barbara");
    assert!(
        u.diagnostics.iter().any(|d| d.code == "okta_id_missing"),
        "{:?}",
        u.diagnostics
    );
}

#[test]
fn quoted_commas_doubled_quotes_and_newlines_keep_line_numbers() {
    let run = users_from(
        "quoting.csv",
        "\"id\",\"login\",\"lastName\",\"nickName\",\"postalAddress\"\n\
         \"00u1\",\"smith\",\"Smith, Jr.\",\"\"\"Smitty\"\"\",\"1 Main St\nApt 2\nSpringfield\"\n\
         \"00u2\",\"jones\",\"Jones\",\"\",\"\"\n",
    );
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    let smith = run.user("smith");
    assert_eq!(smith.last_name.as_deref(), Some("Smith, Jr."));
    assert_eq!(
        attr(smith, "nickName"),
        Some(&["\"Smitty\"".to_string()][..])
    );
    assert_eq!(
        attr(smith, "postalAddress"),
        Some(&["1 Main St\nApt 2\nSpringfield".to_string()][..])
    );
    let jones = run.user("jones");
    assert_eq!(
        jones.provenance.line, 5,
        "the row after a three-line cell starts on line 5"
    );
    assert!(jones.attributes.is_empty());
}

#[test]
fn a_row_with_the_wrong_number_of_cells_is_rejected_and_the_rest_read() {
    let run = users_from(
        "fields.csv",
        "id,login,lastName\n00u1,a,Alpha\n00u2,b,Smith, Jr.\n00u3,c\n00u4,d,Delta\n",
    );
    let logins: Vec<_> = run
        .users()
        .iter()
        .map(|u| u.username.clone().unwrap())
        .collect();
    assert_eq!(logins, ["a", "d"]);
    let errors = run.errors();
    let places: Vec<_> = errors
        .iter()
        .map(|e| (e.provenance.line, e.provenance.record, e.reason))
        .collect();
    assert_eq!(
        places,
        [
            (3, 2, kcm_model::Reason::Malformed),
            (4, 3, kcm_model::Reason::Malformed)
        ]
    );
    assert!(
        errors[0].message.contains("4 cells but the header has 3"),
        "{}",
        errors[0].message
    );
}

#[test]
fn an_empty_login_cell_rejects_the_row() {
    let run = users_from(
        "nologin.csv",
        "id,login,email\n00u1,,a@example.com\n00u2,b,b@example.com\n",
    );
    assert_eq!(run.users().len(), 1);
    let e = run.errors()[0];
    assert_eq!(e.reason, kcm_model::Reason::MissingField);
    assert_eq!(e.source_id.as_deref(), Some("00u1"));
    assert_eq!(e.provenance.line, 2);
}

#[test]
fn secret_credential_columns_are_never_read() {
    let run = users_from(
        "secrets.csv",
        "login,credentials.password.value,credentials.recovery_question.answer\nalice,Hunter2!,blue\n",
    );
    let u = run.user("alice");
    let shown = format!("{u:?}");
    assert!(
        !shown.contains("Hunter2!") && !shown.contains("blue"),
        "{shown}"
    );
    assert!(u.password_hash.is_none());
}

#[test]
fn an_unreadable_timestamp_is_left_out_with_a_diagnostic() {
    let run = users_from(
        "t.csv",
        "login,created,lastLogin\nx,last tuesday,2022-05-04T19:50:52Z\n",
    );
    let u = run.user("x");
    assert_eq!(u.created_at, None);
    assert_eq!(u.last_login_at, Some(1_651_693_852_000));
    assert!(u
        .diagnostics
        .iter()
        .any(|d| d.code == "okta_timestamp_invalid" && d.message.contains("last tuesday")));
}
