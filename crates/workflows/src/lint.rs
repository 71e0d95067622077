//! Linting what a plan is about to run: the files of its steps, in order,
//! with their lock hazards weighed by the live tables. `plan` shows it;
//! `deploy` refuses errors.

use mantis_lint::{Options, Report};
use mantis_migrate::{Error, Plan};
use tokio_postgres::Client;

/// Lints the files the plan's steps run and weighs the lock hazards on
/// `client`'s database.
///
/// # Errors
/// A query of the weighing failed.
pub async fn lint_plan(plan: &Plan, options: &Options, client: &Client) -> Result<Report, Error> {
    let files: Vec<(String, String)> = plan
        .steps
        .iter()
        .map(|s| (s.file.clone(), s.sql.clone()))
        .collect();
    let mut report = mantis_lint::lint(&files, options);
    mantis_lint::weigh::weigh_report(client, &mut report)
        .await
        .map_err(|source| Error::Database {
            during: "weighing lint findings by the live tables",
            source,
        })?;
    Ok(report)
}
