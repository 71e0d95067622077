//! Unit costs or averages stored with two decimals, or as floats.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "low-precision-money",
    family: Family::Correctness,
    severity: Severity::Warning,
    hazard: "A unit cost, price or average stored as numeric(p,2) or lower (or as real/double precision): every weighted average rounds, and the drift adds up with each movement.",
    safe: "Store unit costs and averages with at least 4 decimals (numeric(18,6) here); keep floats out of money entirely.",
    example: "ALTER TABLE core.stock_on_hand ADD COLUMN unit_cost numeric(10,2);",
    check,
};

/// Why a column type is too coarse for a unit cost, if it is.
fn coarse(column: &serde_json::Value) -> Option<String> {
    let names = walk::strings(&column["type_name"]["names"]);
    let ty = names.last()?.as_str();
    match ty {
        "float4" | "float8" => Some(format!("{ty} (binary floating point)")),
        "numeric" => {
            let mods: Vec<i64> = walk::nodes(&column["type_name"]["typmods"], "Ival")
                .iter()
                .filter_map(|v| v["ival"].as_i64())
                .collect();
            let scale = if mods.len() >= 2 {
                mods[1]
            } else {
                return None;
            };
            (scale < 4).then(|| format!("numeric({},{scale})", mods[0]))
        }
        _ => None,
    }
}

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        if !(stmt.c.is("CreateStmt") || stmt.c.is("AlterTableStmt")) {
            continue;
        }
        for column in walk::nodes(&stmt.c.tree, "ColumnDef") {
            let name = column["colname"].as_str().unwrap_or("");
            if !flow::is_unit_money(name) {
                continue;
            }
            if let Some(ty) = coarse(column) {
                ctx.report(
                    stmt,
                    walk::location(column),
                    format!(
                        "{name} is stored as {ty}: every weighted average rounds and the \
                         drift adds up; use numeric with at least 4 decimals (numeric(18,6))"
                    ),
                );
            }
        }
    }
}
