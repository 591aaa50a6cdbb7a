//! The period a statistic covers: both ends included, as in CONTRACT §5 (`from=D&to=D`).

use parcours_core::vocabulary::Date;
use serde::Serialize;
use thiserror::Error;

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("the period ends ({to}) before it starts ({from})")]
    Reversed { from: Date, to: Date },
}

impl Period {
    pub fn new(from: Date, to: Date) -> Result<Period, PeriodError> {
        if to < from {
            return Err(PeriodError::Reversed { from, to });
        }
        Ok(Period { from, to })
    }

    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }
}
