//! DROP … CASCADE (and TRUNCATE … CASCADE).

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};

pub const RULE: Rule = Rule {
    id: "drop-cascade",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "DROP … CASCADE (or TRUNCATE … CASCADE) also drops or empties whatever depends on the object, named nowhere in the file: in a rollback, DROP TYPE … CASCADE drops the enum-typed columns of the very backup tables made to keep the data.",
    safe: "Drop the dependants by name, in order, after moving what must be kept; without CASCADE PostgreSQL refuses and names what still depends.",
    example: "CREATE TABLE core.movement_backup AS SELECT * FROM core.stock_movement;\nDROP TYPE core.movement_type CASCADE;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    const CASCADE: i64 = pg_query::protobuf::DropBehavior::DropCascade as i64;
    for stmt in ctx.statements() {
        let c = &stmt.c;
        if (c.is("DropStmt") || c.is("TruncateStmt")) && c.get("behavior").as_i64() == Some(CASCADE)
        {
            ctx.report(
                stmt,
                None,
                "CASCADE drops or empties every dependant, named nowhere here (columns of \
                 backup tables, views, foreign keys); drop the dependants by name instead"
                    .to_string(),
            );
        }
    }
}
