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

/// What the reader does after handing over a posting or a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read on.
    Continue,
    /// Stop reading (the consumer has failed or has enough).
    Stop,
}

/// Reads every posting, or says which record is malformed and why.
///
/// # Errors
/// [`PostingError::Batch`] naming the record (1-based, header excluded) and
/// field; [`PostingError::Empty`] when there is none.
pub fn read(input: impl Read, format: Format) -> Result<Vec<Posting>, PostingError> {
    let mut postings = Vec::new();
    read_each(input, format, &mut |_, posting| {
        postings.push(posting);
        Flow::Continue
    })?;
    if postings.is_empty() {
        return Err(PostingError::Empty);
    }
    Ok(postings)
}

/// Reads the postings in chunks of at most `size`, handing each to `chunk`
/// as soon as it is full (and the last one at the end): a file of any length
/// is read in constant memory. Returns how many postings were read.
///
/// # Errors
/// As [`read`], for the first malformed record (chunks before it were handed over).
pub fn read_chunks(
    input: impl Read,
    format: Format,
    size: usize,
    chunk: &mut dyn FnMut(Vec<Posting>) -> Flow,
) -> Result<usize, PostingError> {
    let size = size.max(1);
    let mut pending = Vec::with_capacity(size);
    let mut stopped = false;
    let read = read_each(input, format, &mut |_, posting| {
        pending.push(posting);
        if pending.len() < size {
            return Flow::Continue;
        }
        let full = std::mem::replace(&mut pending, Vec::with_capacity(size));
        let flow = chunk(full);
        stopped = flow == Flow::Stop;
        flow
    })?;
    if !stopped && !pending.is_empty() {
        chunk(pending);
    }
    Ok(read)
}

/// Reads the postings one at a time, handing each to `each` with its 1-based
/// number, until the input ends or `each` says stop. Returns how many were read.
fn read_each(
    input: impl Read,
    format: Format,
    each: &mut dyn FnMut(usize, Posting) -> Flow,
) -> Result<usize, PostingError> {
    match format {
        Format::Json => read_json(input, each),
        Format::Csv => read_csv(input, each),
    }
}

fn read_csv(
    input: impl Read,
    each: &mut dyn FnMut(usize, Posting) -> Flow,
) -> Result<usize, PostingError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(Quotes {
            inner: input,
            count: 0,
        });
    let mut count = 0;
    for record in reader.deserialize::<Posting>() {
        count += 1;
        let posting = record.map_err(|e| {
            PostingError::Batch(format!("malformed CSV batch, record {count}: {e}"))
        })?;
        if each(count, posting) == Flow::Stop {
            return Ok(count);
        }
    }
    if reader.into_inner().count % 2 == 1 {
        return Err(PostingError::Batch(
            "malformed CSV batch: a quoted field is never closed (the file has an odd number of \" \
             characters, so its end was read as part of a field); close the quote, and write a \" inside \
             a field as \"\" within a quoted field"
                .into(),
        ));
    }
    Ok(count)
}

/// The input, counting its `"` characters on the way: a well-formed CSV has
/// an even number (quotes around fields, and `""` inside them). The csv
/// reader takes the end of the input as the end of an unclosed quoted field,
/// so an odd count is how a file cut inside a quote is caught.
struct Quotes<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Quotes<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += buf[..n].iter().filter(|&&b| b == b'"').count() as u64;
        Ok(n)
    }
}

/// A JSON array, read element by element (never the whole array in memory).
fn read_json(
    input: impl Read,
    each: &mut dyn FnMut(usize, Posting) -> Flow,
) -> Result<usize, PostingError> {
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    // A malformed posting stops the walk through the deserializer; its own
    // message (naming the posting) is kept here rather than wrapped in a
    // parse error.
    let mut bad_posting: Option<PostingError> = None;
    let walk = serde::Deserializer::deserialize_seq(
        &mut deserializer,
        EachPosting {
            each,
            bad: &mut bad_posting,
        },
    )
    .and_then(|count| deserializer.end().map(|()| count));
    match (walk, bad_posting) {
        (_, Some(bad)) => Err(bad),
        (Ok(count), None) => Ok(count),
        (Err(e), None) => Err(PostingError::Batch(format!(
            "malformed JSON batch at line {}, column {}: {e} (expected an array of postings)",
            e.line(),
            e.column()
        ))),
    }
}

/// Visits the elements of the JSON array: each is checked into a posting
/// and handed over before the next is read.
struct EachPosting<'a> {
    each: &'a mut dyn FnMut(usize, Posting) -> Flow,
    bad: &'a mut Option<PostingError>,
}

impl<'de> serde::de::Visitor<'de> for EachPosting<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of postings")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut count = 0;
        while let Some(Record(fields)) = seq.next_element::<Record>()? {
            count += 1;
            let posting = exact_numbers(serde_json::Value::Object(fields))
                .and_then(|v| serde_json::from_value::<Posting>(v).map_err(|e| e.to_string()));
            match posting {
                Ok(posting) => {
                    if (self.each)(count, posting) == Flow::Stop {
                        return Ok(count);
                    }
                }
                Err(e) => {
                    *self.bad = Some(PostingError::Batch(format!(
                        "malformed JSON batch, posting {count}: {e}"
                    )));
                    return Err(serde::de::Error::custom("malformed posting"));
                }
            }
        }
        Ok(count)
    }
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
    fn a_csv_file_ending_inside_a_quote_is_refused() {
        let csv = "kind,sku,warehouse,quantity,unit_cost\nreceipt,S,W,5,\"12.50\n";
        let err = read(csv.as_bytes(), Format::Csv).unwrap_err().to_string();
        assert!(err.contains("a quoted field is never closed"), "{err}");
        let fine = "kind,sku,warehouse,quantity,unit_cost,notes\nreceipt,S,W,5,12.50,\"a \"\"5\"\" bolt\"\n";
        assert_eq!(
            read(fine.as_bytes(), Format::Csv)
                .unwrap_or_else(|e| panic!("{e}"))
                .len(),
            1
        );
    }

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

    /// A batch read in chunks: every chunk full but the last, in order, and
    /// the reader stops as soon as the consumer says so.
    #[test]
    fn chunks_come_full_and_in_order_and_the_reader_stops_when_told() {
        let line = |i: usize| format!("receipt,SKU-{i},JHB,1,2\n");
        let csv: String = std::iter::once("kind,sku,warehouse,quantity,unit_cost\n".to_string())
            .chain((1..=25).map(line))
            .collect();
        let json = format!(
            "[{}]",
            (1..=25)
                .map(|i| format!(r#"{{"kind":"receipt","sku":"SKU-{i}","warehouse":"JHB","quantity":"1","unit_cost":"2"}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        for (input, format) in [(csv.as_str(), Format::Csv), (json.as_str(), Format::Json)] {
            let mut sizes = Vec::new();
            let mut skus = Vec::new();
            let read = read_chunks(input.as_bytes(), format, 10, &mut |chunk| {
                sizes.push(chunk.len());
                skus.extend(chunk.into_iter().map(|p| p.sku));
                Flow::Continue
            })
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                (read, sizes.as_slice()),
                (25, &[10, 10, 5][..]),
                "{format:?}"
            );
            assert_eq!(skus.first().map(String::as_str), Some("SKU-1"));
            assert_eq!(skus.last().map(String::as_str), Some("SKU-25"));
            let mut chunks = 0;
            let _ = read_chunks(input.as_bytes(), format, 10, &mut |_| {
                chunks += 1;
                Flow::Stop
            });
            assert_eq!(chunks, 1, "{format:?}: stopped after the first chunk");
        }
        // A malformed posting deep in a JSON array is named, after the
        // chunks before it were handed over.
        let bad = json.replacen(r#""sku":"SKU-23""#, r#""sku":"SKU-23","colour":"red""#, 1);
        let mut handed = 0;
        let err = read_chunks(bad.as_bytes(), Format::Json, 10, &mut |c| {
            handed += c.len();
            Flow::Continue
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("posting 23: unknown field `colour`"), "{err}");
        assert_eq!(handed, 20);
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
