//! The audit trail as a hash chain: each record is sealed with the SHA-256
//! of its canonical form, which includes the hash of the record before it,
//! so that editing, deleting, inserting or reordering records directly in
//! the database breaks the chain where it happened.
//!
//! The canonical form of record `seq` is the RFC 8785 (JSON Canonicalization
//! Scheme) serialisation of the object
//! `{"seq", "at", "actor", "action", "entity", "entity_id", "before",
//! "after", "reason", "prev"}`: `at` in milliseconds since the Unix epoch
//! (UTC), `actor`, `action` and `entity` as the trail names them, `before`
//! and `after` the JSON values or `null`, `reason` a string or `null`,
//! `prev` the hex hash of record `seq - 1` (sixty-four zeros for the first).
//! The hash is the lower-case hex SHA-256 of those UTF-8 bytes.

use sha2::{Digest, Sha256};

use super::{AuditEntry, AuditRecord};

/// A SHA-256 hash, shown and stored as 64 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChainHash([u8; 32]);

impl ChainHash {
    /// What the first record follows.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);
}

impl std::fmt::Display for ChainHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Text that is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a hash is 64 hex digits")]
pub struct NotAHash;

impl std::str::FromStr for ChainHash {
    type Err = NotAHash;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NotAHash);
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| NotAHash)?;
        }
        Ok(ChainHash(out))
    }
}

impl serde::Serialize for ChainHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ChainHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The canonical bytes of record `seq` following `prev`: the object's keys
/// written in their RFC 8785 order (by UTF-16 code units: action, actor,
/// after, at, before, entity, entity_id, prev, reason, seq) with the values
/// canonicalised in place, the same bytes as canonicalising the whole object
/// but without building and sorting it for every record a walk checks.
pub fn canonical(seq: i64, entry: &AuditEntry, prev: ChainHash) -> Vec<u8> {
    let before = entry.before.as_ref().map(canonical_json);
    let after = entry.after.as_ref().map(canonical_json);
    canonical_parts(&Parts {
        seq,
        at: entry.at.timestamp_millis(),
        actor: &entry.actor.to_string(),
        action: entry.action.as_str(),
        entity: entry.entity.as_str(),
        entity_id: &entry.entity_id,
        before: before.as_deref(),
        after: after.as_deref(),
        reason: entry.reason.as_deref(),
        prev,
    })
}

/// A JSON value in its canonical form (RFC 8785), as the trail stores it.
pub fn canonical_json(v: &serde_json::Value) -> String {
    // Canonicalising a JSON value does not fail: every value has a form.
    serde_json_canonicalizer::to_string(v).unwrap_or_default()
}

/// A record as stored: its fields as text, `before` and `after` already
/// in canonical JSON.
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    pub seq: i64,
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub prev: ChainHash,
}

/// The canonical bytes of a record from its stored text; the same as
/// [`canonical`] of the record it reads as, when its values were stored in
/// canonical JSON (as the trail writes them).
pub fn canonical_parts(p: &Parts<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(384);
    out.extend_from_slice(b"{\"action\":");
    text(&mut out, p.action);
    out.extend_from_slice(b",\"actor\":");
    text(&mut out, p.actor);
    out.extend_from_slice(b",\"after\":");
    out.extend_from_slice(p.after.unwrap_or("null").as_bytes());
    out.extend_from_slice(format!(",\"at\":{},\"before\":", p.at).as_bytes());
    out.extend_from_slice(p.before.unwrap_or("null").as_bytes());
    out.extend_from_slice(b",\"entity\":");
    text(&mut out, p.entity);
    out.extend_from_slice(b",\"entity_id\":");
    text(&mut out, p.entity_id);
    out.extend_from_slice(format!(",\"prev\":\"{}\",\"reason\":", p.prev).as_bytes());
    match p.reason {
        Some(reason) => text(&mut out, reason),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(format!(",\"seq\":{}}}", p.seq).as_bytes());
    out
}

/// The hash that seals a record, from its stored text.
pub fn seal_parts(p: &Parts<'_>) -> ChainHash {
    ChainHash(Sha256::digest(canonical_parts(p)).into())
}

/// A string as RFC 8785 writes it (the escapes of ECMAScript's
/// `JSON.stringify`, which are serde_json's).
fn text(out: &mut Vec<u8>, s: &str) {
    // Writing a string into memory does not fail.
    serde_json::to_writer(&mut *out, s).unwrap_or_default();
}

/// The hash that seals record `seq` following `prev`.
pub fn seal(seq: i64, entry: &AuditEntry, prev: ChainHash) -> ChainHash {
    ChainHash(Sha256::digest(canonical(seq, entry, prev)).into())
}

/// A record's place in the chain: its number, the hash before it and its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub seq: i64,
    pub prev: ChainHash,
    pub hash: ChainHash,
}

/// A record with its seal, as stored and exported.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SealedRecord {
    pub record: AuditRecord,
    pub prev: ChainHash,
    pub hash: ChainHash,
}

impl SealedRecord {
    /// Seals `entry` as record `seq` after `prev`.
    pub fn new(seq: i64, entry: AuditEntry, prev: ChainHash) -> Self {
        let hash = seal(seq, &entry, prev);
        SealedRecord { record: AuditRecord { id: seq, entry }, prev, hash }
    }

    /// Whether the record still matches its seal.
    pub fn intact(&self) -> bool {
        seal(self.record.id, &self.record.entry, self.prev) == self.hash
    }
}

/// Where a chain stops being what was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("record {0} was changed after it was written (it no longer matches its hash)")]
    Edited(i64),
    #[error("records {first} to {last} are missing (deleted)")]
    Missing { first: i64, last: i64 },
    #[error("record {0} does not follow the record before it (a record was inserted, replaced or reordered)")]
    Unlinked(i64),
    #[error("the chain's first record is {0}, not 1 (records at its start were deleted)")]
    Truncated(i64),
    #[error("record {seq} does not carry the head kept outside ({expected})")]
    HeadMismatch { seq: i64, expected: ChainHash },
    #[error(
        "the chain ends at record {last}, before the head kept outside (record {head}): records at its end were deleted"
    )]
    HeadMissing { last: i64, head: i64 },
}

/// Walks a chain record by record, in order, and names the first break.
#[derive(Debug, Clone, Default)]
pub struct ChainWalk {
    last: Option<(i64, ChainHash)>,
    checked: u64,
    /// Whether the walk starts mid-chain (an export of a range), so that
    /// the first record's link is taken on trust.
    from_anywhere: bool,
    /// A head kept outside, which the chain must still hold.
    head: Option<KeptHead>,
}

impl ChainWalk {
    /// A walk from the chain's first record.
    pub fn from_start() -> Self {
        Self::default()
    }

    /// A walk over records from anywhere in the chain (an export): each
    /// record must match its seal, and each must follow the one before
    /// when their numbers follow; gaps are allowed (a filtered export).
    pub fn from_anywhere() -> Self {
        Self { from_anywhere: true, ..Self::default() }
    }

    /// Also checks that the chain still holds `head`, kept outside.
    pub fn holding(mut self, head: Option<KeptHead>) -> Self {
        self.head = head;
        self
    }

    /// Checks the next record.
    pub fn step(&mut self, r: &SealedRecord) -> Result<(), ChainBreak> {
        self.step_sealed(r, r.intact())
    }

    /// Checks the next record, whose seal was checked already (`intact`):
    /// seals can be computed in parallel, links only in order.
    pub fn step_sealed(&mut self, r: &SealedRecord, intact: bool) -> Result<(), ChainBreak> {
        self.step_link(Link { seq: r.record.id, prev: r.prev, hash: r.hash }, intact)
    }

    /// Checks the next record by its number and hashes alone, its seal
    /// checked already (`intact`).
    pub fn step_link(&mut self, r: Link, intact: bool) -> Result<(), ChainBreak> {
        let seq = r.seq;
        if !intact {
            return Err(ChainBreak::Edited(seq));
        }
        if let Some(head) = self.head.filter(|h| h.seq == seq && h.hash != r.hash) {
            return Err(ChainBreak::HeadMismatch { seq, expected: head.hash });
        }
        match self.last {
            None if !self.from_anywhere && seq != 1 => return Err(ChainBreak::Truncated(seq)),
            None if !self.from_anywhere && r.prev != ChainHash::GENESIS => return Err(ChainBreak::Unlinked(seq)),
            None => {}
            Some((last, _)) if seq <= last => return Err(ChainBreak::Unlinked(seq)),
            Some((last, _)) if seq > last + 1 && !self.from_anywhere => {
                return Err(ChainBreak::Missing { first: last + 1, last: seq - 1 });
            }
            Some((last, hash)) if seq == last + 1 && r.prev != hash => return Err(ChainBreak::Unlinked(seq)),
            Some(_) => {}
        }
        self.last = Some((seq, r.hash));
        self.checked += 1;
        Ok(())
    }

    /// Ends the walk: the chain must have reached the head kept outside.
    pub fn finish(&self) -> Result<(), ChainBreak> {
        match (self.head, self.last) {
            (Some(head), Some((last, _))) if head.seq > last => Err(ChainBreak::HeadMissing { last, head: head.seq }),
            (Some(head), None) => Err(ChainBreak::HeadMissing { last: 0, head: head.seq }),
            _ => Ok(()),
        }
    }

    /// How many records were checked.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The last record checked, and its hash.
    pub fn head(&self) -> Option<(i64, ChainHash)> {
        self.last
    }
}

/// A head kept outside the database: `<seq>:<hash>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptHead {
    pub seq: i64,
    pub hash: ChainHash,
}

impl std::fmt::Display for KeptHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for KeptHead {
    type Err = NotAHash;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (seq, hash) = s.trim().split_once(':').ok_or(NotAHash)?;
        let seq = seq.parse().map_err(|_| NotAHash)?;
        Ok(KeptHead { seq, hash: hash.parse()? })
    }
}

#[cfg(test)]
mod tests;
