//! A name cast to regclass without its schema.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::walk;

pub const RULE: Rule = Rule {
    id: "unqualified-regclass",
    family: Family::Correctness,
    severity: Severity::Warning,
    hazard: "A name is cast to regclass without its schema: it resolves through search_path, so an object in another schema is not found (42P01) or another one is.",
    safe: "Cast a qualified name (format('%I.%I', schemaname, indexname)::regclass, 'core.t'::regclass), or use the oid.",
    example: "SELECT indexname, pg_relation_size(indexname::regclass) FROM pg_indexes WHERE schemaname = 'core';",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        for cast in walk::nodes(&stmt.c.tree, "TypeCast") {
            let ty = walk::strings(&cast["type_name"]["names"]);
            if ty.last().map(String::as_str) != Some("regclass") {
                continue;
            }
            let arg = &cast["arg"]["node"];
            let unqualified = match arg.get("AConst") {
                Some(constant) => constant
                    .pointer("/sval/sval")
                    .and_then(|v| v.as_str())
                    .is_some_and(|name| !name.contains('.')),
                // An oid column is fine; a column holding a name (indexname,
                // relname, table_name) is not.
                None => arg.get("ColumnRef").is_some_and(|c| {
                    walk::strings(&c["fields"])
                        .last()
                        .is_some_and(|f| f.to_lowercase().ends_with("name"))
                }),
            };
            if unqualified {
                ctx.report(
                    stmt,
                    walk::location(cast),
                    "a name cast to regclass without its schema resolves through search_path \
                     (42P01 outside it); cast a schema-qualified name, e.g. \
                     format('%I.%I', schemaname, indexname)::regclass"
                        .to_string(),
                );
            }
        }
    }
}
