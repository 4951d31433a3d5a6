//! Access tokens and roles.
//!
//! A token is 32 random bytes from the operating system, shown once as
//! `yz_<64 hex digits>`; the store keeps only its SHA-256 hash. Roles:
//! `admin` (everything), `planner` (stations, scenarios), `operator:<station id>`
//! (occupancy of that one station).

use std::fmt;
use std::str::FromStr;

use rand::{rngs::StdRng, RngCore, SeedableRng};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::gpkg_store::GpkgStore;
use crate::history::now;
use crate::{Result, StoreError};

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including managing tokens.
    Admin,
    /// Create, update and retire stations; save and delete scenarios.
    Planner,
    /// Report the occupancy of one station.
    Operator(String),
}

/// A role name that is not `admin`, `planner` or `operator:<station id>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected admin, planner or operator:<station id>)")]
pub struct UnknownRole(pub String);

/// The prefix of an operator's role, before the station id.
const OPERATOR: &str = "operator:";

impl Role {
    /// Whether this role may edit stations and scenarios.
    pub fn can_plan(&self) -> bool {
        matches!(self, Role::Admin | Role::Planner)
    }

    /// Whether this role may report the occupancy of `station`.
    pub fn can_report(&self, station: &str) -> bool {
        match self {
            Role::Admin | Role::Planner => true,
            Role::Operator(s) => s == station,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Admin => f.write_str("admin"),
            Role::Planner => f.write_str("planner"),
            Role::Operator(s) => write!(f, "{OPERATOR}{s}"),
        }
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    /// The inverse of `Display` (which spells every name once), blanks around the
    /// name and the station id ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        let role = match name.strip_prefix(OPERATOR) {
            Some(id) => {
                Some(Role::Operator(id.trim().to_string())).filter(|_| !id.trim().is_empty())
            }
            None => [Role::Admin, Role::Planner]
                .into_iter()
                .find(|r| r.to_string() == name),
        };
        role.ok_or_else(|| UnknownRole(s.to_string()))
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Id, for revoking.
    pub id: i64,
    /// Role.
    pub role: Role,
    /// Free label (who has it).
    pub label: Option<String>,
    /// When it was made.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// The SHA-256 of a secret in hex: what the store keeps of a token.
pub(crate) fn hash(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new secret: 32 random bytes from the operating system, as `yz_<64 hex digits>`.
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    StdRng::from_os_rng().fill_bytes(&mut bytes);
    format!(
        "yz_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A stored role name read back; one that does not parse is a corrupt row.
pub(crate) fn stored_role(id: i64, role: &str) -> Result<Role> {
    role.parse().map_err(|e: UnknownRole| StoreError::Corrupt {
        table: "yizhan_tokens",
        id: id.to_string(),
        reason: e.to_string(),
    })
}

impl GpkgStore {
    /// Make a token; returns its record and the secret, which is not stored.
    pub fn create_token(
        &mut self,
        role: &Role,
        label: Option<&str>,
    ) -> Result<(TokenInfo, String)> {
        let secret = new_secret();
        let at = now();
        self.conn.execute(
            "INSERT INTO yizhan_tokens (hash, role, label, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash(&secret), role.to_string(), label, at],
        )?;
        let info = TokenInfo {
            id: self.conn.last_insert_rowid(),
            role: role.clone(),
            label: label.map(str::to_string),
            created_at: at,
            revoked_at: None,
        };
        Ok((info, secret))
    }

    /// The role of a valid, unrevoked token.
    pub fn verify_token(&self, secret: &str) -> Result<Option<TokenInfo>> {
        self.conn
            .query_row(
                &format!("{TOKEN_SELECT} WHERE hash = ?1 AND revoked_at IS NULL"),
                [hash(secret)],
                token_row,
            )
            .optional()?
            .transpose()
    }

    /// Revoke a token by id.
    pub fn revoke_token(&mut self, id: i64) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE yizhan_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, now()],
        )?;
        if n == 0 {
            return Err(StoreError::UnknownToken(id));
        }
        Ok(())
    }

    /// Every token (without secrets).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>> {
        crate::rows::read_all(&self.conn, &format!("{TOKEN_SELECT} ORDER BY id"), |r| {
            token_row(r)?
        })
    }
}

const TOKEN_SELECT: &str = "SELECT id, role, label, created_at, revoked_at FROM yizhan_tokens";

/// A token row; the outer result is SQLite's, the inner one a role that does not parse.
fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<TokenInfo>> {
    let id: i64 = r.get(0)?;
    let role: String = r.get(1)?;
    let (label, created_at, revoked_at) = (r.get(2)?, r.get(3)?, r.get(4)?);
    Ok(stored_role(id, &role).map(|role| TokenInfo {
        id,
        role,
        label,
        created_at,
        revoked_at,
    }))
}
