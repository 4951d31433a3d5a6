//! Where a store is: a GeoPackage file path or a PostgreSQL URL, as given to
//! `--store`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Where a store is. Parsed from a `--store` value: `postgres://…` or
/// `postgresql://…` is a PostgreSQL database, anything else a GeoPackage file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A GeoPackage file.
    File(PathBuf),
    /// A PostgreSQL connection URL (`postgres://USER@HOST:PORT/DB`).
    Postgres(String),
}

/// The URL schemes of a PostgreSQL database.
const PG_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

impl Location {
    /// The file, for a GeoPackage store.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// Whether the store is there already (a PostgreSQL database is taken to be:
    /// connecting tells).
    pub fn exists(&self) -> bool {
        self.file().is_none_or(Path::exists)
    }

    /// A short name for the served dataset: the file's stem, or the database's name.
    pub fn name(&self) -> String {
        match self {
            Location::File(p) => p
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
            Location::Postgres(url) => {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
                let db = rest.split_once('/').map_or("", |(_, db)| db);
                let db = db.split(['?', '#']).next().unwrap_or_default();
                if db.is_empty() {
                    "postgres".to_string()
                } else {
                    db.to_string()
                }
            }
        }
    }
}

impl FromStr for Location {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let is_pg = PG_SCHEMES
            .iter()
            .any(|p| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)));
        Ok(if is_pg {
            Location::Postgres(s.to_string())
        } else {
            Location::File(PathBuf::from(s))
        })
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Location::File(p)
    }
}

impl fmt::Display for Location {
    /// The path, or the URL with any password hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => p.display().fmt(f),
            Location::Postgres(url) => f.write_str(&hide_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_and_urls() {
        let l: Location = "store.gpkg".parse().unwrap();
        assert_eq!(l, Location::File("store.gpkg".into()));
        assert_eq!(l.name(), "store");
        for url in [
            "postgres://yz@127.0.0.1:5432/anhai",
            "postgresql://yz@h/anhai?sslmode=disable",
            "POSTGRES://yz@h/anhai",
        ] {
            let l: Location = url.parse().unwrap();
            assert!(matches!(l, Location::Postgres(_)), "{url}");
            assert_eq!(l.name(), "anhai", "{url}");
            assert!(l.file().is_none() && l.exists());
        }
        let l: Location = "postgres://yz:hunter2@h:5/db".parse().unwrap();
        assert_eq!(l.to_string(), "postgres://yz:***@h:5/db");
        assert!(!Location::File("/no/such/file.gpkg".into()).exists());
    }
}
