//! A materialized view created WITH DATA before the backfill of what it reads.

use pg_query::protobuf::ObjectType;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "view-before-backfill",
    family: Family::Correctness,
    severity: Severity::Warning,
    hazard: "A materialized view is created WITH DATA, then a later statement of the same file changes a table it reads, and nothing refreshes it after: the view is stale at commit.",
    safe: "Create the view after the backfills (or WITH NO DATA), or REFRESH it after the last one.",
    example: "CREATE MATERIALIZED VIEW core.brand_summary AS SELECT brand_id, count(*) FROM core.products GROUP BY brand_id;\nUPDATE core.products SET brand_id = b.id FROM core.brand b WHERE b.name = products.brand_name;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let c = &stmt.c;
        let matview = c.is("CreateTableAsStmt")
            && c.get("objtype").as_i64() == Some(ObjectType::ObjectMatview as i64)
            && c.get("into")["skip_data"].as_bool() != Some(true);
        if !matview {
            continue;
        }
        let view = walk::range_var(&c.get("into")["rel"]);
        let sources = walk::relations(c.get("query"));
        let later = ctx.file.after(stmt.index);
        let Some(write_at) = later.iter().position(|s| {
            flow::written_table(s)
                .is_some_and(|t| sources.iter().any(|r| walk::same_relation(r, &t)))
        }) else {
            continue;
        };
        let refreshed = later[write_at..].iter().any(|s| {
            s.c.is("RefreshMatViewStmt")
                && walk::same_relation(&walk::range_var(s.c.get("relation")), &view)
        });
        if !refreshed {
            ctx.report(
                stmt,
                None,
                format!(
                    "{view} is built here, then line {} changes a table it reads and nothing \
                     refreshes it: the view is stale at commit; create it after the backfill, \
                     or REFRESH it at the end",
                    later[write_at].line
                ),
            );
        }
    }
}
