//! DROP CONSTRAINT IF EXISTS on an assumed name, then ADD CONSTRAINT.

use pg_query::protobuf::AlterTableType as At;

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::locks::is_subcommand;
use crate::{flow, walk};

pub const RULE: Rule = Rule {
    id: "assumed-constraint-name",
    family: Family::Correctness,
    severity: Severity::Warning,
    hazard: "DROP CONSTRAINT IF EXISTS with a name the file assumes (PostgreSQL's default name), then ADD CONSTRAINT: on a database whose constraint is named otherwise nothing is dropped, both constraints hold, and the old rule still wins.",
    safe: "Find the constraint by what it is (pg_constraint: conrelid, contype, conkey, confrelid) and drop that one by its real name, or refuse when it is not the one expected.",
    example: "ALTER TABLE core.stock_movement DROP CONSTRAINT IF EXISTS stock_movement_product_id_fkey;\nALTER TABLE core.stock_movement ADD CONSTRAINT stock_movement_product_id_fkey\n    FOREIGN KEY (product_id) REFERENCES core.products (id) ON DELETE RESTRICT;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let table = flow::altered_table(stmt);
        for cmd in flow::alter_cmds(stmt) {
            let guessed = is_subcommand(cmd, At::AtDropConstraint)
                && cmd["missing_ok"].as_bool() == Some(true);
            if !guessed {
                continue;
            }
            let name = cmd["name"].as_str().unwrap_or("");
            let readded = ctx.statements()[stmt.index..].iter().any(|s| {
                walk::same_relation(&flow::altered_table(s), &table)
                    && flow::alter_cmds(s).iter().any(|c| {
                        flow::added_constraint(c).is_some_and(|k| {
                            k["conname"]
                                .as_str()
                                .is_some_and(|n| n.eq_ignore_ascii_case(name))
                        })
                    })
            });
            if readded {
                ctx.report(
                    stmt,
                    None,
                    format!(
                        "DROP CONSTRAINT IF EXISTS {name} assumes the constraint's name: where \
                         it is named otherwise nothing is dropped and both rules hold; find it \
                         in pg_constraint by its definition and drop it by its real name"
                    ),
                );
            }
        }
    }
}
