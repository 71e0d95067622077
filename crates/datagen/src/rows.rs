//! Deterministic rows. Every entity is a pure function of (seed, index): its
//! own random stream is derived from both, so each table can be generated in
//! its own streaming pass and still agree with the others.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::catalog::{self, ADJECTIVES, BRANDS, NOUNS, SIZES, UNITS};

/// Kinds of entity, each with its own id space and random stream.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Kind {
    /// core.users
    User = 1,
    /// core.suppliers
    Supplier = 2,
    /// core.categories
    Category = 3,
    /// core.products
    Product = 4,
    /// core.warehouses
    Warehouse = 5,
    /// a dangling legacy brand id
    LegacyBrand = 6,
    /// core.supplier_products
    SupplierProduct = 7,
    /// core.stock_on_hand
    Stock = 8,
}

/// SplitMix64: a fast, well-mixed bijection, used to derive stream seeds and ids.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn key(seed: u64, kind: Kind, index: u64) -> u64 {
    mix(mix(seed ^ ((kind as u64) << 56)) ^ index)
}

/// The random stream of one entity.
pub fn stream(seed: u64, kind: Kind, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(key(seed, kind, index))
}

/// The id of one entity: a version-4 UUID derived from (seed, kind, index).
pub fn id(seed: u64, kind: Kind, index: u64) -> Uuid {
    let high = key(seed, kind, index);
    let low = mix(high ^ 0x5555_5555_5555_5555);
    uuid::Builder::from_random_bytes(((u128::from(high) << 64) | u128::from(low)).to_be_bytes())
        .into_uuid()
}

/// A product row of core.products.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// Primary key.
    pub id: Uuid,
    /// Unique SKU.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Index into the category list.
    pub category: usize,
    /// Brand text as the supplier sent it (None, blank or a spelling).
    pub brand_text: Option<String>,
    /// A legacy brand id that points nowhere, for about 1 in 100 products.
    pub legacy_brand_id: Option<Uuid>,
    /// Unit of measure.
    pub unit: &'static str,
    /// Minimum stock level (0 for about a third).
    pub min_stock: Decimal,
    /// Maximum stock level, when set.
    pub max_stock: Option<Decimal>,
    /// Still sold.
    pub active: bool,
}

/// Product number `index` (0-based) of the catalogue.
pub fn product(seed: u64, index: u64, categories: usize) -> Product {
    let mut rng = stream(seed, Kind::Product, index);
    let name = format!(
        "{} {} {}",
        pick(&mut rng, ADJECTIVES),
        pick(&mut rng, NOUNS),
        pick(&mut rng, SIZES)
    );
    let brand_text = brand_text(&mut rng);
    let legacy_brand_id = rng
        .gen_bool(0.01)
        .then(|| id(seed, Kind::LegacyBrand, index));
    let unit = weighted(&mut rng, UNITS);
    let min = if rng.gen_bool(0.33) {
        0
    } else {
        rng.gen_range(5..=50)
    };
    let max_stock = (min > 0 && rng.gen_bool(0.7)).then(|| Decimal::from(min * 4));
    Product {
        id: id(seed, Kind::Product, index),
        sku: format!("SKU-{:07}", index + 1),
        name,
        category: rng.gen_range(0..categories),
        brand_text,
        legacy_brand_id,
        unit,
        min_stock: Decimal::from(min),
        max_stock,
        active: rng.gen_bool(0.97),
    }
}

/// 6% without a brand (missing, empty or blank), the rest a weighted brand in
/// one of the spellings suppliers use.
fn brand_text(rng: &mut ChaCha8Rng) -> Option<String> {
    if rng.gen_bool(0.06) {
        return [None, Some(String::new()), Some("   ".to_string())][rng.gen_range(0..3)].clone();
    }
    let total: u32 = BRANDS.iter().map(|b| b.weight).sum();
    let mut roll = rng.gen_range(0..total);
    for brand in BRANDS {
        if roll < brand.weight {
            // The first spelling is the common one.
            let spelling = if rng.gen_bool(0.7) {
                brand.spellings[0]
            } else {
                pick(rng, brand.spellings)
            };
            return Some(spelling.to_string());
        }
        roll -= brand.weight;
    }
    None
}

/// One supplier price of a product.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    /// Index into the supplier list.
    pub supplier: usize,
    /// The supplier's SKU.
    pub supplier_sku: String,
    /// Cost price; None for about 3% (not yet quoted).
    pub cost: Option<Decimal>,
    /// ZAR for most, USD for about 5%.
    pub currency: &'static str,
    /// The preferred supplier of this product.
    pub preferred: bool,
}

/// The supplier prices of product `index`: none for 10% (new, not yet
/// quoted), else 1–3 suppliers, the first preferred for 75% of products.
pub fn prices(seed: u64, index: u64, suppliers: usize) -> Vec<Price> {
    let mut rng = stream(seed, Kind::SupplierProduct, index);
    if rng.gen_bool(0.10) {
        return Vec::new();
    }
    let count = rng.gen_range(1..=3usize).min(suppliers);
    let chosen = rand::seq::index::sample(&mut rng, suppliers, count).into_vec();
    let base_cents: i64 = rng.gen_range(500..500_000);
    let has_preferred = rng.gen_bool(0.75);
    chosen
        .into_iter()
        .enumerate()
        .map(|(n, supplier)| {
            let factor = rng.gen_range(90..=110);
            let cents = base_cents * factor / 100;
            Price {
                supplier,
                supplier_sku: format!("S{:02}-{:07}", supplier + 1, index + 1),
                cost: (!rng.gen_bool(0.03)).then(|| Decimal::new(cents, 2)),
                currency: if rng.gen_bool(0.05) { "USD" } else { "ZAR" },
                preferred: has_preferred && n == 0,
            }
        })
        .collect()
}

/// Stock of product `index` in each warehouse: present in a warehouse with
/// probability 0.85 (always in at least one); 8% of rows at zero.
pub fn stock(seed: u64, index: u64, unit: &str, warehouses: usize) -> Vec<(usize, Decimal)> {
    let mut rng = stream(seed, Kind::Stock, index);
    let mut rows = Vec::with_capacity(warehouses);
    for w in 0..warehouses {
        if rng.gen_bool(0.85) {
            rows.push((w, quantity(&mut rng, unit)));
        }
    }
    if rows.is_empty() {
        let w = rng.gen_range(0..warehouses);
        rows.push((w, quantity(&mut rng, unit)));
    }
    rows
}

fn quantity(rng: &mut ChaCha8Rng, unit: &str) -> Decimal {
    if rng.gen_bool(0.08) {
        return Decimal::ZERO;
    }
    if unit == "EA" {
        Decimal::from(rng.gen_range(1..=500))
    } else {
        Decimal::new(rng.gen_range(100..=500_000), 3)
    }
}

/// Supplier metadata as JSON: the keys the supplier sent, values as received.
pub fn supplier_metadata(supplier: &catalog::Supplier) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (key, value) in [
        ("email", supplier.email),
        ("phone", supplier.phone),
        ("website", supplier.website),
        ("payment_terms", supplier.payment_terms),
    ] {
        if let Some(value) = value {
            map.insert(key.to_string(), serde_json::Value::from(value));
        }
    }
    map.insert("source".to_string(), "legacy import".into());
    serde_json::Value::Object(map)
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

fn weighted(rng: &mut ChaCha8Rng, items: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (item, weight) in items {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    items[0].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_rows_and_another_seed_other_rows() {
        assert_eq!(product(7, 42, 30), product(7, 42, 30));
        assert_eq!(prices(7, 42, 22), prices(7, 42, 22));
        assert_ne!(product(7, 42, 30).id, product(8, 42, 30).id);
        assert_ne!(product(7, 42, 30).id, product(7, 43, 30).id);
    }

    #[test]
    fn ids_are_version_4_uuids() {
        assert_eq!(id(1, Kind::Product, 0).get_version_num(), 4);
    }

    #[test]
    fn every_product_is_stocked_somewhere() {
        for i in 0..500 {
            let rows = stock(3, i, "EA", 4);
            assert!(!rows.is_empty());
            assert!(rows.iter().all(|(w, _)| *w < 4));
        }
    }
}
