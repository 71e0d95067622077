//! The `mantis` binary: parses arguments, calls the libraries, renders results,
//! and maps errors to the exit codes documented in README.md.

mod args;
mod batch_progress;
mod cmd;
mod context;
mod events;
mod exit;
mod interrupt;
mod junit;
mod output;
mod project;
mod workload;

use clap::Parser;

use crate::args::{Cli, OutputFormat};
use crate::exit::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    let format = cli.global.format;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&anyhow::Error::new(e), format),
    };
    // Commands that change the schema or load data say where they stopped
    // when a signal ends them; the others (`refresh --every`, `maintain
    // --every`) handle Ctrl-C themselves, and readers need no word.
    let changes = matches!(
        cli.command,
        args::Command::Up { .. }
            | args::Command::Down { .. }
            | args::Command::Deploy(_)
            | args::Command::Baseline { .. }
            | args::Command::Seed { .. }
            | args::Command::Demo { .. }
            | args::Command::Rehearse(_)
    );
    let result = if changes {
        match runtime.block_on(interrupt::until_signalled(cmd::run(cli))) {
            interrupt::Ended::Finished(result) => result,
            interrupt::Ended::Signalled { name, code } => {
                eprintln!("\n{}", interrupt::message(name));
                return std::process::ExitCode::from(code);
            }
        }
    } else {
        runtime.block_on(cmd::run(cli))
    };
    match result {
        Ok(()) => std::process::ExitCode::from(ExitCode::Ok as u8),
        // The reader of stdout has all it wanted (`| head -1`).
        Err(e) if output::is_closed_stdout(&e) => std::process::ExitCode::from(ExitCode::Ok as u8),
        Err(e) => fail(&e, format),
    }
}

/// Prints the error (stderr always; stdout too as JSON with `--format json`,
/// unless the result document already says what failed).
fn fail(error: &anyhow::Error, format: OutputFormat) -> std::process::ExitCode {
    let code = ExitCode::of_any(error);
    let mut message = mantis_migrate::describe_chain(error.as_ref());
    if let Some(value) = mantis_inventory::decimal::non_finite_in(error.as_ref()) {
        message = format!(
            "{}\n  (was: {message})",
            mantis_inventory::decimal::non_finite_advice(&value)
        );
    }
    eprintln!("error: {message}");
    // A failed check, or lint's findings, printed their report already (the
    // result document).
    let reported = matches!(code, ExitCode::ChecksFailed | ExitCode::LintFindings);
    if format == OutputFormat::Json && !reported {
        let doc = serde_json::json!({ "error": { "exit_code": code as u8, "message": message } });
        // Best effort: a closed stdout cannot carry it, stderr did.
        let _ = output::write(&format!("{doc}\n"));
    }
    std::process::ExitCode::from(code as u8)
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MANTIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}
