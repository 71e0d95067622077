//! What the numbers were measured on.

use anyhow::Result;
use tokio_postgres::Client;

/// Machine and server details for the report.
#[derive(Debug, Clone)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Memory in GiB.
    pub memory_gib: f64,
    /// PostgreSQL version string.
    pub server: String,
    /// A few server settings that matter.
    pub settings: Vec<(String, String)>,
    /// The git commit measured.
    pub commit: String,
}

/// Reads /proc and the server.
pub async fn describe(client: &Client) -> Result<Machine> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let server: String = client
        .query_one("SELECT version() AS version", &[])
        .await?
        .try_get("version")?;
    let mut settings = Vec::new();
    for name in [
        "shared_buffers",
        "work_mem",
        "maintenance_work_mem",
        "max_wal_size",
        "synchronous_commit",
    ] {
        let value: String = client
            .query_one("SELECT current_setting($1) AS value", &[&name])
            .await?
            .try_get("value")?;
        settings.push((name.to_string(), value));
    }
    let commit = commit();
    Ok(Machine {
        cpu,
        cpus,
        memory_gib: memory_kib / 1024.0 / 1024.0,
        server,
        settings,
        commit,
    })
}

/// The git commit measured (short), or "unknown".
pub fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
