//! Every limit of the store in one place, with what it costs. The constants are tied together by
//! compile-time assertions so that changing one cannot silently break another.

/// sled stores values over ~128 KiB as separate blob files that it never fsyncs
/// (STORAGE-NOTES.md): a page must stay far below that.
pub const SLED_BLOB_THRESHOLD_BYTES: usize = 128 * 1024;

/// The largest page the writer builds. Pages are the unit of a scan, so larger pages scan faster,
/// but a page is also what a one-event read copies.
pub const PAGE_BYTES_MAX: usize = 48 * 1024;

/// Events per page at most. 64 balances scan speed (one sled lookup per 64 events) and the cost of
/// reading one event (walking at most 63 frames before it).
pub const PAGE_EVENTS_MAX: usize = 64;

/// The largest stored event. A request's own limits (body size, string lengths) keep real events
/// far below; this bounds what a single frame may claim when read back.
pub const EVENT_BYTES_MAX: usize = 16 * 1024;

/// What decoding one stored record may claim at most, in bytes: bincode counts the bytes it reads
/// plus, for each container being filled, its declared length times the size of one element in
/// memory. A record of `EVENT_BYTES_MAX` bytes declares at most that many elements (each takes a
/// byte or more), of at most `size_of::<String>()` bytes each (the list of skills), so a real record
/// stays far below; a damaged length field claiming gigabytes is refused instead of allocated.
pub const RECORD_DECODE_BYTES_MAX: usize = 32 * EVENT_BYTES_MAX;

/// How many events one group commit takes at most. Bounds the latency of the slowest append in a
/// batch and the tail the store re-indexes when it opens after a crash.
pub const BATCH_EVENTS_MAX: usize = 8192;

/// Events in one append request at most (all or nothing).
pub const REQUEST_EVENTS_MAX: usize = 1000;

/// Appends waiting for the writer at most; beyond, callers wait to enqueue (back pressure).
pub const QUEUE_REQUESTS_MAX: usize = 16 * 1024;

/// Streams whose rule state the writer keeps in memory; others are folded again from the log.
pub const STREAM_CACHE_MAX: usize = 100_000;

/// Event locations the readers keep in memory, all streams together (16 bytes each, 32 MiB): a
/// 30-event history takes 30, so about 65,000 such streams are read without the `streams` index.
pub const LOCATION_CACHE_EVENTS_MAX: usize = 2_000_000;

/// Reads waiting for the access log's next write (about 100 bytes each): beyond this, the reader
/// that adds one writes them all.
pub const ACCESS_PENDING_MAX: usize = 65_536;

/// Beneficiaries' keys kept in memory after a read (32 bytes each, zeroed when they leave it).
pub const KEY_CACHE_MAX: usize = 65_536;

const _: () = assert!(PAGE_BYTES_MAX * 2 < SLED_BLOB_THRESHOLD_BYTES);
const _: () = assert!(EVENT_BYTES_MAX <= PAGE_BYTES_MAX);
const _: () = assert!(RECORD_DECODE_BYTES_MAX >= EVENT_BYTES_MAX * (2 + std::mem::size_of::<String>()));
const _: () = assert!(PAGE_EVENTS_MAX <= u16::MAX as usize);
const _: () = assert!(REQUEST_EVENTS_MAX <= BATCH_EVENTS_MAX);
