//! REFRESH … CONCURRENTLY of a view with no unique index on plain columns.

use super::{Ctx, Rule};
use crate::file::{SqlFile, Stmt};
use crate::finding::{Family, Severity};
use crate::walk;

pub const RULE: Rule = Rule {
    id: "refresh-concurrently-needs-unique",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "REFRESH MATERIALIZED VIEW CONCURRENTLY needs a populated view with a UNIQUE index on plain columns (no expression, no WHERE); without one it fails (55000), and inside a function it also undoes the refreshes before it.",
    safe: "Create a unique index on plain columns of the view first, and refresh it once without CONCURRENTLY if it was created WITH NO DATA.",
    example: "CREATE MATERIALIZED VIEW core.v AS SELECT brand_id, count(*) AS n FROM core.products GROUP BY brand_id;\nCREATE INDEX v_brand ON core.v (brand_id);\nREFRESH MATERIALIZED VIEW CONCURRENTLY core.v;",
    check,
};

/// Whether `stmt` creates materialized view `view`; Some(with_data) if so.
fn creates_view(stmt: &Stmt, view: &str) -> Option<bool> {
    let c = &stmt.c;
    let is_matview = c.is("CreateTableAsStmt")
        && c.get("objtype").as_i64() == Some(pg_query::protobuf::ObjectType::ObjectMatview as i64);
    (is_matview && walk::same_relation(&walk::range_var(&c.get("into")["rel"]), view))
        .then(|| c.get("into")["skip_data"].as_bool() != Some(true))
}

fn unique_plain_index_on(stmt: &Stmt, view: &str) -> bool {
    let c = &stmt.c;
    c.is("IndexStmt")
        && c.get("unique").as_bool() == Some(true)
        && c.get("where_clause").is_null()
        && walk::same_relation(&walk::range_var(c.get("relation")), view)
        && walk::nodes(c.get("index_params"), "IndexElem")
            .iter()
            .all(|e| e["expr"].is_null())
}

fn plain_refresh_of(stmt: &Stmt, view: &str) -> bool {
    stmt.c.is("RefreshMatViewStmt")
        && stmt.c.get("concurrent").as_bool() != Some(true)
        && walk::same_relation(&walk::range_var(stmt.c.get("relation")), view)
}

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let c = &stmt.c;
        if !(c.is("RefreshMatViewStmt") && c.get("concurrent").as_bool() == Some(true)) {
            continue;
        }
        let view = walk::range_var(c.get("relation"));
        let before: Vec<&Stmt> = ctx
            .earlier
            .iter()
            .flat_map(|f: &SqlFile| f.statements.iter())
            .chain(&ctx.statements()[..stmt.index])
            .collect();
        // A view the linted files do not create is judged only with a database.
        let Some(with_data) = before.iter().find_map(|s| creates_view(s, &view)) else {
            continue;
        };
        if !before.iter().any(|s| unique_plain_index_on(s, &view)) {
            ctx.report(
                stmt,
                None,
                format!(
                    "{view} has no UNIQUE index on plain columns (no expression, no WHERE): \
                     REFRESH … CONCURRENTLY fails (55000); create one before refreshing"
                ),
            );
        } else if !with_data && !before.iter().any(|s| plain_refresh_of(s, &view)) {
            ctx.report(
                stmt,
                None,
                format!(
                    "{view} was created WITH NO DATA and never refreshed: REFRESH … \
                     CONCURRENTLY fails on an unpopulated view (55000); refresh it once \
                     without CONCURRENTLY first"
                ),
            );
        }
    }
}
