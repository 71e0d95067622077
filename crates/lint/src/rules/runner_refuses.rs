//! A file mantis's loader refuses to run.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};

pub const RULE: Rule = Rule {
    id: "runner-refuses",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "mantis refuses to load the file (a header option it does not know, transaction control in a transactional file, COPY FROM STDIN, a batch it cannot run): nothing of it runs.",
    safe: "Do what the message says; docs/migrations.md describes file headers and batches.",
    example: "BEGIN;\nALTER TABLE core.products ADD COLUMN note text;\nCOMMIT;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    let Some(refused) = ctx.file.refused.clone() else {
        return;
    };
    let line = refused
        .strip_prefix("line ")
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse::<usize>().ok());
    let stmt = line
        .and_then(|l| ctx.statements().iter().find(|s| s.line == l))
        .or_else(|| ctx.statements().first());
    if let Some(stmt) = stmt {
        ctx.report(
            stmt,
            None,
            format!("mantis refuses to run this file: {refused}"),
        );
    }
}
