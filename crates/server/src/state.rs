//! Shared server state: the dataset (swappable as a whole), configuration, metrics.

use std::sync::{Arc, OnceLock, RwLock};

use axum::http::Method;
use geojson::Feature;
use yizhan_core::Dataset;

use crate::layers::Collection;
use crate::metrics::Metrics;

/// Default walking cutoff for coverage and gaps, in metres.
pub const DEFAULT_CUTOFF_M: f64 = 500.0;

/// Who may call the API from a web page on another origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfig {
    /// Allowed origins; empty means any origin.
    pub origins: Vec<String>,
    /// Allowed methods. The default is GET (and HEAD) only.
    pub methods: Vec<Method>,
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self {
            origins: Vec::new(),
            methods: vec![Method::GET, Method::HEAD],
        }
    }
}

/// Server configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Name of the dataset, shown on the landing page (e.g. `anhai`).
    pub dataset_name: String,
    /// Cross-origin settings.
    pub cors: CorsConfig,
    /// A basemap style or tile URL for the web page (`GET /api/v1/config`).
    pub basemap_url: Option<String>,
    /// Base URL used in OGC links (e.g. `https://gis.example/yizhan`); when unset,
    /// links are built from the request's `Host` header.
    pub public_url: Option<String>,
    /// Default cutoff for coverage and gaps, in metres.
    pub default_cutoff_m: f64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            dataset_name: "dataset".into(),
            cors: CorsConfig::default(),
            basemap_url: None,
            public_url: None,
            default_cutoff_m: DEFAULT_CUTOFF_M,
        }
    }
}

/// One version of the dataset with lazily built, cached WGS 84 features per collection.
#[derive(Debug)]
pub struct Snapshot {
    /// The dataset.
    pub data: Arc<Dataset>,
    cache: [OnceLock<Arc<Vec<Feature>>>; Collection::ALL.len()],
}

impl Snapshot {
    /// Wrap a dataset.
    pub fn new(data: Arc<Dataset>) -> Self {
        Self {
            data,
            cache: Default::default(),
        }
    }

    /// The cached WGS 84 features of a collection, built with `build` on first use.
    pub fn cached<E>(
        &self,
        c: Collection,
        build: impl FnOnce(&Dataset) -> Result<Vec<Feature>, E>,
    ) -> Result<Arc<Vec<Feature>>, E> {
        let slot = &self.cache[c as usize];
        if let Some(v) = slot.get() {
            return Ok(Arc::clone(v));
        }
        let v = Arc::new(build(&self.data)?);
        Ok(Arc::clone(slot.get_or_init(|| v)))
    }
}

#[derive(Debug)]
struct Inner {
    snapshot: RwLock<Arc<Snapshot>>,
    config: ServerConfig,
    metrics: Metrics,
}

/// State shared by every handler. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// State serving `data` with `config`.
    pub fn new(data: Dataset, config: ServerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                snapshot: RwLock::new(Arc::new(Snapshot::new(Arc::new(data)))),
                config,
                metrics: Metrics::default(),
            }),
        }
    }

    /// The current dataset version (requests keep the version they started with).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let g = self
            .inner
            .snapshot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(&g)
    }

    /// Replace the dataset; requests in flight finish on the old one.
    pub fn replace_dataset(&self, data: Dataset) {
        let new = Arc::new(Snapshot::new(Arc::new(data)));
        let mut g = self
            .inner
            .snapshot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *g = new;
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Request metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
}
