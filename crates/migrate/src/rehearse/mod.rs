//! Rehearsal: the pending migrations run on a copy of the target, with what
//! each statement costs the people using the database measured, not guessed:
//! its duration, the lock level it holds on each existing table, and the
//! longest wait of a concurrent reader and a concurrent writer of the busiest
//! tables while it ran.

mod copy;
mod privileges;
mod report;
mod watch;
mod workload;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use copy::{Choice as CopyChoice, Copy, Method as CopyMethod};
pub use privileges::RolesReport;
pub use report::{OwnWait, ProbeSummary, Stalls, StatementReport};
pub use watch::{strength, ProbeKind, ProbeSample, Samples, WaitSample, MODES};
pub use workload::{InvariantCheck, WorkloadHook, WorkloadRun, WorkloadSummary};

use crate::backup::{BackupError, Tools};
use crate::connect::ConnectOptions;
use crate::error::Error;
use crate::event::{Event, EventSink};
use crate::runner::{Migrator, RunReport};
use crate::session::Session;
use crate::types::{Direction, Target};

/// How to rehearse.
#[derive(Debug, Clone)]
pub struct Options {
    /// How far the migrations go.
    pub to: Target,
    /// How to copy the target.
    pub copy: CopyChoice,
    /// Keep the copy afterwards.
    pub keep: bool,
    /// Tables to probe (default: the 3 largest existing tables).
    pub probes: Vec<String>,
    /// Pause between two probe queries.
    pub probe_every: Duration,
    /// Pause between two lock samples.
    pub sample_every: Duration,
    /// pg_dump / pg_restore, for a dump copy.
    pub tools: Tools,
    /// The application's traffic to run on the copy meanwhile, if any.
    pub workload: Option<WorkloadHook>,
    /// The gate: the longest wait allowed to a probe or a workload
    /// operation, beyond the server-wide stalls.
    pub max_wait: Option<Duration>,
    /// With the gate, the longest server-wide stall allowed (the control
    /// commit's longest wait): none judges them.
    pub max_stall: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            to: Target::Default,
            copy: CopyChoice::Auto,
            keep: false,
            probes: Vec::new(),
            probe_every: Duration::from_millis(20),
            sample_every: Duration::from_millis(10),
            tools: Tools::default(),
            workload: None,
            max_wait: None,
            max_stall: None,
        }
    }
}

/// What a rehearsal found.
#[derive(Debug, Clone, Serialize)]
pub struct Rehearsal {
    /// The copy it ran on.
    pub copy: Copy,
    /// Whether the copy was kept.
    pub kept: bool,
    /// The migrations that ran (or the error that stopped them); in JSON
    /// the run's report, or `{"error": message}`.
    #[serde(serialize_with = "run_or_error")]
    pub run: Result<RunReport, RunFailure>,
    /// One entry per statement executed.
    pub statements: Vec<StatementReport>,
    /// Each probe: its normal latency and its longest wait.
    pub probes: Vec<ProbeSummary>,
    /// Lock samples were taken this often.
    #[serde(serialize_with = "crate::serde_time::millis")]
    pub sample_every: Duration,
    /// The application workload, if one ran.
    pub workload: Option<WorkloadSummary>,
    /// What the roles using the database may do, before and after.
    pub roles: RolesReport,
    /// The gate's verdict, when `max_wait` was given.
    pub gate: Option<Gate>,
}

/// Why the migrations stopped on the copy: the engine's error kept whole
/// (its kind decides the exit code: a refusal, a lock, a failed statement),
/// written as its message.
#[derive(Debug, Clone)]
pub struct RunFailure(pub Arc<Error>);

impl Serialize for RunFailure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A run as its report, a failure as `{"error": message}`.
fn run_or_error<S: serde::Serializer>(
    run: &Result<RunReport, RunFailure>,
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Failed<'a> {
        error: &'a RunFailure,
    }
    match run {
        Ok(report) => report.serialize(s),
        Err(error) => Failed { error }.serialize(s),
    }
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::error::describe_chain(&*self.0))
    }
}

/// The verdict of `--max-wait`.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    /// The longest wait allowed, in ms.
    #[serde(serialize_with = "crate::serde_time::millis")]
    pub max_wait: Duration,
    /// The longest server-wide stall allowed, in ms, if any.
    #[serde(serialize_with = "crate::serde_time::opt_millis")]
    pub max_stall: Option<Duration>,
    /// What broke it (empty: passed).
    pub over: Vec<String>,
    /// Waits longer than `max_wait` that a server-wide stall explains (the
    /// control commit, touching no table, was stuck as long): reported,
    /// judged only against `max_stall`.
    pub stalls: Vec<String>,
}

impl Gate {
    /// True when nothing broke it.
    pub fn passed(&self) -> bool {
        self.over.is_empty()
    }
}

impl Rehearsal {
    /// The probes the gate judges (all but the control), each with its
    /// longest wait beyond the server-wide stalls.
    fn judged(&self) -> impl Iterator<Item = (&ProbeSummary, &OwnWait)> {
        self.probes
            .iter()
            .filter_map(|p| Some((p, p.beyond_stalls.as_ref()?)))
    }

    /// What breaks the gate `--max-wait`: each probe that waited longer
    /// than `max` beyond the server-wide stalls (ProbeSummary::beyond_stalls),
    /// a workload operation that did, failed workload operations, broken
    /// invariants, and privileges a role lost. Empty: the gate passes.
    pub fn over(&self, max: Duration) -> Vec<String> {
        let max_ms = max.as_secs_f64() * 1000.0;
        let mut out: Vec<String> = self
            .judged()
            .filter(|(_, own)| own.ms as f64 > max_ms)
            .map(|(p, own)| probe_over(p, own))
            .collect();
        out.extend(
            self.roles
                .lost
                .iter()
                .map(|lost| format!("a role lost a privilege: {lost}")),
        );
        if let Some(w) = &self.workload {
            out.extend(workload_over(w, max_ms));
        }
        out
    }

    /// The waits over `max` that server-wide stalls explain: each probe
    /// whose longest wait was over it while its wait beyond the stalls was
    /// not, and the workload's likewise.
    pub fn stalls(&self, max: Duration) -> Vec<String> {
        let max_ms = max.as_secs_f64() * 1000.0;
        let mut out: Vec<String> = self
            .judged()
            .filter(|(p, own)| p.longest_ms as f64 > max_ms && own.ms as f64 <= max_ms)
            .map(|(p, own)| {
                format!(
                    "{} probe of {} waited {} ms{} (at most {} ms beyond the stalls)",
                    p.kind.name(),
                    p.table,
                    p.longest_ms,
                    p.circumstances(),
                    own.ms
                )
            })
            .collect();
        if let Some(w) = &self.workload {
            if w.during_max_ms > max_ms && w.during_max_beyond_stalls_ms <= max_ms {
                out.push(format!(
                    "a workload operation took {:.0} ms{} (at most {:.0} ms beyond the stalls)",
                    w.during_max_ms,
                    waiting_on(&w.slowest_waiting_on),
                    w.during_max_beyond_stalls_ms
                ));
            }
        }
        out
    }
}

/// The server-wide stall, when the control commit among `probes` waited
/// longer than `max` during the migrations.
fn stalled_over(probes: &[ProbeSummary], max: Duration) -> Option<String> {
    let control = probes.iter().find(|p| p.kind == ProbeKind::Control)?;
    (control.longest_ms as f64 > max.as_secs_f64() * 1000.0).then(|| {
        format!(
            "the server stalled: a commit touching no table waited {} ms{} (--max-stall {max:?})",
            control.longest_ms,
            control.circumstances()
        )
    })
}

/// ", waiting on X", or nothing.
fn waiting_on(event: &Option<String>) -> String {
    event
        .as_ref()
        .map(|e| format!(", waiting on {e}"))
        .unwrap_or_default()
}

/// A probe that waited too long beyond the stalls, with the statement it
/// waited during.
fn probe_over(p: &ProbeSummary, own: &OwnWait) -> String {
    format!(
        "{} probe of {} waited {} ms beyond the server-wide stalls{}{}",
        p.kind.name(),
        p.table,
        own.ms,
        own.during
            .as_ref()
            .map(|d| format!(" during {d}"))
            .unwrap_or_default(),
        waiting_on(&own.waiting_on)
    )
}

/// What of the workload breaks the gate: a slow or failed operation, a
/// workload that could not run, a broken invariant.
fn workload_over(w: &WorkloadSummary, max_ms: f64) -> Vec<String> {
    let mut out = Vec::new();
    if w.during_max_beyond_stalls_ms > max_ms {
        out.push(format!(
            "a workload operation waited {:.0} ms beyond the server-wide stalls (p99 {:.1} ms, baseline p99 {:.1} ms){}",
            w.during_max_beyond_stalls_ms,
            w.during_p99_ms,
            w.baseline_p99_ms,
            waiting_on(&w.beyond_stalls_waiting_on)
        ));
    }
    if w.failed > 0 {
        out.push(format!(
            "{} workload operation(s) failed: {}",
            w.failed,
            w.failures.join("; ")
        ));
    }
    if let Some(e) = &w.error {
        out.push(format!("the workload could not run: {e}"));
    }
    for i in w.invariants.iter().filter(|i| i.violations > 0) {
        out.push(format!(
            "invariant broken: {} ({} of {} rows)",
            i.name, i.violations, i.rows
        ));
    }
    out
}

/// Rehearses the pending migrations of `migrator` against a copy of `target`.
///
/// # Errors
/// When the copy cannot be made or connected to. A migration failing on the
/// copy is not an error: the rehearsal reports it.
pub async fn rehearse(
    migrator_for: impl FnOnce(EventSink) -> Migrator,
    target: &ConnectOptions,
    options: &Options,
    events: EventSink,
) -> Result<Rehearsal, BackupError> {
    let admin = Session::connect(&target.with_dbname(maintenance_db(target)), events.clone())
        .await
        .map_err(Error::from)?;
    let name = copy_name(&target.dbname);
    let server = (
        admin.server_version().to_string(),
        admin.server_version_num(),
    );
    let copy = copy::make(
        admin.client(),
        target,
        &name,
        options.copy,
        &options.tools,
        (&server.0, server.1),
    )
    .await?;
    let result = on_copy(migrator_for, &target.with_dbname(&name), options, events).await;
    if !options.keep {
        copy::drop(admin.client(), &name).await?;
    }
    let (run, statements, probes, workload, roles) = result?;
    let mut found = Rehearsal {
        copy,
        kept: options.keep,
        run,
        statements,
        probes,
        sample_every: options.sample_every,
        workload,
        roles,
        gate: None,
    };
    found.gate = options.max_wait.map(|max_wait| {
        let mut over = found.over(max_wait);
        over.extend(
            options
                .max_stall
                .and_then(|max| stalled_over(&found.probes, max)),
        );
        Gate {
            max_wait,
            max_stall: options.max_stall,
            over,
            stalls: found.stalls(max_wait),
        }
    });
    Ok(found)
}

type Outcome = (
    Result<RunReport, RunFailure>,
    Vec<StatementReport>,
    Vec<ProbeSummary>,
    Option<WorkloadSummary>,
    RolesReport,
);

/// Statement start and finish events, with when they happened.
type Timeline = Arc<Mutex<Vec<(Instant, Event)>>>;

/// What watches the migration on the copy: probes, the lock sampler and the
/// workload, all stopped by `stop`.
struct Watchers {
    stop: Arc<AtomicBool>,
    probes: Vec<tokio::task::JoinHandle<watch::Probe>>,
    locks: tokio::task::JoinHandle<watch::Samples>,
    workload: Option<tokio::task::JoinHandle<WorkloadRun>>,
}

async fn on_copy(
    migrator_for: impl FnOnce(EventSink) -> Migrator,
    copy: &ConnectOptions,
    options: &Options,
    events: EventSink,
) -> Result<Outcome, BackupError> {
    let timeline: Timeline = Arc::default();
    let migrator = migrator_for(recorder(&timeline, events.clone()));
    let session = Session::connect(copy, events.clone())
        .await
        .map_err(Error::from)?;
    let watcher = Session::connect(copy, crate::event::ignore_events())
        .await
        .map_err(Error::from)?;
    let grants_before = privileges::Grants::read(watcher.client()).await?;
    let watchers = start_watchers(&session, watcher, copy, options).await?;
    // A moment of normal traffic first: the probes' (and workload's) baseline latency.
    let baseline = if watchers.workload.is_some() {
        1000
    } else {
        300
    };
    tokio::time::sleep(Duration::from_millis(baseline)).await;
    let started = Instant::now();
    let run = migrator
        .run(&session, Direction::Up, options.to)
        .await
        .map_err(|e| RunFailure(Arc::new(e)));
    let finished = Instant::now();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (sampled, probes, workload) = watchers.finish(started, finished).await;
    let timeline = timeline.lock().map(|t| t.clone()).unwrap_or_default();
    let statements = report::statements(migrator.set(), &timeline, &sampled, &probes);
    let summaries = report::probes(&probes, (started, finished), &statements, &sampled);
    // A session the run left broken reports no roles rather than no rehearsal.
    let roles = match privileges::Grants::read(session.client()).await {
        Ok(after) => grants_before.compare(&after),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the roles' privileges after the run");
            RolesReport::default()
        }
    };
    Ok((run, statements, summaries, workload, roles))
}

/// Passes every event on to `events`, keeping statement starts and finishes
/// on `timeline` (the report places waits and locks by them).
fn recorder(timeline: &Timeline, events: EventSink) -> EventSink {
    let timeline = timeline.clone();
    Arc::new(move |e: &Event| {
        if matches!(
            e,
            Event::StatementStarted { .. } | Event::StatementFinished { .. }
        ) {
            if let Ok(mut t) = timeline.lock() {
                t.push((Instant::now(), e.clone()));
            }
        }
        events(e);
    })
}

/// The control probe's table: none.
const CONTROL_TABLE: &str = "-";

/// Starts a reader and a writer probe per probed table, the control probe, the lock sampler
/// (on `watcher`, watching `session`'s backend) and the workload.
async fn start_watchers(
    session: &Session,
    watcher: Session,
    copy: &ConnectOptions,
    options: &Options,
) -> Result<Watchers, BackupError> {
    let pid = session
        .backend_pid()
        .await
        .map_err(Error::db("reading the rehearsal session's pid"))?;
    let tables = watcher
        .client()
        .query(crate::sql::REHEARSE_TABLES, &[])
        .await
        .map_err(Error::db("listing existing tables"))?;
    let existing: Vec<u32> = tables
        .iter()
        .map(|r| r.try_get("oid"))
        .collect::<Result<_, _>>()
        .map_err(Error::db("listing existing tables"))?;
    let probed = probe_tables(watcher.client(), options, &tables).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut probes = Vec::new();
    for table in &probed {
        for kind in [ProbeKind::Reader, ProbeKind::Writer] {
            probes.push(tokio::spawn(watch::probe(
                copy.clone(),
                table.clone(),
                kind,
                options.probe_every,
                stop.clone(),
            )));
        }
    }
    // The control weighs the others' waits: none to weigh, none needed.
    if !probed.is_empty() || options.workload.is_some() {
        probes.push(tokio::spawn(watch::probe(
            copy.clone(),
            CONTROL_TABLE.to_string(),
            ProbeKind::Control,
            options.probe_every,
            stop.clone(),
        )));
    }
    let version = watcher.server_version_num();
    let locks = tokio::spawn(watch::locks(
        watcher.into_client(),
        version,
        pid,
        existing,
        options.sample_every,
        stop.clone(),
    ));
    let workload = options
        .workload
        .as_ref()
        .map(|hook| tokio::spawn((hook.0)(copy.clone(), stop.clone())));
    Ok(Watchers {
        stop,
        probes,
        locks,
        workload,
    })
}

impl Watchers {
    /// Stops every watcher and gathers what each saw; the workload's
    /// latency is split at the migration's `started` and `finished`.
    async fn finish(
        self,
        started: Instant,
        finished: Instant,
    ) -> (watch::Samples, Vec<watch::Probe>, Option<WorkloadSummary>) {
        self.stop.store(true, Ordering::Relaxed);
        let sampled = self.locks.await.unwrap_or_default();
        let mut probes = Vec::new();
        for task in self.probes {
            if let Ok(p) = task.await {
                probes.push(p);
            }
        }
        let control = Stalls::of(&probes);
        let workload = match self.workload {
            Some(task) => Some(WorkloadSummary::of(
                task.await.unwrap_or_else(|e| WorkloadRun {
                    error: Some(e.to_string()),
                    ..WorkloadRun::default()
                }),
                (started, finished),
                &sampled,
                control,
            )),
            None => None,
        };
        (sampled, probes, workload)
    }
}

/// The tables to probe: those asked for (checked to exist), else the 3 largest.
async fn probe_tables(
    client: &tokio_postgres::Client,
    options: &Options,
    tables: &[tokio_postgres::Row],
) -> Result<Vec<String>, Error> {
    if options.probes.is_empty() {
        return tables
            .iter()
            .take(3)
            .map(|r| r.try_get("name"))
            .collect::<Result<_, _>>()
            .map_err(Error::db("listing existing tables"));
    }
    let mut out = Vec::new();
    for table in &options.probes {
        let name: Option<String> = client
            .query_one("SELECT to_regclass($1)::text AS name", &[table])
            .await
            .and_then(|row| row.try_get("name"))
            .map_err(Error::db("looking up a probe table"))?;
        out.push(name.ok_or_else(|| Error::UnknownProbeTable {
            table: table.clone(),
        })?);
    }
    Ok(out)
}

/// The database the admin session uses: never the target itself, which a
/// template copy needs idle.
fn maintenance_db(target: &ConnectOptions) -> &'static str {
    if target.dbname == "postgres" {
        "template1"
    } else {
        "postgres"
    }
}

/// `<target>_rehearse_<UTC>_<pid>` (two rehearsals started in the same second
/// get different copies), within PostgreSQL's 63-byte names.
fn copy_name(target: &str) -> String {
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
    let base: String = target.chars().take(30).collect();
    format!("{base}_rehearse_{stamp}_{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(kind: ProbeKind, longest_ms: u64) -> ProbeSummary {
        ProbeSummary {
            table: "t".into(),
            kind,
            queries: 10,
            baseline_us: 500,
            longest_ms,
            during: Some("002 #1 (line 1)".into()),
            waiting_on: Some("IO:WALSync".into()),
            beyond_stalls: None,
            error: None,
        }
    }

    /// --max-stall judges the control's longest wait, and only the control's.
    #[test]
    fn max_stall_judges_the_control_commit() {
        let ms = Duration::from_millis;
        let probes = [
            probe(ProbeKind::Writer, 900),
            probe(ProbeKind::Control, 150),
        ];
        let over = stalled_over(&probes, ms(100)).expect("150 ms > 100 ms");
        assert!(
            over.contains("waited 150 ms during 002 #1 (line 1), waiting on IO:WALSync"),
            "{over}"
        );
        assert_eq!(stalled_over(&probes, ms(150)), None);
        assert_eq!(
            stalled_over(&probes[..1], ms(1)),
            None,
            "no control, nothing to judge"
        );
    }
}
