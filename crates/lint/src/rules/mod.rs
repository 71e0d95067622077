//! The rules: one file each, one line each in [`ALL`].

use crate::file::{SqlFile, Stmt};
use crate::finding::{Family, Finding, Severity};
use crate::Options;

mod assumed_constraint_name;
mod backfill_from_new_table;
mod bad_suppression;
mod blocking_maintenance;
mod bytes_format_on_money;
mod cascade_into_audit;
mod concurrently_in_transaction;
mod constraint_before_backfill;
mod constraint_without_not_valid;
mod default_defeats_backfill;
mod drop_and_readd_column;
mod drop_cascade;
mod drop_index_without_concurrently;
mod enum_value_used_too_soon;
mod fk_over_dirty_column;
mod index_without_concurrently;
mod lock_timeout_missing;
mod low_precision_money;
mod many_tables_locked;
mod not_null_without_default;
mod null_as_zero_in_average;
mod overwrite_backup;
mod raise_outside_plpgsql;
mod refresh_concurrently_needs_unique;
mod refresh_without_concurrently;
mod runner_refuses;
mod set_not_null_scan;
mod silent_conflict_drop;
mod swallowed_error;
mod syntax_error;
mod table_rewrite;
mod unique_without_index;
mod unlocked_read_modify_write;
mod unqualified_regclass;
mod validate_in_same_transaction;
mod validation_cannot_fail;
mod validation_writes;
mod view_before_backfill;
mod volatile_index_predicate;
mod whole_table_update;

/// A lint rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable id, e.g. `volatile-index-predicate`.
    pub id: &'static str,
    /// Locks and availability, or correctness.
    pub family: Family,
    /// Default severity.
    pub severity: Severity,
    /// The hazard, in one sentence.
    pub hazard: &'static str,
    /// The safe form, in one sentence.
    pub safe: &'static str,
    /// A minimal statement sequence it flags (shown in the docs).
    pub example: &'static str,
    /// Finds the hazard in one file.
    pub check: fn(&mut Ctx<'_>),
}

/// Every rule, in the order the docs list them.
pub const ALL: &[&Rule] = &[
    // Correctness: fails at run time.
    &syntax_error::RULE,
    &runner_refuses::RULE,
    &bad_suppression::RULE,
    &volatile_index_predicate::RULE,
    &raise_outside_plpgsql::RULE,
    &concurrently_in_transaction::RULE,
    &refresh_concurrently_needs_unique::RULE,
    &constraint_before_backfill::RULE,
    &fk_over_dirty_column::RULE,
    &unqualified_regclass::RULE,
    &not_null_without_default::RULE,
    &enum_value_used_too_soon::RULE,
    // Correctness: succeeds and loses or corrupts data.
    &swallowed_error::RULE,
    &default_defeats_backfill::RULE,
    &backfill_from_new_table::RULE,
    &silent_conflict_drop::RULE,
    &view_before_backfill::RULE,
    &assumed_constraint_name::RULE,
    &cascade_into_audit::RULE,
    &drop_cascade::RULE,
    &drop_and_readd_column::RULE,
    &overwrite_backup::RULE,
    &unlocked_read_modify_write::RULE,
    &null_as_zero_in_average::RULE,
    &low_precision_money::RULE,
    &validation_writes::RULE,
    &validation_cannot_fail::RULE,
    &bytes_format_on_money::RULE,
    // Locks and availability.
    &index_without_concurrently::RULE,
    &drop_index_without_concurrently::RULE,
    &constraint_without_not_valid::RULE,
    &validate_in_same_transaction::RULE,
    &set_not_null_scan::RULE,
    &table_rewrite::RULE,
    &unique_without_index::RULE,
    &refresh_without_concurrently::RULE,
    &whole_table_update::RULE,
    &many_tables_locked::RULE,
    &blocking_maintenance::RULE,
    &lock_timeout_missing::RULE,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// What a rule's check sees and where it reports.
pub struct Ctx<'a> {
    /// The file.
    pub file: &'a SqlFile,
    /// The files of the set before this one, in order.
    pub earlier: &'a [SqlFile],
    /// The run's options.
    pub options: &'a Options,
    rule: &'static Rule,
    found: Vec<Finding>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        rule: &'static Rule,
        file: &'a SqlFile,
        earlier: &'a [SqlFile],
        options: &'a Options,
    ) -> Ctx<'a> {
        Ctx {
            file,
            earlier,
            options,
            rule,
            found: Vec::new(),
        }
    }

    pub(crate) fn into_findings(self) -> Vec<Finding> {
        self.found
    }

    /// The file's statements.
    pub fn statements(&self) -> &'a [Stmt] {
        &self.file.statements
    }

    /// The statement's target relation (`relation`), if it existed before this file.
    pub fn existing_target(&self, stmt: &Stmt) -> Option<String> {
        let table = crate::walk::range_var(stmt.c.get("relation"));
        self.file.is_existing(&table, stmt.index).then_some(table)
    }

    /// Every ALTER TABLE subcommand on a table that existed before this
    /// file, with its statement and table.
    pub fn existing_alter_cmds(&self) -> Vec<(&'a Stmt, String, &'a serde_json::Value)> {
        let mut out = Vec::new();
        for stmt in self.statements() {
            let table = crate::flow::altered_table(stmt);
            if !self.file.is_existing(&table, stmt.index) {
                continue;
            }
            for cmd in crate::flow::alter_cmds(stmt) {
                out.push((stmt, table.clone(), cmd));
            }
        }
        out
    }

    /// Reports the hazard at `offset` (bytes into the statement, e.g. a
    /// node's `location`), or at the statement's start.
    pub fn report(&mut self, stmt: &Stmt, offset: Option<usize>, message: String) {
        let (line, column) = self.file.position(stmt, offset);
        self.push(stmt, line, column, message, None);
    }

    /// Reports a lock hazard on existing `table` (weighed against the database when one is given).
    pub fn report_lock(&mut self, stmt: &Stmt, table: &str, message: String) {
        let (line, column) = self.file.position(stmt, None);
        self.push(stmt, line, column, message, Some(table.to_string()));
    }

    /// Reports the hazard at a file line (a PL/pgSQL body line).
    pub fn report_line(&mut self, stmt: &Stmt, line: usize, message: String) {
        self.push(stmt, line, 1, message, None);
    }

    /// Reports a hazard of the whole file at a line (no statement to show).
    pub fn report_file(&mut self, line: usize, message: String) {
        let excerpt = self
            .file
            .text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("");
        let stmt = Stmt {
            index: 0,
            line,
            offset: 0,
            sql: excerpt.to_string(),
            c: crate::statement::classify(""),
            in_transaction: false,
            batched: false,
            body: std::cell::OnceCell::new(),
        };
        self.push(&stmt, line, 1, message, None);
    }

    fn push(
        &mut self,
        stmt: &Stmt,
        line: usize,
        column: usize,
        message: String,
        table: Option<String>,
    ) {
        self.found.push(Finding {
            rule: self.rule.id,
            family: self.rule.family,
            severity: self.rule.severity,
            file: self.file.path.clone(),
            line,
            column,
            message,
            excerpt: stmt.excerpt(),
            table,
            weight: None,
            downgraded: None,
        });
    }
}
