//! Card details as the shopper types them on the hosted page
//! (docs/reference/hosted-page.md#the-card-form).
//!
//! The number and CVC live only in a [`Card`] for the length of one authorization: its
//! `Debug` hides them, nothing serializes them, and only [`Card::summary`] (brand,
//! last 4, expiry) is ever stored.

use crate::payment::CardSummary;
use std::fmt;

/// Why a card field was refused; shown next to the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("Enter the card number.")]
    NumberMissing,
    #[error("This card number is not valid.")]
    NumberInvalid,
    #[error("Enter the expiry date as MM/YY.")]
    ExpiryInvalid,
    #[error("This card has expired.")]
    ExpiryPast,
    #[error("Enter the 3-digit security code.")]
    CvcInvalid,
    #[error("Enter the 4-digit security code from the front of the card.")]
    CvcInvalidAmex,
}

/// Which form field an error belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardField {
    Number,
    Expiry,
    Cvc,
}

impl CardError {
    #[must_use]
    pub fn field(self) -> CardField {
        match self {
            Self::NumberMissing | Self::NumberInvalid => CardField::Number,
            Self::ExpiryInvalid | Self::ExpiryPast => CardField::Expiry,
            Self::CvcInvalid | Self::CvcInvalidAmex => CardField::Cvc,
        }
    }
}

/// A card for one authorization.
pub struct Card {
    number: String,
    cvc: String,
    exp_month: u8,
    exp_year: u16,
    brand: &'static str,
}

impl fmt::Debug for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Card({} •••• {}, {:02}/{})", self.brand, self.last4(), self.exp_month, self.exp_year)
    }
}

impl Card {
    /// Parses the hosted page's fields; `today` is `(year, month)` for the expiry check.
    /// Every problem is reported, so the shopper fixes the form in one go.
    pub fn parse(number: &str, expiry: &str, cvc: &str, today: (u16, u8)) -> Result<Self, Vec<CardError>> {
        let mut errors = Vec::new();
        let digits: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let number_ok = if digits.is_empty() {
            errors.push(CardError::NumberMissing);
            false
        } else if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || !luhn(&digits) {
            errors.push(CardError::NumberInvalid);
            false
        } else {
            true
        };
        let brand = brand(&digits);
        let expiry = parse_expiry(expiry);
        match expiry {
            None => errors.push(CardError::ExpiryInvalid),
            Some((year, month)) if (year, month) < today => errors.push(CardError::ExpiryPast),
            Some(_) => {}
        }
        let cvc = cvc.trim();
        let cvc_len = if brand == "amex" { 4 } else { 3 };
        if cvc.len() != cvc_len || !cvc.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(if brand == "amex" { CardError::CvcInvalidAmex } else { CardError::CvcInvalid });
        }
        match expiry {
            Some((exp_year, exp_month)) if errors.is_empty() && number_ok => {
                Ok(Self { number: digits, cvc: cvc.to_owned(), exp_month, exp_year, brand })
            }
            _ => Err(errors),
        }
    }

    /// The digits, for the connector that authorizes the card; never store or log them.
    #[must_use]
    pub fn number(&self) -> &str {
        &self.number
    }

    #[must_use]
    pub fn cvc(&self) -> &str {
        &self.cvc
    }

    #[must_use]
    pub fn last4(&self) -> &str {
        &self.number[self.number.len() - 4..]
    }

    /// All that may be kept of the card.
    #[must_use]
    pub fn summary(&self) -> CardSummary {
        CardSummary {
            brand: self.brand.to_owned(),
            last4: self.last4().to_owned(),
            exp_month: self.exp_month,
            exp_year: self.exp_year,
        }
    }
}

/// `MM/YY` (also `MM/YYYY`, `MMYY` and spaces) as `(year, month)`.
fn parse_expiry(text: &str) -> Option<(u16, u8)> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    // Only ASCII can be an expiry; checking first also keeps `split_at` on a char boundary.
    if !compact.is_ascii() {
        return None;
    }
    let (month, year) = match compact.split_once('/') {
        Some(parts) => parts,
        None if compact.len() == 4 => compact.split_at(2),
        None => return None,
    };
    if month.is_empty() || month.len() > 2 || !month.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month: u8 = month.parse().ok()?;
    let year: u16 = match year.len() {
        2 => 2000 + year.parse::<u16>().ok()?,
        4 => year.parse().ok()?,
        _ => return None,
    };
    if !(1..=12).contains(&month) {
        return None;
    }
    Some((year, month))
}

/// The Luhn checksum every card number carries.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The card network, from the number's first digits.
fn brand(digits: &str) -> &'static str {
    let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
    match () {
        () if digits.starts_with('4') => "visa",
        () if (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)) => "mastercard",
        () if matches!(prefix(2), 34 | 37) => "amex",
        () if prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)) => "discover",
        () if (3528..=3589).contains(&prefix(4)) => "jcb",
        () if matches!(prefix(2), 36 | 38 | 39) || (300..=305).contains(&prefix(3)) => "diners",
        () if (62..=62).contains(&prefix(2)) => "unionpay",
        () => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: (u16, u8) = (2026, 11);

    fn parse(number: &str, expiry: &str, cvc: &str) -> Result<Card, Vec<CardError>> {
        Card::parse(number, expiry, cvc, TODAY)
    }

    #[test]
    fn a_valid_card_keeps_only_brand_last4_and_expiry() {
        let card = parse("4242 4242 4242 4242", "12/30", "123").unwrap();
        assert_eq!(
            card.summary(),
            CardSummary { brand: "visa".into(), last4: "4242".into(), exp_month: 12, exp_year: 2030 }
        );
        let debug = format!("{card:?}");
        assert!(!debug.contains("4242424242424242") && !debug.contains("123"), "{debug}");
    }

    #[test]
    fn numbers_must_pass_luhn() {
        assert_eq!(parse("4242 4242 4242 4241", "12/30", "123").unwrap_err(), [CardError::NumberInvalid]);
        assert_eq!(parse("", "12/30", "123").unwrap_err(), [CardError::NumberMissing]);
        assert_eq!(parse("4242abcd42424242", "12/30", "123").unwrap_err(), [CardError::NumberInvalid]);
        assert!(parse("4000-0000-0000-0002", "12/30", "123").is_ok());
    }

    #[test]
    fn expiry_must_be_this_month_or_later() {
        assert!(parse("4242424242424242", "11/26", "123").is_ok());
        assert_eq!(parse("4242424242424242", "10/26", "123").unwrap_err(), [CardError::ExpiryPast]);
        assert_eq!(parse("4242424242424242", "13/30", "123").unwrap_err(), [CardError::ExpiryInvalid]);
        assert_eq!(parse("4242424242424242", "tomorrow", "123").unwrap_err(), [CardError::ExpiryInvalid]);
        assert!(parse("4242424242424242", "12/2030", "123").is_ok());
        assert!(parse("4242424242424242", "1230", "123").is_ok());
    }

    #[test]
    fn expiries_with_other_characters_than_ascii_are_invalid_not_a_panic() {
        for expiry in ["1€", "€1", "1é1", "é1/30", "12/é0", "١٢/٣٠", "１２/３０"] {
            assert_eq!(parse("4242424242424242", expiry, "123").unwrap_err(), [CardError::ExpiryInvalid], "{expiry}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_in_any_field_is_parsed_or_refused_without_panic(
            number in "\\PC{0,40}", expiry in "\\PC{0,12}", cvc in "\\PC{0,8}",
        ) {
            let _ = parse(&number, &expiry, &cvc);
        }

        #[test]
        fn digits_and_separators_in_any_arrangement_never_panic(
            number in "[0-9 -]{0,30}", expiry in "[0-9/ ]{0,8}", cvc in "[0-9]{0,5}",
        ) {
            if let Ok(card) = parse(&number, &expiry, &cvc) {
                proptest::prop_assert_eq!(card.last4().len(), 4);
            }
        }
    }

    #[test]
    fn cvc_is_three_digits_or_four_for_amex() {
        assert_eq!(parse("4242424242424242", "12/30", "12").unwrap_err(), [CardError::CvcInvalid]);
        assert_eq!(parse("4242424242424242", "12/30", "1234").unwrap_err(), [CardError::CvcInvalid]);
        assert_eq!(parse("378282246310005", "12/30", "123").unwrap_err(), [CardError::CvcInvalidAmex]);
        assert!(parse("378282246310005", "12/30", "1234").is_ok());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = parse("1234", "1/21", "x").unwrap_err();
        assert_eq!(errors, [CardError::NumberInvalid, CardError::ExpiryPast, CardError::CvcInvalid]);
    }

    #[test]
    fn brands_are_recognised() {
        for (number, brand) in [
            ("4242424242424242", "visa"),
            ("5555555555554444", "mastercard"),
            ("2223003122003222", "mastercard"),
            ("378282246310005", "amex"),
            ("6011111111111117", "discover"),
            ("3566002020360505", "jcb"),
        ] {
            assert_eq!(super::brand(number), brand, "{number}");
        }
    }
}
