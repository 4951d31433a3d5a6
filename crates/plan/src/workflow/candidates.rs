//! Which candidate sites a comparison or a selection weighs.

use std::collections::HashSet;

use yizhan_core::{Candidate, Dataset};

use crate::coverage::cell_candidates;
use crate::error::PlanError;

/// Where the candidate sites come from.
#[derive(Debug, Clone, PartialEq)]
pub enum CandidateSource {
    /// A list given with the request (WGS 84).
    Given(Vec<Candidate>),
    /// Every grid cell's centroid ([`cell_candidates`]).
    Cells,
    /// The dataset's own candidates.
    Dataset,
}

/// The candidate sites of `source`, refused when there are none
/// ([`PlanError::Empty`]) or when an id appears twice
/// ([`PlanError::DuplicateCandidate`]).
pub fn candidate_sites(
    data: &Dataset,
    source: CandidateSource,
) -> Result<Vec<Candidate>, PlanError> {
    let out = match source {
        CandidateSource::Given(list) => list,
        CandidateSource::Cells => cell_candidates(data.cells.items()),
        CandidateSource::Dataset => data.candidates.items().to_vec(),
    };
    if out.is_empty() {
        return Err(PlanError::Empty {
            what: "candidate sites",
        });
    }
    let mut seen = HashSet::new();
    if let Some((index, c)) = out
        .iter()
        .enumerate()
        .find(|(_, c)| !seen.insert(c.id.as_str()))
    {
        return Err(PlanError::DuplicateCandidate {
            index,
            id: c.id.clone(),
        });
    }
    Ok(out)
}
