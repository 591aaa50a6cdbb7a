//! The SQLite baseline of the store bench (issue 19): what a user would pick instead of the store,
//! measured in the same run, taking turns with it.
//!
//! The table is shaped as a user would shape an event log in SQLite: `position INTEGER PRIMARY
//! KEY` (the rowid: the log's order), a unique event id, a unique `(stream, version)` (optimistic
//! concurrency per stream), the event's type and time, and the same payload bytes the store
//! writes (the bincode record of the envelope). WAL and `synchronous=FULL`: a commit is durable
//! when it returns, as an append of the store is. One connection per writer, as threads of an
//! application would each hold one; writers wait for the write lock with a busy timeout.

use std::path::Path;
use std::time::{Duration, Instant};

use parcours_core::store::{page, Store};
use parcours_core::vocabulary::{Envelope, StreamId};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{Result, Run, STREAM_EVENTS};

/// How long a writer waits for the write lock before failing: never, in practice.
const BUSY_TIMEOUT: Duration = Duration::from_secs(600);

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY,
        id BLOB NOT NULL UNIQUE,
        stream BLOB NOT NULL,
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        recorded_at INTEGER NOT NULL,
        data BLOB NOT NULL,
        UNIQUE (stream, version)
    );";

/// Opens (or creates) the database `events.db` in `dir`, durable as the store is.
pub fn open(dir: &Path) -> Result<Connection> {
    let connection = Connection::open(dir.join("events.db"))?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = connection.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
    if mode != "wal" {
        return Err(format!("SQLite refused WAL mode: {mode}").into());
    }
    connection.execute_batch("PRAGMA synchronous=FULL;")?;
    connection.execute_batch(SCHEMA)?;
    Ok(connection)
}

/// Appends one event to `stream` in its own transaction, as an application would: read the
/// stream's version, insert the next one, commit (durable on return).
fn append(connection: &mut Connection, stream: &[u8; 16], record: &[u8], counter: u64) -> Result<()> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: Option<i64> = transaction
        .query_row("SELECT max(version) FROM events WHERE stream = ?1", [stream.as_slice()], |row| row.get(0))
        .optional()?
        .flatten();
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&stream[..8]);
    id[8..].copy_from_slice(&counter.to_be_bytes());
    transaction.execute(
        "INSERT INTO events (id, stream, version, type, recorded_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id.as_slice(), stream.as_slice(), version.unwrap_or(0) + 1, "hours_worked", counter as i64, record],
    )?;
    transaction.commit()?;
    Ok(())
}

/// The streams one writer appends to, round robin, none growing past `stream_events` events.
fn writer_streams(appends: usize, stream_events: usize) -> Vec<[u8; 16]> {
    let streams = appends.div_ceil(stream_events.max(1));
    (0..streams).map(|_| *StreamId::generate().as_bytes()).collect()
}

/// One writer, one durable transaction per event.
pub fn single_writer(root: &Path, appends: usize, stream_events: usize, record: &[u8]) -> Result<Run> {
    let dir = super::scratch(root, "sqlite-append-1")?;
    let mut connection = open(dir.path())?;
    let streams = writer_streams(appends, stream_events);
    let mut latencies = Vec::with_capacity(appends);
    let started = Instant::now();
    for n in 0..appends {
        let begun = Instant::now();
        append(&mut connection, &streams[n % streams.len()], record, n as u64)?;
        latencies.push(begun.elapsed());
    }
    Ok(Run::from_latencies(appends, started.elapsed(), latencies))
}

/// `writers` threads, one connection each, each appending its own events one by one.
pub fn concurrent(root: &Path, writers: usize, per_writer: usize, stream_events: usize, record: &[u8]) -> Result<Run> {
    let dir = super::scratch(root, &format!("sqlite-append-{writers}"))?;
    drop(open(dir.path())?);
    super::concurrent_writers(writers, per_writer, "an SQLite writer panicked", |w| {
        let mut connection = open(dir.path())?;
        let streams = writer_streams(per_writer, stream_events);
        Ok(move |n: u64| append(&mut connection, &streams[n as usize % streams.len()], record, (w << 32) | n))
    })
}

/// The store's log copied into the table, in log order, in transactions of 10,000 events (how a
/// user would load it); returns the encoded bytes written.
pub fn copy_from(store: &Store, connection: &mut Connection) -> Result<u64> {
    let mut encoded = 0u64;
    let mut transaction = connection.transaction()?;
    let mut in_transaction = 0usize;
    for page in store.pages_from(1) {
        let (_, envelopes) = page?;
        for envelope in envelopes {
            let record = page::encode_record(&envelope)?;
            encoded += record.len() as u64;
            transaction.execute(
                "INSERT INTO events (position, id, stream, version, type, recorded_at, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    envelope.position as i64,
                    envelope.id.as_bytes().as_slice(),
                    envelope.stream.as_bytes().as_slice(),
                    envelope.version,
                    envelope.step.kind().code(),
                    envelope.recorded_at.millis(),
                    record
                ],
            )?;
            in_transaction += 1;
            if in_transaction == 10_000 {
                transaction.commit()?;
                transaction = connection.transaction()?;
                in_transaction = 0;
            }
        }
    }
    transaction.commit()?;
    connection.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(encoded)
}

fn decode(record: &[u8]) -> Result<Envelope> {
    let (envelope, _): (Envelope, usize) = bincode::decode_from_slice(record, bincode::config::standard())?;
    Ok(envelope)
}

/// One stream read: its rows by version through the unique (stream, version) index, decoded.
pub fn reads(connection: &Connection, streams: &[StreamId], order: &[usize]) -> Result<Run> {
    let mut statement = connection.prepare_cached("SELECT data FROM events WHERE stream = ?1 ORDER BY version")?;
    let mut latencies = Vec::with_capacity(order.len());
    let started = Instant::now();
    for &n in order {
        let begun = Instant::now();
        let mut events = Vec::with_capacity(STREAM_EVENTS);
        let mut rows = statement.query([streams[n].as_bytes().as_slice()])?;
        while let Some(row) = rows.next()? {
            events.push(decode(row.get_ref(0)?.as_blob()?)?);
        }
        latencies.push(begun.elapsed());
        if events.len() != STREAM_EVENTS {
            return Err(format!("SQLite stream {} has {} events", streams[n], events.len()).into());
        }
        std::hint::black_box(events);
    }
    Ok(Run::from_latencies(order.len(), started.elapsed(), latencies))
}

/// The whole table in position order, each payload decoded.
pub fn scan(connection: &Connection, expected: usize) -> Result<Run> {
    let started = Instant::now();
    let mut statement = connection.prepare("SELECT data FROM events ORDER BY position")?;
    let mut rows = statement.query([])?;
    let mut events = 0usize;
    while let Some(row) = rows.next()? {
        std::hint::black_box(decode(row.get_ref(0)?.as_blob()?)?);
        events += 1;
    }
    let elapsed = started.elapsed();
    if events != expected {
        return Err(format!("SQLite scan saw {events} events, expected {expected}").into());
    }
    Ok(Run { per_second: events as f64 / elapsed.as_secs_f64(), ..Run::default() })
}
