//! Reports: the files and tables derived from an [`Aggregate`].
//!
//! Every file is written through [`output`]: atomically, so an interrupted
//! run never leaves a half-written result that looks whole.

pub mod causes;
pub mod curves;
pub mod html;
pub mod json;
pub mod markdown;
pub mod mix;
pub mod output;
pub mod plan;
pub mod plot;
pub mod table;
pub mod timeseries;

pub use crate::fmt::{num, sig};
pub use output::{OutputError, Staged, MARKER};
