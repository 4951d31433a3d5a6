//! Serving a store that other servers write too (PostGIS): every replica
//! applies the store's history to its own snapshot, in the order of the
//! history's sequence numbers, its own writes included, so every replica's
//! snapshot goes through the same versions.
//!
//! A write on this server commits, then catches up under the store's lock
//! (its own record and any others' before it) before it is answered. A
//! background thread does the same when the database notifies a commit
//! (`LISTEN`), and at least every [`FOLLOW_POLL`] in any case, so a missed
//! notification or a lost connection only delays a change: the history is the
//! source, the notification only a wake-up. Live events are published from here,
//! one per history record, so `/api/v1/stream` clients of every replica see the
//! same events.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use yizhan_store::{Change, ChangeEntry, Store};

use crate::error::ApiError;
use crate::state::{AppState, LiveEvent, StationChange};

/// Longest wait between two catch-ups when no notification arrives.
pub const FOLLOW_POLL: Duration = Duration::from_secs(1);

/// How long a gap in the sequence numbers is waited for (a write that took its
/// number but had not committed yet) before it counts as rolled back.
pub const GAP_WAIT: Duration = Duration::from_secs(10);

/// At most this many history records are read per catch-up.
const BATCH: usize = 10_000;

/// Where this replica is in the history.
#[derive(Debug)]
pub struct Follower {
    /// The highest sequence number applied.
    last: i64,
    /// Numbers below `last` not seen yet, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
}

impl Follower {
    /// A follower whose snapshot already holds every record up to `last`.
    pub fn new(last: i64) -> Self {
        Follower {
            last,
            gaps: BTreeMap::new(),
        }
    }

    /// The highest sequence number applied.
    pub fn last(&self) -> i64 {
        self.last
    }

    /// Read the records not applied yet and apply them to `state`'s snapshot.
    /// Call with the store's lock held (the state's `with_store_blocking`).
    pub fn catch_up(&mut self, state: &AppState, store: &mut Store) -> Result<usize, ApiError> {
        let now = Instant::now();
        self.gaps.retain(|_, t| now.duration_since(*t) < GAP_WAIT);
        let floor = self
            .gaps
            .keys()
            .next()
            .map_or(self.last, |g| g - 1)
            .min(self.last);
        let mut applied = 0;
        let mut after = floor;
        loop {
            let page = store.history(after, BATCH)?;
            for e in &page {
                if e.seq <= self.last && self.gaps.remove(&e.seq).is_none() {
                    continue;
                }
                if e.seq > self.last {
                    // Numbers skipped: writes not committed yet (or rolled back).
                    for missing in (self.last + 1..e.seq).take(BATCH) {
                        self.gaps.insert(missing, now);
                    }
                    self.last = e.seq;
                }
                match ChangeEntry::of(e) {
                    Ok(c) => apply(state, store, c.change)?,
                    Err(err) => {
                        tracing::warn!(seq = e.seq, error = %err, "history record skipped")
                    }
                }
                applied += 1;
            }
            match page.last() {
                Some(e) if page.len() == BATCH => after = e.seq,
                _ => break,
            }
        }
        Ok(applied)
    }
}

/// Apply one change to the served snapshot and tell live clients.
fn apply(state: &AppState, store: &mut Store, change: Change) -> Result<(), ApiError> {
    match change {
        Change::Station { action, station } => {
            state.apply(StationChange::Upsert(station.clone()));
            state.send_event(LiveEvent::Station { action, station });
        }
        Change::Retired(station) => {
            state.apply(StationChange::Remove(station.id.clone()));
            state.send_event(LiveEvent::Station {
                action: "retired",
                station,
            });
        }
        Change::Occupancy(station) => {
            state.apply(StationChange::Occupancy {
                id: station.id.clone(),
                occupancy: station.occupancy,
            });
            state.send_event(LiveEvent::Occupancy { station });
        }
        Change::Reload => state.replace_dataset(store.load()?),
        _ => {}
    }
    Ok(())
}

/// Follow the store's commits in a background thread until the server shuts
/// down: wait for a notification (or [`FOLLOW_POLL`]), then catch up.
pub fn spawn_follower(state: AppState) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("yizhan-follow".into())
        .spawn(move || {
            let shutdown = state.shutdown_signal();
            let mut listener = None;
            let mut failing = false;
            while !*shutdown.borrow() {
                if listener.is_none() {
                    listener = state
                        .with_store_blocking(|s| Ok(s.listen()?))
                        .ok()
                        .flatten();
                }
                match listener.as_mut().map(|l| l.wait(FOLLOW_POLL)) {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "lost the store's notifications; polling until they are back");
                        listener = None;
                    }
                    None => std::thread::sleep(FOLLOW_POLL),
                }
                match state.catch_up() {
                    Ok(_) if failing => {
                        tracing::info!("caught up with the store again");
                        failing = false;
                    }
                    Ok(_) => {}
                    Err(e) if !failing => {
                        tracing::warn!(error = %e, "cannot read the store's history; retrying");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ServerConfig;

    /// A second server's view: a state serving what the store held at `last`,
    /// following the store by hand (as the follower thread does).
    #[test]
    fn catch_up_applies_each_record_once_in_order_and_publishes_it() {
        let data = crate::tests::small_dataset();
        let mut store = Store::open_in_memory().unwrap();
        store.import(&data, &mut |_, _| {}).unwrap();
        let mut f = Follower::new(store.last_seq().unwrap());
        let replica = AppState::new(data, ServerConfig::default());
        let mut events = replica.subscribe();
        // "Another server" writes: a report, a new station, a retirement.
        let mut s9 = replica.snapshot().data.station("S1").unwrap().into_owned();
        s9.id = "S9".into();
        store.create_station("p", &s9).unwrap();
        store
            .set_occupancy("op", "S1", 4, chrono::Utc::now())
            .unwrap();
        store.retire_station("p", "S9").unwrap();
        assert_eq!(f.catch_up(&replica, &mut store).unwrap(), 3);
        let snap = replica.snapshot();
        assert!(snap.data.station("S9").is_none(), "created then retired");
        let s1 = snap.data.station("S1").unwrap();
        assert_eq!(s1.occupancy.map(|o| o.occupied), Some(4));
        let kinds: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
            .map(|e| match e {
                LiveEvent::Station { action, station } => format!("{action} {}", station.id),
                LiveEvent::Occupancy { station } => format!("occupancy {}", station.id),
            })
            .collect();
        assert_eq!(kinds, ["created S9", "occupancy S1", "retired S9"]);
        // Nothing new: nothing applied, nothing published again.
        assert_eq!(f.catch_up(&replica, &mut store).unwrap(), 0);
        assert!(events.try_recv().is_err());
        assert_eq!(f.last(), store.last_seq().unwrap());
    }
}
