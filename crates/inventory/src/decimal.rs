//! Decimal input: exact, never through a float. Limits follow the columns:
//! quantities numeric(18,4), unit costs numeric(20,6).

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};

/// Largest magnitude a quantity or unit cost may have (exclusive): 10^14.
pub fn limit() -> Decimal {
    Decimal::from(100_000_000_000_000_i64)
}

/// Decimal places of a quantity (numeric(18,4)).
pub const QUANTITY_SCALE: u32 = 4;
/// Decimal places of a unit cost (numeric(20,6)).
pub const COST_SCALE: u32 = 6;

/// Why `value` does not fit a column with `scale` decimal places, if it does not.
pub fn fit(what: &str, value: Decimal, scale: u32) -> Option<String> {
    let value = value.normalize();
    if value.scale() > scale {
        return Some(format!(
            "{what} {value} has {} decimal places; at most {scale} are kept",
            value.scale()
        ));
    }
    if value.abs() >= limit() {
        return Some(format!(
            "{what} {value} is too large: it must be below 100000000000000"
        ));
    }
    None
}

/// Parses a decimal written as text, exactly: a number with more digits than
/// a decimal holds (28 significant) is refused, never rounded, and the
/// message names the field and why.
pub fn parse(what: &str, text: &str) -> Result<Decimal, String> {
    let plain = text.trim();
    let digits = |c: char| c.is_ascii_digit() || c == '.';
    let sign = plain.strip_prefix(['-', '+']).unwrap_or(plain);
    if sign.is_empty() || !sign.chars().all(digits) || sign.matches('.').count() > 1 {
        return Err(format!(
            "{what} {text:?} is not a decimal number (digits with an optional sign and decimal point, e.g. 12.50)"
        ));
    }
    Decimal::from_str_exact(plain).map_err(|e| match e {
        rust_decimal::Error::Underflow => format!(
            "{what} {text:?} has more digits than are kept exactly (28 at most); nothing is rounded"
        ),
        _ => format!("{what} {text:?} is too large: it must be below 100000000000000"),
    })
}

/// The non-finite value (`NaN`, `Infinity`, `-Infinity`) that `error`, or
/// what caused it, failed to read from a numeric column: PostgreSQL's numeric
/// holds them, a decimal does not.
pub fn non_finite_in(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(rust_decimal::Error::ConversionTo(value)) =
            e.downcast_ref::<rust_decimal::Error>()
        {
            if ["NaN", "Infinity", "-Infinity"].contains(&value.as_str()) {
                return Some(value.clone());
            }
        }
        current = e.source();
    }
    None
}

/// What to tell someone whose books hold a non-finite `value`.
pub fn non_finite_advice(value: &str) -> String {
    format!(
        "the database holds {value} (not a number) in a quantity, cost or value, which the books cannot add up\n  \
         hint: `mantis verify` names the rows (check \"the books hold numbers (no NaN)\"); correct each one, \
         then `mantis up` applies migration 006, after which the database refuses NaN in every column of the books"
    )
}

/// serde: a decimal written as text ("12.50"), never through a binary float.
/// (JSON batches turn integer numbers into text first; see `batch`.)
pub fn exact<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_str(Exact)
}

/// serde: like [`exact`], for an optional field (empty text = none).
pub fn exact_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_option(OptExact)
}

struct Exact;

impl Visitor<'_> for Exact {
    type Value = Decimal;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal number written as text, e.g. \"12.50\"")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse("value", v).map_err(E::custom)
    }
}

struct OptExact;

impl<'de> Visitor<'de> for OptExact {
    type Value = Option<Decimal>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal number written as text, or nothing")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(OptExact)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        Exact.visit_str(v).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_refuses_extra_places_and_huge_values() {
        assert!(fit("quantity", Decimal::new(12345, 4), 4).is_none());
        assert!(
            fit("quantity", Decimal::new(123_450, 5), 4).is_none(),
            "trailing zeros do not count"
        );
        let extra = fit("quantity", Decimal::new(123_456, 5), 4).unwrap_or_default();
        assert!(extra.contains("5 decimal places"), "{extra}");
        let huge = fit("unit cost", limit(), 6).unwrap_or_default();
        assert!(huge.contains("too large"), "{huge}");
    }

    #[test]
    fn parse_is_exact_or_refuses() {
        assert_eq!(parse("q", " 12.50 "), Ok(Decimal::new(1250, 2)));
        assert_eq!(parse("q", "-3"), Ok(Decimal::from(-3)));
        assert_eq!(parse("q", "+0.0001"), Ok(Decimal::new(1, 4)));
        // 30 decimal places: refused, not rounded (to 0 or anything else).
        let tiny = parse("quantity", "0.000000000000000000000000000001").unwrap_err();
        assert!(tiny.contains("quantity") && tiny.contains("28"), "{tiny}");
        let long = parse("unit cost", "1.0000000000000000000000000000001").unwrap_err();
        assert!(long.contains("nothing is rounded"), "{long}");
        // 30 digits before the point: too large, not "0" or an overflow panic.
        let huge = parse("quantity", "123456789012345678901234567890").unwrap_err();
        assert!(huge.contains("too large"), "{huge}");
        for bad in ["", "1e5", "1.2.3", "12,50", "0x10", "NaN", "- 1", "1_000"] {
            let err = parse("quantity", bad).unwrap_err();
            assert!(err.contains("is not a decimal number"), "{bad:?}: {err}");
        }
    }
}
