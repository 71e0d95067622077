//! ADD UNIQUE or PRIMARY KEY that builds its index under ACCESS EXCLUSIVE.

use pg_query::protobuf::ConstrType;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::flow;
use crate::locks::is_constraint;

pub const RULE: Rule = Rule {
    id: "unique-without-index",
    family: Family::Locks,
    severity: Severity::Warning,
    hazard: "ADD UNIQUE or ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE: reads and writes wait for the whole build.",
    safe: "CREATE UNIQUE INDEX CONCURRENTLY first (no-transaction file), then ADD CONSTRAINT … UNIQUE USING INDEX (brief).",
    example: "ALTER TABLE core.brand ADD CONSTRAINT brand_code_key UNIQUE (code);",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for (stmt, table, cmd) in ctx.existing_alter_cmds() {
        let constraints: Vec<&serde_json::Value> = match flow::added_column(cmd) {
            Some(column) => crate::walk::nodes(&column["constraints"], "Constraint"),
            None => flow::added_constraint(cmd).into_iter().collect(),
        };
        let builds = constraints.iter().any(|k| {
            (is_constraint(k, ConstrType::ConstrUnique)
                || is_constraint(k, ConstrType::ConstrPrimary))
                && k["indexname"].as_str().is_none_or(str::is_empty)
        });
        if builds {
            ctx.report_lock(
                stmt,
                &table,
                format!(
                    "builds a unique index on {table} under ACCESS EXCLUSIVE; CREATE UNIQUE \
                     INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX"
                ),
            );
        }
    }
}
