//! A validation that can only print.

use super::{Ctx, Rule};
use crate::file::FileKind;
use crate::finding::{Family, Severity};
use crate::{plpgsql, walk};

pub const RULE: Rule = Rule {
    id: "validation-cannot-fail",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "A validation reports problems only with RAISE NOTICE or SELECT output and never RAISE EXCEPTION: it exits 0 on a broken database, and a deploy gated on it passes.",
    safe: "Make every check fail: RAISE EXCEPTION (or ASSERT) when it finds a problem; in a mantis verify file, return the offending rows.",
    example: "-- validate_003.sql\nDO $$ BEGIN\n    IF EXISTS (SELECT FROM core.products WHERE brand_id IS NULL) THEN\n        RAISE NOTICE 'products without brand';\n    END IF;\n    RAISE NOTICE 'SUCCESS';\nEND $$;",
    check,
};

/// PL/pgSQL's level of `RAISE EXCEPTION` (PostgreSQL's ERROR, 21).
const ERROR_LEVEL: i64 = 21;

fn can_fail(body: &plpgsql::Body) -> bool {
    let raises = walk::nodes(&body.tree, "PLpgSQL_stmt_raise")
        .iter()
        .any(|r| r["elog_level"].as_i64().is_none_or(|l| l >= ERROR_LEVEL));
    raises || !walk::nodes(&body.tree, "PLpgSQL_stmt_assert").is_empty()
}

fn check(ctx: &mut Ctx<'_>) {
    if !ctx.file.is_validation() {
        return;
    }
    let verify = ctx.file.kind == FileKind::Verify;
    let mut any_can_fail = false;
    for stmt in ctx.statements() {
        match plpgsql::body(stmt) {
            Some(body) if can_fail(body) => any_can_fail = true,
            Some(_) if verify => ctx.report(
                stmt,
                None,
                "this check block never raises an exception: it cannot fail; RAISE \
                 EXCEPTION when the rule does not hold"
                    .to_string(),
            ),
            _ => {}
        }
    }
    // A mantis verify file fails on the rows its queries return.
    if !verify && !any_can_fail {
        if let Some(first) = ctx.statements().first() {
            ctx.report(
                first,
                None,
                "nothing in this validation script can fail (no RAISE EXCEPTION, no ASSERT): \
                 it exits 0 on a broken database; raise when a check finds a problem"
                    .to_string(),
            );
        }
    }
}
