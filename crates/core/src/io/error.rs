//! What reading a GeoJSON document can go wrong with: one problem of one feature,
//! the document's error, and what reading one feature gave.

use std::fmt;

/// One problem with one feature of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureError {
    /// Position of the feature in the collection (0-based).
    pub index: usize,
    /// The feature's id, when it has a readable one.
    pub id: Option<String>,
    /// The property (or `geometry`, `id`) at fault.
    pub field: String,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "feature {}", self.index)?;
        if let Some(id) = &self.id {
            write!(f, " (id {id:?})")?;
        }
        write!(f, ": {}: {}", self.field, self.message)
    }
}

/// Why a GeoJSON document could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Not JSON, or not GeoJSON.
    #[error("not valid GeoJSON: {0}")]
    Syntax(String),
    /// Valid GeoJSON, but not a FeatureCollection.
    #[error("expected a FeatureCollection, found a {0}")]
    NotACollection(&'static str),
    /// One or more features are invalid; every problem is listed.
    #[error("{} invalid feature(s); first: {}", .0.len(), .0[0])]
    Features(Vec<FeatureError>),
}

impl ReadError {
    /// Every problem as one line each.
    pub fn lines(&self) -> Vec<String> {
        match self {
            ReadError::Features(v) => v.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}

/// What reading one feature gave.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// The item.
    Item(T),
    /// No item: the feature's id (for the duplicate check) and its problems.
    Rejected(Box<Rejected>),
    /// Not read (yet).
    Pending,
}

/// Why a feature gave no item.
#[derive(Debug, Default)]
pub(crate) struct Rejected {
    pub id: Option<String>,
    pub errors: Vec<FeatureError>,
}
