//! The test cards of docs/reference/connectors.md#test-cards, followed by both test
//! acquirers (the in-process `sandbox` and `gatepost acquirer-sim`), so a payment behaves
//! alike on both.

use crate::Outcome;

/// What an authorization does with a card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardBehaviour {
    /// Answered at once.
    Immediate(Outcome),
    /// 3-D Secure first; then this, if the shopper authenticated.
    Challenge { then: Outcome },
    /// `pending` at once, this after the callback delay. Refunds of such payments are
    /// asynchronous too.
    Later(Outcome),
}

#[must_use]
pub fn declined(code: &str, message: &str) -> Outcome {
    Outcome::Declined { code: code.to_owned(), message: message.to_owned() }
}

#[must_use]
pub fn card_declined() -> Outcome {
    declined("card_declined", "Your card was declined.")
}

/// The behaviour of a card number (digits only).
#[must_use]
pub fn behaviour(number: &str) -> CardBehaviour {
    use CardBehaviour::{Challenge, Immediate, Later};
    match number {
        "4000000000000002" => Immediate(card_declined()),
        "4000000000009995" => Immediate(declined("insufficient_funds", "Your card has insufficient funds.")),
        "4000000000000069" => Immediate(declined("expired_card", "Your card has expired.")),
        "4000000000000127" => Immediate(declined("incorrect_cvc", "Your card's security code is incorrect.")),
        "4000000000000119" => Immediate(Outcome::Error {
            code: "processing_error".to_owned(),
            message: "An error occurred while processing your card. Try again.".to_owned(),
        }),
        "4000000000003220" => Challenge { then: Outcome::Approved },
        "4000008400001629" => Challenge { then: card_declined() },
        "4000000000000077" => Later(Outcome::Approved),
        "4000000000000085" => Later(card_declined()),
        _ => Immediate(Outcome::Approved),
    }
}
