//! Bulk loading into empty tables: keys are dropped for the load and added
//! back once, in the same transaction. Building an index or checking a foreign
//! key once over the loaded rows is several times faster than doing it row by
//! row, and since everything happens in one transaction, nobody ever sees the
//! tables without their keys.

use mantis_migrate::ident::quote_ident;
use tokio_postgres::Client;

use crate::error::SeedError;
use crate::sql;

/// A constraint, as PostgreSQL defines it.
pub struct Key {
    table: String,
    name: String,
    definition: String,
}

/// Drops the primary, unique and foreign keys on (or pointing to) `tables`,
/// returning them in the order they must be added back.
pub async fn drop_keys(client: &Client, tables: &[&str]) -> Result<Vec<Key>, SeedError> {
    let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    let rows = client
        .query(sql::KEYS, &[&tables])
        .await
        .map_err(SeedError::copy("(reading keys)"))?;
    // Rows come foreign keys first: they depend on the keys they point to.
    let keys: Vec<Key> = rows
        .iter()
        .map(|r| {
            Ok(Key {
                table: r.try_get("table_name")?,
                name: r.try_get("conname")?,
                definition: r.try_get("definition")?,
            })
        })
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(SeedError::copy("(reading keys)"))?;
    for key in &keys {
        let drop = format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            key.table,
            quote_ident(&key.name)
        );
        client
            .batch_execute(&drop)
            .await
            .map_err(SeedError::copy("(dropping keys for the load)"))?;
    }
    Ok(keys.into_iter().rev().collect())
}

/// Adds `keys` back (primary and unique first, then foreign keys).
pub async fn add_keys(client: &Client, keys: &[Key]) -> Result<(), SeedError> {
    for key in keys {
        // `table` is a regclass rendered by the server, already quoted.
        let add = format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            key.table,
            quote_ident(&key.name),
            key.definition
        );
        client
            .batch_execute(&add)
            .await
            .map_err(SeedError::copy("(adding keys back)"))?;
    }
    Ok(())
}
