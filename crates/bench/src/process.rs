//! Running a command: wall time and peak resident memory (VmHWM of
//! /proc/<pid>/status, sampled every 5 ms until it exits).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

/// What a finished command cost.
#[derive(Debug, Clone)]
pub struct Ran {
    /// Wall time.
    pub wall: Duration,
    /// Peak resident set, in KiB (0 when /proc is not available).
    pub peak_kib: u64,
    /// Its stdout.
    pub stdout: String,
}

/// Runs `program args` with `DATABASE_URL=url`; fails when it fails.
pub fn run(program: &Path, args: &[&str], url: &str) -> Result<Ran> {
    run_env(program, args, &[("DATABASE_URL", url.to_string())])
}

/// Runs `program args` with extra environment variables (connection settings
/// go there, never on the command line); fails when it fails.
pub fn run_env(program: &Path, args: &[&str], env: &[(&str, String)]) -> Result<Ran> {
    run_accepting(program, args, env, &[0])
}

/// [`run_env`], where the exit codes in `ok` all count as success.
pub fn run_accepting(
    program: &Path,
    args: &[&str],
    env: &[(&str, String)],
    ok: &[i32],
) -> Result<Ran> {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut out) = stdout {
            let _ = std::io::Read::read_to_string(&mut out, &mut text);
        }
        text
    });
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            peak_kib = peak_kib.max(vm_hwm(&text));
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = started.elapsed();
    let stdout = reader.join().unwrap_or_default();
    if !status.code().is_some_and(|c| ok.contains(&c)) {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        bail!(
            "{} {} failed ({status}):\n{err}",
            program.display(),
            args.join(" ")
        );
    }
    Ok(Ran {
        wall,
        peak_kib,
        stdout,
    })
}

fn vm_hwm(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_high_water_mark() {
        assert_eq!(
            super::vm_hwm("Name:\tx\nVmHWM:\t   12345 kB\nVmRSS:\t1 kB\n"),
            12345
        );
        assert_eq!(super::vm_hwm("Name:\tx\n"), 0);
    }
}
