//! Batches wait for standbys: before each batch, every standby streaming
//! from this server must have replayed to within `--max-replication-lag` of
//! the WAL the server has written (in bytes, or as `replay_lag` time). A
//! backfill writes WAL far faster than a remote standby (or a read replica)
//! replays it; unpaced, its readers see data minutes old and a failover
//! loses what was not replayed.

use std::fmt;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::event::Event;
use crate::session::Session;
use crate::sql;

use super::BatchContext;

/// How far behind a standby may fall before batches wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LagLimit {
    /// Batches never wait for standbys.
    Off,
    /// WAL written but not yet replayed, in bytes.
    Bytes(u64),
    /// `pg_stat_replication.replay_lag` (NULL, so never over, on a standby
    /// with nothing to replay; says nothing about how much is waiting).
    Time(Duration),
}

/// The default limit: 64 MB of WAL not yet replayed (a few seconds of a
/// backfill; on a quiet standby a fraction of a second to replay).
pub const DEFAULT_LAG_LIMIT: LagLimit = LagLimit::Bytes(64 * 1024 * 1024);

impl Default for LagLimit {
    fn default() -> Self {
        DEFAULT_LAG_LIMIT
    }
}

impl fmt::Display for LagLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LagLimit::Off => f.write_str("off"),
            LagLimit::Bytes(n) => f.write_str(&bytes(*n)),
            LagLimit::Time(d) => write!(f, "{}ms", d.as_millis()),
        }
    }
}

/// A size as PostgreSQL writes it (1024-based kB, MB, GB): whole units when
/// exact, else one decimal under 10 of the unit.
pub fn bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            let value = n as f64 / size as f64;
            return if n % size == 0 || value >= 10.0 {
                format!("{value:.0}{unit}")
            } else {
                format!("{value:.1}{unit}")
            };
        }
    }
    format!("{n} bytes")
}

/// One standby as the primary sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Standby {
    /// Its application_name (or pid) and address.
    pub name: String,
    /// WAL written here and not yet replayed there, in bytes; None when this
    /// role may not see it (it needs pg_monitor / pg_read_all_stats).
    #[serde(rename = "behind_bytes")]
    pub behind: Option<u64>,
    /// `replay_lag` (None when idle or not visible).
    #[serde(rename = "lag_ms", serialize_with = "crate::serde_time::opt_millis")]
    pub lag: Option<Duration>,
}

impl Standby {
    /// Whether it is further behind than `limit`.
    pub fn over(&self, limit: LagLimit) -> bool {
        match limit {
            LagLimit::Off => false,
            LagLimit::Bytes(max) => self.behind.is_some_and(|b| b > max),
            LagLimit::Time(max) => self.lag.is_some_and(|l| l > max),
        }
    }

    /// Whether the primary shows this role where the standby is.
    pub fn visible(&self) -> bool {
        self.behind.is_some()
    }
}

/// The standbys streaming from the server now.
///
/// # Errors
/// The server's, as [`Error::Database`].
pub async fn read(session: &Session) -> Result<Vec<Standby>, Error> {
    let rows = session
        .client()
        .query(sql::STANDBYS, &[])
        .await
        .map_err(Error::db("reading the standbys (pg_stat_replication)"))?;
    let read = |row: &tokio_postgres::Row| -> Result<Standby, tokio_postgres::Error> {
        let behind: Option<i64> = row.try_get("behind_bytes")?;
        let lag_ms: Option<i64> = row.try_get("lag_ms")?;
        Ok(Standby {
            name: row.try_get("standby")?,
            behind: behind.map(|b| u64::try_from(b).unwrap_or(0)),
            lag: lag_ms.map(|l| Duration::from_millis(u64::try_from(l).unwrap_or(0))),
        })
    };
    rows.iter()
        .map(read)
        .collect::<Result<_, _>>()
        .map_err(Error::db("reading the standbys (pg_stat_replication)"))
}

/// How often the standbys are looked at while batches wait, and how often
/// the wait is told.
const LOOK_EVERY: Duration = Duration::from_millis(100);
const TELL_EVERY: Duration = Duration::from_secs(5);

/// Holds the next batch while a standby is further behind than the limit,
/// saying which and how far every 5 s, and when it has caught up. Warns
/// once (`unseen`) when this role cannot see where the standbys are.
pub(crate) async fn wait(cx: &BatchContext<'_>, unseen_told: &mut bool) -> Result<(), Error> {
    let limit = cx.max_replication_lag;
    if limit == LagLimit::Off {
        return Ok(());
    }
    let started = Instant::now();
    let mut told = Duration::ZERO;
    loop {
        let standbys = read(cx.session).await?;
        if !*unseen_told && standbys.iter().any(|s| !s.visible()) {
            *unseen_told = true;
            (cx.events)(&Event::StandbysUnseen {
                version: cx.version,
                standbys: standbys
                    .iter()
                    .filter(|s| !s.visible())
                    .map(|s| s.name.clone())
                    .collect(),
            });
        }
        let worst = standbys
            .into_iter()
            .filter(|s| s.over(limit))
            .max_by_key(|s| (s.behind, s.lag));
        let Some(worst) = worst else {
            if !told.is_zero() {
                (cx.events)(&Event::ReplicationCaughtUp {
                    version: cx.version,
                    waited: started.elapsed(),
                });
            }
            return Ok(());
        };
        if started.elapsed() >= told {
            (cx.events)(&Event::ReplicationLag {
                version: cx.version,
                standby: worst,
                limit,
                waited: started.elapsed(),
            });
            told += TELL_EVERY;
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_compare_bytes_or_time() {
        let standby = |behind: Option<u64>, lag_ms: Option<u64>| Standby {
            name: "s".into(),
            behind,
            lag: lag_ms.map(Duration::from_millis),
        };
        let mb = 1024 * 1024;
        assert!(standby(Some(65 * mb), None).over(DEFAULT_LAG_LIMIT));
        assert!(!standby(Some(64 * mb), None).over(DEFAULT_LAG_LIMIT));
        assert!(
            !standby(None, Some(9_000)).over(DEFAULT_LAG_LIMIT),
            "an unseen position is not over"
        );
        let second = LagLimit::Time(Duration::from_secs(1));
        assert!(standby(Some(0), Some(1_500)).over(second));
        assert!(
            !standby(Some(99 * mb), None).over(second),
            "idle: replay_lag is NULL"
        );
        assert!(!standby(Some(u64::MAX), Some(u64::MAX)).over(LagLimit::Off));
    }

    #[test]
    fn limits_and_sizes_read_as_postgresql_writes_them() {
        assert_eq!(DEFAULT_LAG_LIMIT.to_string(), "64MB");
        assert_eq!(LagLimit::Bytes(1024 * 1024 * 1024).to_string(), "1GB");
        assert_eq!(
            LagLimit::Time(Duration::from_millis(1500)).to_string(),
            "1500ms"
        );
        assert_eq!(LagLimit::Off.to_string(), "off");
        assert_eq!(bytes(15 * 1024 * 1024 + 400 * 1024), "15MB");
        assert_eq!(bytes(1536 * 1024), "1.5MB");
        assert_eq!(bytes(2048), "2kB");
        assert_eq!(bytes(2 << 20), "2MB");
        assert_eq!(bytes(3 << 29), "1.5GB");
        assert_eq!(bytes(12), "12 bytes");
    }
}
