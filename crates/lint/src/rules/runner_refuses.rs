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
    let line = line_named(&refused);
    let message = format!("mantis refuses to run this file: {refused}");
    let stmt = line
        .and_then(|l| ctx.statements().iter().find(|s| s.line == l))
        .or_else(|| ctx.statements().first());
    match stmt {
        Some(stmt) => ctx.report(stmt, None, message),
        // Nothing could be split (an unterminated quote or comment).
        None => ctx.report_file(line.unwrap_or(1), message),
    }
}

/// The first `line N` the loader's message names.
fn line_named(message: &str) -> Option<usize> {
    message.match_indices("line ").find_map(|(at, word)| {
        let digits: String = message[at + word.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}
