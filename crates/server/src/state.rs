//! Shared server state: the dataset (swappable as a whole), the store that
//! writes go to, the live event channel, configuration, metrics.

use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::http::Method;
use geojson::Feature;
use yizhan_core::model::Station;
use yizhan_core::{Dataset, GeoIndex};
use yizhan_store::Store;

use crate::error::ApiError;
use crate::layers::Collection;
use crate::metrics::Metrics;

/// Default walking cutoff for coverage and gaps, in metres.
pub const DEFAULT_CUTOFF_M: f64 = 500.0;

/// Default age after which an occupancy report is shown as unknown (2 hours).
pub const DEFAULT_OCCUPANCY_MAX_AGE: Duration = Duration::from_secs(2 * 3600);

/// How many live events a slow `/api/v1/stream` client may fall behind before it
/// is told to reload.
pub const EVENT_BUFFER: usize = 1024;

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
    /// Occupancy reports older than this are shown as unknown.
    pub occupancy_max_age: Duration,
    /// Request timeout and planning cap.
    pub limits: crate::limits::Limits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            dataset_name: "dataset".into(),
            cors: CorsConfig::default(),
            basemap_url: None,
            public_url: None,
            default_cutoff_m: DEFAULT_CUTOFF_M,
            occupancy_max_age: DEFAULT_OCCUPANCY_MAX_AGE,
            limits: crate::limits::Limits::default(),
        }
    }
}

/// A change pushed to `/api/v1/stream` clients.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// A station was created, updated or retired.
    Station {
        /// `created`, `updated` or `retired`.
        action: &'static str,
        /// The station after the change (before it, when retired).
        station: Box<Station>,
    },
    /// A station's occupancy was reported.
    Occupancy {
        /// The station after the report.
        station: Box<Station>,
    },
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
    store: Option<Mutex<Store>>,
    events: tokio::sync::broadcast::Sender<LiveEvent>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// What a write did to the stations, to patch the served dataset.
#[derive(Debug, Clone)]
pub enum StationChange {
    /// Insert or replace this station.
    Upsert(Box<Station>),
    /// Remove the station with this id.
    Remove(String),
}

/// State shared by every handler. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// State serving `data` with `config`, read-only: without a store no token is
    /// valid, so every write route answers 401.
    pub fn new(data: Dataset, config: ServerConfig) -> Self {
        Self::build(data, config, None)
    }

    /// State serving the store's dataset; writes go to the store first and are
    /// visible to the next read.
    pub fn with_store(
        store: Store,
        config: ServerConfig,
    ) -> Result<Self, yizhan_store::StoreError> {
        let data = store.load()?;
        Ok(Self::build(data, config, Some(store)))
    }

    fn build(data: Dataset, config: ServerConfig, store: Option<Store>) -> Self {
        let (events, _) = tokio::sync::broadcast::channel(EVENT_BUFFER);
        let (shutdown, _) = tokio::sync::watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                snapshot: RwLock::new(Arc::new(Snapshot::new(Arc::new(data)))),
                config,
                metrics: Metrics::default(),
                store: store.map(Mutex::new),
                events,
                shutdown,
            }),
        }
    }

    /// Whether writes are possible (a store is attached).
    pub fn has_store(&self) -> bool {
        self.inner.store.is_some()
    }

    /// Run `f` on the store, blocking (call from `spawn_blocking`). Writes are
    /// serialised by the store's lock.
    pub fn with_store_blocking<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let store = self
            .inner
            .store
            .as_ref()
            .ok_or_else(|| ApiError::Unavailable {
                reason: "this server runs without a store".into(),
            })?;
        let mut g = store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }

    /// Write to the store and, while still holding its lock (so snapshots follow
    /// the order of commits), patch the served stations with the change the write
    /// made. Blocking: call from `spawn_blocking`.
    pub fn write_stations<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<(T, StationChange), ApiError>,
    ) -> Result<T, ApiError> {
        self.with_store_blocking(|store| {
            let (out, change) = f(store)?;
            self.apply(change);
            Ok(out)
        })
    }

    fn apply(&self, change: StationChange) {
        let old = self.snapshot();
        let mut stations: Vec<Station> = old.data.stations.items().to_vec();
        match change {
            StationChange::Upsert(s) => match stations.iter_mut().find(|x| x.id == s.id) {
                Some(slot) => *slot = *s,
                None => stations.push(*s),
            },
            StationChange::Remove(id) => stations.retain(|x| x.id != id),
        }
        let d = &old.data;
        let data = Dataset {
            stations: GeoIndex::new(stations),
            hotspots: d.hotspots.clone(),
            cells: d.cells.clone(),
            candidates: d.candidates.clone(),
            boundary: d.boundary.clone(),
        };
        self.replace_dataset(data);
    }

    /// Tell `/api/v1/stream` clients about a change (no-op without clients).
    pub fn publish(&self, e: LiveEvent) {
        let _ = self.inner.events.send(e);
    }

    /// A receiver of live events.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<LiveEvent> {
        self.inner.events.subscribe()
    }

    /// A receiver that turns `true` when the server shuts down (ends live streams).
    pub fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Begin shutting down: end every live stream so graceful shutdown can finish.
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
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
