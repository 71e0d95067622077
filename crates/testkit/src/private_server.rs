//! A throwaway PostgreSQL cluster with password (SCRAM) authentication, and
//! optionally TLS with a certificate made for it, for the tests that need a
//! server which really checks passwords or certificates, whatever server the
//! rest of the suite runs on. Built with `initdb` / `pg_ctl` from
//! `MANTIS_PG_BIN` if set (the version matrix), else the newest under
//! /usr/lib/postgresql; run as the `postgres` OS user when the tests run as
//! root (initdb refuses root); stopped and deleted on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running private cluster.
pub struct PrivateServer {
    pub(crate) dir: PathBuf,
    pub(crate) bin: PathBuf,
    /// TCP port on 127.0.0.1.
    pub port: u16,
    tls: bool,
}

/// The name in the certificate of a TLS private server: not 127.0.0.1, so
/// `verify-full` to 127.0.0.1 must refuse it.
pub const CERTIFICATE_NAME: &str = "mantis-test.invalid";

impl PrivateServer {
    /// Starts a cluster whose `postgres` role has `password`.
    ///
    /// # Panics
    /// When no PostgreSQL server binaries are installed or the cluster fails to start.
    pub fn start(password: &str) -> PrivateServer {
        Self::start_with(password, false)
    }

    /// Starts a cluster whose `postgres` role has `password`, serving TLS
    /// with a self-signed certificate for [`CERTIFICATE_NAME`] (see
    /// [`PrivateServer::certificate`]).
    ///
    /// # Panics
    /// As [`PrivateServer::start`].
    pub fn start_tls(password: &str) -> PrivateServer {
        Self::start_with(password, true)
    }

    /// The server's certificate (PEM), to trust as a root.
    ///
    /// # Panics
    /// When the server was started without TLS.
    pub fn certificate(&self) -> PathBuf {
        assert!(self.tls, "started without TLS");
        self.dir.join("server.crt")
    }

    /// A URL as `postgres` with `password` over TCP.
    pub fn url(&self, password: &str, sslmode: &str) -> String {
        format!(
            "postgresql://postgres:{password}@127.0.0.1:{}/postgres?sslmode={sslmode}",
            self.port
        )
    }

    fn start_with(password: &str, tls: bool) -> PrivateServer {
        let bin = server_bin_dir().expect(
            "PostgreSQL server binaries: MANTIS_PG_BIN, or under /usr/lib/postgresql (run scripts/ensure-postgres)",
        );
        let dir =
            std::env::temp_dir().join(format!("mantis-pw-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).expect("create cluster dir");
        std::fs::write(dir.join("pw"), password).expect("write password file");
        if tls {
            write_certificate(&dir);
        }
        let server = PrivateServer {
            port: free_port(),
            dir,
            bin,
            tls,
        };
        server.give_to_postgres();
        server.pg(&[
            "initdb",
            "-D",
            "data",
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            "--pwfile=pw",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        let ssl = if tls {
            "-c ssl=on -c ssl_cert_file=../server.crt -c ssl_key_file=../server.key"
        } else {
            "-c ssl=off"
        };
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off {ssl}",
            server.port,
            server.dir.display()
        );
        server.pg(&[
            "pg_ctl", "-D", "data", "-w", "-l", "log", "-o", &options, "start",
        ]);
        server
    }

    pub(crate) fn give_to_postgres(&self) {
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.dir)
                .status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "chown the cluster dir to postgres"
            );
        }
    }

    pub(crate) fn pg(&self, args: &[&str]) {
        let program = self.bin.join(args[0]);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(&args[1..])
            .current_dir(&self.dir)
            .output()
            .expect("run pg tool");
        assert!(
            output.status.success(),
            "{} failed: {}{}",
            args[0],
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        stop(&self.bin, &self.dir.join("data"));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stops the cluster in `data` at once (best effort).
pub(crate) fn stop(bin: &Path, data: &Path) {
    let program = bin.join("pg_ctl");
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    let _ = command
        .arg("-D")
        .arg(data)
        .args(["-m", "immediate", "stop"])
        .output();
}

/// A self-signed certificate and its key, the key readable by its owner only
/// (the server refuses a key others can read).
fn write_certificate(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let made = rcgen::generate_simple_self_signed(vec![CERTIFICATE_NAME.to_string()])
        .expect("generate a certificate");
    std::fs::write(dir.join("server.crt"), made.cert.pem()).expect("write certificate");
    let key = dir.join("server.key");
    std::fs::write(&key, made.key_pair.serialize_pem()).expect("write key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod key");
}

fn server_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MANTIS_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| Path::new(p).join("initdb").is_file())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub(crate) fn unique() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
