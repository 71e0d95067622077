//! The enum types of the core schema, as Rust enums bound to their
//! PostgreSQL types (a label added on one side and not the other fails the
//! model test).

use postgres_types::{FromSql, ToSql, Type};
use serde::{Deserialize, Serialize};

/// `core.movement_type`: why stock moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ToSql, FromSql, Serialize, Deserialize)]
#[postgres(name = "movement_type")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MovementType {
    /// Goods received from a supplier (in).
    #[postgres(name = "RECEIPT")]
    Receipt,
    /// Goods sent to a customer (out).
    #[postgres(name = "SHIPMENT")]
    Shipment,
    /// A correction, in or out.
    #[postgres(name = "ADJUSTMENT")]
    Adjustment,
    /// One side of a move between warehouses.
    #[postgres(name = "TRANSFER")]
    Transfer,
    /// A customer return (in) or a return to the supplier (out).
    #[postgres(name = "RETURN")]
    Return,
    /// Written off as damaged (out).
    #[postgres(name = "DAMAGED")]
    Damaged,
    /// Written off as stolen (out).
    #[postgres(name = "THEFT")]
    Theft,
    /// Consumed by or produced in manufacturing.
    #[postgres(name = "PRODUCTION")]
    Production,
}

impl MovementType {
    /// Every movement type, in the enum's order.
    pub const ALL: [MovementType; 8] = [
        MovementType::Receipt,
        MovementType::Shipment,
        MovementType::Adjustment,
        MovementType::Transfer,
        MovementType::Return,
        MovementType::Damaged,
        MovementType::Theft,
        MovementType::Production,
    ];

    /// The movement type of a label of the database enum.
    pub fn from_label(label: &str) -> Option<MovementType> {
        Self::ALL.into_iter().find(|t| t.label() == label)
    }

    /// The label of the database enum (`RECEIPT`, …).
    pub fn label(self) -> &'static str {
        match self {
            MovementType::Receipt => "RECEIPT",
            MovementType::Shipment => "SHIPMENT",
            MovementType::Adjustment => "ADJUSTMENT",
            MovementType::Transfer => "TRANSFER",
            MovementType::Return => "RETURN",
            MovementType::Damaged => "DAMAGED",
            MovementType::Theft => "THEFT",
            MovementType::Production => "PRODUCTION",
        }
    }
}

impl std::fmt::Display for MovementType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A movement type read as text (`movement_type::text` in the query).
/// Reading the enum itself makes the driver look its type up in the catalog
/// with a statement it prepares once and keeps, which a transaction-mode
/// pooler loses between transactions.
pub struct MovementTypeText(pub MovementType);

impl<'a> FromSql<'a> for MovementTypeText {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let label = <&str as FromSql>::from_sql(ty, raw)?;
        MovementType::from_label(label)
            .map(MovementTypeText)
            .ok_or_else(|| format!("unknown movement type {label:?}").into())
    }

    fn accepts(ty: &Type) -> bool {
        <&str as FromSql>::accepts(ty)
    }
}

/// `core.reference_type`: what kind of document a movement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ToSql, FromSql, Serialize, Deserialize)]
#[postgres(name = "reference_type")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReferenceType {
    /// A purchase order.
    #[postgres(name = "PURCHASE_ORDER")]
    PurchaseOrder,
    /// A sales order.
    #[postgres(name = "SALES_ORDER")]
    SalesOrder,
    /// A transfer order.
    #[postgres(name = "TRANSFER_ORDER")]
    TransferOrder,
    /// A correction made by a person.
    #[postgres(name = "MANUAL_ADJUSTMENT")]
    ManualAdjustment,
    /// A correction made by the system (opening balances, captured direct writes).
    #[postgres(name = "SYSTEM_ADJUSTMENT")]
    SystemAdjustment,
    /// A stock count.
    #[postgres(name = "STOCK_COUNT")]
    StockCount,
}

/// `core.cost_method`: how a stock row's unit cost is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ToSql, FromSql, Serialize, Deserialize)]
#[postgres(name = "cost_method")]
pub enum CostMethod {
    /// First in, first out.
    #[postgres(name = "FIFO")]
    #[serde(rename = "FIFO")]
    Fifo,
    /// Last in, first out.
    #[postgres(name = "LIFO")]
    #[serde(rename = "LIFO")]
    Lifo,
    /// Weighted average cost (what the ledger keeps).
    #[postgres(name = "WAC")]
    #[serde(rename = "WAC")]
    Wac,
    /// Specific identification.
    #[postgres(name = "SPECIFIC")]
    #[serde(rename = "SPECIFIC")]
    Specific,
}

/// The labels of each enum, in declaration order, for the model test.
pub const LABELS: &[(&str, &[&str])] = &[
    (
        "core.movement_type",
        &[
            "RECEIPT",
            "SHIPMENT",
            "ADJUSTMENT",
            "TRANSFER",
            "RETURN",
            "DAMAGED",
            "THEFT",
            "PRODUCTION",
        ],
    ),
    (
        "core.reference_type",
        &[
            "PURCHASE_ORDER",
            "SALES_ORDER",
            "TRANSFER_ORDER",
            "MANUAL_ADJUSTMENT",
            "SYSTEM_ADJUSTMENT",
            "STOCK_COUNT",
        ],
    ),
    ("core.cost_method", &["FIFO", "LIFO", "WAC", "SPECIFIC"]),
];
