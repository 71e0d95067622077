//! Writing results to stdout.

use anyhow::Result;
use serde::Serialize;

/// Prints `value` as one pretty JSON document.
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `003` style version, or `none`.
pub fn version(v: Option<u64>) -> String {
    v.map_or_else(|| "none".to_string(), |v| format!("{v:03}"))
}
