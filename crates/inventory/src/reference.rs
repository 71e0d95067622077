//! The posting rule of migration 004, written again as a pure function: the
//! specification the property tests hold the database to.
//!
//! - In (quantity > 0) with a cost: the average moves,
//!   `round((q·c + qin·cin) / (q + qin), 6)`; into zero or negative stock, or
//!   stock without a known cost, the incoming cost is taken. An unknown
//!   incoming cost is valued at the current average.
//! - Out (quantity < 0): the average stays and the movement records it.
//! - `value_delta` = value after − value before, where value = quantity × cost.

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places of a unit cost (numeric(20,6)).
pub const COST_PLACES: u32 = 6;

/// A stock row: quantity and weighted-average unit cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stock {
    /// Quantity on hand.
    pub quantity: Decimal,
    /// Unit cost; None while unknown.
    pub cost: Option<Decimal>,
}

/// What a movement recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The unit cost the movement was valued at.
    pub unit_cost: Option<Decimal>,
    /// The change of the stock's value.
    pub value_delta: Option<Decimal>,
}

impl Stock {
    /// quantity × cost.
    pub fn value(&self) -> Option<Decimal> {
        self.cost.map(|c| self.quantity * c)
    }

    /// Applies one movement; `None` when it would leave negative stock and
    /// `allow_negative` is false (the database rejects it).
    pub fn apply(
        &mut self,
        quantity: Decimal,
        unit_cost: Option<Decimal>,
        allow_negative: bool,
    ) -> Option<Applied> {
        let after = self.quantity + quantity;
        let (in_cost, new_cost) = if quantity > Decimal::ZERO {
            let in_cost = unit_cost.or(self.cost);
            let new_cost = match (in_cost, self.cost) {
                (None, _) => None,
                (Some(c), None) => Some(c),
                (Some(c), Some(_)) if self.quantity <= Decimal::ZERO => Some(c),
                (Some(c), Some(old)) => Some(
                    ((self.quantity * old + quantity * c) / after).round_dp_with_strategy(
                        COST_PLACES,
                        RoundingStrategy::MidpointAwayFromZero,
                    ),
                ),
            };
            (in_cost, new_cost)
        } else {
            if after < Decimal::ZERO && !allow_negative {
                return None;
            }
            (self.cost, self.cost)
        };
        let before = self.value().unwrap_or(Decimal::ZERO);
        self.quantity = after;
        self.cost = new_cost;
        Some(Applied {
            unit_cost: in_cost,
            value_delta: self.value().map(|v| v - before),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_average_moves_on_receipts_and_stays_on_issues() {
        let mut s = Stock::default();
        s.apply(d("3"), Some(d("10")), false);
        s.apply(d("1"), Some(d("20")), false);
        assert_eq!(s.cost, Some(d("12.5")));
        let out = s
            .apply(d("-4"), None, false)
            .unwrap_or_else(|| panic!("allowed"));
        assert_eq!(out.unit_cost, Some(d("12.5")));
        assert_eq!(out.value_delta, Some(d("-50")));
        assert_eq!(s.value(), Some(Decimal::ZERO));
        s.apply(d("2"), Some(d("7")), false);
        assert_eq!(
            s.cost,
            Some(d("7")),
            "a receipt after a stock-out takes its cost"
        );
    }

    #[test]
    fn rounding_goes_into_the_receipt_and_zero_stock_has_zero_value() {
        let mut s = Stock::default();
        s.apply(d("1"), Some(d("1")), false);
        let r = s
            .apply(d("2"), Some(d("2")), false)
            .unwrap_or_else(|| panic!("in"));
        assert_eq!(s.cost, Some(d("1.666667")));
        assert_eq!(
            r.value_delta,
            Some(d("4.000001")),
            "3 × 1.666667 − 1: the rounding stays in the books"
        );
        s.apply(d("-3"), None, false);
        assert_eq!(s.value(), Some(Decimal::ZERO));
    }

    #[test]
    fn negative_stock_is_refused_unless_allowed() {
        let mut s = Stock::default();
        assert_eq!(s.apply(d("-1"), None, false), None);
        assert_eq!(s, Stock::default(), "a refused movement changes nothing");
        assert!(s.apply(d("-1"), None, true).is_some());
        s.apply(d("3"), Some(d("4")), true);
        assert_eq!(
            s.cost,
            Some(d("4")),
            "receipt into negative stock takes its cost"
        );
    }
}
