//! One Parquet file written row by row: rows are buffered column by column and written as a row
//! group every [`ROW_GROUP_ROWS`] rows, with the low-level column writers of the `parquet` crate.
//!
//! Why not Arrow record batches: the `arrow` feature brings half a dozen more crates to every
//! build, for what amounts to filling a few vectors per column here.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parcours_core::vocabulary::{Date, Hours, Timestamp};
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::ParquetExportError;

/// Rows per row group: large enough for good compression and few pages, small enough that a
/// writer per year of events holds little (about 64 MiB at most each).
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// What a column holds, and so its Parquet types.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    /// A UTF-8 string (codes of closed lists, slugs, keys).
    Text,
    /// A calendar day (`DATE`: days since 1970-01-01).
    Day,
    /// An instant in UTC, to the millisecond.
    Instant,
    Int64,
    Int32,
    /// Hours to the hundredth, exactly (`DECIMAL(18,2)`): no floats in any count or sum.
    Hours,
    Bool,
}

/// A column of a table; `required` columns are never null.
#[derive(Clone, Copy, Debug)]
pub(super) struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

/// One cell of a row, in the kind of its column.
#[derive(Clone, Copy, Debug)]
pub(super) enum Cell<'a> {
    Null,
    Text(&'a str),
    Day(Date),
    Instant(Timestamp),
    Int64(i64),
    Int32(i32),
    Hours(Hours),
    Bool(bool),
}

/// The values of one column, present cells only; `defs` says which rows have one.
enum Values {
    Bytes(Vec<ByteArray>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Bool(Vec<bool>),
}

struct Buffer {
    column: Column,
    defs: Vec<i16>,
    values: Values,
}

pub(super) struct TableWriter {
    path: PathBuf,
    buffers: Vec<Buffer>,
    buffered: usize,
    rows: u64,
    writer: SerializedFileWriter<BufWriter<File>>,
}

fn schema(columns: &[Column]) -> Result<Type, parquet::errors::ParquetError> {
    let fields = columns
        .iter()
        .map(|column| {
            let (physical, logical) = match column.kind {
                Kind::Text => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
                Kind::Day => (PhysicalType::INT32, Some(LogicalType::Date)),
                Kind::Instant => (PhysicalType::INT64, Some(LogicalType::timestamp(true, TimeUnit::MILLIS))),
                Kind::Int64 => (PhysicalType::INT64, None),
                Kind::Int32 => (PhysicalType::INT32, None),
                Kind::Hours => (PhysicalType::INT64, Some(LogicalType::decimal(2, 18))),
                Kind::Bool => (PhysicalType::BOOLEAN, None),
            };
            let repetition = if column.required { Repetition::REQUIRED } else { Repetition::OPTIONAL };
            let mut builder = Type::primitive_type_builder(column.name, physical)
                .with_repetition(repetition)
                .with_logical_type(logical);
            if column.kind == Kind::Hours {
                builder = builder.with_precision(18).with_scale(2);
            }
            builder.build().map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Type::group_type_builder("schema").with_fields(fields).build()
}

/// Days since 1970-01-01, Parquet's `DATE`.
fn days_since_epoch(date: Date) -> i32 {
    (date.0 - chrono::NaiveDate::default()).num_days() as i32
}

impl TableWriter {
    pub(super) fn create(path: &Path, columns: &[Column]) -> Result<TableWriter, ParquetExportError> {
        let parquet = |source| ParquetExportError::Parquet { path: path.to_owned(), source };
        let schema = Arc::new(schema(columns).map_err(parquet)?);
        let properties = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_created_by(format!("parcours {}", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        let file = File::create(path).map_err(|source| ParquetExportError::Io { path: path.to_owned(), source })?;
        let writer = SerializedFileWriter::new(BufWriter::new(file), schema, properties).map_err(parquet)?;
        let buffers = columns
            .iter()
            .map(|&column| Buffer {
                column,
                defs: Vec::new(),
                values: match column.kind {
                    Kind::Text => Values::Bytes(Vec::new()),
                    Kind::Day | Kind::Int32 => Values::Int32(Vec::new()),
                    Kind::Instant | Kind::Int64 | Kind::Hours => Values::Int64(Vec::new()),
                    Kind::Bool => Values::Bool(Vec::new()),
                },
            })
            .collect();
        Ok(TableWriter { path: path.to_owned(), buffers, buffered: 0, rows: 0, writer })
    }

    /// Adds one row: one cell per column, in the columns' order.
    pub(super) fn push(&mut self, row: &[Cell]) -> Result<(), ParquetExportError> {
        if row.len() != self.buffers.len() {
            return Err(self.mismatch(format!("a row of {} cells for {} columns", row.len(), self.buffers.len())));
        }
        for (buffer, cell) in self.buffers.iter_mut().zip(row) {
            let present = match (&mut buffer.values, *cell) {
                (_, Cell::Null) if !buffer.column.required => false,
                (Values::Bytes(values), Cell::Text(text)) => {
                    values.push(ByteArray::from(text));
                    true
                }
                (Values::Int32(values), Cell::Day(day)) => {
                    values.push(days_since_epoch(day));
                    true
                }
                (Values::Int32(values), Cell::Int32(value)) => {
                    values.push(value);
                    true
                }
                (Values::Int64(values), Cell::Hours(hours)) => {
                    values.push(i64::from(hours.hundredths));
                    true
                }
                (Values::Int64(values), Cell::Instant(at)) => {
                    values.push(at.millis());
                    true
                }
                (Values::Int64(values), Cell::Int64(value)) => {
                    values.push(value);
                    true
                }
                (Values::Bool(values), Cell::Bool(value)) => {
                    values.push(value);
                    true
                }
                (_, cell) => {
                    let problem = format!("column {} cannot hold {cell:?}", buffer.column.name);
                    return Err(ParquetExportError::Schema { path: self.path.clone(), problem });
                }
            };
            if !buffer.column.required {
                buffer.defs.push(i16::from(present));
            }
        }
        self.buffered += 1;
        self.rows += 1;
        if self.buffered == ROW_GROUP_ROWS {
            self.write_row_group()?;
        }
        Ok(())
    }

    fn mismatch(&self, problem: String) -> ParquetExportError {
        ParquetExportError::Schema { path: self.path.clone(), problem }
    }

    fn write_row_group(&mut self) -> Result<(), ParquetExportError> {
        let parquet = |source| ParquetExportError::Parquet { path: self.path.clone(), source };
        let mut group = self.writer.next_row_group().map_err(parquet)?;
        for buffer in &mut self.buffers {
            let mut column = group.next_column().map_err(parquet)?.ok_or_else(|| ParquetExportError::Schema {
                path: self.path.clone(),
                problem: format!("no column left for {}", buffer.column.name),
            })?;
            let defs = (!buffer.column.required).then_some(buffer.defs.as_slice());
            match &mut buffer.values {
                Values::Bytes(values) => column.typed::<ByteArrayType>().write_batch(values, defs, None),
                Values::Int32(values) => column.typed::<Int32Type>().write_batch(values, defs, None),
                Values::Int64(values) => column.typed::<Int64Type>().write_batch(values, defs, None),
                Values::Bool(values) => column.typed::<BoolType>().write_batch(values, defs, None),
            }
            .map_err(parquet)?;
            column.close().map_err(parquet)?;
            buffer.defs.clear();
            match &mut buffer.values {
                Values::Bytes(values) => values.clear(),
                Values::Int32(values) => values.clear(),
                Values::Int64(values) => values.clear(),
                Values::Bool(values) => values.clear(),
            }
        }
        group.close().map_err(parquet)?;
        self.buffered = 0;
        Ok(())
    }

    /// Rows pushed so far.
    pub(super) fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes what is buffered and the file's footer; returns the rows written.
    pub(super) fn finish(mut self) -> Result<u64, ParquetExportError> {
        if self.buffered > 0 {
            self.write_row_group()?;
        }
        let path = self.path.clone();
        self.writer.close().map_err(|source| ParquetExportError::Parquet { path, source })?;
        Ok(self.rows)
    }
}
