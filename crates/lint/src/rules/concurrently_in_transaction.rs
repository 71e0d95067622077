//! CONCURRENTLY inside a transaction block.

use pg_query::protobuf::AlterTableType as At;

use super::{Ctx, Rule};
use crate::file::Stmt;
use crate::finding::{Family, Severity};
use crate::locks::is_subcommand;
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "concurrently-in-transaction",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and DETACH PARTITION CONCURRENTLY cannot run inside a transaction block (25001): the migration fails.",
    safe: "Put it in its own file that starts with `-- mantis: no-transaction`, outside BEGIN … COMMIT.",
    example: "BEGIN;\nCREATE INDEX CONCURRENTLY products_brand ON core.products (brand_id);\nCOMMIT;",
    check,
};

fn concurrent(stmt: &Stmt) -> bool {
    let c = &stmt.c;
    match c.kind.as_str() {
        "IndexStmt" | "DropStmt" => c.get("concurrent").as_bool() == Some(true),
        "ReindexStmt" => walk::nodes(c.get("params"), "DefElem")
            .iter()
            .any(|d| d["defname"].as_str() == Some("concurrently")),
        "AlterTableStmt" => flow::alter_cmds(stmt).iter().any(|cmd| {
            is_subcommand(cmd, At::AtDetachPartition)
                && cmd.pointer("/def/node/PartitionCmd/concurrent") == Some(&true.into())
        }),
        _ => false,
    }
}

fn check(ctx: &mut Ctx<'_>) {
    let wrapped = ctx.file.transactional;
    for stmt in ctx.statements() {
        if concurrent(stmt) && stmt.in_transaction {
            let why = if wrapped {
                "mantis runs this file in one transaction"
            } else {
                "it is inside BEGIN … COMMIT"
            };
            ctx.report(
                stmt,
                None,
                format!(
                    "CONCURRENTLY cannot run inside a transaction block (25001) and {why}; \
                     put it in its own `-- mantis: no-transaction` file"
                ),
            );
        }
    }
}
