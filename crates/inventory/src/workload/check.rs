//! After a workload: was anything the application did lost or counted twice?

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Serialize;
use tokio_postgres::Client;
use uuid::Uuid;

use super::{ClientLog, Workload};

const QUANTITIES: &str = include_str!("../../sql/workload/quantities.sql");
const LEDGER_INSTALLED: &str = include_str!("../../sql/workload/ledger_installed.sql");
const LEDGER_BREAKS: &str = include_str!("../../sql/workload/ledger_breaks.sql");

/// One invariant, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invariant {
    /// What must hold.
    pub name: String,
    /// Rows checked.
    pub rows: i64,
    /// Rows where it does not hold (0 = holds).
    pub violations: i64,
}

impl Invariant {
    /// True when no row breaks it.
    pub fn holds(&self) -> bool {
        self.violations == 0
    }
}

/// Checks, once the workload has stopped:
/// - every stock row it wrote to holds its quantity of before plus exactly
///   the operations that committed (rows whose last operation's outcome is
///   unknown are left out);
/// - once migration 004's rules are in place, for every stock row: quantity
///   = sum of movements, and value = sum of the movements' value changes.
///
/// # Errors
/// The database's.
pub async fn check(
    client: &Client,
    workload: &Workload,
    logs: &[ClientLog],
) -> Result<Vec<Invariant>, tokio_postgres::Error> {
    let mut expected: HashMap<Uuid, Decimal> =
        workload.rows.iter().map(|r| (r.id, r.before)).collect();
    for log in logs {
        for (row, delta) in &log.deltas {
            *expected.entry(workload.rows[*row].id).or_default() += *delta;
        }
        for row in &log.uncertain {
            expected.remove(&workload.rows[*row].id);
        }
    }
    let ids: Vec<Uuid> = expected.keys().copied().collect();
    let now: HashMap<Uuid, Decimal> = client
        .query(QUANTITIES, &[&ids])
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("quantity")?)))
        .collect::<Result<_, tokio_postgres::Error>>()?;
    let lost = expected
        .iter()
        .filter(|(id, quantity)| now.get(*id) != Some(*quantity))
        .count();
    let mut out = vec![Invariant {
        name: "every committed operation is on its stock row, once".into(),
        rows: count(ids.len()),
        violations: count(lost),
    }];
    let ledger: bool = client
        .query_one(LEDGER_INSTALLED, &[])
        .await?
        .try_get("installed")?;
    if ledger {
        let breaks = client.query_one(LEDGER_BREAKS, &[]).await?;
        let rows: i64 = breaks.try_get("stock_rows")?;
        out.push(Invariant {
            name: "quantity on hand = sum of movements".into(),
            rows,
            violations: breaks.try_get("quantity_breaks")?,
        });
        out.push(Invariant {
            name: "stock value = sum of movement value changes".into(),
            rows,
            violations: breaks.try_get("value_breaks")?,
        });
    }
    Ok(out)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
