//! pg_size_pretty applied to money or quantities.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "bytes-format-on-money",
    family: Family::Correctness,
    severity: Severity::Warning,
    hazard: "pg_size_pretty() formats bytes: applied to a money or quantity sum it prints \"8150 MB\" for a value.",
    safe: "Format values with to_char(value, 'FM999G999G990D00') or round(value, 2).",
    example: "SELECT pg_size_pretty(sum(total_value)::bigint) FROM core.inventory_valuation;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        for call in walk::nodes(&stmt.c.tree, "FuncCall") {
            if walk::func_name(call) != "pg_size_pretty" {
                continue;
            }
            let money = walk::columns(&call["args"])
                .into_iter()
                .find(|c| flow::is_money_or_quantity(c));
            if let Some(column) = money {
                ctx.report(
                    stmt,
                    walk::location(call),
                    format!(
                        "pg_size_pretty formats bytes, and {column} is money or a quantity: it \
                         prints \"MB\" for a value; use to_char or round"
                    ),
                );
            }
        }
    }
}
