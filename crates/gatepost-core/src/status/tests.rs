//! Every (status, event) pair, and random walks through the machine.

use super::*;
use EventType as E;
use PaymentStatus::{Authorized, Cancelled, Expired, Failed, Open, Pending, Refunded, Success};
use proptest::prelude::*;

const EVENTS: [PaymentEvent; 10] = [
    PaymentEvent::AttemptPending,
    PaymentEvent::AttemptAuthorized,
    PaymentEvent::AttemptSucceeded,
    PaymentEvent::AttemptFailed { attempts_left: 0 },
    PaymentEvent::AttemptFailed { attempts_left: 2 },
    PaymentEvent::Cancel,
    PaymentEvent::Capture { amount: 500 },
    PaymentEvent::Expire,
    PaymentEvent::Refund { fully: true },
    PaymentEvent::Refund { fully: false },
];

/// The expected answer for every pair, written out by hand from
/// docs/reference/payments.md#transitions. `None` means rejected.
fn expected(from: PaymentStatus, event: PaymentEvent) -> Option<(PaymentStatus, &'static [EventType])> {
    use PaymentEvent as P;
    match (from, event) {
        (Open, P::AttemptPending) => Some((Pending, &[E::Pending])),
        (Open, P::AttemptAuthorized) => Some((Authorized, &[E::Authorized])),
        (Open, P::AttemptSucceeded) => Some((Success, &[E::Succeeded])),
        (Open, P::AttemptFailed { attempts_left: 0 }) => Some((Failed, &[E::AttemptFailed, E::Failed])),
        (Open, P::AttemptFailed { .. }) => Some((Open, &[E::AttemptFailed])),
        (Open, P::Cancel) => Some((Cancelled, &[E::Cancelled])),
        (Open, P::Expire) => Some((Expired, &[E::Expired])),
        (Pending, P::AttemptAuthorized) => Some((Authorized, &[E::Authorized])),
        (Pending, P::AttemptSucceeded) => Some((Success, &[E::Succeeded])),
        (Pending, P::AttemptFailed { attempts_left: 0 }) => Some((Failed, &[E::AttemptFailed, E::Failed])),
        (Pending, P::AttemptFailed { .. }) => Some((Open, &[E::AttemptFailed])),
        (Authorized, P::Capture { .. }) => Some((Success, &[E::Succeeded])),
        (Authorized, P::Cancel) => Some((Cancelled, &[E::Cancelled])),
        (Authorized, P::Expire) => Some((Expired, &[E::Expired])),
        (Success, P::Refund { fully: true }) => Some((Refunded, &[E::Refunded])),
        (Success, P::Refund { fully: false }) => Some((Success, &[E::Refunded])),
        _ => None,
    }
}

#[test]
fn every_status_and_event_pair_matches_the_spec_table() {
    let mut checked = 0;
    for &from in PaymentStatus::ALL {
        for event in EVENTS {
            let want = match expected(from, event) {
                Some((to, events)) => Decision::Apply { to, events },
                None => Decision::Reject,
            };
            assert_eq!(transition(from, event), want, "{from} + {event:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 80);
}

#[test]
fn nothing_leaves_a_final_status() {
    for &from in PaymentStatus::ALL.iter().filter(|s| s.is_final()) {
        for event in EVENTS {
            assert_eq!(transition(from, event), Decision::Reject, "{from} + {event:?}");
            for &to in PaymentStatus::ALL {
                assert!(!from.may_move_to(to));
            }
        }
    }
}

#[test]
fn statuses_and_event_types_round_trip_through_their_names() {
    for &status in PaymentStatus::ALL {
        assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
        assert_eq!(status.to_string(), status.as_str());
    }
    assert_eq!(EventType::AttemptFailed.as_str(), "payment.attempt_failed");
    assert!(crate::names::serde_names_agree::<PaymentStatus>());
    assert!(crate::names::serde_names_agree::<EventType>());
}

fn any_event() -> impl Strategy<Value = PaymentEvent> {
    prop_oneof![
        Just(PaymentEvent::AttemptPending),
        Just(PaymentEvent::AttemptAuthorized),
        Just(PaymentEvent::AttemptSucceeded),
        (0u8..4).prop_map(|attempts_left| PaymentEvent::AttemptFailed { attempts_left }),
        Just(PaymentEvent::Cancel),
        (1i64..1000).prop_map(|amount| PaymentEvent::Capture { amount }),
        Just(PaymentEvent::Expire),
        any::<bool>().prop_map(|fully| PaymentEvent::Refund { fully }),
    ]
}

proptest! {
    /// Whatever happens, in whatever order, a payment only makes the moves
    /// docs/reference/payments.md#transitions allows, and once final it stays put.
    #[test]
    fn no_sequence_of_events_makes_an_illegal_move(events in prop::collection::vec(any_event(), 0..40)) {
        let mut status = Open;
        let mut became_final = None;
        for event in events {
            if let Decision::Apply { to, events } = transition(status, event) {
                prop_assert!(to == status || status.may_move_to(to), "{status} -> {to}");
                prop_assert!(!events.is_empty(), "every applied change writes an event");
                status = to;
            }
            if let Some(final_status) = became_final {
                prop_assert_eq!(status, final_status);
            } else if status.is_final() {
                became_final = Some(status);
            }
        }
    }
}
