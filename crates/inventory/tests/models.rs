#![allow(clippy::unwrap_used)] // a panic is how a test reports failure
//! The typed models against the live schema after the newest migration: a
//! column added, dropped, retyped or made nullable on one side only fails.

mod support;

use mantis_inventory::kinds::LABELS;
use mantis_inventory::models::{self, Model};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_model_matches_its_table_column_by_column() {
    let db = support::books("models_schema", 1).await;
    let client = db.client().await;
    let tables: Vec<String> = client
        .query(
            "SELECT 'core.' || relname FROM pg_class WHERE relnamespace = 'core'::regnamespace AND relkind = 'r' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut modelled: Vec<String> = models::ALL.iter().map(|(t, _)| t.to_string()).collect();
    modelled.sort();
    assert_eq!(
        modelled, tables,
        "every core table has a model, and only those"
    );

    let mut drift = Vec::new();
    for (table, columns) in models::ALL {
        let live: Vec<(String, String, bool)> = client
            .query(
                "SELECT attname::text, format_type(atttypid, atttypmod), NOT attnotnull FROM pg_attribute
                 WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                &[table],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let declared: Vec<(String, String, bool)> = columns
            .iter()
            .map(|c| (c.name.to_string(), c.sql_type.to_string(), c.nullable))
            .collect();
        for column in &live {
            if !declared.contains(column) {
                drift.push(format!("{table}: live {column:?} is not in the model"));
            }
        }
        for column in &declared {
            if !live.contains(column) {
                drift.push(format!("{table}: model {column:?} is not in the database"));
            }
        }
    }
    assert!(
        drift.is_empty(),
        "models drifted from the schema:\n{}",
        drift.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enum_labels_match_and_rows_read_into_models() {
    let db = support::books("models_rows", 2).await;
    let client = db.client().await;
    for (name, labels) in LABELS {
        let live: Vec<String> = client
            .query(
                "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = $1::text::regtype ORDER BY enumsortorder",
                &[name],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(live, *labels, "{name}");
    }
    let posting = mantis_inventory::Posting::new(
        mantis_inventory::Kind::Receipt,
        "SKU-1",
        "JHB",
        "2.5".parse().unwrap(),
    )
    .at("3.25".parse().unwrap());
    mantis_inventory::post(&client, &[posting]).await.unwrap();
    // Every model reads every row of its table (types, enums, decimals).
    macro_rules! read_all {
        ($($m:ty),*) => {$(
            for row in client.query(&<$m>::select(), &[]).await.unwrap() {
                <$m>::from_row(&row).unwrap_or_else(|e| panic!("{}: {e}", <$m>::TABLE));
            }
        )*};
    }
    read_all!(
        models::User,
        models::Supplier,
        models::Category,
        models::Product,
        models::SupplierProduct,
        models::Warehouse,
        models::StockOnHand,
        models::StockMovement,
        models::Brand,
        models::SupplierContactIssue,
        models::ProductBrandIssue
    );
    let row = client
        .query_one(&models::StockMovement::select(), &[])
        .await
        .unwrap();
    let movement = models::StockMovement::from_row(&row).unwrap();
    assert_eq!(
        movement.movement_type,
        mantis_inventory::kinds::MovementType::Receipt
    );
    assert_eq!(movement.total_cost, Some("8.125".parse().unwrap()));
    assert_eq!(movement.value_delta, Some("8.125".parse().unwrap()));
    assert!(movement.seq.is_some());
}
