//! Synthetic datasets from a seed (filled in by the data work).
