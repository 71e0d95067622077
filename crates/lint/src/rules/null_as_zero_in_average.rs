//! COALESCE(cost, 0) inside an average or a valuation.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::{flow, plpgsql, walk};

pub const RULE: Rule = Rule {
    id: "null-as-zero-in-average",
    family: Family::Correctness,
    severity: Severity::Warning,
    hazard: "COALESCE(cost, 0) turns an unknown cost into a zero one: inside a weighted average or a valuation it dilutes the average and understates the value.",
    safe: "Keep the cost NULL (unknown) and let the average start from the first known cost; report the rows without one.",
    example: "UPDATE core.stock_on_hand SET unit_cost = (qty * COALESCE(unit_cost, 0) + 10 * 4.50) / (qty + 10);",
    check,
};

/// The `COALESCE(<cost column>, 0)` nodes under `tree`, with their cost column.
fn zeroed_costs(tree: &serde_json::Value) -> Vec<(&serde_json::Value, String)> {
    walk::nodes(tree, "CoalesceExpr")
        .into_iter()
        .filter_map(|c| {
            let args = c["args"].as_array()?;
            let column = walk::columns(args.first()?).into_iter().next()?;
            let last = args.last()?.pointer("/node/AConst/val")?;
            let is_zero = last.pointer("/Ival/ival").and_then(|v| v.as_i64()) == Some(0)
                || last
                    .pointer("/Fval/fval")
                    .and_then(|v| v.as_str())
                    .is_some_and(|f| {
                        f.trim_start_matches('0')
                            .trim_start_matches('.')
                            .trim_matches('0')
                            .is_empty()
                    });
            (flow::is_unit_money(&column) && is_zero).then_some((c, column))
        })
        .collect()
}

fn message(column: &str) -> String {
    format!(
        "COALESCE({column}, 0) counts an unknown cost as zero: an average or valuation over it \
         is diluted; keep it NULL and start from the first known cost"
    )
}

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        for (node, column) in zeroed_costs(&stmt.c.tree) {
            ctx.report(stmt, walk::location(node), message(&column));
        }
        let Some(body) = plpgsql::body(stmt) else {
            continue;
        };
        for (line, sql) in body.sql() {
            for (_, column) in zeroed_costs(&sql.tree) {
                ctx.report_line(stmt, line, message(&column));
            }
        }
    }
}
