//! What migration 003 produced: the seed's quick health check, with the counts
//! behind each percentage.

use rust_decimal::Decimal;
use tokio_postgres::Client;

use crate::sql;

/// Counts after migration 003.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Rows in core.brand.
    pub brands: i64,
    /// Rows in core.products.
    pub products: i64,
    /// Products linked to a brand.
    pub products_with_brand: i64,
    /// Products whose brand text is not blank.
    pub products_with_brand_text: i64,
    /// Rows in core.suppliers.
    pub suppliers: i64,
    /// Suppliers with a contact email.
    pub suppliers_with_email: i64,
    /// Invalid contact values reported in core.supplier_contact_issue.
    pub contact_issues: i64,
    /// Legacy brand ids reported in core.product_brand_issue.
    pub brand_id_issues: i64,
    /// Stock rows with quantity > 0.
    pub stock_rows_in_stock: i64,
    /// Of those, rows with a unit cost.
    pub stock_rows_costed: i64,
    /// Rows in core.stock_movement.
    pub movements: i64,
    /// Sum of stock values.
    pub stock_value: Decimal,
    /// Rows of each materialized view, by name.
    pub views: Vec<(String, i64)>,
}

impl Summary {
    /// Products with a brand, in percent of all products (the seed's brand coverage).
    pub fn brand_coverage(&self) -> Decimal {
        percent(self.products_with_brand, self.products)
    }

    /// Costed stock rows in percent of rows in stock (the seed's cost coverage).
    pub fn cost_coverage(&self) -> Decimal {
        percent(self.stock_rows_costed, self.stock_rows_in_stock)
    }
}

/// `part / whole` in percent, one decimal; 100 when there is nothing to cover.
pub fn percent(part: i64, whole: i64) -> Decimal {
    if whole == 0 {
        return Decimal::ONE_HUNDRED;
    }
    (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp(1)
}

/// Reads the summary. Needs migration 003.
///
/// # Errors
/// The driver error, e.g. when 003 is not applied.
pub async fn read(client: &Client) -> Result<Summary, tokio_postgres::Error> {
    let row = client.query_typed_one(sql::SUMMARY, &[]).await?;
    let views = [
        "mv_inventory_valuation",
        "mv_product_stock_summary",
        "mv_low_stock_alerts",
    ]
    .iter()
    .map(|v| {
        (
            v.to_string(),
            row.get::<_, i64>(format!("{v}_rows").as_str()),
        )
    })
    .collect();
    Ok(Summary {
        brands: row.get("brands"),
        products: row.get("products"),
        products_with_brand: row.get("products_with_brand"),
        products_with_brand_text: row.get("products_with_brand_text"),
        suppliers: row.get("suppliers"),
        suppliers_with_email: row.get("suppliers_with_email"),
        contact_issues: row.get("contact_issues"),
        brand_id_issues: row.get("brand_id_issues"),
        stock_rows_in_stock: row.get("stock_rows_in_stock"),
        stock_rows_costed: row.get("stock_rows_costed"),
        movements: row.get("movements"),
        stock_value: row.get("stock_value"),
        views,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_to_one_decimal_and_handle_empty_sets() {
        assert_eq!(percent(1, 3).to_string(), "33.3");
        assert_eq!(percent(2, 3).to_string(), "66.7");
        assert_eq!(percent(0, 0), Decimal::ONE_HUNDRED);
    }
}
