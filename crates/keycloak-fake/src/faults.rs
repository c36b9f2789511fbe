//! Deterministic fault decisions.
//!
//! Request `n` (1-based among fault-eligible requests since the faults were set) draws its
//! random numbers from ChaCha8 stream `n` of the seed, so a decision depends only on the seed
//! and `n`, never on timing or on how many numbers earlier requests consumed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::Faults;

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    None,
    /// 500 `unknown_error` without processing.
    Fail,
    /// 429 with `Retry-After`.
    Throttle,
    /// 503.
    Unavailable,
    /// Read the request, then close the connection without processing.
    DropBefore,
    /// Process the request, then close the connection without answering.
    DropAfter,
}

/// The decision for eligible request number `n`.
pub fn decide(faults: &Faults, n: u64) -> FaultAction {
    if faults.fail_nth_requests.contains(&n) {
        return FaultAction::Fail;
    }
    if faults.drop_nth_requests.contains(&n) {
        return FaultAction::DropBefore;
    }
    if faults.drop_after_processing_nth.contains(&n) {
        return FaultAction::DropAfter;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(faults.seed);
    rng.set_stream(n);
    // Always draw all four numbers so each probability sees the same value for `n`
    // whichever other rates are configured.
    let draws: [f64; 4] = [rng.random(), rng.random(), rng.random(), rng.random()];
    if draws[0] < faults.rate_429 {
        FaultAction::Throttle
    } else if draws[1] < faults.rate_503 {
        FaultAction::Unavailable
    } else if draws[2] < faults.drop_connection_rate {
        FaultAction::DropBefore
    } else if draws[3] < faults.drop_after_processing_rate {
        FaultAction::DropAfter
    } else {
        FaultAction::None
    }
}

/// Whether the faults apply to a route key (`"POST /admin/realms/{realm}/partialImport"`).
pub fn applies_to(faults: &Faults, route_key: &str, route: &str) -> bool {
    let is_token = route.ends_with("/protocol/openid-connect/token");
    if is_token && !faults.include_token_endpoint {
        return false;
    }
    if !is_token && !route.starts_with("/admin") {
        return false;
    }
    faults.routes.is_empty() || faults.routes.iter().any(|r| r == route_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_rates_are_roughly_honoured() {
        let faults = Faults {
            seed: 42,
            rate_429: 0.3,
            ..Default::default()
        };
        let a: Vec<FaultAction> = (1..=200).map(|n| decide(&faults, n)).collect();
        let b: Vec<FaultAction> = (1..=200).map(|n| decide(&faults, n)).collect();
        assert_eq!(a, b);
        let throttled = a.iter().filter(|x| **x == FaultAction::Throttle).count();
        assert!((30..=90).contains(&throttled), "{throttled}");
        let other = Faults { seed: 43, ..faults };
        let c: Vec<FaultAction> = (1..=200).map(|n| decide(&other, n)).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn nth_lists_take_precedence() {
        let faults = Faults {
            fail_nth_requests: vec![2],
            drop_nth_requests: vec![3],
            drop_after_processing_nth: vec![4],
            ..Default::default()
        };
        assert_eq!(decide(&faults, 1), FaultAction::None);
        assert_eq!(decide(&faults, 2), FaultAction::Fail);
        assert_eq!(decide(&faults, 3), FaultAction::DropBefore);
        assert_eq!(decide(&faults, 4), FaultAction::DropAfter);
    }

    #[test]
    fn token_endpoint_is_exempt_unless_included() {
        let mut faults = Faults::default();
        let token = "/realms/{realm}/protocol/openid-connect/token";
        assert!(!applies_to(&faults, &format!("POST {token}"), token));
        faults.include_token_endpoint = true;
        assert!(applies_to(&faults, &format!("POST {token}"), token));
        faults.routes = vec!["POST /admin/realms/{realm}/partialImport".into()];
        assert!(!applies_to(
            &faults,
            "POST /admin/realms/{realm}/users",
            "/admin/realms/{realm}/users"
        ));
    }
}
