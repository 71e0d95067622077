//! How durations appear in JSON: whole milliseconds (or microseconds where
//! a millisecond is too coarse), named with their unit by the field.

use std::time::Duration;

use serde::Serializer;

/// A duration as whole milliseconds.
pub(crate) fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// An optional duration as whole milliseconds, or null.
pub(crate) fn opt_millis<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        None => s.serialize_none(),
    }
}

/// A duration as whole microseconds (a commit's time on a quiet server is
/// under a millisecond).
pub(crate) fn micros<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// A value as its `Display` text (a size such as `64MB`, a limit such as `off`).
pub(crate) fn display<T: std::fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}
