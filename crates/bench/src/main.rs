//! `mantis-bench`: measures mantis side by side with its baselines (psql,
//! plain INSERTs, the base tables before 003) and writes docs/BENCHMARKS.md.
//!
//! Modes: `--quick` (10k products, under 5 minutes), `--full` (10k and 200k
//! products; the online rehearsal at 200k and 1M), `--smoke` (tiny, for CI:
//! it must run, not be fast).
//! Run it through `scripts/bench`, which builds the release binaries first.

mod busy;
mod commands;
mod db;
mod housekeeping;
mod ledger;
mod machine;
mod migration;
mod online;
mod process;
mod render;
mod reports;
mod stats;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::{Parser, ValueEnum};

/// How much to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// A few hundred products, one repeat: proves the harness runs (CI).
    Smoke,
    /// 10,000 products × 5 warehouses, 3 repeats: under 5 minutes.
    Quick,
    /// 10,000 and 200,000 products × 5 warehouses, 3 repeats; the online
    /// rehearsal at 200,000 and 1,000,000 products.
    Full,
}

#[derive(Debug, Parser)]
#[command(
    name = "mantis-bench",
    about = "Benchmarks mantis and writes docs/BENCHMARKS.md"
)]
struct Args {
    /// How much to measure.
    #[arg(long, value_enum, default_value_t = Mode::Quick)]
    mode: Mode,
    /// The report to write.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
    /// The server (its database is only used to create and drop the benchmark's own).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgresql://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// The mantis binary to measure (default: the one beside this program).
    #[arg(long)]
    mantis: Option<PathBuf>,
    /// Measure one section only, at the mode's largest scale, and print it
    /// instead of writing the report (for iterating on one part).
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// With --only: also replace that section of the report file (--out) in
    /// place, keeping the rest as the last full run wrote it.
    #[arg(long, requires = "only")]
    splice: bool,
    /// The housekeeping measurement's products and past movements, instead
    /// of the mode's (PRODUCTS:MOVEMENTS, e.g. 200000:2000000).
    #[arg(long, value_parser = products_and_movements, value_name = "PRODUCTS:MOVEMENTS")]
    housekeeping: Option<(u64, u64)>,
}

fn products_and_movements(text: &str) -> Result<(u64, u64), String> {
    let (p, m) = text
        .split_once(':')
        .ok_or_else(|| format!("{text}: expected PRODUCTS:MOVEMENTS"))?;
    let number = |s: &str| s.parse::<u64>().map_err(|e| format!("{s}: {e}"));
    Ok((number(p)?, number(m)?))
}

/// A section `--only` measures alone.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Only {
    /// Ledger posting: ledger, rules only and plain INSERTs.
    Posting,
    /// Archive, maintain and unarchive under writers.
    Housekeeping,
    /// Seed, 003 by mantis and by psql (time and WAL), 004–006, verify and
    /// down, at every scale of the mode.
    Migrations,
}

/// What the run measures, by mode.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The mode.
    pub mode: Mode,
    /// The mantis binary.
    pub mantis: PathBuf,
    /// Repeats of each migration measurement.
    pub repeats: usize,
    /// Product counts.
    pub scales: Vec<u64>,
    /// Product counts of the online rehearsal (003 and 004 with the workload).
    pub online_scales: Vec<u64>,
    /// Iterations of each report query.
    pub report_iterations: usize,
    /// Movements per posting configuration.
    pub movements: usize,
    /// Lines of the long batch file `stock post` streams.
    pub post_lines: usize,
    /// Products of the housekeeping measurement, and its past movements.
    pub housekeeping: (u64, u64),
}

impl Settings {
    fn of(mode: Mode, mantis: PathBuf) -> Settings {
        let (repeats, scales, online_scales, report_iterations, movements) = match mode {
            Mode::Smoke => (1, vec![300], vec![300], 3, 200),
            Mode::Quick => (3, vec![10_000], vec![10_000], 20, 2_000),
            Mode::Full => (
                3,
                vec![10_000, 200_000],
                vec![200_000, 1_000_000],
                30,
                10_000,
            ),
        };
        let post_lines = match mode {
            Mode::Smoke => 2_000,
            Mode::Quick => 100_000,
            Mode::Full => 1_000_000,
        };
        let housekeeping = match mode {
            Mode::Smoke => (300, 6_000),
            Mode::Quick => (10_000, 200_000),
            Mode::Full => (1_000_000, 10_000_000),
        };
        Settings {
            housekeeping,
            mode,
            mantis,
            repeats,
            scales,
            online_scales,
            report_iterations,
            movements,
            post_lines,
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mantis = match args.mantis {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .context("locating mantis beside mantis-bench")?
            .join("mantis"),
    };
    let mut settings = Settings::of(args.mode, mantis);
    if let Some(sized) = args.housekeeping {
        settings.housekeeping = sized;
    }
    let started = Instant::now();
    let server = db::Server::connect(&args.database_url).await?;
    if let Some(only) = args.only {
        let section = match only {
            Only::Posting => {
                let runs = only_posting(&server, &settings).await?;
                if args.splice {
                    let mut rows = String::new();
                    render::posting_targets(&mut rows, &runs);
                    render::splice_lines(&args.out, render::POSTING_TARGET, &rows)?;
                }
                let mut md = String::new();
                render::posting_table(&mut md, &runs);
                md
            }
            Only::Housekeeping => {
                let (products, old) = settings.housekeeping;
                let measured = housekeeping::measure(&server, &settings, products, old).await?;
                render::housekeeping_section(&measured)
            }
            Only::Migrations => {
                let scales = only_migrations(&server, &settings).await?;
                if args.splice {
                    let mut rows = String::new();
                    render::migration_targets(&mut rows, &scales);
                    for prefix in [render::OVERHEAD_TARGET, render::WAL_TARGET] {
                        let lines: String = rows
                            .lines()
                            .filter(|l| l.starts_with(prefix))
                            .map(|l| format!("{l}\n"))
                            .collect();
                        render::splice_lines(&args.out, prefix, &lines)?;
                    }
                }
                render::migrations_section(&scales)
            }
        };
        println!("{section}");
        if args.splice {
            let mode = format!("{:?}", settings.mode).to_lowercase();
            let only = format!("{only:?}").to_lowercase();
            let (heading, body) = section.split_once('\n').unwrap_or((&section, ""));
            let marked = format!(
                "{heading}\n\n*Measured after the rest of this file: `mantis-bench --mode {mode} --only {only} --splice` at commit `{}` on {}.*\n{body}",
                machine::commit(),
                chrono::Utc::now().format("%Y-%m-%d")
            );
            render::splice(&args.out, &marked)?;
        }
        return Ok(());
    }
    let machine = machine::describe(&server.admin).await?;
    let (scales, online) = measure_migrations(&server, &settings).await?;
    let at_largest = measure_at_largest(&server, &settings).await?;
    let (products, old) = settings.housekeeping;
    eprintln!("mantis-bench: housekeeping at {products} products, {old} past movements");
    let housekeeping = housekeeping::measure(&server, &settings, products, old).await?;
    let report = render::Report {
        settings: &settings,
        machine: &machine,
        scales: &scales,
        online: &online,
        reports: &at_largest.reports,
        posting: &at_largest.posting,
        commands: &at_largest.commands,
        housekeeping: &housekeeping,
        took: started.elapsed(),
    };
    std::fs::write(&args.out, render::markdown(&report))
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "mantis-bench: wrote {} in {:.0} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Seed, 003 (mantis and psql), 004, verify and down at every scale; then
/// the rehearsals with the workload at every online scale.
async fn measure_migrations(
    server: &db::Server,
    settings: &Settings,
) -> Result<(Vec<migration::Scale>, Vec<online::Online>)> {
    let scales = measure_scales(server, settings).await?;
    let mut online = Vec::new();
    for &products in &settings.online_scales {
        for busy in [false, true] {
            let server_is = if busy { "busy" } else { "quiet" };
            eprintln!(
                "mantis-bench: {products} products: rehearse 003 and 004 with the workload, {server_is} server"
            );
            online.push(online::measure(server, settings, products, busy).await?);
        }
    }
    Ok((scales, online))
}

/// What is measured on the largest scale's database, before and after 004.
struct AtLargest {
    reports: Vec<reports::Report>,
    /// (command, peak KiB, wall).
    commands: Vec<(String, u64, std::time::Duration)>,
    posting: Vec<ledger::Run>,
}

/// Reports before and after 003, the commands' memory and the ledger's
/// posting rate, on copies of the largest scale (dropped afterwards).
async fn measure_at_largest(server: &db::Server, settings: &Settings) -> Result<AtLargest> {
    let largest = *settings.scales.last().context("no scale")?;
    let base = migration::base(largest);
    let after = migration::database(largest, "v4");
    server.create(&after, Some(&base)).await?;
    process::run(&settings.mantis, &["-q", "up"], &server.url(&after))?;

    eprintln!("mantis-bench: reports before and after 003 at {largest} products");
    let reports = reports::measure(
        &server.client(&base).await?,
        &server.client(&after).await?,
        settings.report_iterations,
    )
    .await?;
    let commands = commands::measure(settings, server, &after)?;

    eprintln!(
        "mantis-bench: ledger posting, {} movements per configuration",
        settings.movements
    );
    let posting = ledger::measure(server, &after, settings.movements).await?;

    for name in [base, after] {
        server.drop(&name).await?;
    }
    Ok(AtLargest {
        reports,
        commands,
        posting,
    })
}

/// `--only migrations`: every scale of the mode measured, its seeded
/// databases dropped.
async fn only_migrations(
    server: &db::Server,
    settings: &Settings,
) -> Result<Vec<migration::Scale>> {
    let scales = measure_scales(server, settings).await?;
    for scale in &scales {
        server.drop(&migration::base(scale.products)).await?;
    }
    Ok(scales)
}

/// Seed, 003 (mantis and psql), 004, verify and down at every scale of the
/// mode; each scale's seeded base is kept.
async fn measure_scales(server: &db::Server, settings: &Settings) -> Result<Vec<migration::Scale>> {
    let file_003 = write_003()?;
    let mut scales = Vec::new();
    for &products in &settings.scales {
        eprintln!(
            "mantis-bench: {products} products: seed, 003 (mantis and psql), 004, verify, down"
        );
        scales.push(migration::measure(server, settings, products, file_003.path()).await?);
    }
    Ok(scales)
}

/// `--only posting`: a seeded database at the newest migration, the posting
/// configurations measured on it, the table printed.
async fn only_posting(server: &db::Server, settings: &Settings) -> Result<Vec<ledger::Run>> {
    let largest = *settings.scales.last().context("no scale")?;
    let name = migration::database(largest, "posting");
    migration::seed_v1(server, &settings.mantis, &name, largest).await?;
    process::run(&settings.mantis, &["-q", "up"], &server.url(&name))?;
    let posting = ledger::measure(server, &name, settings.movements).await?;
    server.drop(&name).await?;
    Ok(posting)
}

/// 003's up file, as embedded in the binary, for psql.
fn write_003() -> Result<tempfile::NamedTempFile> {
    let (_, bytes) = mantis_schema::FILES
        .iter()
        .find(|(name, _)| *name == "003_critical_schema_fixes.up.sql")
        .context("003's up file is embedded")?;
    let mut file = tempfile::Builder::new().suffix(".sql").tempfile()?;
    std::io::Write::write_all(&mut file, bytes)?;
    Ok(file)
}
