//! DROP TABLE IF EXISTS backup, then CREATE TABLE backup AS … under a fixed name.

use pg_query::protobuf::ObjectType;

use super::{Ctx, Rule};
use crate::file::created_table;
use crate::finding::{Family, Severity};
use crate::walk;

pub const RULE: Rule = Rule {
    id: "overwrite-backup",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "DROP TABLE IF EXISTS x, then CREATE TABLE x AS … under a fixed name: a second run destroys the first run's backup.",
    safe: "Name each backup uniquely (a timestamp or run id), or refuse when it already exists; never drop a backup in the script that makes it.",
    example: "DROP TABLE IF EXISTS core.products_backup;\nCREATE TABLE core.products_backup AS SELECT * FROM core.products;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let c = &stmt.c;
        let drops_table = c.is("DropStmt")
            && c.get("remove_type").as_i64() == Some(ObjectType::ObjectTable as i64)
            && c.get("missing_ok").as_bool() == Some(true);
        if !drops_table {
            continue;
        }
        for object in c.get("objects").as_array().into_iter().flatten() {
            let dropped = walk::name(&object["node"]["List"]["items"]);
            let remade = ctx.file.after(stmt.index).iter().find(|s| {
                s.c.is("CreateTableAsStmt")
                    && created_table(&s.c).is_some_and(|t| walk::same_relation(&t, &dropped))
            });
            if let Some(remade) = remade {
                ctx.report(
                    stmt,
                    None,
                    format!(
                        "{dropped} is dropped here and rebuilt at line {}: a second run \
                         destroys the first run's backup; give each backup a unique name, \
                         or refuse when it exists",
                        remade.line
                    ),
                );
            }
        }
    }
}
