//! Reading the layers back: the whole dataset, or the stations.

use rusqlite::OptionalExtension;
use yizhan_core::model::{Boundary, Station};
use yizhan_core::Dataset;

use crate::error::Result;
use crate::gpkg;
use crate::gpkg_store::GpkgStore;
use crate::rows::{
    boundary_of, candidate_row, cell_row, corrupt, get_station, hotspot_row, read_all, station_row,
    STATION_SELECT,
};

impl GpkgStore {
    /// Read every layer into a dataset (R-trees built).
    pub fn load(&self) -> Result<Dataset> {
        let stations = self.stations()?;
        let hotspots = read_all(
            &self.conn,
            "SELECT id, geom, workers, worker_type, grid_unit, profile FROM hotspots ORDER BY fid",
            hotspot_row,
        )?;
        let cells = read_all(
            &self.conn,
            "SELECT id, geom, grid_unit, unit_name, demand FROM cells ORDER BY fid",
            cell_row,
        )?;
        let candidates = read_all(
            &self.conn,
            "SELECT id, geom, name, capacity FROM candidates ORDER BY fid",
            candidate_row,
        )?;
        let boundary = self
            .conn
            .query_row(
                "SELECT geom, name, properties FROM boundary ORDER BY fid LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?
            .map(|(g, name, props)| -> Result<Boundary> {
                let geom = gpkg::decode(&g).map_err(|e| corrupt("boundary", &name, e))?;
                let properties =
                    serde_json::from_str(&props).map_err(|e| corrupt("boundary", &name, e))?;
                boundary_of(name, geom, properties)
            })
            .transpose()?;
        Ok(Dataset::new(
            stations, hotspots, cells, candidates, boundary,
        ))
    }

    /// Every current station, in insertion order.
    pub fn stations(&self) -> Result<Vec<Station>> {
        read_all(&self.conn, &format!("{STATION_SELECT} ORDER BY fid"), |r| {
            station_row(r)?
        })
    }

    /// One station.
    pub fn station(&self, id: &str) -> Result<Station> {
        get_station(&self.conn, id)
    }
}
