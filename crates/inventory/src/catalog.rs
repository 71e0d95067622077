//! The brand catalogue and supplier contacts, with the database's own
//! validation (migration 003's functions and constraints).

use serde::Serialize;
use tokio_postgres::types::Type;
use tokio_postgres::Client;
use uuid::Uuid;

use crate::error::CatalogError;
use crate::models::{Model, Supplier};
use crate::sql;

/// A brand with how many products carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrandEntry {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Active.
    pub is_active: bool,
    /// Products linked to it.
    pub products: i64,
}

/// Every brand, by name.
///
/// # Errors
/// The driver error.
pub async fn brands(client: &Client) -> Result<Vec<BrandEntry>, CatalogError> {
    let rows = client.query_typed(sql::BRANDS, &[]).await?;
    let entry = |r: &tokio_postgres::Row| {
        Ok(BrandEntry {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            is_active: r.try_get("is_active")?,
            products: r.try_get("products")?,
        })
    };
    rows.iter().map(entry).collect()
}

/// Adds a brand; returns its code (derived from the name unless given).
///
/// # Errors
/// [`CatalogError::Rejected`] when the name (ignoring case and spacing) or the
/// code is taken, or the code is malformed.
pub async fn add_brand(
    client: &Client,
    name: &str,
    code: Option<&str>,
    website: Option<&str>,
) -> Result<String, CatalogError> {
    if name.trim().is_empty() {
        return Err(CatalogError::Invalid("a brand needs a name".into()));
    }
    let alike = client
        .query_typed_opt(sql::BRAND_ALIKE, &[(&name, Type::TEXT)])
        .await?;
    if let Some(existing) = alike {
        let (name, code): (String, String) = (existing.try_get("name")?, existing.try_get("code")?);
        return Err(CatalogError::Rejected {
            message: format!(
                "a brand named {name:?} (code {code}) already exists; names that differ only in case or spacing are one brand"
            ),
            hint: None,
        });
    }
    match client
        .query_typed_one(
            sql::BRAND_ADD,
            &[
                (&name, Type::TEXT),
                (&code, Type::TEXT),
                (&website, Type::TEXT),
            ],
        )
        .await
    {
        Ok(row) => Ok(row.try_get("code")?),
        Err(e) => Err(brand_refused(name, code, website, e)),
    }
}

/// Names the rule a new brand broke, in the words of its field: the same
/// kind of error (invalid input, exit 2) as a supplier's invalid contact.
fn brand_refused(
    name: &str,
    code: Option<&str>,
    website: Option<&str>,
    e: tokio_postgres::Error,
) -> CatalogError {
    let constraint = e.as_db_error().and_then(|d| d.constraint());
    match constraint {
        Some("idx_brand_code_unique") => CatalogError::Rejected {
            message: format!("the brand code for {name:?} is taken by another brand"),
            hint: Some("choose a code with --code".into()),
        },
        Some("brand_website_format") => CatalogError::Invalid(format!(
            "invalid website {:?}: expected a domain such as example.com, optionally with http:// or https:// (nothing was changed)",
            website.unwrap_or_default()
        )),
        Some("brand_code_format") => CatalogError::Invalid(format!(
            "invalid brand code {:?}: 1 to 50 of A-Z, 0-9, _ and -, starting with a letter or digit (nothing was changed)",
            code.unwrap_or_default()
        )),
        Some("brand_name_not_blank") => CatalogError::Invalid("a brand needs a name".into()),
        _ => e.into(),
    }
}

/// Moves every product of brand `from` to brand `into` and removes `from`, in
/// one transaction. Returns how many products moved.
///
/// # Errors
/// [`CatalogError::NotFound`] for an unknown code; the driver error.
pub async fn merge_brands(
    client: &mut Client,
    from: &str,
    into: &str,
) -> Result<u64, CatalogError> {
    if from == into {
        return Err(CatalogError::Invalid(format!(
            "cannot merge brand {from} into itself"
        )));
    }
    let tx = client.transaction().await?;
    let id = |code: &str| {
        let code = code.to_string();
        let tx = &tx;
        async move {
            tx.query_opt(
                "SELECT id FROM core.brand WHERE code = $1 FOR UPDATE",
                &[&code],
            )
            .await?
            .map(|r| r.try_get::<_, Uuid>("id"))
            .transpose()?
            .ok_or_else(|| {
                CatalogError::NotFound(format!(
                    "unknown brand code {code:?} (see `mantis brand list`)"
                ))
            })
        }
    };
    let from_id = id(from).await?;
    let into_id = id(into).await?;
    let moved = tx.execute(sql::BRAND_MERGE, &[&from_id, &into_id]).await?;
    tx.execute("DELETE FROM core.brand WHERE id = $1", &[&from_id])
        .await?;
    tx.commit().await?;
    Ok(moved)
}

/// New contact values; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactChange {
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Payment terms.
    pub payment_terms: Option<String>,
}

/// A supplier by name (case-insensitive) or id.
///
/// # Errors
/// [`CatalogError::NotFound`]; the driver error.
pub async fn supplier(client: &Client, name: &str) -> Result<Supplier, CatalogError> {
    let id = supplier_id(client, name).await?;
    let row = client
        .query_typed_one(
            &format!("{} WHERE id = $1", Supplier::select()),
            &[(&id, Type::UUID)],
        )
        .await?;
    Ok(Supplier::from_row(&row)?)
}

async fn supplier_id(client: &Client, name: &str) -> Result<Uuid, CatalogError> {
    let rows = client
        .query_typed(sql::SUPPLIER_FIND, &[(&name, Type::TEXT)])
        .await?;
    match rows.as_slice() {
        [one] => Ok(one.try_get("id")?),
        [] => Err(CatalogError::NotFound(format!(
            "no supplier named {name:?}"
        ))),
        many => Err(CatalogError::Invalid(format!(
            "{} suppliers are named {name:?}; give the id instead",
            many.len()
        ))),
    }
}

/// Sets contact fields after checking each with the database's validation.
///
/// # Errors
/// [`CatalogError::Invalid`] naming each invalid value (nothing is changed).
pub async fn set_contact(
    client: &Client,
    name: &str,
    change: &ContactChange,
) -> Result<Supplier, CatalogError> {
    let id = supplier_id(client, name).await?;
    let valid = client
        .query_typed_one(
            sql::CONTACT_VALID,
            &[
                (&change.email, Type::TEXT),
                (&change.phone, Type::TEXT),
                (&change.website, Type::TEXT),
            ],
        )
        .await?;
    let mut problems = Vec::new();
    for (i, (field, value)) in [
        ("email", &change.email),
        ("phone", &change.phone),
        ("website", &change.website),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(value) = value {
            if !valid.get::<_, Option<bool>>(i).unwrap_or(false) {
                problems.push(format!("invalid {field} {value:?}"));
            }
        }
    }
    if !problems.is_empty() {
        return Err(CatalogError::Invalid(format!(
            "{} (nothing was changed)",
            problems.join("; ")
        )));
    }
    client
        .execute_typed(
            sql::CONTACT_SET,
            &[
                (&id, Type::UUID),
                (&change.email, Type::TEXT),
                (&change.phone, Type::TEXT),
                (&change.website, Type::TEXT),
                (&change.payment_terms, Type::TEXT),
            ],
        )
        .await?;
    supplier(client, &id.to_string()).await
}
