//! The hosted page's card fields: any three texts are a card or a list of field errors.
#![no_main]

use gatepost_core::card::Card;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|fields: (&str, &str, &str)| {
    let (number, expiry, cvc) = fields;
    if let Ok(card) = Card::parse(number, expiry, cvc, (2026, 11)) {
        assert_eq!(card.last4().len(), 4);
    }
});
