//! The audit trail: the auditor console's pages and exports, and the
//! checks of its hash chain.

use anyhow::Context;
use crossdock::audit::chain::{ChainHash, ChainWalk, KeptHead, SealedRecord};
use crossdock::audit::query::{
    AUDIT_PAGE, AuditFilter, AuditLine, AuditOrder, AuditPage, ChainState, ExportFormat, ExportRow, diff,
};
use crossdock::audit::{Actor, AuditAction, AuditEntry, Entity};

use super::{ServiceError, Services};
use crate::auth::{Admin, AuditReader};
use crate::store;
use crate::store::audit::ChainReport;

/// Records an export reads from the database at a time.
const EXPORT_CHUNK: u32 = 1000;

fn line(r: SealedRecord) -> AuditLine {
    let e = r.record.entry;
    AuditLine {
        seq: r.record.id,
        at: e.at,
        changes: diff(e.before.as_ref(), e.after.as_ref()),
        actor: e.actor,
        action: e.action,
        entity: e.entity,
        entity_id: e.entity_id,
        reason: e.reason,
        hash: r.hash,
    }
}

impl Services {
    /// One page of the records `filter` holds, after record `after` in the
    /// filter's order.
    pub async fn audit_page(
        &self,
        _reader: &AuditReader,
        filter: &AuditFilter,
        after: Option<i64>,
    ) -> Result<AuditPage, ServiceError> {
        let records = store::audit::console_page(&self.pool, filter, after, AUDIT_PAGE + 1).await?;
        let more = records.len() > AUDIT_PAGE as usize;
        let lines: Vec<AuditLine> = records.into_iter().take(AUDIT_PAGE as usize).map(line).collect();
        let next = if more { lines.last().map(|l| l.seq) } else { None };
        Ok(AuditPage { lines, next })
    }

    /// Seals the records written before the trail was a chain (once, at start).
    pub async fn seal_audit_trail(&self) -> anyhow::Result<u64> {
        let sealed = store::audit::seal_unsealed(&self.pool).await?;
        if sealed > 0 {
            tracing::info!(sealed, "sealed the audit records written before the chain");
        }
        Ok(sealed)
    }

    /// Walks the whole chain, against a head kept outside when given.
    pub async fn verify_audit_chain(&self, kept: Option<KeptHead>) -> anyhow::Result<ChainReport> {
        store::audit::verify(&self.pool, kept).await
    }

    /// The chain's head: its last record and that record's hash.
    pub async fn audit_head(&self) -> anyhow::Result<(i64, ChainHash)> {
        store::audit::head(&self.pool).await
    }

    /// Walks the chain and records how far it verified (the background
    /// check, or an admin's).
    pub async fn check_audit_chain(&self, requested_by: Option<&Admin>) -> anyhow::Result<ChainReport> {
        let started = self.now();
        let report = store::audit::verify(&self.pool, None).await?;
        let by = requested_by.map(|a| a.user().username.to_string());
        store::audit::record_check(&self.pool, &report, started, self.now(), by.as_deref()).await?;
        if let Some(broken) = &report.broken {
            tracing::error!(%broken, "the audit chain is broken");
        }
        Ok(report)
    }

    /// Where the chain stands, as the last check found it.
    pub async fn audit_chain_state(&self, _reader: &AuditReader) -> Result<ChainState, ServiceError> {
        Ok(self.chain_state().await?)
    }

    async fn chain_state(&self) -> anyhow::Result<ChainState> {
        let check = store::audit::last_check(&self.pool).await?;
        let (head_seq, _) = store::audit::head(&self.pool).await?;
        Ok(match check {
            None => ChainState { head_seq, ..ChainState::default() },
            Some(c) => ChainState {
                head_seq,
                checked_at: Some(store::from_millis(c.finished_at)?),
                checked: c.checked,
                verified_seq: c.verified_seq,
                verified_hash: c.verified_hash,
                broken: c.broken,
                requested_by: c.requested_by,
            },
        })
    }

    /// An admin's check of the chain, now.
    pub async fn check_audit_chain_now(&self, admin: &Admin) -> Result<ChainState, ServiceError> {
        self.check_audit_chain(Some(admin)).await?;
        Ok(self.chain_state().await?)
    }

    /// Starts an export of what `filter` holds: the records up to the head
    /// as it is now (the export's own record comes after), and the export is
    /// itself recorded (who, which filter, how many rows).
    pub async fn start_audit_export(
        &self,
        reader: &AuditReader,
        filter: &AuditFilter,
        format: ExportFormat,
    ) -> Result<AuditExport, ServiceError> {
        // An export reads as the chain runs, oldest first, so that it checks
        // link by link whatever order the page showed.
        let ordered = AuditFilter { order: AuditOrder::OldestFirst, ..filter.clone() };
        let mut tx = store::begin(&self.pool).await.context("Failed to begin an export")?;
        let (through, _) = store::audit::head(&mut *tx).await?;
        let rows = store::audit::count(&mut tx, filter, through).await?;
        let entry = AuditEntry::new(
            self.now(),
            Actor::User(reader.user().username.to_string()),
            AuditAction::AuditExported,
            Entity::Audit,
            through.to_string(),
        )
        .after(serde_json::json!({"filter": filter.to_query(), "format": format.as_str(), "rows": rows, "through": through}));
        store::audit::append(&mut tx, &[entry]).await?;
        tx.commit().await.context("Failed to commit an export's record")?;
        Ok(AuditExport { pool: self.pool.clone(), filter: ordered, through, rows })
    }
}

/// An export under way: pages through the records it covers.
pub struct AuditExport {
    pool: store::Pool,
    filter: AuditFilter,
    /// The last record it covers.
    pub through: i64,
    pub rows: i64,
}

impl AuditExport {
    /// The records after `after` (in the filter's order), a chunk at a time;
    /// empty at the end.
    pub async fn next_chunk(&self, after: Option<i64>) -> anyhow::Result<Vec<SealedRecord>> {
        store::audit::page(&self.pool, &self.filter, after, Some(self.through), EXPORT_CHUNK).await
    }
}

/// What checking an export file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub rows: u64,
    /// The first and last record numbers in the file.
    pub span: Option<(i64, i64)>,
    /// Whether the rows are every record from the first to the last.
    pub contiguous: bool,
    pub broken: Option<String>,
}

impl std::fmt::Display for FileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.broken, self.span) {
            (Some(broken), _) => write!(f, "the export does not check: {broken}"),
            (None, None) => f.write_str("the export holds no rows"),
            (None, Some((first, last))) if self.contiguous => write!(
                f,
                "{} rows, records {first} to {last}: every row matches its hash and follows the one before; \
                 the range is complete",
                self.rows
            ),
            (None, Some((first, last))) => write!(
                f,
                "{} rows between records {first} and {last} (a filtered export, with gaps): every row matches \
                 its hash, and each row whose number follows another's links to it",
                self.rows
            ),
        }
    }
}

/// Checks an export (JSON Lines, or CSV when `csv`) row by row, in the
/// order it was written, against a head kept outside when given.
pub fn verify_export(reader: impl std::io::BufRead, csv: bool, kept: Option<KeptHead>) -> anyhow::Result<FileReport> {
    let mut walk = ChainWalk::from_anywhere().holding(kept);
    let mut report = FileReport { rows: 0, span: None, contiguous: true, broken: None };
    let mut check = |sealed: Result<SealedRecord, String>, report: &mut FileReport| -> bool {
        let step = sealed.and_then(|r| {
            let seq = r.record.id;
            walk.step(&r).map_err(|b| b.to_string())?;
            Ok(seq)
        });
        match step {
            Ok(seq) => {
                report.rows += 1;
                report.span = Some(match report.span {
                    None => (seq, seq),
                    Some((first, last)) => {
                        report.contiguous &= seq == last + 1;
                        (first, seq)
                    }
                });
                true
            }
            Err(broken) => {
                report.broken = Some(broken);
                false
            }
        }
    };
    if csv {
        let mut rows = ::csv::Reader::from_reader(reader);
        for (n, row) in rows.records().enumerate() {
            let row = row.with_context(|| format!("row {} is not CSV", n + 2))?;
            if !check(csv_row(&row), &mut report) {
                break;
            }
        }
    } else {
        for (n, line) in reader.lines().enumerate() {
            let line = line.with_context(|| format!("line {} does not read", n + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let sealed = serde_json::from_str::<ExportRow>(&line)
                .map_err(|e| format!("line {}: {e}", n + 1))
                .and_then(SealedRecord::try_from);
            if !check(sealed, &mut report) {
                break;
            }
        }
    }
    Ok(report)
}

/// A CSV row back into a record: empty `before`, `after` and `reason` are null.
fn csv_row(row: &::csv::StringRecord) -> Result<SealedRecord, String> {
    let field = |i: usize| row.get(i).unwrap_or_default();
    let seq: i64 = field(0).parse().map_err(|_| format!("a row's seq does not read: {:?}", field(0)))?;
    let json = |i: usize| -> Result<Option<serde_json::Value>, String> {
        let text = field(i);
        if text.is_empty() {
            Ok(None)
        } else {
            serde_json::from_str(text).map(Some).map_err(|e| format!("row {seq}: {e}"))
        }
    };
    SealedRecord::try_from(ExportRow {
        seq,
        at: field(1).to_owned(),
        actor: field(2).to_owned(),
        action: field(3).to_owned(),
        entity: field(4).to_owned(),
        entity_id: field(5).to_owned(),
        before: json(6)?,
        after: json(7)?,
        reason: Some(field(8).to_owned()).filter(|r| !r.is_empty()),
        prev_hash: field(9).to_owned(),
        hash: field(10).to_owned(),
    })
}
