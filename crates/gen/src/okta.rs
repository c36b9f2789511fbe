//! Okta output: a user CSV with the API variable names as header (the layout of Okta's CSV
//! import template and of API-driven exports) and a group-membership CSV (`group,login`).
//!
//! Okta never exports password hashes, so there are none; social-only users don't exist in
//! this format either. Every lifecycle status appears; deactivated (DEPROVISIONED) users have
//! no group rows, like Okta's group-membership report.

use std::path::Path;

use rand::Rng;

use crate::names::TITLES;
use crate::output::{Output, WrittenFile};
use crate::person::{iso_millis, pick_from, push_base62, random_base62, People, Person};
use crate::GenError;

pub const USERS_FILE: &str = "users.csv";
pub const USERS_FILE_GZ: &str = "users.csv.gz";
pub const MEMBERSHIPS_FILE: &str = "group-memberships.csv";

pub const HEADER: &[&str] = &[
    "id",
    "status",
    "created",
    "activated",
    "statusChanged",
    "lastLogin",
    "lastUpdated",
    "passwordChanged",
    "login",
    "email",
    "secondEmail",
    "firstName",
    "lastName",
    "displayName",
    "nickName",
    "mobilePhone",
    "title",
    "locale",
    "timezone",
    "preferredLanguage",
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "managerId",
    "city",
    "countryCode",
];

/// Organisation name written in every profile.
const ORGANIZATION: &str = "Example Corp";
const SECOND_EMAIL_PROBABILITY: f64 = 0.1;

/// Okta API statuses with their share (per 1000) among users that are not disabled;
/// disabled users are split between SUSPENDED and DEPROVISIONED.
const ENABLED_STATUSES: &[(&str, u32)] = &[
    ("STAGED", 20),
    ("PROVISIONED", 30),
    ("RECOVERY", 10),
    ("PASSWORD_EXPIRED", 10),
    ("LOCKED_OUT", 10),
    ("ACTIVE", 920),
];

/// Write the Okta user and group-membership CSVs into `dir`.
pub fn write(dir: &Path, users: u64, seed: u64, gzip: bool) -> Result<Vec<WrittenFile>, GenError> {
    let users_name = if gzip { USERS_FILE_GZ } else { USERS_FILE };
    let mut users_csv = csv::Writer::from_writer(Output::create(&dir.join(users_name), gzip)?);
    let mut groups_csv =
        csv::Writer::from_writer(Output::create(&dir.join(MEMBERSHIPS_FILE), false)?);
    users_csv.write_record(HEADER)?;
    groups_csv.write_record(["group", "login"])?;

    let mut people = People::new(seed);
    for _ in 0..users {
        let person = people.next_person();
        let rng = people.rng();
        let status = draw_status(rng, &person);
        let row = user_row(rng, &person, status);
        users_csv.write_record(&row)?;
        if status != "DEPROVISIONED" {
            for group in person.group_names() {
                groups_csv.write_record([group, person.own_email.as_str()])?;
            }
        }
    }
    let users_out = users_csv.into_inner().map_err(|e| e.into_error())?;
    let groups_out = groups_csv.into_inner().map_err(|e| e.into_error())?;
    Ok(vec![users_out.finish()?, groups_out.finish()?])
}

fn draw_status(rng: &mut impl Rng, p: &Person) -> &'static str {
    if p.disabled {
        return if rng.random_bool(0.5) {
            "SUSPENDED"
        } else {
            "DEPROVISIONED"
        };
    }
    let total: u32 = ENABLED_STATUSES.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (status, weight) in ENABLED_STATUSES {
        if pick < *weight {
            return status;
        }
        pick -= weight;
    }
    "ACTIVE"
}

/// The 20-character Okta user id (`00u` + 17), unique through the skeleton's bijective bits.
fn okta_id(rng: &mut impl Rng, p: &Person) -> String {
    let mut id = String::from("00u");
    push_base62(&mut id, p.skeleton.unique, 11);
    id.push_str(&random_base62(rng, 6));
    id
}

fn user_row(rng: &mut impl Rng, p: &Person, status: &str) -> Vec<String> {
    let never_activated = status == "STAGED";
    let no_password = matches!(status, "STAGED" | "PROVISIONED" | "DEPROVISIONED");
    let opt = |cond: bool, ms: i64| if cond { iso_millis(ms) } else { String::new() };
    let second_email = if rng.random_bool(SECOND_EMAIL_PROBABILITY) {
        format!("{}.{}@personal.example", p.first.ascii, p.skeleton.index)
    } else {
        String::new()
    };
    let department = p.group_names().next().unwrap_or_default();
    vec![
        okta_id(rng, p),
        status.to_string(),
        iso_millis(p.created_ms),
        opt(!never_activated, p.created_ms + 60_000),
        iso_millis(p.updated_ms),
        match (no_password, p.last_login_ms) {
            (false, Some(ms)) => iso_millis(ms),
            _ => String::new(),
        },
        iso_millis(p.updated_ms),
        opt(!no_password, p.password_changed_ms),
        p.own_email.clone(),
        p.email.clone(),
        second_email,
        p.first.display.to_string(),
        p.last.display.to_string(),
        p.full_name.clone(),
        p.first.display.to_string(),
        p.phone.clone().unwrap_or_default(),
        pick_from(rng, TITLES).to_string(),
        p.culture.locale.replace('-', "_"),
        p.culture.timezone.to_string(),
        p.culture.locale.to_string(),
        format!("E{:07}", p.skeleton.index),
        format!("CC-{}", rng.random_range(100..999)),
        ORGANIZATION.to_string(),
        p.culture.country.to_string(),
        department.to_string(),
        String::new(),
        p.city.to_string(),
        p.culture.country.to_string(),
    ]
}
