//! Batches of postings from CSV (header row: kind, sku, warehouse, quantity
//! and optionally to_warehouse, unit_cost, reference, line, idempotency_key,
//! notes) or JSON (an array of objects with the same fields). A malformed
//! file is refused whole, naming the record and the field.

use std::io::Read;

use crate::error::PostingError;
use crate::posting::Posting;

/// The batch file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, with a header row.
    Csv,
    /// A JSON array.
    Json,
}

impl Format {
    /// From a file name's extension.
    pub fn of(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Reads every posting, or says which record is malformed and why.
///
/// # Errors
/// [`PostingError::Batch`] naming the record (1-based, header excluded) and field.
pub fn read(input: impl Read, format: Format) -> Result<Vec<Posting>, PostingError> {
    let postings = match format {
        Format::Json => {
            let values: Vec<Record> = serde_json::from_reader(input).map_err(|e| {
                PostingError::Batch(format!(
                    "malformed JSON batch at line {}, column {}: {e} (expected an array of postings)",
                    e.line(),
                    e.column()
                ))
            })?;
            values
                .into_iter()
                .enumerate()
                .map(|(i, Record(fields))| {
                    exact_numbers(serde_json::Value::Object(fields))
                        .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
                        .map_err(|e| {
                            PostingError::Batch(format!(
                                "malformed JSON batch, posting {}: {e}",
                                i + 1
                            ))
                        })
                })
                .collect::<Result<_, _>>()?
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(input);
            let mut postings = Vec::new();
            for (i, record) in reader.deserialize::<Posting>().enumerate() {
                postings.push(record.map_err(|e| {
                    PostingError::Batch(format!("malformed CSV batch, record {}: {e}", i + 1))
                })?);
            }
            postings
        }
    };
    if postings.is_empty() {
        return Err(PostingError::Empty);
    }
    Ok(postings)
}

/// One JSON posting's fields, read so that a field given twice is refused
/// (serde_json would keep the last one silently).
struct Record(serde_json::Map<String, serde_json::Value>);

impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Record, D::Error> {
        d.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> serde::de::Visitor<'de> for RecordVisitor {
    type Value = Record;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a posting (an object of fields)")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
            if fields.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "field `{key}` is given twice; give each field once"
                )));
            }
            fields.insert(key, value);
        }
        Ok(Record(fields))
    }
}

/// Decimal fields of a JSON posting as text: an integer number is written
/// out, a number with a fraction is refused (it has already been through a
/// binary float, and digits may be lost).
fn exact_numbers(mut value: serde_json::Value) -> Result<serde_json::Value, String> {
    for field in ["quantity", "unit_cost"] {
        let Some(slot) = value.get_mut(field) else {
            continue;
        };
        if let serde_json::Value::Number(n) = slot {
            if n.is_f64() {
                return Err(format!(
                    "{field} {n} is a number with a fraction; write it as a string (\"{n}\") so no digit is lost"
                ));
            }
            *slot = serde_json::Value::String(n.to_string());
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posting::Kind;
    use rust_decimal::Decimal;

    #[test]
    fn csv_and_json_give_the_same_postings() {
        let csv = "kind,sku,warehouse,to_warehouse,quantity,unit_cost,reference,line\n\
                   receipt,SKU-1,JHB,,10,12.50,PO-1,1\n\
                   transfer,SKU-1,JHB,CPT,4,,TO-1,1\n";
        let json = r#"[{"kind":"receipt","sku":"SKU-1","warehouse":"JHB","quantity":"10","unit_cost":"12.50","reference":"PO-1","line":1},
                       {"kind":"transfer","sku":"SKU-1","warehouse":"JHB","to_warehouse":"CPT","quantity":4,"reference":"TO-1","line":1}]"#;
        let a = read(csv.as_bytes(), Format::Csv).unwrap_or_else(|e| panic!("{e}"));
        let b = read(json.as_bytes(), Format::Json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b);
        assert_eq!(a[0].kind, Kind::Receipt);
        assert_eq!(a[0].unit_cost, Some(Decimal::new(1250, 2)));
        assert_eq!(a[1].to_warehouse.as_deref(), Some("CPT"));
    }

    #[test]
    fn malformed_batches_name_the_record_and_field() {
        let cases = [
            (
                "kind,sku,warehouse,quantity\nreceipt,SKU-1,JHB,ten\n",
                Format::Csv,
                "record 1",
            ),
            (
                "kind,sku,warehouse,quantity\nteleport,SKU-1,JHB,1\n",
                Format::Csv,
                "unknown variant",
            ),
            (
                "kind,sku,warehouse\nreceipt,SKU-1,JHB\n",
                Format::Csv,
                "quantity",
            ),
            (
                r#"[{"kind":"receipt","sku":"S","warehouse":"W","quantity":1.5}]"#,
                Format::Json,
                "write it as a string",
            ),
            (
                r#"[{"kind":"receipt","sku":"S","warehouse":"W","quantity":"1","colour":"red"}]"#,
                Format::Json,
                "unknown field",
            ),
            (
                r#"{"kind":"receipt"}"#,
                Format::Json,
                "malformed JSON batch",
            ),
            ("kind,sku,warehouse,quantity\n", Format::Csv, "no lines"),
            (
                r#"[{"kind":"receipt","sku":"S","warehouse":"W","quantity":"1","quantity":"100"}]"#,
                Format::Json,
                "field `quantity` is given twice",
            ),
            (
                "kind,sku,warehouse,quantity,quantity\nreceipt,S,W,1,100\n",
                Format::Csv,
                "duplicate field",
            ),
        ];
        for (input, format, expected) in cases {
            let err = read(input.as_bytes(), format)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
    }
}
