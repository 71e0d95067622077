//! A backfill INSERT … SELECT … ON CONFLICT DO NOTHING whose rows are needed later.

use pg_query::protobuf::OnConflictAction;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "silent-conflict-drop",
    family: Family::Correctness,
    severity: Severity::Warning,
    hazard: "A backfill INSERT … SELECT … ON CONFLICT DO NOTHING drops every row that collides (say, two brands whose derived codes match), and a later statement needs those rows: they are silently missing.",
    safe: "Make the key collision-free (deduplicate in the SELECT), or ON CONFLICT DO UPDATE, and check afterwards that every source row has its target.",
    example: "INSERT INTO core.brand (code, name) SELECT upper(left(b, 4)), b FROM legacy_brands ON CONFLICT DO NOTHING;\nUPDATE core.products p SET brand_id = b.id FROM core.brand b WHERE b.name = p.brand_name;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let c = &stmt.c;
        let clause = c.get("on_conflict_clause");
        let nothing = clause["action"].as_i64() == Some(OnConflictAction::OnconflictNothing as i64);
        let source = c.get("select_stmt");
        let from_query =
            !source.is_null() && source.pointer("/node/SelectStmt/values_lists/0").is_none();
        if !(c.is("InsertStmt") && nothing && from_query) {
            continue;
        }
        let table = walk::range_var(c.get("relation"));
        let reader = ctx.file.after(stmt.index).iter().find(|s| {
            flow::reads(s)
                .iter()
                .any(|r| walk::same_relation(r, &table))
        });
        if let Some(reader) = reader {
            ctx.report(
                stmt,
                walk::location(clause),
                format!(
                    "ON CONFLICT DO NOTHING silently drops the rows that collide, and line {} \
                     reads {table} expecting them; deduplicate the SELECT or DO UPDATE, then \
                     check that every source row arrived",
                    reader.line
                ),
            );
        }
    }
}
