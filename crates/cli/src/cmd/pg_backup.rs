//! `mantis backup` and `mantis restore`: pg_dump files, verified and recorded.

use std::path::{Path, PathBuf};

use anyhow::Result;
use mantis_migrate::backup::{self, BackupFile, Tools};
use mantis_migrate::Session;

use crate::context::Context;
use crate::output;

pub async fn backup(ctx: &Context, file: Option<PathBuf>, tools: &Tools) -> Result<()> {
    let session = ctx.session().await?;
    let path = file.unwrap_or_else(|| default_file(&ctx.connect.dbname, &stamp()));
    let taken = take(ctx, &session, tools, &path).await?;
    output::emit(ctx.format, &taken, || format!("{}\n", describe(&taken)))
}

/// Dumps, verifies and records a backup of the session's database.
pub async fn take(
    ctx: &Context,
    session: &Session,
    tools: &Tools,
    path: &Path,
) -> Result<BackupFile> {
    let taken = backup::dump(
        &ctx.connect,
        session.server_version(),
        session.server_version_num(),
        tools,
        path,
    )
    .await?;
    backup::record(session, &taken).await?;
    Ok(taken)
}

/// One line naming the file, its size, checksum and entries.
pub fn describe(b: &BackupFile) -> String {
    format!(
        "backup {} written and verified: {} bytes, sha256 {}, {} entries (pg_restore --list), {:.1} s; mode 0600 (only its owner can read it: it holds every row)",
        b.path.display(),
        b.size_bytes,
        b.sha256,
        b.toc_entries,
        b.duration_ms as f64 / 1000.0
    )
}

/// The UTC time, as default file names carry it.
pub fn stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// `mantis-<database>-<stamp>.dump` in the current directory.
pub fn default_file(dbname: &str, stamp: &str) -> PathBuf {
    let safe: String = dbname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from(format!("mantis-{safe}-{stamp}.dump"))
}

pub async fn restore(ctx: &Context, file: &Path, into: &str, tools: &Tools) -> Result<()> {
    let admin = ctx.session().await?;
    let target = ctx.connect.with_dbname(into);
    let entries =
        backup::restore(admin.client(), &target, admin.server_major(), tools, file).await?;
    let doc = serde_json::json!({
        "file": file,
        "database": into,
        "entries": entries,
        "url": target.masked(),
    });
    output::emit(ctx.format, &doc, || {
        format!(
            "restored {} ({entries} entries) into new database \"{into}\": {}\n",
            file.display(),
            target.masked()
        )
    })
}
