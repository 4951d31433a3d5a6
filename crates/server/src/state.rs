//! Shared server state: the dataset (swappable as a whole), the store that
//! writes go to, the live event channel, configuration, metrics, and the API
//! document the router was built with.

use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::Method;
use geojson::Feature;
use yizhan_core::model::{Occupancy, Station};
use yizhan_core::Dataset;
use yizhan_store::Store;

use crate::error::ApiError;
use crate::layers::{self, Collection};
use crate::metrics::Metrics;
use yizhan_core::crs::Crs;

/// Default walking cutoff for coverage and gaps, in metres (the planning workflow's).
pub use yizhan_plan::workflow::DEFAULT_CUTOFF_M;

/// Default age after which an occupancy report is shown as unknown (the domain's).
pub use yizhan_core::occupancy::DEFAULT_OCCUPANCY_MAX_AGE;

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

/// One version of the dataset with lazily built, cached WGS 84 features per
/// collection. A write makes the next version from this one: it shares the
/// layers and the cached collections the write did not change.
#[derive(Debug)]
pub struct Snapshot {
    /// The dataset.
    pub data: Arc<Dataset>,
    cache: [OnceLock<Arc<Vec<Feature>>>; Collection::ALL.len()],
    /// What the vector tiles of each collection are found through.
    tile_sources: [OnceLock<crate::tiles::SharedSource>; Collection::ALL.len()],
}

impl Snapshot {
    /// Wrap a dataset.
    pub fn new(data: Arc<Dataset>) -> Self {
        Self {
            data,
            cache: Default::default(),
            tile_sources: Default::default(),
        }
    }

    /// The cached tile source of a collection, built with `build` on first use.
    pub fn tile_source(
        &self,
        c: Collection,
        build: impl FnOnce() -> crate::tiles::TileSource,
    ) -> crate::tiles::SharedSource {
        Arc::clone(self.tile_sources[c as usize].get_or_init(|| Arc::new(build())))
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

    /// The features of a collection in `crs` (the `gaps` layer at
    /// `default_cutoff_m`): WGS 84 ones come from the cache.
    pub fn features(
        &self,
        c: Collection,
        crs: Crs,
        default_cutoff_m: f64,
    ) -> Result<Arc<Vec<Feature>>, ApiError> {
        match crs {
            Crs::Wgs84 => self.cached(c, |d| layers::build(d, c, crs, default_cutoff_m)),
            _ => layers::build(&self.data, c, crs, default_cutoff_m).map(Arc::new),
        }
    }

    /// The next version: `data`, with the collections `keep` accepts still
    /// cached, and the tile sources (positions and extents only) of those
    /// `keep_sources` accepts.
    fn next(
        &self,
        data: Dataset,
        keep: impl Fn(Collection) -> bool,
        keep_sources: impl Fn(Collection) -> bool,
    ) -> Self {
        let next = Self::new(Arc::new(data));
        for c in Collection::ALL {
            if let Some(v) = self.cache[c as usize].get().filter(|_| keep(c)) {
                let _ = next.cache[c as usize].set(Arc::clone(v));
            }
            if let Some(v) = self.tile_sources[c as usize]
                .get()
                .filter(|_| keep_sources(c))
            {
                let _ = next.tile_sources[c as usize].set(Arc::clone(v));
            }
        }
        next
    }
}

/// The longest a replica's last successful catch-up may be ago for it to count as
/// ready (the follower catches up at least every second).
pub const READY_LAG: Duration = Duration::from_secs(5);

/// A replica's last contact with the store.
#[derive(Debug)]
struct SyncState {
    at: Instant,
    failing: bool,
}

/// What `/readyz` and `/healthz` say about readiness and replication.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Readiness {
    /// Ready for traffic (see [`AppState::readiness`]).
    pub ready: bool,
    /// The snapshot follows a store that other servers write (PostGIS).
    pub replica: bool,
    /// Seconds since the snapshot was last known current (replicas only): the
    /// replication lag's upper bound.
    pub snapshot_age_s: Option<f64>,
    /// The last history record applied (replicas only).
    pub last_seq: Option<i64>,
    /// The store's connection pool (PostGIS only).
    pub pool: Option<yizhan_store::PoolStatus>,
}

#[derive(Debug)]
struct Inner {
    snapshot: RwLock<Arc<Snapshot>>,
    /// Held while a change makes the next snapshot, so changes apply in turn.
    writer: Mutex<()>,
    config: ServerConfig,
    metrics: Metrics,
    /// The OpenAPI document (JSON), set by the router that serves this state.
    api_document: OnceLock<Bytes>,
    ogc_document: OnceLock<Bytes>,
    store: Option<Mutex<Store>>,
    /// Set when other servers may write the store too: the snapshot then follows
    /// the store's history (`crate::replica`).
    follower: Option<Mutex<crate::replica::Follower>>,
    events: tokio::sync::broadcast::Sender<LiveEvent>,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// The street networks (walk, e-bike), when the dataset has roads.
    networks: RwLock<Option<Arc<yizhan_net::Networks>>>,
    /// The store's connection pool, read without the store's lock (PostGIS).
    pool: Option<yizhan_store::PoolMonitor>,
    /// A replica's sync: when it last caught up with the store, and whether the
    /// last attempt failed.
    sync: Mutex<SyncState>,
}

/// What a write did to the stations, to patch the served dataset.
#[derive(Debug, Clone)]
pub enum StationChange {
    /// Insert or replace this station.
    Upsert(Box<Station>),
    /// Remove the station with this id.
    Remove(String),
    /// A new occupancy report (its only change) for the station with this id.
    Occupancy {
        /// The station.
        id: String,
        /// The report.
        occupancy: Option<Occupancy>,
    },
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
        Self::build(data, config, None, None)
    }

    /// State serving the store's dataset; writes go to the store first and are
    /// visible to the next read.
    pub fn with_store(
        store: Store,
        config: ServerConfig,
    ) -> Result<Self, yizhan_store::StoreError> {
        Self::with_store_and_files(store, config, None)
    }

    /// Serve `store`, with the layers that live in files only (roads, water: the store
    /// has no tables for them yet) taken from the dataset `files`.
    pub fn with_store_and_files(
        store: Store,
        config: ServerConfig,
        files: Option<&Dataset>,
    ) -> Result<Self, yizhan_store::StoreError> {
        // A store other servers can write (PostGIS) is followed: from the history
        // as it was before loading (records applied twice change nothing).
        let follower = match store.backend() {
            yizhan_store::BackendKind::Gpkg => None,
            _ => Some(crate::replica::Follower::new(store.last_seq()?)),
        };
        let mut data = store.load()?;
        if let Some(f) = files {
            data.roads = f.roads.clone();
            data.water = f.water.clone();
        }
        let replicated = follower.is_some();
        let state = Self::build(data, config, Some(store), follower);
        if replicated {
            crate::replica::spawn_follower(state.clone()).map_err(|e| {
                yizhan_store::StoreError::Invalid {
                    field: "store",
                    reason: format!("cannot start following the store: {e}"),
                }
            })?;
        }
        Ok(state)
    }

    fn build(
        data: Dataset,
        config: ServerConfig,
        store: Option<Store>,
        follower: Option<crate::replica::Follower>,
    ) -> Self {
        let (events, _) = tokio::sync::broadcast::channel(EVENT_BUFFER);
        let (shutdown, _) = tokio::sync::watch::channel(false);
        let pool = store.as_ref().and_then(Store::pool_monitor);
        Self {
            inner: Arc::new(Inner {
                snapshot: RwLock::new(Arc::new(Snapshot::new(Arc::new(data)))),
                writer: Mutex::new(()),
                config,
                metrics: Metrics::default(),
                api_document: OnceLock::new(),
                ogc_document: OnceLock::new(),
                store: store.map(Mutex::new),
                follower: follower.map(Mutex::new),
                events,
                shutdown,
                networks: RwLock::new(None),
                pool,
                sync: Mutex::new(SyncState {
                    at: Instant::now(),
                    failing: false,
                }),
            }),
        }
    }

    /// Record the outcome of a catch-up with the store.
    fn synced(&self, ok: bool) {
        let mut g = held(self.inner.sync.lock());
        if ok {
            g.at = Instant::now();
        }
        g.failing = !ok;
    }

    /// Whether this server is ready for traffic: up with its snapshot and, for a
    /// replica, in touch with the store (its last catch-up succeeded and is at most
    /// [`READY_LAG`] old). A server without a replicated store is always ready.
    pub fn readiness(&self) -> Readiness {
        let (age, failing) = {
            let g = held(self.inner.sync.lock());
            (g.at.elapsed(), g.failing)
        };
        let replica = self.is_replica();
        Readiness {
            ready: !replica || (!failing && age <= READY_LAG),
            replica,
            snapshot_age_s: replica.then_some(age.as_secs_f64()),
            last_seq: self.inner.follower.as_ref().map(|f| held(f.lock()).last()),
            pool: self.inner.pool.as_ref().map(|p| p.status()),
        }
    }

    /// Whether writes are possible (a store is attached).
    pub fn has_store(&self) -> bool {
        self.inner.store.is_some()
    }

    /// Run `f` on the store, blocking (call from `spawn_blocking`). Writes are
    /// serialised by the store's lock.
    ///
    /// A replica that knows its database is unreachable (its last catch-up failed)
    /// answers at once with 503 and `Retry-After` instead of queueing behind the
    /// follower's reconnection attempts; the follower clears this when it reaches the
    /// database again.
    pub fn with_store_blocking<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        if self.is_replica() && held(self.inner.sync.lock()).failing {
            return Err(ApiError::Busy {
                reason: "the store's database cannot be reached",
                retry_after_s: crate::error::STORE_RETRY_AFTER_S,
            });
        }
        self.with_store_locked(f)
    }

    /// [`AppState::with_store_blocking`] without the fast refusal (the follower's
    /// own attempts to reach the database).
    fn with_store_locked<T>(
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
        let mut g = held(store.lock());
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
            match &self.inner.follower {
                // The write's own record, and any before it, in history order.
                // Committed already: if reading it back fails, the follower
                // thread applies it later; the write is still acknowledged.
                Some(follower) => {
                    let caught = held(follower.lock()).catch_up(self, store);
                    self.synced(caught.is_ok());
                    if let Err(e) = caught {
                        tracing::warn!(error = %e, "a committed write is not served yet");
                    }
                }
                None => self.apply(change),
            }
            Ok(out)
        })
    }

    /// Whether the snapshot follows a store that other servers write too.
    pub fn is_replica(&self) -> bool {
        self.inner.follower.is_some()
    }

    /// Apply the store's history records this server has not applied yet (a
    /// replica's; no-op otherwise). Blocking: call from a blocking thread.
    pub fn catch_up(&self) -> Result<usize, ApiError> {
        let Some(follower) = &self.inner.follower else {
            return Ok(0);
        };
        let out = self.with_store_locked(|store| held(follower.lock()).catch_up(self, store));
        self.synced(out.is_ok());
        out
    }

    /// Patch the served dataset with a change (already committed to the store, if
    /// any) and swap the snapshot: readers see the whole change or none of it.
    ///
    /// The next version shares what the change leaves alone. An occupancy report
    /// copies one chunk of the occupancy table and drops only the cached stations
    /// collection; a station created, replaced or retired rebuilds the stations
    /// layer and drops the collections computed from stations. The hotspots, cells,
    /// candidates, boundary and their indexes are never copied.
    pub fn apply(&self, change: StationChange) {
        self.next_version(|old| {
            let mut data = Dataset::clone(&old.data);
            match change {
                StationChange::Occupancy { id, occupancy } => {
                    data.set_occupancy(&id, occupancy);
                    // A report moves nothing: every tile source stays.
                    old.next(data, |c| !c.shows_occupancy(), |_| true)
                }
                StationChange::Upsert(s) => {
                    data.upsert_station(*s);
                    old.next(data, |c| !c.reads_stations(), |c| !c.reads_stations())
                }
                StationChange::Remove(id) => {
                    data.remove_station(&id);
                    old.next(data, |c| !c.reads_stations(), |c| !c.reads_stations())
                }
            }
        });
    }

    /// Tell `/api/v1/stream` clients about a change (no-op without clients). On
    /// a replica, events come from the store's history instead (one per record,
    /// the same on every replica), so this does nothing there.
    pub fn publish(&self, e: LiveEvent) {
        if !self.is_replica() {
            self.send_event(e);
        }
    }

    /// Send a live event to every `/api/v1/stream` client.
    pub(crate) fn send_event(&self, e: LiveEvent) {
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
        let g = held(self.inner.snapshot.read());
        Arc::clone(&g)
    }

    /// The street networks routing answers use (`None`: straight lines only).
    pub fn networks(&self) -> Option<Arc<yizhan_net::Networks>> {
        held(self.inner.networks.read()).clone()
    }

    /// Serve these street networks (loaded from `roads.graph` or built from the
    /// roads layer by the caller).
    pub fn set_networks(&self, networks: Option<yizhan_net::Networks>) {
        *held(self.inner.networks.write()) = networks.map(Arc::new);
    }

    /// Replace the dataset; requests in flight finish on the old one.
    pub fn replace_dataset(&self, data: Dataset) {
        self.next_version(|_| Snapshot::new(Arc::new(data)));
    }

    /// Make the next version from the current one, in turn with every other
    /// change, and swap it in.
    fn next_version(&self, make: impl FnOnce(&Snapshot) -> Snapshot) {
        let _turn = held(self.inner.writer.lock());
        let new = Arc::new(make(&self.snapshot()));
        let old = std::mem::replace(&mut *held(self.inner.snapshot.write()), new);
        // The old version is freed (when no request holds it) outside the lock.
        drop(old);
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Now, with the configured maximum age of occupancy reports.
    pub fn freshness(&self) -> yizhan_core::occupancy::Freshness {
        yizhan_core::occupancy::Freshness::now(self.config().occupancy_max_age)
    }

    /// Request metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Set the API document served at `/api/v1/openapi.json` (the
    /// router does, from the routes it mounts); the first one set stays.
    pub fn set_api_document(&self, json: Bytes) {
        let _ = self.inner.api_document.set(json);
    }

    /// Set the document of the OGC API alone, served at `/ogc/api`; the first one
    /// set stays.
    pub fn set_ogc_document(&self, json: Bytes) {
        let _ = self.inner.ogc_document.set(json);
    }

    /// The document of the OGC API alone; `{}` until a router has set it.
    pub fn ogc_document(&self) -> Bytes {
        self.inner
            .ogc_document
            .get()
            .cloned()
            .unwrap_or_else(|| Bytes::from_static(b"{}"))
    }

    /// The API document (JSON; a shared buffer, so serving it copies nothing); `{}`
    /// until a router has set it.
    pub fn api_document(&self) -> Bytes {
        self.inner
            .api_document
            .get()
            .cloned()
            .unwrap_or_else(|| Bytes::from_static(b"{}"))
    }
}

/// The guard of a lock, poisoned or not: a snapshot swap is one assignment and a
/// store write one transaction, so a panic while holding a lock leaves nothing
/// half done.
fn held<G>(r: std::sync::LockResult<G>) -> G {
    r.unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(occupied: u32) -> Option<Occupancy> {
        Some(Occupancy {
            occupied,
            reported_at: chrono::Utc::now(),
        })
    }

    fn cache_all(snap: &Snapshot) {
        for c in Collection::ALL {
            snap.cached(c, |d| {
                crate::layers::build(d, c, yizhan_core::crs::Crs::Wgs84, 500.0)
            })
            .unwrap();
        }
    }

    fn cached(snap: &Snapshot, c: Collection) -> Option<&Arc<Vec<Feature>>> {
        snap.cache[c as usize].get()
    }

    #[test]
    fn a_report_keeps_every_layer_and_cache_but_the_stations_collection() {
        let st = AppState::new(crate::tests::small_dataset(), ServerConfig::default());
        let before = st.snapshot();
        cache_all(&before);
        let id = before.data.stations.items()[0].id.clone();
        let occupancy = report(2);
        st.apply(StationChange::Occupancy {
            id: id.clone(),
            occupancy,
        });
        let after = st.snapshot();
        // Readers holding the old version keep it whole; new readers see the report.
        assert_eq!(before.data.station(&id).unwrap().occupancy, None);
        assert_eq!(after.data.station(&id).unwrap().occupancy, occupancy);
        assert!(Arc::ptr_eq(&before.data.stations, &after.data.stations));
        assert!(Arc::ptr_eq(&before.data.hotspots, &after.data.hotspots));
        assert!(cached(&after, Collection::Stations).is_none());
        for c in [
            Collection::Hotspots,
            Collection::Cells,
            Collection::Gaps,
            Collection::Boundary,
            Collection::Candidates,
        ] {
            let (a, b) = (cached(&before, c).unwrap(), cached(&after, c).unwrap());
            assert!(Arc::ptr_eq(a, b), "{c:?}");
        }
    }

    #[test]
    fn a_station_change_drops_the_station_collections_only() {
        let st = AppState::new(crate::tests::small_dataset(), ServerConfig::default());
        let before = st.snapshot();
        cache_all(&before);
        let mut s = before.data.stations.items()[0].clone();
        s.capacity += 1;
        st.apply(StationChange::Upsert(Box::new(s.clone())));
        let after = st.snapshot();
        assert_eq!(after.data.station(&s.id).unwrap().capacity, s.capacity);
        assert!(Arc::ptr_eq(&before.data.hotspots, &after.data.hotspots));
        assert!(cached(&after, Collection::Stations).is_none());
        assert!(cached(&after, Collection::Gaps).is_none());
        assert!(cached(&after, Collection::Cells).is_some());
        st.apply(StationChange::Remove(s.id.clone()));
        assert!(st.snapshot().data.station(&s.id).is_none());
        assert_eq!(
            st.snapshot().data.stations.len(),
            before.data.stations.len() - 1
        );
    }
}
