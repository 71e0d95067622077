//! A validated FOREIGN KEY added over a column that already holds values.

use super::{Ctx, Rule};
use crate::file::Stmt;
use crate::finding::{Family, Severity};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "fk-over-dirty-column",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "ADD FOREIGN KEY (validated) on a column that already held values before this migration: one legacy value without a match fails the migration (23503).",
    safe: "Add it NOT VALID, null or fix the orphans (and count them), then VALIDATE CONSTRAINT in a later step.",
    example: "ALTER TABLE core.products ADD CONSTRAINT products_brand_fk\n    FOREIGN KEY (brand_id) REFERENCES core.brand (id);",
    check,
};

/// Whether `column` of `table` is added, or written, by a statement before `before`.
fn prepared(ctx: &Ctx<'_>, table: &str, column: &str, before: usize) -> bool {
    ctx.statements()[..before].iter().any(|s: &Stmt| {
        let added = walk::same_relation(&flow::altered_table(s), table)
            && flow::alter_cmds(s).iter().any(|cmd| {
                flow::added_column(cmd)
                    .and_then(|c| c["colname"].as_str())
                    .is_some_and(|c| c.eq_ignore_ascii_case(column))
            });
        let cleaned = flow::written_table(s).is_some_and(|t| walk::same_relation(&t, table))
            && (s.c.is("DeleteStmt") || flow::written_columns(s).iter().any(|(c, _)| c == column));
        added || cleaned
    })
}

fn check(ctx: &mut Ctx<'_>) {
    for (stmt, table, cmd) in ctx.existing_alter_cmds() {
        let Some(fk) = flow::added_constraint(cmd) else {
            continue;
        };
        if !fk["pktable"].is_object() || fk["skip_validation"].as_bool() == Some(true) {
            continue;
        }
        let columns = walk::strings(&fk["fk_attrs"]);
        if columns
            .iter()
            .all(|c| prepared(ctx, &table, &c.to_lowercase(), stmt.index))
        {
            continue;
        }
        ctx.report(
            stmt,
            walk::location(fk),
            format!(
                "{table}({}) held values before this migration: one without a match in {} \
                 fails it (23503); add the key NOT VALID, fix or null the orphans, then \
                 VALIDATE CONSTRAINT",
                columns.join(", "),
                walk::range_var(&fk["pktable"])
            ),
        );
    }
}
