//! A streaming standby of a [`PrivateServer`]: `pg_basebackup -R` of the
//! primary, started on a port of its own, stopped and deleted on drop. Its
//! replay can be paused (`pg_wal_replay_pause()`) to make it fall behind.

use std::path::PathBuf;

use crate::private_server::{free_port, stop, unique, PrivateServer};

/// A running standby.
pub struct PrivateStandby {
    data: PathBuf,
    bin: PathBuf,
    /// TCP port on 127.0.0.1.
    pub port: u16,
}

impl PrivateServer {
    /// Starts a streaming standby of this server (whose `postgres` role has
    /// `password`), named `application_name` on the primary.
    ///
    /// # Panics
    /// When the base backup or the start fails.
    pub fn start_standby(&self, password: &str, application_name: &str) -> PrivateStandby {
        let name = format!("standby-{}", unique());
        let source = format!(
            "host=127.0.0.1 port={} user=postgres password={password} application_name={application_name}",
            self.port
        );
        self.pg(&[
            "pg_basebackup",
            "-d",
            &source,
            "-D",
            &name,
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "--no-sync",
        ]);
        let standby = PrivateStandby {
            data: self.dir.join(&name),
            bin: self.bin.clone(),
            port: free_port(),
        };
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c hot_standby=on",
            standby.port,
            self.dir.display()
        );
        self.pg(&[
            "pg_ctl",
            "-D",
            &name,
            "-w",
            "-l",
            &format!("{name}.log"),
            "-o",
            &options,
            "start",
        ]);
        standby
    }
}

impl PrivateStandby {
    /// A URL as `postgres` with `password` over TCP.
    pub fn url(&self, password: &str) -> String {
        format!(
            "postgresql://postgres:{password}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }
}

impl Drop for PrivateStandby {
    fn drop(&mut self) {
        stop(&self.bin, &self.data);
    }
}
