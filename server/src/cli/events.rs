//! `crossdock events send`: events sent as a registered source from the
//! server's shell, each answer printed in a line.

use anyhow::Context;

use super::explain;
use crate::auth::Operator;
use crate::services::ingest::{Grouping, Tried};
use crate::services::{EventResult, Services};

/// `events send`: reads the file, sends its events, prints each answer.
pub(super) async fn send(
    services: &Services,
    source: &str,
    file: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    // Read off the runtime's threads: standard input may be a slow pipe.
    let path = file.to_owned();
    let text = tokio::task::spawn_blocking(move || {
        if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).context("Failed to read standard input")
        } else {
            std::fs::read_to_string(&path).with_context(|| format!("Failed to read {}", path.display()))
        }
    })
    .await
    .context("The reading of the events failed")??;
    let values = match serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))? {
        serde_json::Value::Array(events) => events,
        event => vec![event],
    };
    let tried = services.send_as_source(&Operator::command_line(), source, &values, dry_run).await.map_err(explain)?;
    for t in &tried {
        println!("{}", describe(t));
    }
    let rejected = tried.iter().filter(|t| matches!(t.result, EventResult::Rejected { .. })).count();
    if dry_run {
        println!("dry run: nothing was stored");
    }
    anyhow::ensure!(rejected == 0, "{rejected} of {} event(s) rejected", tried.len());
    Ok(())
}

/// One event's answer in a line for the operator.
fn describe(Tried { result, forecast }: &Tried) -> String {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    match (result, forecast) {
        (EventResult::Accepted { id, .. }, Some(f)) => {
            let transaction = f.transaction.as_deref().map_or_else(
                || "in no transaction (it names no business key)".to_owned(),
                |t| format!("in transaction {t}"),
            );
            match &f.filing {
                Some(filing) => match filing.grouping {
                    Grouping::Joins(x) => format!(
                        "accepted {id}: would be another occurrence of exception {x} in {}, {transaction}",
                        filing.queue
                    ),
                    Grouping::JoinsEarlier => format!(
                        "accepted {id}: would be another occurrence of the exception an earlier event opens, {transaction}"
                    ),
                    Grouping::Opens => {
                        let rule = filing.rule.as_ref().map_or_else(
                            || "no rule, the fallback queue".to_owned(),
                            |(n, name)| format!("rule {n} {name}"),
                        );
                        format!(
                            "accepted {id}: would open an exception in {} at {} ({rule}), acknowledge by {}, \
                             resolve by {}, {transaction}",
                            filing.queue,
                            filing.severity.as_str(),
                            time(filing.acknowledge_due_at),
                            time(filing.resolve_due_at),
                        )
                    }
                },
                None => format!("accepted {id}: would be recorded {transaction}"),
            }
        }
        (EventResult::Accepted { id, exception: Some(x), opened: true }, None) => {
            format!("accepted {id}: opened exception {x}")
        }
        (EventResult::Accepted { id, exception: Some(x), .. }, None) => {
            format!("accepted {id}: another occurrence of exception {x}")
        }
        (EventResult::Accepted { id, .. }, None) => format!("accepted {id}: recorded"),
        (EventResult::Duplicate { id }, _) => format!("duplicate {id}: received before; nothing changed"),
        (EventResult::Rejected { id, problems, .. }, _) => {
            let why: Vec<String> = problems.iter().map(|p| format!("{} {}", p.pointer, p.message)).collect();
            format!("rejected {}: {}", id.as_deref().unwrap_or("(no id)"), why.join("; "))
        }
    }
}
