//! Command-line arguments. Parsed here, turned into plain library options in
//! `context.rs`; the libraries never see clap.

use mantis_migrate::batch::LagLimit;
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

/// Options every command takes: where to connect, how results are
/// written, how much is said on stderr. The rest belong to the commands
/// that use them.
#[derive(Debug, Args)]
pub struct Global {
    /// Connection string (URL or `key=value`). Default: DATABASE_URL, then
    /// NEON_TARGET_URL, then the PG* variables and libpq defaults.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Output format for results on stdout (junit: `verify` only; sarif: `lint` only; csv: listings only).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// More logging on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Less output on stderr: no progress, no notices.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// How the run's events (progress, retries, waits for standbys, notices) are
    /// written on stderr: text for people, or json for programs, one object
    /// per line, named by its "event" field (docs/execution-guide.md).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people, progress bars on a terminal.
    Text,
    /// One JSON object per event and line.
    Json,
}

/// Which migrations a command works with.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// Run the migration files of DIR instead of the embedded MantisNXT set
    /// (default: mantis.toml's [migrations] dir, else the embedded set).
    #[arg(long, value_name = "DIR", env = "MANTIS_SOURCE")]
    pub source: Option<PathBuf>,
}

/// How long to wait for another runner's migration lock.
#[derive(Debug, Args)]
pub struct LockWaitArg {
    /// How long to wait for another runner's migration lock.
    #[arg(long, value_parser = parse_duration, default_value = "60s", value_name = "DURATION")]
    pub lock_wait: Duration,
}

/// How a run is planned: the set, the migration lock, the history checks.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub set: SetArgs,
    #[command(flatten)]
    pub session: SessionArg,
    #[command(flatten)]
    pub lock: LockWaitArg,
    /// Go on although versions recorded as applied are missing from the migration set.
    #[arg(long)]
    pub allow_missing: bool,
    /// Migrate up even when the live schema differs from what the newest applied
    /// migration defines (checked with its verify file).
    #[arg(long)]
    pub no_drift_check: bool,
    /// What to do about triggers, rules and row-level security policies that
    /// no migration of the set made, on the tables a migration writes:
    /// refuse before any change (default), or fire (they act on the
    /// migration's writes as on any other; the run names each).
    #[arg(long, value_enum, default_value = "refuse", value_name = "HOW")]
    pub user_triggers: UserTriggers,
}

/// `--user-triggers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UserTriggers {
    /// Refuse before any change, naming each.
    Refuse,
    /// Let them act on the migration's writes.
    Fire,
}

/// Where a command that needs one server session connects.
#[derive(Debug, Args)]
pub struct SessionArg {
    /// Connection string for this command when --database-url goes through a
    /// transaction-mode pooler (PgBouncer, Neon's -pooler host): the server
    /// itself, or a session-mode pool.
    #[arg(
        long,
        value_name = "URL",
        env = "MANTIS_DIRECT_URL",
        hide_env_values = true
    )]
    pub migration_url: Option<String>,
}

/// How migration statements run: timeouts, retries, the pace of batches.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// lock_timeout for migration statements (a DDL waiting longer for a table
    /// lock is cancelled and retried). Default: mantis.toml's [run], else 5s.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", env = "MANTIS_LOCK_TIMEOUT")]
    pub lock_timeout: Option<Duration>,
    /// Retries of a statement cancelled by lock_timeout (SQLSTATE 55P03).
    /// Default: mantis.toml's [run], else 3.
    #[arg(
        allow_negative_numbers = true,
        long,
        value_name = "N",
        env = "MANTIS_LOCK_RETRIES"
    )]
    pub lock_retries: Option<u32>,
    /// statement_timeout for migration statements (0 = none). Default:
    /// mantis.toml's [run], else 0.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", env = "MANTIS_STATEMENT_TIMEOUT")]
    pub statement_timeout: Option<Duration>,
    /// Target time of one batch of a batched statement (overrides the file's `time=`; shorter: writers wait less, the backfill takes longer).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub batch_time: Option<Duration>,
    /// The longest one batch may hold its row locks: a batch still running then is
    /// cancelled, rolled back and tried again at a quarter of its size (overrides the
    /// file's `hold=`; default 2 × the batch time).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub batch_hold: Option<Duration>,
    /// Pause between two batches of a batched statement (overrides the file's `pause=`).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub batch_pause: Option<Duration>,
    /// Hold batches while a standby is further behind than this: a size of WAL
    /// not yet replayed (64MB, 1GB), a replay_lag duration (2s), or off.
    #[arg(long, value_parser = parse_lag_limit, default_value = "64MB", value_name = "SIZE|DURATION|off")]
    pub max_replication_lag: LagLimit,
    /// backend_flush_after of the migration session: the OS writes the pages
    /// it evicts once this much is pending (0 = never), so its backfills leave
    /// no pile of dirty pages whose flush stalls other sessions' commits.
    #[arg(allow_negative_numbers = true, long, value_parser = parse_flush_after, default_value = "2MB", value_name = "SIZE")]
    pub flush_after: u32,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text (`table` is the same).
    #[value(alias = "table")]
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML (`verify` only).
    Junit,
    /// SARIF 2.1.0, for code-scanning tools (`lint` only).
    Sarif,
    /// Comma-separated values with a header row (listings: `report`,
    /// `stock history|levels`, `brand list`).
    Csv,
}

/// A product, a warehouse and a quantity: what every posting names.
#[derive(Debug, Args)]
pub struct LineArgs {
    /// Product SKU.
    #[arg(long, value_name = "SKU")]
    pub sku: String,
    /// Warehouse code.
    #[arg(long, value_name = "CODE")]
    pub warehouse: String,
    /// Quantity (up to 4 decimal places).
    #[arg(long, value_parser = parse_decimal, allow_hyphen_values = true, value_name = "QTY")]
    pub quantity: rust_decimal::Decimal,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Where a posting comes from (makes it idempotent).
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Source document number (e.g. PO-1001).
    #[arg(long, value_name = "DOC")]
    pub reference: Option<String>,
    /// Line of the source document; with --reference, posting it twice applies it once.
    #[arg(allow_negative_numbers = true, long, value_name = "N")]
    pub line: Option<u32>,
    /// Explicit idempotency key (instead of reference and line).
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Free text kept on the movement.
    #[arg(long, value_name = "TEXT")]
    pub notes: Option<String>,
}

/// `mantis stock …`.
#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Goods in from a supplier, at their unit cost.
    Receive {
        #[command(flatten)]
        line: LineArgs,
        /// Unit cost (up to 6 decimal places).
        #[arg(allow_negative_numbers = true, long, value_parser = parse_decimal, value_name = "COST")]
        unit_cost: rust_decimal::Decimal,
    },
    /// Goods out to a customer, at the current average cost.
    Ship {
        #[command(flatten)]
        line: LineArgs,
    },
    /// A correction: a signed quantity (+ in, - out).
    Adjust {
        #[command(flatten)]
        line: LineArgs,
        /// Unit cost of what comes in (default: the current average).
        #[arg(allow_negative_numbers = true, long, value_parser = parse_decimal, value_name = "COST")]
        unit_cost: Option<rust_decimal::Decimal>,
    },
    /// From one warehouse to another, at the sender's average cost.
    Transfer {
        /// Product SKU.
        #[arg(long, value_name = "SKU")]
        sku: String,
        /// Sending warehouse code.
        #[arg(long, value_name = "CODE")]
        from: String,
        /// Receiving warehouse code.
        #[arg(long, value_name = "CODE")]
        to: String,
        /// Quantity.
        #[arg(allow_negative_numbers = true, long, value_parser = parse_decimal, value_name = "QTY")]
        quantity: rust_decimal::Decimal,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Post a batch file (.csv or .json) in one transaction: all lines or none.
    Post {
        /// The batch file.
        file: PathBuf,
    },
    /// The movements of a product, in the order they were applied.
    History {
        /// Product SKU.
        #[arg(long, value_name = "SKU")]
        sku: String,
        /// Only this warehouse.
        #[arg(long, value_name = "CODE")]
        warehouse: Option<String>,
        /// At most this many movements.
        #[arg(
            allow_negative_numbers = true,
            long,
            default_value_t = 100,
            value_name = "N",
            value_parser = clap::value_parser!(i64).range(1..)
        )]
        limit: i64,
    },
    /// Live stock levels (not from a view).
    Levels {
        /// Only this product.
        #[arg(long, value_name = "SKU")]
        sku: Option<String>,
        /// Only this warehouse.
        #[arg(long, value_name = "CODE")]
        warehouse: Option<String>,
        /// At most this many rows.
        #[arg(
            allow_negative_numbers = true,
            long,
            default_value_t = 100,
            value_name = "N",
            value_parser = clap::value_parser!(i64).range(1..)
        )]
        limit: i64,
    },
}

/// `mantis report …`.
#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// Stock value per warehouse.
    Valuation,
    /// Stock per product across warehouses, most valuable first.
    Summary {
        /// Only products whose SKU starts with, or name contains, this text.
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// At most this many rows.
        #[arg(
            allow_negative_numbers = true,
            long,
            default_value_t = 50,
            value_name = "N",
            value_parser = clap::value_parser!(i64).range(1..)
        )]
        limit: i64,
    },
    /// Stock rows below their reorder level, worst first.
    LowStock {
        /// The least severe alerts to show.
        #[arg(long, value_enum, default_value_t = SeverityArg::Low)]
        severity: SeverityArg,
        /// At most this many rows.
        #[arg(
            allow_negative_numbers = true,
            long,
            default_value_t = 100,
            value_name = "N",
            value_parser = clap::value_parser!(i64).range(1..)
        )]
        limit: i64,
    },
}

/// `--copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CopyArg {
    /// A template clone when the database is idle, else a dump.
    Auto,
    /// CREATE DATABASE … TEMPLATE (the database must have no other sessions).
    Template,
    /// pg_dump and pg_restore.
    Dump,
}

impl CopyArg {
    /// The library's view.
    pub fn choice(self) -> mantis_migrate::rehearse::CopyChoice {
        use mantis_migrate::rehearse::CopyChoice;
        match self {
            CopyArg::Auto => CopyChoice::Auto,
            CopyArg::Template => CopyChoice::Template,
            CopyArg::Dump => CopyChoice::Dump,
        }
    }
}

/// `--severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Nothing left.
    OutOfStock,
    /// At most half the reorder level.
    Critical,
    /// Below the reorder level.
    Low,
}

/// `mantis maintain`.
#[derive(Debug, Args)]
pub struct MaintainArgs {
    /// Only these tasks (default: all).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "TASK")]
    pub only: Vec<MaintainTask>,
    /// Report INVALID indexes without rebuilding them.
    #[arg(long)]
    pub no_rebuild: bool,
    /// The longest any statement waits for a lock; one that would wait longer
    /// is skipped and reported.
    #[arg(long, value_parser = parse_duration, default_value = "100ms", value_name = "DURATION")]
    pub lock_timeout: Duration,
    /// Run again after this long (e.g. 1d), until interrupted.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub every: Option<Duration>,
    #[command(flatten)]
    pub session: SessionArg,
}

/// A task of `mantis maintain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MaintainTask {
    /// ANALYZE the core tables.
    Analyze,
    /// INVALID indexes: report, and rebuild CONCURRENTLY.
    Indexes,
    /// Movements per month, table and index sizes, dead rows.
    Growth,
    /// Brands spelled several ways, products without brand, stock without
    /// cost, contact issues, dangling legacy brand ids, low stock, value.
    Audit,
}

/// `mantis ledger …`.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Move the movements created before DATE to core.stock_movement_archive,
    /// a range of products per transaction; each stock row keeps one
    /// carried-balance movement, so on-hand = sum of movements still holds.
    /// Resumable: run it again to carry on.
    Archive {
        /// The cut (YYYY-MM-DD, the server's time zone): movements created
        /// before the start of this day move.
        #[arg(long, value_name = "DATE")]
        before: chrono::NaiveDate,
        #[command(flatten)]
        batching: BatchingArgs,
        #[command(flatten)]
        session: SessionArg,
    },
    /// Put every archived movement back in core.stock_movement and remove the
    /// carried balances that stood for them. Resumable.
    Unarchive {
        #[command(flatten)]
        batching: BatchingArgs,
        #[command(flatten)]
        session: SessionArg,
    },
}

/// How `ledger archive` and `unarchive` size their transactions.
#[derive(Debug, Args)]
pub struct BatchingArgs {
    /// Products in the first transaction; the next ones are sized so that
    /// each takes about --batch-time.
    #[arg(allow_negative_numbers = true, long, default_value_t = 50, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    pub batch: i64,
    /// How long one transaction should take (a stock row whose old movements
    /// carry idempotency keys stays locked that long).
    #[arg(long, value_parser = parse_duration, default_value = "100ms", value_name = "DURATION")]
    pub batch_time: Duration,
}

impl BatchingArgs {
    /// As the library takes it.
    pub fn batching(&self) -> mantis_inventory::archive::Batching {
        mantis_inventory::archive::Batching {
            first: self.batch,
            target: self.batch_time,
        }
    }
}

/// `mantis brand …`.
#[derive(Debug, Subcommand)]
pub enum BrandCommand {
    /// Every brand with its product count.
    List,
    /// Add a brand (its code is derived from the name unless given).
    Add {
        /// Brand name (unique, ignoring case and spacing).
        name: String,
        /// Code (A-Z, 0-9, _).
        #[arg(long)]
        code: Option<String>,
        /// Website.
        #[arg(long)]
        website: Option<String>,
    },
    /// Move every product of brand FROM to brand INTO and remove FROM.
    Merge {
        /// Code of the brand that goes away.
        from: String,
        /// Code of the brand that stays.
        into: String,
    },
}

/// `mantis supplier …`.
#[derive(Debug, Subcommand)]
pub enum SupplierCommand {
    /// Show a supplier's contact fields, or set them (validated like the database does).
    Contact {
        /// Supplier name (case-insensitive) or id.
        name: String,
        /// Email.
        #[arg(long)]
        email: Option<String>,
        /// Phone.
        #[arg(long)]
        phone: Option<String>,
        /// Website.
        #[arg(long)]
        website: Option<String>,
        /// Payment terms (e.g. "Net 30").
        #[arg(long)]
        payment_terms: Option<String>,
    },
}

fn parse_decimal(text: &str) -> Result<rust_decimal::Decimal, String> {
    mantis_inventory::decimal::parse("", text).map_err(|e| e.trim_start().to_string())
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show applied, pending, changed, missing and half-done migrations.
    Status {
        #[command(flatten)]
        set: SetArgs,
    },
    /// Show what `up` (or `down`) would run, with its SQL. Changes nothing.
    Plan {
        #[command(flatten)]
        target: TargetArg,
        /// Plan a `down` instead of an `up`.
        #[arg(long)]
        down: bool,
        #[command(flatten)]
        plan: PlanArgs,
    },
    /// Apply pending migrations (all, or up to --to).
    Up {
        #[command(flatten)]
        target: TargetArg,
        /// Only print the plan.
        #[arg(long)]
        dry_run: bool,
        /// After applying, put back the data a `down` saved: a saved set's
        /// schema name, or `latest` (see `mantis saved`). (Formerly
        /// `--restore-backup`, still accepted.)
        #[arg(long, alias = "restore-backup", value_name = "NAME|latest")]
        restore_saved: Option<String>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Revert migrations (the last one, or down to --to; --to 0 reverts all).
    Down {
        #[command(flatten)]
        target: TargetArg,
        /// Only print the plan.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Record an existing, untracked database as being at a version, running nothing.
    Baseline {
        /// The version the database already has.
        #[arg(allow_negative_numbers = true, long, value_name = "V")]
        version: u64,
        /// Record it although the checks of the migrations it records fail,
        /// for the reason given (kept in the event log).
        #[arg(long, value_name = "REASON")]
        force: Option<String>,
        #[command(flatten)]
        set: SetArgs,
        #[command(flatten)]
        lock: LockWaitArg,
        #[command(flatten)]
        session: SessionArg,
    },
    /// Load deterministic, realistic MantisNXT data into a database at version 1.
    Seed {
        /// Number of products (1 to 1,000,000).
        #[arg(allow_negative_numbers = true, long, default_value_t = mantis_datagen::Spec::default().products, value_name = "N")]
        products: u64,
        /// Number of warehouses (1 to 5).
        #[arg(allow_negative_numbers = true, long, default_value_t = mantis_datagen::Spec::default().warehouses, value_name = "N")]
        warehouses: usize,
        /// Random seed: the same seed gives the same data.
        #[arg(allow_negative_numbers = true, long, default_value_t = mantis_datagen::Spec::default().seed, value_name = "S")]
        seed: u64,
        #[command(flatten)]
        session: SessionArg,
    },
    /// List the data sets that `down` saved before reverting a migration
    /// (schemas mantis_backup_*), which `up --restore-saved` puts back. Not
    /// to be confused with `mantis backup`, a pg_dump file. (Formerly
    /// `mantis backups`, still accepted.)
    #[command(alias = "backups")]
    Saved,
    /// Run the checks of a migration's verify file (default: the newest applied one that has one).
    Verify {
        #[command(flatten)]
        verify: VerifyArgs,
        #[command(flatten)]
        set: SetArgs,
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
    Deploy(DeployArgs),
    /// Find a migration set's hazards before anything runs, with PostgreSQL's
    /// own parser: lock and availability hazards, and correctness mistakes
    /// (docs/lint.md). With --database-url, lock hazards name the live table's
    /// size. Exit 9 when a finding is at --fail-on or above.
    Lint(LintArgs),
    /// Run the pending migrations on a copy of the database and report, per
    /// statement, its duration, the locks it holds on existing tables and how
    /// long a concurrent reader and writer of the busiest tables waited.
    Rehearse(RehearseArgs),
    /// Post stock movements and read the ledger (needs migration 004).
    Stock {
        #[command(subcommand)]
        command: StockCommand,
    },
    /// Inventory reports from the views, with when they were last refreshed.
    Report {
        #[command(subcommand)]
        report: ReportKind,
    },
    /// Refresh the three inventory views, one at a time, concurrently (readers
    /// keep reading); with --every, keep doing it until Ctrl-C.
    Refresh {
        /// Refresh again after this long (e.g. 15m), until interrupted.
        #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
        every: Option<Duration>,
        #[command(flatten)]
        session: SessionArg,
    },
    /// The ledger's housekeeping: archive old movements behind carried
    /// balances, or put them back (needs migration 005).
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// The seed's maintenance schedule, safe on a busy database: ANALYZE of
    /// the core tables, INVALID indexes rebuilt CONCURRENTLY, growth (movements
    /// per month, sizes, dead rows) and the data-quality audit (brands spelled
    /// several ways, with the merge to run). With --every, keep doing it.
    Maintain(MaintainArgs),
    /// The brand catalogue.
    Brand {
        #[command(subcommand)]
        command: BrandCommand,
    },
    /// Suppliers.
    Supplier {
        #[command(subcommand)]
        command: SupplierCommand,
    },
    /// Shell completions for bash, zsh, fish, elvish or powershell, on stdout
    /// (e.g. `mantis completions bash > /etc/bash_completion.d/mantis`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page (roff), on stdout (e.g. `mantis man > mantis.1; man ./mantis.1`).
    Man,
    /// The seed's story on a scratch database: 001, seed data, 003, 004, summary.
    Demo {
        /// Name of the scratch database (re-created if a previous demo made it).
        #[arg(long, default_value = "mantis_demo", value_name = "NAME")]
        database: String,
        /// Number of products to seed.
        #[arg(allow_negative_numbers = true, long, default_value_t = mantis_datagen::Spec::default().products, value_name = "N")]
        products: u64,
        #[command(flatten)]
        session: SessionArg,
    },
}

/// `mantis deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Preflight and the plan only; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip the backup (only when you have one already).
    #[arg(long)]
    pub no_backup: bool,
    /// The backup file (default: mantis-<database>-<UTC time>.dump).
    #[arg(long, value_name = "PATH")]
    pub backup_file: Option<PathBuf>,
    /// The log file (default: mantis-deploy-<UTC time>.log).
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// Refuse when a transaction has been open longer than this.
    #[arg(long, value_parser = parse_duration, default_value = "5m", value_name = "DURATION")]
    pub max_transaction_age: Duration,
    /// Deploy although lint finds errors in the migrations to run (the log
    /// records it); without it such a deploy is refused, exit 9.
    #[arg(long)]
    pub allow_lint_errors: bool,
    #[command(flatten)]
    pub tools: ToolArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `mantis rehearse`.
#[derive(Debug, Args)]
pub struct RehearseArgs {
    #[command(flatten)]
    pub target: TargetArg,
    /// How to copy the database: a file-level clone needs it idle; a dump works online.
    #[arg(long, value_enum, default_value_t = CopyArg::Auto)]
    pub copy: CopyArg,
    /// Keep the copy afterwards (default: dropped).
    #[arg(long)]
    pub keep: bool,
    /// A table to probe with a reader and a writer (repeatable; default: the 3 largest).
    #[arg(long = "probe", value_name = "TABLE")]
    pub probes: Vec<String>,
    /// A gate: exit 8 when a probe or a workload operation waited longer
    /// than this beyond the server-wide stalls (those a commit touching no
    /// table saw at the same moment; a lock wait counts in full), or the
    /// workload failed or broke an invariant.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub max_wait: Option<Duration>,
    /// With --max-wait: exit 8 also when the server itself stalled longer
    /// than this (a commit touching no table waited longer) while the
    /// migrations ran, whoever caused it.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION", requires = "max_wait")]
    pub max_stall: Option<Duration>,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[command(flatten)]
    pub tools: ToolArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

/// What `verify` checks and how strictly.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The migration whose checks run (default: the newest applied one with a verify file).
    #[arg(allow_negative_numbers = true, long, value_name = "V")]
    pub version: Option<u64>,
    /// Brand coverage (% of products with a brand) must exceed this.
    #[arg(
        allow_negative_numbers = true,
        long,
        default_value = "50",
        value_name = "PCT"
    )]
    pub min_brand_coverage: rust_decimal::Decimal,
    /// Cost coverage (% of stock rows in stock with a unit cost) must exceed this.
    #[arg(
        allow_negative_numbers = true,
        long,
        default_value = "70",
        value_name = "PCT"
    )]
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
pub struct TargetArg {
    /// Target version.
    #[arg(allow_negative_numbers = true, long, value_name = "V")]
    pub to: Option<u64>,
}

impl TargetArg {
    /// The library's view: none is the direction's default, 0 is nothing.
    pub fn target(&self) -> mantis_migrate::Target {
        mantis_migrate::Target::from_to(self.to)
    }
}

/// The shop's traffic during a rehearsal.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkloadArgs {
    /// Meanwhile, run the shop's traffic on the copy: receipts and shipments
    /// through the ledger and direct stock writes, on random stock rows; its
    /// latency and invariants are reported.
    #[arg(long)]
    pub workload: bool,
    /// Workload operations per second, all connections together.
    #[arg(
        allow_negative_numbers = true,
        long,
        default_value_t = 100.0,
        value_name = "N"
    )]
    pub workload_rate: f64,
    /// Workload connections.
    #[arg(
        allow_negative_numbers = true,
        long,
        default_value_t = 4,
        value_name = "N"
    )]
    pub workload_clients: usize,
}

/// `backend_flush_after` in kB: `0`, `NkB` or `NMB`, at most 2MB (the
/// server's limit with 8 kB pages).
fn parse_flush_after(text: &str) -> Result<u32, String> {
    let form = "expected 0, a size in kB or MB up to 2MB, e.g. 256kB";
    let kb = if text == "0" {
        Some(0)
    } else if let Some(n) = text.strip_suffix("kB") {
        n.parse::<u32>().ok()
    } else if let Some(n) = text.strip_suffix("MB") {
        n.parse::<u32>().ok().and_then(|n| n.checked_mul(1024))
    } else {
        None
    };
    match kb {
        Some(kb) if kb <= 2048 => Ok(kb),
        _ => Err(format!("`{text}`: {form}")),
    }
}

/// `--max-replication-lag`: `off`, a size in PostgreSQL's units (kB, MB, GB;
/// 1024-based), or a duration.
fn parse_lag_limit(text: &str) -> Result<LagLimit, String> {
    if text == "off" {
        return Ok(LagLimit::Off);
    }
    let units = [("kB", 1u64 << 10), ("MB", 1 << 20), ("GB", 1 << 30)];
    for (unit, scale) in units {
        if let Some(n) = text.strip_suffix(unit) {
            return n
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(scale))
                .filter(|n| *n > 0)
                .map(LagLimit::Bytes)
                .ok_or_else(|| format!("`{text}`: {LAG_FORM}"));
        }
    }
    match parse_duration(text) {
        Ok(d) if !d.is_zero() => Ok(LagLimit::Time(d)),
        _ => Err(format!("`{text}`: {LAG_FORM}")),
    }
}

const LAG_FORM: &str =
    "expected a size of WAL (e.g. 64MB, 512kB, 1GB), a duration (e.g. 2s, 500ms) or off";

pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 500ms, 5s, 2m)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_lag_takes_a_size_a_duration_or_off() {
        assert_eq!(parse_lag_limit("64MB"), Ok(LagLimit::Bytes(64 << 20)));
        assert_eq!(parse_lag_limit("512kB"), Ok(LagLimit::Bytes(512 << 10)));
        assert_eq!(parse_lag_limit("2GB"), Ok(LagLimit::Bytes(2 << 30)));
        assert_eq!(
            parse_lag_limit("1500ms"),
            Ok(LagLimit::Time(Duration::from_millis(1500)))
        );
        assert_eq!(parse_lag_limit("off"), Ok(LagLimit::Off));
        for bad in ["0MB", "64mb", "lots", "0", "-1MB"] {
            let e = parse_lag_limit(bad).unwrap_err();
            assert!(e.contains("a size of WAL"), "{bad}: {e}");
        }
        assert_eq!(
            parse_lag_limit("64MB"),
            Ok(mantis_migrate::batch::DEFAULT_LAG_LIMIT),
            "the CLI's default is the library's"
        );
    }

    #[test]
    fn flush_after_takes_the_servers_units_up_to_its_limit() {
        assert_eq!(parse_flush_after("0"), Ok(0));
        assert_eq!(parse_flush_after("256kB"), Ok(256));
        assert_eq!(parse_flush_after("2MB"), Ok(2048));
        // `--flush-after`'s default (written for --help) is the library's.
        use clap::CommandFactory as _;
        let cli = Cli::command();
        let up = cli.find_subcommand("up").unwrap();
        let arg = up
            .get_arguments()
            .find(|a| a.get_id() == "flush_after")
            .unwrap();
        let default = arg.get_default_values()[0].to_str().unwrap();
        assert_eq!(
            parse_flush_after(default),
            Ok(mantis_migrate::DEFAULT_FLUSH_AFTER_KB)
        );
        for bad in ["4MB", "256", "256KB", "-1kB", "1GB", ""] {
            let err = parse_flush_after(bad).unwrap_err();
            assert!(err.contains("up to 2MB"), "{bad}: {err}");
        }
    }
}

/// `mantis lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// SQL files, or directories of them (default: --source, else
    /// mantis.toml's [migrations] dir, else the embedded migrations).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub set: SetArgs,
    /// List the rules instead (id, family, default severity, hazard).
    #[arg(long)]
    pub rules: bool,
    /// Exit 9 when a finding is at least this severe (default: mantis.toml's
    /// [lint] fail_on, else error).
    #[arg(long, value_enum, env = "MANTIS_LINT_FAIL_ON")]
    pub fail_on: Option<FailOn>,
    /// The files will run with no lock_timeout set by the runner (psql,
    /// another tool): report lock waits that have none.
    #[arg(long)]
    pub no_runner_lock_timeout: bool,
    /// A rule's level for this run: RULE=off|info|warning|error (repeatable;
    /// over mantis.toml's [lint.severity]).
    #[arg(
        long = "rule",
        value_name = "RULE=LEVEL",
        env = "MANTIS_LINT_RULES",
        value_delimiter = ','
    )]
    pub rule_levels: Vec<String>,
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Any finding.
    Info,
}

impl FailOn {
    /// As a severity.
    pub fn severity(self) -> mantis_lint::Severity {
        match self {
            FailOn::Error => mantis_lint::Severity::Error,
            FailOn::Warning => mantis_lint::Severity::Warning,
            FailOn::Info => mantis_lint::Severity::Info,
        }
    }
}
