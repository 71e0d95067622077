//! Typed models of every table of the `core` schema, with decimal money and
//! quantities. Each model also describes its columns (name, SQL type,
//! nullability), and `tests/models.rs` compares that description with the
//! live schema after the newest migration: a column added, dropped, retyped
//! or made nullable on one side only fails the build.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::kinds::{CostMethod, MovementType, ReferenceType};

/// One column as a model declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: &'static str,
    /// Its type as PostgreSQL's `format_type` spells it.
    pub sql_type: &'static str,
    /// Whether it may be NULL (an `Option` field).
    pub nullable: bool,
}

/// A table with a typed row.
pub trait Model: Sized {
    /// Schema-qualified table name.
    const TABLE: &'static str;
    /// Every column, in declaration order.
    const COLUMNS: &'static [Column];
    /// Reads one row selected with the columns' names.
    ///
    /// # Errors
    /// A column missing from the row or of another type.
    fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error>;
    /// `SELECT col, … FROM table` (append a WHERE clause as needed).
    fn select() -> String {
        let names: Vec<&str> = Self::COLUMNS.iter().map(|c| c.name).collect();
        format!("SELECT {} FROM {}", names.join(", "), Self::TABLE)
    }
}

/// Whether a Rust field type stands for a nullable column.
pub trait Nullable {
    /// True for `Option<T>`.
    const NULLABLE: bool;
}

impl<T> Nullable for Option<T> {
    const NULLABLE: bool = true;
}

macro_rules! not_null {
    ($($t:ty),*) => { $(impl Nullable for $t { const NULLABLE: bool = false; })* };
}
not_null!(
    Uuid,
    String,
    bool,
    i64,
    Decimal,
    DateTime<Utc>,
    serde_json::Value,
    MovementType,
    ReferenceType,
    CostMethod
);

macro_rules! model {
    (
        $(#[$meta:meta])*
        $name:ident in $table:literal {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty => $sql:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl Model for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [Column] = &[
                $( Column {
                    name: stringify!($field),
                    sql_type: $sql,
                    nullable: <$ty as Nullable>::NULLABLE,
                }, )*
            ];
            fn from_row(row: &Row) -> Result<Self, tokio_postgres::Error> {
                Ok(Self { $( $field: row.try_get(stringify!($field))?, )* })
            }
        }
    };
}

model! {
    /// `core.users`.
    User in "core.users" {
        /// Key.
        id: Uuid => "uuid",
        /// Unique email.
        email: String => "text",
        /// Display name.
        display_name: Option<String> => "text",
        /// Created.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Last changed.
        updated_at: DateTime<Utc> => "timestamp with time zone",
    }
}

model! {
    /// `core.suppliers`, with the contact columns of 003.
    Supplier in "core.suppliers" {
        /// Key.
        id: Uuid => "uuid",
        /// Name.
        name: String => "text",
        /// Description.
        description: Option<String> => "text",
        /// Active.
        is_active: bool => "boolean",
        /// Legacy contact data as suppliers sent it.
        metadata: serde_json::Value => "jsonb",
        /// Created.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Last changed.
        updated_at: DateTime<Utc> => "timestamp with time zone",
        /// Validated phone.
        contact_phone: Option<String> => "text",
        /// Validated email (lower case).
        contact_email: Option<String> => "text",
        /// Validated website.
        website: Option<String> => "text",
        /// Payment terms (e.g. Net 30).
        payment_terms: Option<String> => "text",
    }
}

model! {
    /// `core.categories`.
    Category in "core.categories" {
        /// Key.
        id: Uuid => "uuid",
        /// Name.
        name: String => "text",
        /// Parent category.
        parent_id: Option<Uuid> => "uuid",
        /// Created.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Last changed.
        updated_at: DateTime<Utc> => "timestamp with time zone",
    }
}

model! {
    /// `core.products`.
    Product in "core.products" {
        /// Key.
        id: Uuid => "uuid",
        /// Unique stock-keeping unit.
        sku: String => "text",
        /// Name.
        name: String => "text",
        /// Description.
        description: Option<String> => "text",
        /// Category.
        category_id: Option<Uuid> => "uuid",
        /// Brand text as the supplier spelled it.
        brand_from_supplier: Option<String> => "text",
        /// Brand (003).
        brand_id: Option<Uuid> => "uuid",
        /// Unit of measure.
        unit_of_measure: String => "text",
        /// Reorder level.
        min_stock_level: Decimal => "numeric(18,4)",
        /// Upper stock level.
        max_stock_level: Option<Decimal> => "numeric(18,4)",
        /// Active.
        is_active: bool => "boolean",
        /// Created.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Last changed.
        updated_at: DateTime<Utc> => "timestamp with time zone",
    }
}

model! {
    /// `core.supplier_products`: a supplier's price for a product.
    SupplierProduct in "core.supplier_products" {
        /// Key.
        id: Uuid => "uuid",
        /// Supplier.
        supplier_id: Uuid => "uuid",
        /// Product.
        product_id: Uuid => "uuid",
        /// The supplier's own SKU.
        supplier_sku: Option<String> => "text",
        /// Price per unit.
        cost_price: Option<Decimal> => "numeric(18,4)",
        /// Currency of the price.
        currency: String => "text",
        /// The preferred supplier of the product.
        is_preferred: bool => "boolean",
        /// Created.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Last changed.
        updated_at: DateTime<Utc> => "timestamp with time zone",
    }
}

model! {
    /// `core.warehouses`, with the negative-stock policy of 004.
    Warehouse in "core.warehouses" {
        /// Key.
        id: Uuid => "uuid",
        /// Unique code.
        code: String => "text",
        /// Name.
        name: String => "text",
        /// Active.
        is_active: bool => "boolean",
        /// Created.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Last changed.
        updated_at: DateTime<Utc> => "timestamp with time zone",
        /// Whether outbound movements may leave stock below zero.
        allow_negative_stock: bool => "boolean",
    }
}

model! {
    /// `core.stock_on_hand`: the balance of one (product, warehouse).
    StockOnHand in "core.stock_on_hand" {
        /// Key.
        id: Uuid => "uuid",
        /// Product.
        product_id: Uuid => "uuid",
        /// Warehouse.
        warehouse_id: Uuid => "uuid",
        /// Quantity on hand (the sum of its movements).
        quantity: Decimal => "numeric(18,4)",
        /// Created.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Last changed.
        updated_at: DateTime<Utc> => "timestamp with time zone",
        /// Weighted-average unit cost; None while no cost is known.
        cost_price: Option<Decimal> => "numeric(20,6)",
        /// How the cost is kept.
        cost_method: CostMethod => "core.cost_method",
        /// Where the cost came from.
        cost_source: Option<String> => "text",
        /// When the cost last changed.
        last_cost_update_at: Option<DateTime<Utc>> => "timestamp with time zone",
        /// quantity × cost_price (the sum of its movements' value_delta).
        total_value: Option<Decimal> => "numeric(38,10)",
    }
}

model! {
    /// `core.stock_movement`: one fact of the ledger (append-only).
    StockMovement in "core.stock_movement" {
        /// Key.
        id: Uuid => "uuid",
        /// Product.
        product_id: Uuid => "uuid",
        /// Warehouse.
        warehouse_id: Uuid => "uuid",
        /// Why it moved.
        movement_type: MovementType => "core.movement_type",
        /// Signed quantity: in > 0, out < 0.
        quantity: Decimal => "numeric(18,4)",
        /// Unit of measure.
        unit_of_measure: String => "text",
        /// Unit cost in (given) or out (the average it left at).
        cost_price: Option<Decimal> => "numeric(20,6)",
        /// quantity × cost_price (generated).
        total_cost: Option<Decimal> => "numeric(38,10)",
        /// Source document kind.
        reference_type: Option<ReferenceType> => "core.reference_type",
        /// Source document id (shared by both sides of a transfer).
        reference_id: Option<Uuid> => "uuid",
        /// Source document number.
        reference_number: Option<String> => "text",
        /// Free text.
        notes: Option<String> => "text",
        /// Extra facts (e.g. how a direct write was captured).
        metadata: Option<serde_json::Value> => "jsonb",
        /// Who posted it.
        created_by: Option<Uuid> => "uuid",
        /// When it was posted.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Exact change of the stock row's value.
        value_delta: Option<Decimal> => "numeric(38,10)",
        /// Order of application (None before 004).
        seq: Option<i64> => "bigint",
        /// Source-document line key.
        idempotency_key: Option<String> => "text",
        /// The movement this one reverses.
        reverses_id: Option<Uuid> => "uuid",
    }
}

model! {
    /// `core.stock_movement_archive`: movements moved out of the hot table
    /// by `mantis ledger archive` (migration 005).
    StockMovementArchive in "core.stock_movement_archive" {
        /// Key.
        id: Uuid => "uuid",
        /// Product.
        product_id: Uuid => "uuid",
        /// Warehouse.
        warehouse_id: Uuid => "uuid",
        /// Why it moved.
        movement_type: MovementType => "core.movement_type",
        /// Signed quantity: in > 0, out < 0.
        quantity: Decimal => "numeric(18,4)",
        /// Unit of measure.
        unit_of_measure: String => "text",
        /// Unit cost in (given) or out (the average it left at).
        cost_price: Option<Decimal> => "numeric(20,6)",
        /// quantity × cost_price, as it was.
        total_cost: Option<Decimal> => "numeric(38,10)",
        /// Source document kind.
        reference_type: Option<ReferenceType> => "core.reference_type",
        /// Source document id (shared by both sides of a transfer).
        reference_id: Option<Uuid> => "uuid",
        /// Source document number.
        reference_number: Option<String> => "text",
        /// Free text.
        notes: Option<String> => "text",
        /// Extra facts (e.g. how a direct write was captured).
        metadata: Option<serde_json::Value> => "jsonb",
        /// Who posted it.
        created_by: Option<Uuid> => "uuid",
        /// When it was posted.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Exact change of the stock row's value.
        value_delta: Option<Decimal> => "numeric(38,10)",
        /// Order of application (None before 004).
        seq: Option<i64> => "bigint",
        /// Source-document line key.
        idempotency_key: Option<String> => "text",
        /// The movement this one reverses.
        reverses_id: Option<Uuid> => "uuid",
        /// The carried-balance movement standing for it in the hot table
        /// (None when the movements archived with it net to zero).
        carried_by: Option<Uuid> => "uuid",
        /// When it was archived.
        archived_at: DateTime<Utc> => "timestamp with time zone",
    }
}

model! {
    /// `core.brand`.
    Brand in "core.brand" {
        /// Key.
        id: Uuid => "uuid",
        /// Name (unique ignoring case and spacing).
        name: String => "text",
        /// Unique code (A–Z, 0–9, _).
        code: String => "text",
        /// Description.
        description: Option<String> => "text",
        /// Logo address.
        logo_url: Option<String> => "text",
        /// Website.
        website: Option<String> => "text",
        /// Country of origin.
        country_of_origin: Option<String> => "text",
        /// Active.
        is_active: bool => "boolean",
        /// Free-form attributes.
        metadata: Option<serde_json::Value> => "jsonb",
        /// Created.
        created_at: DateTime<Utc> => "timestamp with time zone",
        /// Last changed.
        updated_at: DateTime<Utc> => "timestamp with time zone",
        /// Created by (a user).
        created_by: Option<Uuid> => "uuid",
        /// Last changed by (a user).
        updated_by: Option<Uuid> => "uuid",
    }
}

model! {
    /// `core.supplier_contact_issue`: a contact value 003 could not use.
    SupplierContactIssue in "core.supplier_contact_issue" {
        /// Supplier.
        supplier_id: Uuid => "uuid",
        /// Which field.
        field: String => "text",
        /// The value as found.
        value: String => "text",
        /// Why it was not used.
        reason: String => "text",
        /// When.
        detected_at: DateTime<Utc> => "timestamp with time zone",
    }
}

model! {
    /// `core.product_brand_issue`: a legacy brand id that pointed nowhere.
    ProductBrandIssue in "core.product_brand_issue" {
        /// Product.
        product_id: Uuid => "uuid",
        /// The old value.
        legacy_brand_id: Uuid => "uuid",
        /// The product's brand text.
        brand_text: Option<String> => "text",
        /// What was done.
        resolution: String => "text",
        /// When.
        detected_at: DateTime<Utc> => "timestamp with time zone",
    }
}

/// Table name and columns of every model.
pub const ALL: &[(&str, &[Column])] = &[
    (User::TABLE, User::COLUMNS),
    (Supplier::TABLE, Supplier::COLUMNS),
    (Category::TABLE, Category::COLUMNS),
    (Product::TABLE, Product::COLUMNS),
    (SupplierProduct::TABLE, SupplierProduct::COLUMNS),
    (Warehouse::TABLE, Warehouse::COLUMNS),
    (StockOnHand::TABLE, StockOnHand::COLUMNS),
    (StockMovement::TABLE, StockMovement::COLUMNS),
    (StockMovementArchive::TABLE, StockMovementArchive::COLUMNS),
    (Brand::TABLE, Brand::COLUMNS),
    (SupplierContactIssue::TABLE, SupplierContactIssue::COLUMNS),
    (ProductBrandIssue::TABLE, ProductBrandIssue::COLUMNS),
];
