//! A private PgBouncer in front of the test server, for the tests of
//! commands run through a connection pooler: Debian's `pgbouncer` (made
//! available by `scripts/ensure-pgbouncer`, found through
//! `MANTIS_TEST_PGBOUNCER`, else on PATH or in /usr/sbin), on a free port,
//! switching to the `postgres` OS user when the tests run as root (PgBouncer
//! refuses to run as root); stopped and its files deleted on drop.
//!
//! Its clients log in without a password (`auth_type = trust`, the test
//! server's user listed); it logs in to the server with the test server's
//! own settings. It hands server connections out round robin over a pool
//! of several, so that consecutive transactions of one client really land
//! on different server connections.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mantis_migrate::ConnectOptions;

use crate::private_server::{free_port, is_root, unique};

/// PgBouncer's `pool_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    /// A server connection per transaction.
    Transaction,
    /// A server connection per client connection, for its whole life.
    Session,
}

/// A running PgBouncer.
pub struct Pooler {
    dir: PathBuf,
    child: Child,
    user: String,
    /// TCP port on 127.0.0.1.
    pub port: u16,
}

impl Pooler {
    /// Starts a PgBouncer in `mode` in front of the server of `upstream`.
    ///
    /// # Panics
    /// When PgBouncer is not installed or does not start listening.
    pub fn start(mode: PoolMode, upstream: &ConnectOptions) -> Pooler {
        Self::start_with_pool(mode, upstream, 20)
    }

    /// Starts a PgBouncer in `mode` in front of the server of `upstream`,
    /// with `pool_size` server connections per database and user.
    ///
    /// # Panics
    /// When PgBouncer is not installed or does not start listening.
    pub fn start_with_pool(mode: PoolMode, upstream: &ConnectOptions, pool_size: u32) -> Pooler {
        let program = pgbouncer().expect(
            "PgBouncer: MANTIS_TEST_PGBOUNCER, pgbouncer on PATH or /usr/sbin/pgbouncer (run scripts/ensure-pgbouncer)",
        );
        let dir = std::env::temp_dir().join(format!(
            "mantis-pgbouncer-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&dir).expect("create the pooler's dir");
        let port = free_port();
        std::fs::write(
            dir.join("pgbouncer.ini"),
            config(mode, upstream, &dir, port, pool_size),
        )
        .expect("write pgbouncer.ini");
        std::fs::write(
            dir.join("users.txt"),
            format!("\"{}\" \"\"\n", upstream.user),
        )
        .expect("write the pooler's user list");
        let mut command = Command::new(&program);
        if is_root() {
            let chowned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status();
            assert!(chowned.is_ok_and(|s| s.success()), "chown the pooler's dir");
            // Its own switch (not runuser): the child killed on drop is
            // PgBouncer itself.
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pgbouncer");
        let pooler = Pooler {
            dir,
            child,
            user: upstream.user.clone(),
            port,
        };
        pooler.wait_until_listening();
        pooler
    }

    /// A URL to database `dbname` through the pooler.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "postgresql://{}@127.0.0.1:{}/{dbname}?sslmode=disable",
            self.user, self.port
        )
    }

    /// What PgBouncer logged so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }

    fn wait_until_listening(&self) {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "pgbouncer did not listen on port {} within 10 s; its log:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pooler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// pgbouncer.ini: every database of the upstream server, by its own name.
fn config(
    mode: PoolMode,
    upstream: &ConnectOptions,
    dir: &std::path::Path,
    port: u16,
    pool_size: u32,
) -> String {
    let password = upstream
        .password
        .as_deref()
        .map(|p| format!(" password={p}"))
        .unwrap_or_default();
    let mode = match mode {
        PoolMode::Transaction => "transaction",
        PoolMode::Session => "session",
    };
    format!(
        "[databases]\n\
         * = host={host} port={upstream_port} user={user}{password}\n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {dir}/users.txt\n\
         pool_mode = {mode}\n\
         default_pool_size = {pool_size}\n\
         max_client_conn = 200\n\
         server_round_robin = 1\n\
         logfile = {dir}/pgbouncer.log\n",
        host = upstream.host,
        upstream_port = upstream.port,
        user = upstream.user,
        dir = dir.display(),
    )
}

fn pgbouncer() -> Option<PathBuf> {
    let named = std::env::var_os("MANTIS_TEST_PGBOUNCER").map(PathBuf::from);
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("pgbouncer"))
            .find(|p| p.is_file())
    });
    named
        .into_iter()
        .chain(on_path)
        .chain(std::iter::once(PathBuf::from("/usr/sbin/pgbouncer")))
        .find(|p| p.is_file())
}
