//! The load-time estimate: how long sending the plan to Keycloak takes at a given request
//! rate, with the assumptions behind the number spelled out for the reader.

use serde::Serialize;

/// How long loading the plan is expected to take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadEstimate {
    /// Requests per second the estimate assumes.
    pub request_rate: f64,
    /// Users per request.
    pub batch_size: usize,
    /// `ceil(users_planned / batch_size)`.
    pub user_requests: u64,
    /// One request per client, realm role, client role and group (parents included) to
    /// create; Keycloak's built-in clients and roles are not counted.
    pub setup_requests: u64,
    pub total_requests: u64,
    /// `total_requests / request_rate`, rounded to a tenth of a second; absent when the rate is
    /// not a positive number.
    pub seconds: Option<f64>,
    pub assumptions: Vec<String>,
}

/// What the setup requests create.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SetupCounts {
    pub clients: u64,
    pub realm_roles: u64,
    pub client_roles: u64,
    pub groups: u64,
}

impl LoadEstimate {
    pub(crate) fn compute(
        users: u64,
        setup: SetupCounts,
        request_rate: f64,
        batch_size: usize,
    ) -> Self {
        // A zero batch size would mean no user can ever be sent; treat it as one per request.
        let batch = batch_size.max(1) as u64;
        let user_requests = users.div_ceil(batch);
        let setup_requests = setup.clients + setup.realm_roles + setup.client_roles + setup.groups;
        let total_requests = user_requests + setup_requests;
        let usable_rate = request_rate.is_finite() && request_rate > 0.0;
        let seconds =
            usable_rate.then(|| (total_requests as f64 / request_rate * 10.0).round() / 10.0);
        let mut assumptions = vec![
            format!(
                "Users are sent {} per request (partialImport batches), with their credentials, role \
                 mappings and group memberships in the same request.",
                batch
            ),
            "Each client, realm role, client role and group to create (parent groups included) takes one \
             request; Keycloak's built-in clients and roles already exist."
                .to_string(),
            if usable_rate {
                format!("Requests are paced at {request_rate} per second and Keycloak keeps up with that pace.")
            } else {
                "No usable request rate was given, so no duration is estimated.".to_string()
            },
            "No request is retried; token requests and the final checks are not counted.".to_string(),
            "Imported password hashes are stored as they are (Keycloak does not hash them again), so \
             password hashing does not slow the load down."
                .to_string(),
        ];
        if users == 0 {
            assumptions.push("No user is planned.".to_string());
        }
        Self {
            request_rate,
            batch_size: batch as usize,
            user_requests,
            setup_requests,
            total_requests,
            seconds,
            assumptions,
        }
    }
}

/// `3725.0` → `about 1 h 2 min`; under a second → `under 1 s`.
pub(crate) fn human_duration(seconds: f64) -> String {
    if seconds < 1.0 {
        return "under 1 s".to_string();
    }
    let total = seconds.round() as u64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    let text = if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        if s > 0 {
            format!("{m} min {s} s")
        } else {
            format!("{m} min")
        }
    } else {
        format!("{s} s")
    };
    format!("about {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_duration() {
        let setup = SetupCounts {
            clients: 1,
            realm_roles: 2,
            client_roles: 3,
            groups: 4,
        };
        let e = LoadEstimate::compute(1001, setup, 20.0, 100);
        assert_eq!(
            (e.user_requests, e.setup_requests, e.total_requests),
            (11, 10, 21)
        );
        assert_eq!(e.seconds, Some(1.1));
        let none = LoadEstimate::compute(10, setup, 0.0, 0);
        assert_eq!(
            (none.batch_size, none.user_requests, none.seconds),
            (1, 10, None)
        );
        assert!(LoadEstimate::compute(1, setup, f64::NAN, 1)
            .seconds
            .is_none());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0.4), "under 1 s");
        assert_eq!(human_duration(42.0), "about 42 s");
        assert_eq!(human_duration(120.0), "about 2 min");
        assert_eq!(human_duration(125.0), "about 2 min 5 s");
        assert_eq!(human_duration(3725.0), "about 1 h 2 min");
    }
}
