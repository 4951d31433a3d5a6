//! Importing a whole dataset, replacing every layer.

use geo_types::Point;
use rusqlite::params;
use serde::Serialize;
use yizhan_core::Dataset;

use crate::error::Result;
use crate::extents::update_extents;
use crate::gpkg;
use crate::gpkg_store::GpkgStore;
use crate::history::record;
use crate::rows::profile_text;
use crate::stations::insert_station;

/// Counts of what an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Stations written.
    pub stations: usize,
    /// Hotspots written.
    pub hotspots: usize,
    /// Cells written.
    pub cells: usize,
    /// Candidates written.
    pub candidates: usize,
    /// Boundary features written (0 or 1).
    pub boundary: usize,
}

impl GpkgStore {
    /// Replace every layer with the dataset's, in one transaction. `progress` is called
    /// with (done, total) features.
    pub fn import(
        &mut self,
        data: &Dataset,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ImportSummary> {
        let total = ImportSummary::of(data).features();
        let mut done = 0u64;
        let tx = self.conn.transaction()?;
        for t in ["stations", "hotspots", "cells", "candidates", "boundary"] {
            tx.execute(&format!("DELETE FROM {t}"), [])?;
        }
        let mut tick = ticker(total, progress);
        for s in data.stations.items() {
            insert_station(&tx, s)?;
            tick(&mut done);
        }
        {
            let mut st = tx.prepare("INSERT INTO hotspots (geom, id, workers, worker_type, grid_unit, profile) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            for h in data.hotspots.items() {
                st.execute(params![
                    gpkg::point_blob(Point::new(h.location.lon, h.location.lat)),
                    h.id,
                    h.workers,
                    h.worker_type.as_str(),
                    h.grid_unit,
                    profile_text(h)
                ])?;
                tick(&mut done);
            }
            let mut st = tx.prepare("INSERT INTO cells (geom, id, grid_unit, unit_name, demand) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for c in data.cells.items() {
                st.execute(params![
                    gpkg::polygon_blob(&c.polygon),
                    c.id,
                    c.grid_unit,
                    c.unit_name,
                    c.demand
                ])?;
                tick(&mut done);
            }
            let mut st = tx.prepare(
                "INSERT INTO candidates (geom, id, name, capacity) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for c in data.candidates.items() {
                st.execute(params![
                    gpkg::point_blob(Point::new(c.location.lon, c.location.lat)),
                    c.id,
                    c.name,
                    c.capacity
                ])?;
                tick(&mut done);
            }
        }
        if let Some(b) = &data.boundary {
            tx.execute(
                "INSERT INTO boundary (geom, name, properties) VALUES (?1, ?2, ?3)",
                params![
                    gpkg::multipolygon_blob(&b.geometry),
                    b.name,
                    serde_json::Value::Object(b.properties.clone()).to_string()
                ],
            )?;
        }
        record(
            &tx,
            "import",
            "import",
            "dataset",
            "*",
            None,
            Some(import_record(data)),
        )?;
        update_extents(
            &tx,
            &["stations", "hotspots", "cells", "candidates", "boundary"],
        )?;
        tx.commit()?;
        Ok(ImportSummary::of(data))
    }
}

impl ImportSummary {
    /// What importing `data` writes.
    pub(crate) fn of(data: &Dataset) -> Self {
        ImportSummary {
            stations: data.stations.len(),
            hotspots: data.hotspots.len(),
            cells: data.cells.len(),
            candidates: data.candidates.len(),
            boundary: usize::from(data.boundary.is_some()),
        }
    }

    /// Features with a progress tick (the boundary has none).
    pub(crate) fn features(&self) -> u64 {
        (self.stations + self.hotspots + self.cells + self.candidates) as u64
    }
}

/// The history's record of an import: the counts of the layers.
pub(crate) fn import_record(data: &Dataset) -> serde_json::Value {
    serde_json::json!({
        "stations": data.stations.len(), "hotspots": data.hotspots.len(),
        "cells": data.cells.len(), "candidates": data.candidates.len(),
    })
}

/// A progress ticker for `total` features: calls `progress` every 10,000 and at the end.
pub(crate) fn ticker(total: u64, progress: &mut dyn FnMut(u64, u64)) -> impl FnMut(&mut u64) + '_ {
    move |n: &mut u64| {
        *n += 1;
        if *n % 10_000 == 0 || *n == total {
            progress(*n, total);
        }
    }
}
