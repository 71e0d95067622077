//! The seed's quick health check after migration 003, with the expected value
//! beside each found one.

use rust_decimal::Decimal;
use tokio_postgres::Client;

use crate::sql;

/// One line of the health check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Item {
    /// What is measured (the seed's column name).
    pub name: &'static str,
    /// What the seed expects.
    pub expected: String,
    /// What was found.
    pub found: String,
    /// Whether the found value meets the expectation.
    pub ok: bool,
}

/// Thresholds of the check (the seed's: 50% brand and 70% cost coverage).
#[derive(Debug, Clone, Copy)]
pub struct Expectations {
    /// Brand coverage must exceed this percentage.
    pub min_brand_coverage: Decimal,
    /// Cost coverage must exceed this percentage.
    pub min_cost_coverage: Decimal,
}

impl Default for Expectations {
    fn default() -> Self {
        Expectations {
            min_brand_coverage: Decimal::from(50),
            min_cost_coverage: Decimal::from(70),
        }
    }
}

/// Runs the check. Works on any database: missing tables are findings.
///
/// # Errors
/// The driver error.
pub async fn check(
    client: &Client,
    expect: &Expectations,
) -> Result<Vec<Item>, tokio_postgres::Error> {
    let row = client.query_typed_one(sql::HEALTH_TABLES, &[]).await?;
    let (brand_table, movement_table): (bool, bool) =
        (row.try_get("brand_table")?, row.try_get("movement_table")?);
    if !(brand_table && movement_table) {
        return Ok(without_tables(brand_table, movement_table, expect));
    }
    let row = client.query_typed_one(sql::HEALTH, &[]).await?;
    let brand_pct: Option<Decimal> = row.get("brand_coverage_pct");
    let cost_pct: Option<Decimal> = row.get("cost_coverage_pct");
    let brands: i64 = row.get("brand_count");
    Ok(vec![
        flag("brand_exists", row.get("brand_exists")),
        flag("movement_exists", row.get("movement_exists")),
        Item {
            name: "brand_count",
            expected: "> 0 (the seed: about 22)".into(),
            found: brands.to_string(),
            ok: brands > 0,
        },
        percent("brand_coverage_pct", brand_pct, expect.min_brand_coverage),
        percent("cost_coverage_pct", cost_pct, expect.min_cost_coverage),
    ])
}

fn flag(name: &'static str, found: bool) -> Item {
    Item {
        name,
        expected: "true".into(),
        found: found.to_string(),
        ok: found,
    }
}

fn percent(name: &'static str, found: Option<Decimal>, minimum: Decimal) -> Item {
    Item {
        name,
        expected: format!("> {minimum}"),
        found: found.map_or_else(|| "n/a (no rows)".to_string(), |v| v.to_string()),
        ok: found.is_none_or(|v| v > minimum),
    }
}

fn without_tables(brand: bool, movement: bool, expect: &Expectations) -> Vec<Item> {
    let missing = |name: &'static str, present: bool| Item {
        name,
        expected: "true".into(),
        found: if present {
            "true"
        } else {
            "false (table missing: migration 003 is not applied)"
        }
        .into(),
        ok: false,
    };
    vec![
        missing("brand_exists", brand),
        missing("movement_exists", movement),
        Item {
            name: "brand_count",
            expected: "> 0 (the seed: about 22)".into(),
            found: "n/a".into(),
            ok: false,
        },
        Item {
            name: "brand_coverage_pct",
            expected: format!("> {}", expect.min_brand_coverage),
            found: "n/a".into(),
            ok: false,
        },
        Item {
            name: "cost_coverage_pct",
            expected: format!("> {}", expect.min_cost_coverage),
            found: "n/a".into(),
            ok: false,
        },
    ]
}
