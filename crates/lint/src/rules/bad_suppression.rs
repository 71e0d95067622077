//! A suppression comment without a reason, or naming no rule.

use super::{Ctx, Rule};
use crate::finding::{Family, Severity};
use crate::suppress;

pub const RULE: Rule = Rule {
    id: "bad-suppression",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "A `-- mantis-lint:` comment that lacks a reason or names no rule: it silences nothing, and a hazard someone meant to accept knowingly is accepted silently or not at all.",
    safe: "`-- mantis-lint: allow <rule-id>: <why the hazard does not apply here>`, on the line above the statement.",
    example: "-- mantis-lint: allow drop-cascade\nDROP TYPE core.movement_type CASCADE;",
    check,
};

fn check(ctx: &mut Ctx<'_>) {
    let (_, malformed) = suppress::read(ctx.file);
    for m in malformed {
        let stmt = ctx
            .statements()
            .iter()
            .find(|s| s.end_line() >= m.line)
            .or_else(|| ctx.statements().last());
        if let Some(stmt) = stmt {
            ctx.report_line(stmt, m.line, m.problem);
        }
    }
}
