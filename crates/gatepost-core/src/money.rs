//! Money: an integer amount in a currency's minor unit (docs/reference/api.md#money).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest amount gatepost accepts, in minor units (docs/reference/api.md#money).
pub const MAX_AMOUNT: i64 = 99_999_999_999;

/// An ISO 4217 currency that has a minor-unit exponent.
///
/// Funds, precious metals and the like (`XAU`, `XXX`) have no exponent and cannot be
/// charged, so they do not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an alpha-3 code, upper case as ISO 4217 writes it.
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        let currency = iso_currency::Currency::from_code(code)?;
        currency.exponent()?;
        Some(Self(currency))
    }

    /// Every currency [`Currency::parse`] accepts.
    pub fn all() -> impl Iterator<Item = Self> {
        use iso_currency::IntoEnumIterator as _;
        iso_currency::Currency::iter().filter(|c| c.exponent().is_some()).map(Self)
    }

    #[must_use]
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point: EUR 2, JPY 0, BHD 3.
    #[must_use]
    pub fn exponent(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).ok_or_else(|| serde::de::Error::custom("unknown currency"))
    }
}

/// Why an amount was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("amount must be at most 99999999999")]
    TooLarge,
}

impl AmountError {
    /// The machine-readable code of an error detail (docs/reference/api.md#errors).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::NotPositive => "must_be_positive",
            Self::TooLarge => "too_large",
        }
    }
}

/// A positive amount of money in minor units, within the limits of docs/reference/api.md#money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

impl Amount {
    pub fn new(minor: i64, currency: Currency) -> Result<Self, AmountError> {
        Self::check_minor(minor)?;
        Ok(Self { minor, currency })
    }

    /// The limits of docs/reference/api.md#money, which hold in every currency.
    pub fn check_minor(minor: i64) -> Result<(), AmountError> {
        if minor <= 0 {
            Err(AmountError::NotPositive)
        } else if minor > MAX_AMOUNT {
            Err(AmountError::TooLarge)
        } else {
            Ok(())
        }
    }

    #[must_use]
    pub fn minor(self) -> i64 {
        self.minor
    }

    #[must_use]
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// For people: `10.50 EUR`, `1,050 JPY`, `1.250 BHD`
    /// (docs/reference/hosted-page.md#the-card-form).
    #[must_use]
    pub fn display(self) -> String {
        format_minor(self.minor, self.currency)
    }
}

/// Formats minor units with the currency's exponent and thousands grouping.
#[must_use]
pub fn format_minor(minor: i64, currency: Currency) -> String {
    let exponent = currency.exponent();
    let divisor = 10i64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let units = (minor / divisor).unsigned_abs();
    let fraction = (minor % divisor).unsigned_abs();
    let grouped = group_thousands(units);
    if exponent == 0 {
        format!("{sign}{grouped} {currency}")
    } else {
        let width = exponent as usize;
        format!("{sign}{grouped}.{fraction:0width$} {currency}")
    }
}

/// Reads an amount as people type it, in major units (`5`, `5.5`, `1,050.25`), into minor
/// units of `currency`: `None` for anything else, or for more decimals than it has.
#[must_use]
pub fn parse_major(text: &str, currency: Currency) -> Option<i64> {
    let text: String = text.trim().chars().filter(|c| *c != ',').collect();
    let (units, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let exponent = currency.exponent() as usize;
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if units.is_empty() || units.len() > 15 || !digits(units) || !digits(fraction) || fraction.len() > exponent {
        return None;
    }
    if text.ends_with('.') && exponent == 0 {
        return None;
    }
    let padded = format!("{units}{fraction:0<exponent$}");
    padded.parse().ok()
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_typed_in_major_units_read_as_minor_units() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(parse_major("5", eur), Some(500));
        assert_eq!(parse_major(" 5.5 ", eur), Some(550));
        assert_eq!(parse_major("1,050.25", eur), Some(105_025));
        assert_eq!(parse_major("1050", jpy), Some(1050));
        for bad in ["", "5.555", "-5", "5e3", "five", ".5x", "1.5"] {
            let currency = if bad == "1.5" { jpy } else { eur };
            assert_eq!(parse_major(bad, currency), None, "{bad:?}");
        }
        assert_eq!(parse_major("9999999999999999", eur), None);
    }

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn currencies_have_their_real_exponent() {
        assert_eq!(currency("EUR").exponent(), 2);
        assert_eq!(currency("JPY").exponent(), 0);
        assert_eq!(currency("BHD").exponent(), 3);
    }

    #[test]
    fn unknown_lowercase_and_exponentless_codes_do_not_parse() {
        assert!(Currency::parse("XYZ").is_none());
        assert!(Currency::parse("eur").is_none());
        assert!(Currency::parse("XAU").is_none());
        assert!(Currency::parse("").is_none());
    }

    #[test]
    fn amounts_must_be_positive_and_at_most_the_maximum() {
        let eur = currency("EUR");
        assert_eq!(Amount::new(0, eur), Err(AmountError::NotPositive));
        assert_eq!(Amount::new(-1, eur), Err(AmountError::NotPositive));
        assert_eq!(Amount::new(MAX_AMOUNT + 1, eur), Err(AmountError::TooLarge));
        assert_eq!(Amount::new(MAX_AMOUNT, eur).unwrap().minor(), MAX_AMOUNT);
    }

    #[test]
    fn amounts_display_with_exponent_and_grouping() {
        assert_eq!(Amount::new(1050, currency("EUR")).unwrap().display(), "10.50 EUR");
        assert_eq!(Amount::new(1050, currency("JPY")).unwrap().display(), "1,050 JPY");
        assert_eq!(Amount::new(1250, currency("BHD")).unwrap().display(), "1.250 BHD");
        assert_eq!(Amount::new(5, currency("EUR")).unwrap().display(), "0.05 EUR");
        assert_eq!(Amount::new(123_456_789, currency("EUR")).unwrap().display(), "1,234,567.89 EUR");
    }
}
