#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! The seed's names are a contract: every object the original package's SQL
//! created (`tests/seed/003-objects.tsv`, a copy of `shared/seed/003-objects.tsv`)
//! exists after 003 under its name, and at the newest version each one is as
//! the package defined it, with a type at least as wide — or differs on
//! purpose, listed in `docs/seed-compatibility.md`. That list is checked both
//! ways: a difference it does not name fails, and so does an entry that is no
//! longer a difference.

use std::collections::BTreeMap;

use mantis_migrate::{ignore_events, Direction, Migrator, RunOptions, Target};
use mantis_testkit::{Spec, TestDb};
use tokio_postgres::Client;

const OBJECTS: &str = include_str!("seed/003-objects.tsv");
const DOC: &str = include_str!("../../../docs/seed-compatibility.md");

/// One row of the inventory: kind, table, name, the package's definition.
struct Seeded<'a> {
    kind: &'a str,
    table: &'a str,
    name: &'a str,
    definition: &'a str,
}

impl Seeded<'_> {
    /// How the doc names it: `kind table.name` (enums and functions: `kind name`).
    fn key(&self) -> String {
        let table = self.table.trim_start_matches("core.");
        match (self.kind, table) {
            (kind, "") => format!("{kind} {}", self.name),
            (kind, table) => format!("{kind} {table}.{}", self.name),
        }
    }
}

fn inventory() -> Vec<Seeded<'static>> {
    OBJECTS
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            // Types, functions and relations are named in the table column.
            let (table, name) = if f[2].is_empty() {
                ("", f[1])
            } else {
                (f[1], f[2])
            };
            Seeded {
                kind: f[0],
                table,
                name,
                definition: f[3],
            }
        })
        .collect()
}

/// The differences `docs/seed-compatibility.md` lists: rows of its tables
/// whose first cell is a key in backquotes.
fn documented() -> Vec<String> {
    DOC.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(key, _)| key.to_string()))
        .collect()
}

async fn text(client: &Client, sql: &str, params: &[&str]) -> Option<String> {
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
        .iter()
        .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    client
        .query_opt(sql, &params)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}: {:?}", e.as_db_error().map(|d| d.message())))
        .map(|r| r.get(0))
}

/// The live definition, spelled as the inventory spells it; None if missing.
async fn live(client: &Client, o: &Seeded<'_>) -> Option<String> {
    let table = o.table.trim_start_matches("core.");
    match o.kind {
        "column" => text(
            client,
            "SELECT format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END \
             || CASE WHEN a.attgenerated = 's' THEN ' GENERATED' ELSE '' END \
             FROM pg_attribute a WHERE a.attrelid = to_regclass('core.' || $1) AND a.attname = $2 \
             AND a.attnum > 0 AND NOT a.attisdropped",
            &[table, o.name],
        )
        .await,
        "constraint" => text(
            client,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = to_regclass('core.' || $1) AND conname = $2",
            &[table, o.name],
        )
        .await,
        "enum" => text(
            client,
            "SELECT string_agg(enumlabel::text, ',' ORDER BY enumsortorder) FROM pg_enum \
             WHERE enumtypid = to_regtype('core.' || $1) HAVING count(*) > 0",
            &[o.name],
        )
        .await,
        "function" => text(
            client,
            "SELECT pg_get_function_result(oid) FROM pg_proc \
             WHERE pronamespace = 'core'::regnamespace AND proname = $1",
            &[o.name],
        )
        .await,
        "index" => text(
            client,
            "SELECT regexp_replace(pg_get_indexdef(x.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ON ', '\\1') \
             FROM pg_index x WHERE x.indexrelid = to_regclass('core.' || $1) AND x.indrelid = to_regclass('core.' || $2)",
            &[o.name, table],
        )
        .await,
        "relation" => text(
            client,
            "SELECT CASE relkind WHEN 'r' THEN 'table' WHEN 'm' THEN 'matview' ELSE relkind::text END \
             FROM pg_class WHERE oid = to_regclass('core.' || $1)",
            &[o.name],
        )
        .await,
        "trigger" => text(
            client,
            "SELECT regexp_replace(pg_get_triggerdef(oid), '^CREATE TRIGGER \\S+ ', '') FROM pg_trigger \
             WHERE tgrelid = to_regclass('core.' || $1) AND tgname = $2",
            &[table, o.name],
        )
        .await,
        other => panic!("unknown kind {other} in 003-objects.tsv"),
    }
}

/// `numeric(p,s)` → (p, s); unconstrained numeric → None.
fn precision(t: &str) -> Option<(u32, u32)> {
    let inner = t.strip_prefix("numeric(")?.strip_suffix(')')?;
    let (p, s) = inner.split_once(',')?;
    Some((p.parse().ok()?, s.parse().ok()?))
}

/// Whether a value of type `seed` always fits type `ours`.
fn at_least_as_wide(ours: &str, seed: &str) -> bool {
    let varchar = |t: &str| {
        t.strip_prefix("character varying(")
            .and_then(|n| n.strip_suffix(')'))
            .and_then(|n| n.parse::<u32>().ok())
    };
    match (ours, seed) {
        _ if ours == seed => true,
        ("text", s) => s == "text" || s.starts_with("character varying"),
        ("numeric", s) => s.starts_with("numeric"),
        (o, s) if o.starts_with("numeric(") && s.starts_with("numeric(") => {
            match (precision(o), precision(s)) {
                (Some((p, sc)), Some((p2, sc2))) => sc >= sc2 && p - sc >= p2 - sc2,
                _ => false,
            }
        }
        (o, s) => matches!((varchar(o), varchar(s)), (Some(a), Some(b)) if a >= b),
    }
}

/// How the live object differs from the package's, if it does.
fn difference(o: &Seeded<'_>, live: &str) -> Option<String> {
    if o.kind != "column" {
        return (live != o.definition).then(|| format!("{live:?} (package: {:?})", o.definition));
    }
    let seed_type = o
        .definition
        .split([' '])
        .take_while(|w| !["NOT", "DEFAULT", "(GENERATED"].contains(w))
        .collect::<Vec<_>>()
        .join(" ");
    let seed_not_null = o.definition.contains("NOT NULL");
    let (live, generated) = match live.strip_suffix(" GENERATED") {
        Some(t) => (t, true),
        None => (live, false),
    };
    let (ours, ours_not_null) = match live.strip_suffix(" NOT NULL") {
        Some(t) => (t, true),
        None => (live, false),
    };
    let mut what = Vec::new();
    if !at_least_as_wide(ours, &seed_type) {
        what.push(format!("type {ours} is narrower than {seed_type}"));
    }
    if ours_not_null && !seed_not_null {
        what.push("NOT NULL where the package allows NULL".to_string());
    }
    if o.definition.contains("GENERATED") && !generated {
        what.push("not a generated column".to_string());
    }
    (!what.is_empty()).then(|| what.join("; "))
}

async fn migrated(name: &str, to: u64) -> TestDb {
    let db = TestDb::seeded(
        name,
        &Spec {
            products: 300,
            ..Spec::default()
        },
        1,
    )
    .await;
    let session = db.session().await;
    Migrator::new(
        mantis_schema::migrations().unwrap(),
        RunOptions::default(),
        ignore_events(),
    )
    .run(&session, Direction::Up, Target::Version(to))
    .await
    .unwrap();
    db
}

#[test]
fn widths_compare_as_postgresql_stores_them() {
    assert!(at_least_as_wide("numeric(20,6)", "numeric(10,2)"));
    assert!(at_least_as_wide("numeric(38,10)", "numeric(12,2)"));
    assert!(!at_least_as_wide("numeric(12,2)", "numeric(10,4)"));
    assert!(!at_least_as_wide("numeric(12,2)", "numeric"));
    assert!(at_least_as_wide("text", "character varying(255)"));
    assert!(!at_least_as_wide("character varying(50)", "text"));
    assert!(at_least_as_wide(
        "character varying(100)",
        "character varying(50)"
    ));
    assert!(!at_least_as_wide("uuid", "text"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_object_of_the_package_exists_after_003_under_its_name() {
    let db = migrated("seed_names_003", 3).await;
    let client = db.client().await;
    let mut missing = Vec::new();
    for o in inventory() {
        if live(&client, &o).await.is_none() {
            missing.push(o.key());
        }
    }
    assert!(missing.is_empty(), "missing after 003: {missing:#?}");
    assert!(inventory().len() >= 120, "the whole inventory was read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_difference_from_the_package_is_documented_and_no_other() {
    let db = migrated("seed_names_head", 4).await;
    let client = db.client().await;
    let mut found = BTreeMap::new();
    for o in inventory() {
        let live = live(&client, &o)
            .await
            .unwrap_or_else(|| panic!("{} is missing at the newest version", o.key()));
        if let Some(what) = difference(&o, &live) {
            found.insert(o.key(), what);
        }
    }
    let listed = documented();
    let undocumented: Vec<String> = found
        .iter()
        .filter(|(key, _)| !listed.contains(key))
        .map(|(key, what)| format!("{key}: {what}"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "differences from the package that docs/seed-compatibility.md does not list:\n{}",
        undocumented.join("\n")
    );
    let stale: Vec<&String> = listed.iter().filter(|k| !found.contains_key(*k)).collect();
    assert!(
        stale.is_empty(),
        "docs/seed-compatibility.md lists what is no longer a difference: {stale:?}"
    );
}

/// The package's insert, without a code, works: the code is derived from
/// the name, made unique, and the package's columns take their values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_inserted_as_the_package_does_gets_a_code() {
    let db = migrated("seed_names_brand_insert", 3).await;
    let client = db.client().await;
    let codes: Vec<String> = client
        .query(
            "INSERT INTO core.brand (name, logo_url, country_of_origin, metadata) \
             VALUES ('Seed Tools Co', 'https://example.com/logo.png', 'ZA', '{\"tier\": 1}'), \
                    ('Seed-Tools co!', NULL, NULL, DEFAULT) \
             RETURNING code",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(codes, ["SEED_TOOLS_CO", "SEED_TOOLS_CO_2"]);
}
