//! Rows of either backend into store values: events, the append state, idempotency records,
//! and positions as database parameters.

use std::collections::HashMap;

use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::model::{RecordedEvent, StoredIdempotency};
use crate::plan::Head;

fn column<'r, R, T>(row: &'r R, index: usize) -> Result<T, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(index)
        .map_err(StoreError::db("decoding an event row"))
}

/// A position as a database parameter; positions past `i64::MAX` do not exist, so they are
/// clamped (reading after them finds nothing).
pub(crate) fn position_param(position: u64) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

/// A stored `recorded_at` (Unix microseconds) as a time.
pub(crate) fn micros_to_time(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn hash_bytes(raw: Vec<u8>) -> Result<[u8; 32], StoreError> {
    raw.try_into()
        .map_err(|raw: Vec<u8>| StoreError::Corrupt(format!("hash of {} bytes", raw.len())))
}

/// Decodes one row of the event columns, in the order the read statements select them.
pub(crate) fn decode_event<R>(row: &R) -> Result<RecordedEvent, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let recorded_at: i64 = column(row, 7)?;
    Ok(RecordedEvent {
        position: column::<R, i64>(row, 0)? as u64,
        stream: column(row, 1)?,
        version: column::<R, i64>(row, 2)? as u64,
        event_type: column(row, 3)?,
        schema_version: column::<R, i64>(row, 4)? as u32,
        payload: column(row, 5)?,
        metadata: column(row, 6)?,
        recorded_at: micros_to_time(recorded_at)?,
        hash: hash_bytes(column(row, 8)?)?,
    })
}

/// Decodes `read_for_append.sql`: one `(stream, version, NULL)` row per existing stream, and
/// one `(NULL, position, hash)` row for the head unless the log is empty.
pub(crate) fn decode_append_state<R>(rows: &[R]) -> Result<(HashMap<String, u64>, Head), StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut versions = HashMap::with_capacity(rows.len());
    let mut head = Head::EMPTY;
    for row in rows {
        let number = column::<R, i64>(row, 1)? as u64;
        match column::<R, Option<String>>(row, 0)? {
            Some(stream) => {
                versions.insert(stream, number);
            }
            None => {
                let hash = column::<R, Option<Vec<u8>>>(row, 2)?
                    .ok_or_else(|| StoreError::Corrupt("head without a hash".into()))?;
                head = Head {
                    position: number,
                    hash: hash_bytes(hash)?,
                };
            }
        }
    }
    Ok((versions, head))
}

/// Decodes one row of `get_key.sql`.
pub(crate) fn decode_key<R>(row: &R) -> Result<StoredIdempotency, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(StoredIdempotency {
        key: column(row, 0)?,
        request_hash: column(row, 1)?,
        response: column(row, 2)?,
        position: column::<R, i64>(row, 3)? as u64,
    })
}
