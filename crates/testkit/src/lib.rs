//! A fresh database per test, so tests run in parallel against one real server.
//!
//! - [`TestDb::empty`]: a new, empty database.
//! - [`TestDb::at_version`]: a clone of a template database that has the embedded
//!   MantisNXT migrations applied up to a version. Templates are built once per
//!   content of the migration set (their name carries its hash), under an
//!   advisory lock, so parallel test processes never build one twice.
//!
//! The database is dropped when the [`TestDb`] is dropped, unless the test is
//! panicking: then it is kept, marked with the run that kept it, and its name
//! printed, for inspection. The next run drops what earlier runs kept, so
//! failed runs never pile up; `cargo run -p mantis-testkit --bin
//! test-databases` lists what is left (`-- drop` drops it all).
//!
//! The server comes from `MANTIS_TEST_DATABASE_URL`, else `DATABASE_URL`, else
//! `postgresql://postgres@127.0.0.1:5432/postgres` (`scripts/ensure-postgres`
//! makes one reachable).

#![deny(clippy::print_stdout)]

mod busy;
pub mod kept;
mod pooler;
mod private_server;
mod standby;

use std::sync::atomic::{AtomicU32, Ordering};

pub use mantis_datagen::Spec;
use mantis_migrate::ident::{quote_ident, quote_literal};
use mantis_migrate::{
    ignore_events, ConnectOptions, Direction, Migrator, RunOptions, Session, Target,
};
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

pub use busy::BusyCores;
pub use pooler::{PoolMode, Pooler};
pub use private_server::{PrivateServer, CERTIFICATE_NAME};
pub use standby::PrivateStandby;

/// Default server for tests.
const DEFAULT_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable";
/// Advisory lock key (in the maintenance database) guarding template builds.
const TEMPLATE_LOCK: i64 = 0x6d61_6e74_6973_7470;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The server tests run against (maintenance database).
pub fn server() -> ConnectOptions {
    let url = std::env::var("MANTIS_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| DEFAULT_URL.to_string());
    ConnectOptions::resolve_with(Some(&url), |name| std::env::var(name).ok())
        .expect("the test database URL must be valid")
}

/// A database that lives as long as this value.
pub struct TestDb {
    name: String,
    label: String,
    options: ConnectOptions,
}

/// Set once this process has dropped what earlier runs kept.
static EARLIER_RUNS_CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

impl TestDb {
    /// A new empty database for the test called `label`.
    pub async fn empty(label: &str) -> TestDb {
        Self::create(label, "template0").await
    }

    /// A new database with the embedded migrations applied up to `version`.
    pub async fn at_version(label: &str, version: u64) -> TestDb {
        let template = ensure_template(version, None).await;
        Self::create(label, &template).await
    }

    /// A new database at migration 001 loaded with `spec`'s data
    /// (`mantis seed`), then migrated up to `version`.
    pub async fn seeded(label: &str, spec: &Spec, version: u64) -> TestDb {
        let template = ensure_template(version, Some(spec)).await;
        Self::create(label, &template).await
    }

    async fn create(label: &str, template: &str) -> TestDb {
        let server = server();
        let name = unique_name(label);
        let admin = connect(&server).await;
        EARLIER_RUNS_CLEANED
            .get_or_init(|| async {
                match kept::drop_earlier_runs(&admin).await {
                    Ok(dropped) if !dropped.is_empty() => {
                        eprintln!(
                            "dropped {} test databases kept by earlier runs",
                            dropped.len()
                        );
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("could not list the databases earlier runs kept: {e}"),
                }
            })
            .await;
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(&name),
            quote_ident(template)
        );
        admin
            .batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name} from {template}: {e}"));
        TestDb {
            options: server.with_dbname(&name),
            name,
            label: label.to_string(),
        }
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection settings for this database.
    pub fn options(&self) -> ConnectOptions {
        self.options.clone()
    }

    /// A URL for this database, password included (to hand to a child process).
    pub fn url(&self) -> String {
        self.options.to_url_with_password()
    }

    /// A plain driver connection to this database.
    pub async fn client(&self) -> Client {
        connect(&self.options).await
    }

    /// An engine session on this database.
    pub async fn session(&self) -> Session {
        Session::connect(&self.options, ignore_events())
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let keep = std::thread::panicking();
        let (server, name, label) = (server(), self.name.clone(), self.label.clone());
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let worker = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let admin = connect(&server).await;
                if keep {
                    kept::mark(&admin, &name, &label).await
                } else {
                    mantis_migrate::scratch::drop_database(&admin, &name).await
                }
            })
        });
        match (keep, worker.join()) {
            (true, Ok(Ok(()))) => eprintln!(
                "test database kept for inspection (the next test run drops it): {} ({})",
                self.name,
                self.options.masked()
            ),
            (_, Ok(Ok(()))) => {}
            (_, Ok(Err(e))) => eprintln!("could not drop or mark test database {}: {e}", self.name),
            (_, Err(_)) => eprintln!("could not drop or mark test database {}", self.name),
        }
    }
}

/// Connects through the engine's own session code (same settings, same TLS),
/// as application `mantis-testkit`, and hands back the driver client.
pub async fn connect(options: &ConnectOptions) -> Client {
    let mut options = options.clone();
    options.application_name = "mantis-testkit".to_string();
    match Session::connect(&options, ignore_events()).await {
        Ok(session) => session.into_client(),
        Err(e) => panic!("cannot connect to the test server: {e}\n  hint: run scripts/ensure-postgres, or set MANTIS_TEST_DATABASE_URL"),
    }
}

fn unique_name(label: &str) -> String {
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("mt_{clean}_{}_{n}", std::process::id())
}

/// Name of the template at `version` (seeded with `spec`): it changes
/// whenever any embedded file, or the generator's output, does.
fn template_name(version: u64, spec: Option<&Spec>) -> String {
    let mut hash = Sha256::new();
    for (name, bytes) in mantis_schema::FILES {
        hash.update(name.as_bytes());
        hash.update(bytes);
    }
    let Some(spec) = spec else {
        let digest = hex::encode(hash.finalize());
        return format!("mantis_tpl_v{version}_{}", &digest[..12]);
    };
    // A sample of generated rows stands for the generator's code.
    for i in 0..64 {
        let product = mantis_datagen::rows::product(spec.seed, i, 33);
        let prices = mantis_datagen::rows::prices(spec.seed, i, 22);
        let stock = mantis_datagen::rows::stock(spec.seed, i, product.unit, spec.warehouses);
        hash.update(format!("{product:?}{prices:?}{stock:?}").as_bytes());
    }
    let digest = hex::encode(hash.finalize());
    format!(
        "mantis_tpl_v{version}_s{}_{}x{}_{}",
        spec.seed,
        spec.products,
        spec.warehouses,
        &digest[..10]
    )
}

async fn ensure_template(version: u64, spec: Option<&Spec>) -> String {
    let name = template_name(version, spec);
    let admin = connect(&server()).await;
    admin
        .query_one("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK])
        .await
        .expect("template lock");
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .expect("look up template")
        .is_some();
    if !exists {
        build_template(&admin, &name, version, spec).await;
    }
    admin
        .query_one("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK])
        .await
        .expect("template unlock");
    name
}

/// Builds under a temporary name and renames at the end, so a half-built
/// template is never cloned.
async fn build_template(admin: &Client, name: &str, version: u64, spec: Option<&Spec>) {
    let building = format!("{name}_building");
    mantis_migrate::scratch::drop_database(admin, &building)
        .await
        .expect("drop stale template");
    let create = format!(
        "CREATE DATABASE {} TEMPLATE template0",
        quote_ident(&building)
    );
    admin.batch_execute(&create).await.expect("create template");
    {
        let options = server().with_dbname(&building);
        let session = Session::connect(&options, ignore_events())
            .await
            .expect("connect to template");
        let set = mantis_schema::migrations().expect("embedded migrations");
        let migrator = Migrator::new(set, RunOptions::default(), ignore_events());
        if let Some(spec) = spec {
            migrator
                .run(&session, Direction::Up, Target::Version(1))
                .await
                .unwrap_or_else(|e| panic!("building template {name}: {e}"));
            mantis_datagen::seed(session.client(), spec, &|_| {})
                .await
                .unwrap_or_else(|e| panic!("seeding template {name}: {e}"));
        }
        migrator
            .run(&session, Direction::Up, Target::Version(version))
            .await
            .unwrap_or_else(|e| panic!("building template {name}: {e}"));
    }
    let rename = format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote_ident(&building),
        quote_ident(name)
    );
    // The session above may still be closing; FORCE-free rename needs it gone.
    for attempt in 0.. {
        match admin.batch_execute(&rename).await {
            Ok(()) => break,
            Err(e) if attempt < 50 => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("renaming template {building}: {e}"),
        }
    }
    let comment = format!(
        "COMMENT ON DATABASE {} IS {}",
        quote_ident(name),
        quote_literal(&format!("{}; safe to drop", kept::TEMPLATE_MARK))
    );
    admin
        .batch_execute(&comment)
        .await
        .expect("comment template");
}

/// Every table whose data migration 003 owns or changes.
pub const TABLES_OF_003: &[&str] = &[
    "core.brand",
    "core.products",
    "core.suppliers",
    "core.stock_on_hand",
    "core.stock_movement",
    "core.supplier_contact_issue",
    "core.product_brand_issue",
];

/// The contents of each table, order-independent: `(table, "md5 rows")`. Two
/// equal digests mean byte-for-byte equal rows.
pub async fn table_digests(client: &Client, tables: &[&str]) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(tables.len());
    for table in tables {
        let sql = format!(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) || ' ' || count(*) FROM {table} t"
        );
        let row = client
            .query_one(&sql, &[])
            .await
            .unwrap_or_else(|e| panic!("digest of {table}: {e}"));
        out.push((table.to_string(), row.get(0)));
    }
    out
}
