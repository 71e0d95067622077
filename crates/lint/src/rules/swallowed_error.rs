//! An exception handler that discards every error.

use super::{Ctx, Rule};
use crate::file::Stmt;
use crate::finding::{Family, Severity};
use crate::{plpgsql, walk};

pub const RULE: Rule = Rule {
    id: "swallowed-error",
    family: Family::Correctness,
    severity: Severity::Error,
    hazard: "An EXCEPTION WHEN others handler that does not re-raise discards every error: the real failure (a dependent view, an overflow, a collision) is hidden, and a later statement fails with a misleading message or the object silently keeps its old definition.",
    safe: "Catch the specific SQLSTATE you expect (unique_violation, …), count or log it, and RAISE; or let the error stop the migration.",
    example: "DO $$ BEGIN\n    ALTER TABLE core.products ALTER COLUMN cost_price TYPE numeric(18,6);\nEXCEPTION WHEN others THEN NULL;\nEND $$;",
    check,
};

/// The file lines of the statement's `WHEN others` handlers, in order.
fn others_lines(stmt: &Stmt) -> Vec<usize> {
    stmt.sql
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.to_lowercase();
            let words: Vec<&str> = l.split_whitespace().collect();
            words
                .windows(2)
                .any(|w| w[0] == "when" && w[1].starts_with("others"))
        })
        .map(|(i, _)| stmt.line + i)
        .collect()
}

fn check(ctx: &mut Ctx<'_>) {
    for stmt in ctx.statements() {
        let Some(body) = plpgsql::body(stmt) else {
            continue;
        };
        let mut lines = others_lines(stmt).into_iter();
        for handler in walk::nodes(&body.tree, "PLpgSQL_exception") {
            let others = walk::nodes(&handler["conditions"], "PLpgSQL_condition")
                .iter()
                .any(|c| c["condname"].as_str() == Some("others"));
            let raises = !walk::nodes(&handler["action"], "PLpgSQL_stmt_raise").is_empty();
            let line = if others { lines.next() } else { None };
            if others && !raises {
                ctx.report_line(
                    stmt,
                    line.unwrap_or(stmt.line),
                    "EXCEPTION WHEN others without RAISE discards every error; catch the \
                     SQLSTATE you expect, count or log it, and re-raise the rest"
                        .to_string(),
                );
            }
        }
    }
}
