//! What a migration session is set to for each step, and how it is reset.

use std::time::Duration;

use tokio_postgres::error::SqlState;

use crate::error::Error;
use crate::session::Session;
use crate::sql;

/// Sets a timeout setting of the session (`lock_timeout`, `statement_timeout`).
pub(super) async fn set_timeout(
    session: &Session,
    name: &str,
    value: Duration,
) -> Result<(), Error> {
    let value = format!("{}ms", value.as_millis());
    session
        .client()
        .query_one(sql::SET_SESSION_SETTING, &[&name, &value])
        .await
        .map_err(Error::db("setting timeouts"))?;
    Ok(())
}

/// `RESET ALL`: every setting back to the session's defaults (the role is
/// not a setting RESET ALL touches). Best effort: a session that cannot take
/// it is broken, and the step's own error says why.
pub(super) async fn reset_session_settings(session: &Session) {
    if let Err(e) = session.client().batch_execute("RESET ALL").await {
        tracing::debug!(error = %e, "could not reset the session's settings after a step");
    }
}

/// Sets `backend_flush_after`. Only an optimisation: a server that refuses
/// it (a platform without the OS call behind it) migrates without it.
pub(super) async fn set_flush_after(session: &Session, kb: u32) {
    let value = format!("{kb}kB");
    if let Err(e) = session
        .client()
        .query_one(sql::SET_SESSION_SETTING, &[&"backend_flush_after", &value])
        .await
    {
        tracing::warn!(error = %e, value, "the server refused backend_flush_after; migrating without it");
    }
}

/// Compresses the full-page images the session's writes log (ADR-028,
/// "Full-page images"), with lz4 where the server has it (PostgreSQL 15
/// and later built with it), else the server's pglz; only when the server
/// compresses none. A user setting only for superusers: anyone else (a
/// managed service's owner role) migrates without it, which is said in the
/// debug log only, as it changes nothing but the WAL's size.
pub(super) async fn set_wal_compression(session: &Session) {
    for method in ["lz4", "on"] {
        match session
            .client()
            .query_one(sql::COMPRESS_WAL_IF_OFF, &[&method])
            .await
        {
            Ok(_) => return,
            Err(e) if e.code() == Some(&SqlState::INVALID_PARAMETER_VALUE) => continue,
            Err(e) => {
                tracing::debug!(error = %e, "wal_compression not set; migrating without it");
                return;
            }
        }
    }
}
