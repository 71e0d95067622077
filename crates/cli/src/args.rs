//! Command-line arguments. Parsed here, turned into plain library options in
//! `context.rs`; the libraries never see clap.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Own, deploy and run the MantisNXT inventory schema on PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "mantis", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Connection string (URL or `key=value`). Default: DATABASE_URL, then
    /// NEON_TARGET_URL, then the PG* variables and libpq defaults.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Run the migration files of DIR instead of the embedded MantisNXT set.
    #[arg(long, global = true, value_name = "DIR")]
    pub source: Option<PathBuf>,

    /// Output format for results on stdout (junit: `verify` only).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// How long to wait for another runner's migration lock.
    #[arg(long, global = true, value_parser = parse_duration, default_value = "60s", value_name = "DURATION")]
    pub lock_wait: Duration,

    /// lock_timeout for migration statements (a DDL waiting longer for a table lock is cancelled and retried).
    #[arg(long, global = true, value_parser = parse_duration, default_value = "5s", value_name = "DURATION")]
    pub lock_timeout: Duration,

    /// Retries of a statement cancelled by lock_timeout (SQLSTATE 55P03).
    #[arg(long, global = true, default_value_t = 3, value_name = "N")]
    pub lock_retries: u32,

    /// statement_timeout for migration statements (0 = none).
    #[arg(long, global = true, value_parser = parse_duration, default_value = "0s", value_name = "DURATION")]
    pub statement_timeout: Duration,

    /// Go on although versions recorded as applied are missing from the migration set.
    #[arg(long, global = true)]
    pub allow_missing: bool,

    /// Migrate up even when the live schema differs from what the newest applied
    /// migration defines (checked with its verify file).
    #[arg(long, global = true)]
    pub no_drift_check: bool,

    /// More logging on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Less output on stderr: no progress, no notices.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML (`verify` only).
    Junit,
}

/// How a command renders its result (JUnit is the verify command's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// One JSON document.
    Json,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show applied, pending, changed, missing and half-done migrations.
    Status,
    /// Show what `up` (or `down`) would run, with its SQL. Changes nothing.
    Plan {
        #[command(flatten)]
        target: Target,
        /// Plan a `down` instead of an `up`.
        #[arg(long)]
        down: bool,
    },
    /// Apply pending migrations (all, or up to --to).
    Up {
        #[command(flatten)]
        target: Target,
        /// Only print the plan.
        #[arg(long)]
        dry_run: bool,
        /// After applying, put back the data a down saved: a backup set's
        /// schema name, or `latest` (see `mantis backups`).
        #[arg(long, value_name = "NAME|latest")]
        restore_backup: Option<String>,
    },
    /// Revert migrations (the last one, or down to --to; --to 0 reverts all).
    Down {
        #[command(flatten)]
        target: Target,
        /// Only print the plan.
        #[arg(long)]
        dry_run: bool,
    },
    /// Record an existing, untracked database as being at a version, running nothing.
    Baseline {
        /// The version the database already has.
        #[arg(long, value_name = "V")]
        version: u64,
    },
    /// Load deterministic, realistic MantisNXT data into a database at version 1.
    Seed {
        /// Number of products (1 to 1,000,000).
        #[arg(long, default_value_t = mantis_datagen::Spec::default().products, value_name = "N")]
        products: u64,
        /// Number of warehouses (1 to 5).
        #[arg(long, default_value_t = mantis_datagen::Spec::default().warehouses, value_name = "N")]
        warehouses: usize,
        /// Random seed: the same seed gives the same data.
        #[arg(long, default_value_t = mantis_datagen::Spec::default().seed, value_name = "S")]
        seed: u64,
    },
    /// List the backup sets that `down` saved (schemas mantis_backup_*).
    Backups,
    /// Run the checks of a migration's verify file (default: the newest that has one).
    Verify {
        #[command(flatten)]
        verify: VerifyArgs,
    },
    /// The seed's quick health check, expected values beside the found ones.
    Health,
    /// pg_dump the database (custom format) to a file, verify it with
    /// pg_restore --list, and record it in history.
    Backup {
        /// The file to write (default: mantis-<database>-<UTC time>.dump); never overwritten.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        #[command(flatten)]
        tools: ToolArgs,
    },
    /// Restore a backup file into a new database.
    Restore {
        /// The backup file (custom format).
        file: PathBuf,
        /// The database to create and restore into (must not exist).
        #[arg(long, value_name = "NEW_DB")]
        into: String,
        #[command(flatten)]
        tools: ToolArgs,
    },
    /// The safe path in one command: preflight, backup, up, verify, refresh
    /// the views, summary; back to the starting version by itself if up or
    /// verify fails. Everything is also written to a log file.
    Deploy {
        /// Preflight and the plan only; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Skip the backup (only when you have one already).
        #[arg(long)]
        no_backup: bool,
        /// The backup file (default: mantis-<database>-<UTC time>.dump).
        #[arg(long, value_name = "PATH")]
        backup_file: Option<PathBuf>,
        /// The log file (default: mantis-deploy-<UTC time>.log).
        #[arg(long, value_name = "PATH")]
        log: Option<PathBuf>,
        /// Refuse when a transaction has been open longer than this.
        #[arg(long, value_parser = parse_duration, default_value = "5m", value_name = "DURATION")]
        max_transaction_age: Duration,
        #[command(flatten)]
        tools: ToolArgs,
        #[command(flatten)]
        verify: VerifyArgs,
    },
    /// The seed's story on a scratch database: 001, seed data, 003, summary.
    Demo {
        /// Name of the scratch database (re-created if a previous demo made it).
        #[arg(long, default_value = "mantis_demo", value_name = "NAME")]
        database: String,
        /// Number of products to seed.
        #[arg(long, default_value_t = mantis_datagen::Spec::default().products, value_name = "N")]
        products: u64,
    },
}

/// What `verify` checks and how strictly.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The migration whose checks run (default: the newest with a verify file).
    #[arg(long, value_name = "V")]
    pub version: Option<u64>,
    /// Brand coverage (% of products with a brand) must exceed this.
    #[arg(long, default_value = "50", value_name = "PCT")]
    pub min_brand_coverage: rust_decimal::Decimal,
    /// Cost coverage (% of stock rows in stock with a unit cost) must exceed this.
    #[arg(long, default_value = "70", value_name = "PCT")]
    pub min_cost_coverage: rust_decimal::Decimal,
    /// Whether a coverage below its minimum fails the run or only warns.
    #[arg(long, value_enum, default_value_t = CoverageSeverity::Failure)]
    pub coverage: CoverageSeverity,
}

/// Where the PostgreSQL client tools are.
#[derive(Debug, Args)]
pub struct ToolArgs {
    /// pg_dump to use (default: from PATH). Must be at least the server's major version.
    #[arg(long, default_value = "pg_dump", value_name = "PATH")]
    pub pg_dump: PathBuf,
    /// pg_restore to use (default: from PATH).
    #[arg(long, default_value = "pg_restore", value_name = "PATH")]
    pub pg_restore: PathBuf,
}

impl ToolArgs {
    /// The library's view.
    pub fn tools(&self) -> mantis_migrate::backup::Tools {
        mantis_migrate::backup::Tools {
            pg_dump: self.pg_dump.clone(),
            pg_restore: self.pg_restore.clone(),
        }
    }
}

/// `--coverage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CoverageSeverity {
    /// A coverage below its minimum fails the run.
    Failure,
    /// A coverage below its minimum is reported as a warning.
    Warning,
}

/// `--to V`.
#[derive(Debug, Args)]
pub struct Target {
    /// Target version.
    #[arg(long, value_name = "V")]
    pub to: Option<u64>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 500ms, 5s, 2m)"))
}
