//! `mantis completions SHELL` and `mantis man`: generated from the same
//! argument definitions the binary parses with, so they never drift.

use anyhow::Result;
use clap::CommandFactory as _;

use crate::args::{Cli, OutputFormat};
use crate::output;

/// The completion script for `shell`.
pub fn completions(format: OutputFormat, shell: clap_complete::Shell) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mantis", &mut script);
    let script = String::from_utf8(script)?;
    let doc = serde_json::json!({ "shell": shell.to_string(), "script": script });
    output::emit(format, &doc, || script.clone())
}

/// The manual page, in roff.
pub fn man(format: OutputFormat) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    let page = String::from_utf8(page)?;
    let doc = serde_json::json!({ "roff": page });
    output::emit(format, &doc, || page.clone())
}
