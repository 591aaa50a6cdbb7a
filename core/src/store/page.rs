//! The stored format: pages of framed events. This is the only module that knows the bytes.
//!
//! ```text
//! log tree:  key = first position of the page (u64, big-endian)  →  page
//! page:      [format: u8 = PAGE_FORMAT][count: u16 LE] frame × count
//! frame:     [format: u8 = 1 to 5][len: u32 LE][crc32(record): u32 LE][record: len bytes]
//! record:    bincode 2 (standard config) of `Envelope`
//! ```
//! Record formats: 1 holds the steps up to `structure_updated`; 2 adds `report_published` (a
//! `Step` variant appended at the end, so its tag is new and every older tag keeps its meaning);
//! 3 adds `referral_accepted`, `referral_declined`, `merged_into`, `absorbed` and `unmerged`, the
//! same way, and the tag of a proposed referral (`referred` with `proposed`; see `Step`); 4 adds
//! the layout tags of a referral with ESF+ answers and of a structure's record with agreed
//! full-time equivalents or funders (`Step`'s `ESF_REFERRAL_TAG`, `FUNDED_STRUCTURE_TAG`); 5 adds
//! sealed free text: `SEALED_TEXT_TAG` and the sealed text before the step (see `Envelope`). Every
//! older record is a newer record with the same meaning, hence one decoder for all.
//! Each record is framed with the lowest format that holds it ([`record_format`]): a binary that
//! knows only format 1 still reads every other event, and refuses a publication as an unknown
//! format rather than as damage.
//! An event's hash is SHA-256 of its record bytes; each record holds the hash of the previous event
//! of the log and of its stream, so both chains cover everything stored, ciphertext included.
//!
//! The format changes only with a version bump and a golden file that proves old bytes still read
//! (`core/tests/golden`).

use sha2::{Digest, Sha256};

use super::StoreError;
use crate::limits::{EVENT_BYTES_MAX, PAGE_EVENTS_MAX, RECORD_DECODE_BYTES_MAX};
use crate::vocabulary::{Envelope, Step, StepKind};

pub const PAGE_FORMAT: u8 = 1;
/// The newest record format.
pub const RECORD_FORMAT: u8 = 5;
/// The oldest record format still read.
const RECORD_FORMAT_OLDEST: u8 = 1;
const PAGE_HEADER: usize = 3;
const FRAME_HEADER: usize = 9;

pub type Hash = [u8; 32];

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// The same encoding, read with a limit: a length field is only a claim, and without a limit
/// bincode allocates whatever a damaged one says before finding the bytes are not there.
fn decode_config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<RECORD_DECODE_BYTES_MAX>,
> {
    config().with_limit::<RECORD_DECODE_BYTES_MAX>()
}

pub fn encode_record(envelope: &Envelope) -> Result<Vec<u8>, StoreError> {
    bincode::encode_to_vec(envelope, config()).map_err(|error| StoreError::Encode(error.to_string()))
}

pub fn decode_record(bytes: &[u8]) -> Result<Envelope, bincode::error::DecodeError> {
    let (envelope, read) = bincode::decode_from_slice(bytes, decode_config())?;
    if read != bytes.len() {
        return Err(bincode::error::DecodeError::Other("trailing bytes after the record"));
    }
    Ok(envelope)
}

/// The lowest record format that holds an event: that of its step, or of the step a correction
/// puts in place.
pub fn record_format(envelope: &Envelope) -> u8 {
    let format = |kind: StepKind| match kind {
        StepKind::ReportPublished => 2,
        StepKind::ReferralAccepted
        | StepKind::ReferralDeclined
        | StepKind::MergedInto
        | StepKind::Absorbed
        | StepKind::Unmerged => 3,
        _ => RECORD_FORMAT_OLDEST,
    };
    let step_format = |step: &Step| match step {
        Step::Referred(referred) if referred.has_esf_answers() => 4,
        Step::StructureUpdated(update) if update.has_funding() => 4,
        Step::Referred(referred) if referred.proposed => 3,
        step => format(step.kind()),
    };
    if envelope.sealed_text.is_some() {
        return 5;
    }
    match &envelope.step {
        Step::Corrected(correction) => {
            correction.replacement.as_ref().map_or(RECORD_FORMAT_OLDEST, |replacement| step_format(&replacement.step))
        }
        step => step_format(step),
    }
}

pub fn hash(record: &[u8]) -> Hash {
    Sha256::digest(record).into()
}

/// Builds one page from encoded records.
#[derive(Debug)]
pub struct PageBuilder {
    bytes: Vec<u8>,
    count: u16,
}

impl Default for PageBuilder {
    fn default() -> PageBuilder {
        PageBuilder::new()
    }
}

impl PageBuilder {
    pub fn new() -> PageBuilder {
        let mut bytes = Vec::with_capacity(4096);
        bytes.extend_from_slice(&[PAGE_FORMAT, 0, 0]);
        PageBuilder { bytes, count: 0 }
    }

    pub fn len_bytes(&self) -> usize {
        self.bytes.len()
    }

    pub fn count(&self) -> usize {
        self.count as usize
    }

    /// Bytes a record takes in a page.
    pub fn framed_len(record: &[u8]) -> usize {
        FRAME_HEADER + record.len()
    }

    /// Adds a record framed with `format` ([`record_format`] of its event).
    pub fn push(&mut self, format: u8, record: &[u8]) {
        assert!(record.len() <= EVENT_BYTES_MAX && self.count() < PAGE_EVENTS_MAX, "page limits checked by the writer");
        debug_assert!((RECORD_FORMAT_OLDEST..=RECORD_FORMAT).contains(&format));
        self.bytes.push(format);
        self.bytes.extend_from_slice(&(record.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(&crc32fast::hash(record).to_le_bytes());
        self.bytes.extend_from_slice(record);
        self.count += 1;
        self.bytes[1..3].copy_from_slice(&self.count.to_le_bytes());
    }

    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Why a page's bytes cannot be read: each names what is wrong, for `parcours verify`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageDamage {
    #[error("page shorter than its header")]
    Truncated,
    #[error("unknown page format {0}")]
    PageFormat(u8),
    #[error("frame {index}: unknown record format {format}")]
    RecordFormat { index: usize, format: u8 },
    #[error("frame {index}: length runs past the end of the page")]
    FrameOverrun { index: usize },
    #[error("frame {index}: length {len} is over the largest event ({EVENT_BYTES_MAX} bytes)")]
    FrameTooLong { index: usize, len: usize },
    #[error("frame {index}: checksum mismatch")]
    Checksum { index: usize },
    #[error("{0} bytes after the last frame")]
    TrailingBytes(usize),
}

/// Iterates over the records of a page, checking format and checksum of each frame.
pub struct Frames<'a> {
    bytes: &'a [u8],
    offset: usize,
    index: usize,
    count: usize,
}

pub fn frames(page: &[u8]) -> Result<Frames<'_>, PageDamage> {
    if page.len() < PAGE_HEADER {
        return Err(PageDamage::Truncated);
    }
    if page[0] != PAGE_FORMAT {
        return Err(PageDamage::PageFormat(page[0]));
    }
    let count = u16::from_le_bytes([page[1], page[2]]) as usize;
    Ok(Frames { bytes: page, offset: PAGE_HEADER, index: 0, count })
}

impl<'a> Frames<'a> {
    /// The number of frames the page header declares. Not `count`: that name would lose to
    /// `Iterator::count`, which consumes the frames.
    pub fn declared_count(&self) -> usize {
        self.count
    }

    /// The next record without checking its checksum: for seeking to one event within a page.
    fn next_unchecked(&mut self) -> Option<Result<(&'a [u8], u32), PageDamage>> {
        if self.index == self.count && self.offset == self.bytes.len() {
            return None;
        }
        let frame = self.frame();
        if frame.is_err() {
            // Past damage nothing can be trusted, not even where the next frame starts: the walk
            // ends, rather than yield the same damage forever to a caller that skips errors.
            self.index = self.count;
            self.offset = self.bytes.len();
        }
        Some(frame)
    }

    /// Reads the frame at `offset` and moves past it.
    fn frame(&mut self) -> Result<(&'a [u8], u32), PageDamage> {
        let index = self.index;
        if index == self.count {
            return Err(PageDamage::TrailingBytes(self.bytes.len() - self.offset));
        }
        let header = self.bytes.get(self.offset..self.offset + FRAME_HEADER);
        let Some(header) = header else { return Err(PageDamage::FrameOverrun { index }) };
        if !(RECORD_FORMAT_OLDEST..=RECORD_FORMAT).contains(&header[0]) {
            return Err(PageDamage::RecordFormat { index, format: header[0] });
        }
        let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
        // No stored record is longer (`push`): a larger length is damage, refused before it is
        // used for anything.
        if len > EVENT_BYTES_MAX {
            return Err(PageDamage::FrameTooLong { index, len });
        }
        let crc = u32::from_le_bytes([header[5], header[6], header[7], header[8]]);
        let start = self.offset + FRAME_HEADER;
        let Some(record) = self.bytes.get(start..start + len) else {
            return Err(PageDamage::FrameOverrun { index });
        };
        self.offset = start + len;
        self.index += 1;
        Ok((record, crc))
    }

    /// The `index`-th record of the page, checked.
    pub fn nth_record(mut self, index: usize) -> Result<Option<&'a [u8]>, PageDamage> {
        self.record_at(index)
    }

    /// The `index`-th record of the page, checked, the walk going on from where it stands: reading
    /// several records of one page in ascending order thus walks its frames once, not once per
    /// record. `None` when the page has no such record, or the walk is already past it (the
    /// caller then starts a new walk).
    pub fn record_at(&mut self, index: usize) -> Result<Option<&'a [u8]>, PageDamage> {
        if index < self.index {
            return Ok(None);
        }
        while self.index < index {
            match self.next_unchecked() {
                Some(Ok(_)) => {}
                Some(Err(damage)) => return Err(damage),
                None => return Ok(None),
            }
        }
        match self.next() {
            Some(result) => result.map(Some),
            None => Ok(None),
        }
    }

    /// The index of the record the walk reads next.
    pub fn next_index(&self) -> usize {
        self.index
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<&'a [u8], PageDamage>;

    fn next(&mut self) -> Option<Self::Item> {
        let index = self.index;
        Some(self.next_unchecked()?.and_then(|(record, crc)| {
            if crc32fast::hash(record) == crc {
                Ok(record)
            } else {
                Err(PageDamage::Checksum { index })
            }
        }))
    }
}

pub fn position_key(position: u64) -> [u8; 8] {
    position.to_be_bytes()
}

pub fn position_from_key(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}
