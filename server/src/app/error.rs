//! The application's one error type. Every use case returns it; `api/error.rs` turns it into the
//! contract's JSON answers (CONTRACT §5) and `web` into French pages, so that a refusal means the
//! same thing whichever door it came through.

use parcours_core::store::{AppendError, StoreError};
use parcours_projections::report::ReportError;
use parcours_projections::RunnerError;
use thiserror::Error;

use crate::json::{InputError, ParseError};
use crate::publication::PublicationError;
use crate::report_formats::RenderError;

#[derive(Debug, Error)]
pub enum AppError {
    /// Malformed input, an unknown field or value; the message names it.
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// No credential, or one that is unknown, malformed or revoked.
    #[error("a valid credential is needed")]
    Unauthorized,
    /// A credential outside its rights; never says whether what was asked for exists.
    #[error("this credential does not give access to this")]
    Forbidden,
    /// The server cannot answer now (projections rebuilding, store closed); retry later.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Append(AppendError),
    #[error(transparent)]
    Store(StoreError),
    /// A published report no longer gives the bytes it was published with (the code or the
    /// definitions changed what it means). Loud: logged as an error, named in the answer.
    #[error("{0}")]
    NotReproducible(String),
}

impl AppError {
    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::NotFound(what.into())
    }
}

impl From<ParseError> for AppError {
    fn from(error: ParseError) -> Self {
        AppError::InvalidRequest(error.message)
    }
}

impl From<serde_json::Error> for AppError {
    /// Writing an answer cannot fail on our own types; if it ever does, it is a server error.
    fn from(error: serde_json::Error) -> Self {
        AppError::Store(StoreError::Encode(error.to_string()))
    }
}

impl From<RenderError> for AppError {
    /// Writing a download cannot fail on our own figures; if it ever does, it is a server error.
    fn from(error: RenderError) -> Self {
        AppError::Store(StoreError::Encode(error.to_string()))
    }
}

impl From<AppendError> for AppError {
    fn from(error: AppendError) -> Self {
        AppError::Append(error)
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        AppError::Store(error)
    }
}

impl From<InputError> for AppError {
    fn from(error: InputError) -> Self {
        match error {
            InputError::Parse(error) => error.into(),
            InputError::Append(error) => error.into(),
        }
    }
}

impl From<ReportError> for AppError {
    /// A question that names no structure, too many or an unknown one: the caller's to fix.
    fn from(error: ReportError) -> Self {
        match error {
            ReportError::UnknownStructure(_) => AppError::not_found(error.to_string()),
            ReportError::NoStructure | ReportError::TooManyStructures => AppError::InvalidRequest(error.to_string()),
        }
    }
}

impl From<PublicationError> for AppError {
    fn from(error: PublicationError) -> Self {
        match error {
            PublicationError::Store(error) | PublicationError::Fold(RunnerError::Store(error)) => {
                AppError::Store(error)
            }
            PublicationError::Append(error) => AppError::Append(error),
            // Asking a question that cannot be answered now (an unknown structure) is the
            // caller's to fix; failing to answer again a question once answered is ours.
            PublicationError::Report(error) => error.into(),
            other => AppError::NotReproducible(other.to_string()),
        }
    }
}
