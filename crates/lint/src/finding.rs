//! What lint reports: one finding per hazard, where it is and what to do.

use serde::Serialize;

/// How bad a hazard is (LINT-CASES.md's guide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Style that hid a defect.
    Info,
    /// An outage, or a wrong result on some data.
    Warning,
    /// Fails at run time, or loses data.
    Error,
}

impl Severity {
    /// `error`, `warning`, `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `error`, `warning`, `info`.
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }

    /// One step milder (an error becomes a warning, a warning info).
    pub fn milder(self) -> Severity {
        match self {
            Severity::Error => Severity::Warning,
            _ => Severity::Info,
        }
    }
}

/// The two families of rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Locks and availability: what other sessions wait for.
    Locks,
    /// Correctness: fails at run time, or succeeds and loses data.
    Correctness,
}

impl Family {
    /// `locks` or `correctness`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Locks => "locks",
            Family::Correctness => "correctness",
        }
    }
}

/// The live table a lock hazard falls on, once weighed against a database.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weight {
    /// The planner's row estimate (`pg_class.reltuples`; -1 when never analysed).
    pub rows: i64,
    /// Table, indexes and TOAST, in bytes.
    pub bytes: i64,
}

/// One hazard found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Rule id, e.g. `volatile-index-predicate`.
    pub rule: &'static str,
    /// Its family.
    pub family: Family,
    /// Severity after configuration and weighing.
    pub severity: Severity,
    /// File as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The hazard and the safe form.
    pub message: String,
    /// The statement's first line.
    pub excerpt: String,
    /// The existing table a lock hazard falls on (schema-qualified as
    /// written), for weighing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The table's size, when weighed against a database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Weight>,
    /// Why the severity was lowered (an empty or missing table), if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downgraded: Option<String>,
}
