//! The inventory workload (mantis-inventory) as a rehearsal hook: connects
//! to the copy, drives the traffic until told to stop, checks the invariants.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use mantis_inventory::workload::{self, Outcome, Workload, WorkloadSpec};
use mantis_migrate::rehearse::{InvariantCheck, ProbeSample, WorkloadHook, WorkloadRun};
use mantis_migrate::{describe_chain, ignore_events, ConnectOptions, Session};

use crate::args::WorkloadArgs;

/// The hook `rehearse --workload` runs on the copy.
pub fn hook(args: &WorkloadArgs) -> Option<WorkloadHook> {
    let spec = WorkloadSpec {
        clients: args.workload_clients.max(1),
        rate: args.workload_rate,
        ..WorkloadSpec::default()
    };
    args.workload.then(|| {
        WorkloadHook(Arc::new(move |options, stop| {
            let spec = spec.clone();
            Box::pin(async move {
                run(&options, &spec, stop)
                    .await
                    .unwrap_or_else(|error| WorkloadRun {
                        error: Some(error),
                        ..WorkloadRun::default()
                    })
            })
        }))
    })
}

async fn run(
    options: &ConnectOptions,
    spec: &WorkloadSpec,
    stop: Arc<AtomicBool>,
) -> Result<WorkloadRun, String> {
    let admin = connect(options).await?;
    let load = Workload::prepare(&admin, spec)
        .await
        .map_err(|e| format!("choosing stock rows: {}", describe_chain(&e)))?;
    let mut tasks = Vec::new();
    for index in 0..spec.clients {
        let (load, spec, stop, client) = (
            load.clone(),
            spec.clone(),
            stop.clone(),
            connect(options).await?,
        );
        tasks.push(tokio::spawn(async move {
            load.drive(client, index, &spec, stop).await
        }));
    }
    let mut logs = Vec::new();
    for task in tasks {
        logs.push(task.await.map_err(|e| e.to_string())?);
    }
    let invariants = workload::check(&admin, &load, &logs)
        .await
        .map_err(|e| format!("checking the invariants: {}", describe_chain(&e)))?;
    let ops = logs.iter().flat_map(|l| &l.ops);
    Ok(WorkloadRun {
        samples: ops
            .clone()
            .map(|o| ProbeSample {
                at: o.at,
                took: o.took,
            })
            .collect(),
        refused: ops
            .clone()
            .filter(|o| o.outcome == Outcome::Refused)
            .count(),
        failures: ops
            .filter_map(|o| match &o.outcome {
                Outcome::Failed(m) => Some(m.clone()),
                _ => None,
            })
            .collect(),
        invariants: invariants
            .into_iter()
            .map(|i| InvariantCheck {
                name: i.name,
                rows: i.rows,
                violations: i.violations,
            })
            .collect(),
        error: None,
    })
}

async fn connect(options: &ConnectOptions) -> Result<tokio_postgres::Client, String> {
    let mut options = options.clone();
    options.application_name = "mantis rehearse workload".into();
    Session::connect(&options, ignore_events())
        .await
        .map(Session::into_client)
        .map_err(|e| e.to_string())
}
