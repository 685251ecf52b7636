//! Business transactions end to end.

use leptos::prelude::*;

use crate::serverfns::codec::Answer;
use leptos::server_fn::codec::Json;

use crate::AppError;
use crate::dto::{LineageView, RawEventView, TransactionQuery, TransactionSummary};

#[server(prefix = "/console", endpoint = "transaction", output = Answer)]
pub async fn transaction(id: i64) -> Result<LineageView, AppError> {
    crate::ports::console()?.transaction(id).await
}

#[server(prefix = "/console", endpoint = "transactions", input = Json, output = Answer)]
pub async fn transactions(query: TransactionQuery) -> Result<Vec<TransactionSummary>, AppError> {
    crate::ports::console()?.transactions(query).await
}

/// The transaction a typed key (a PO, ASN, order, shipment number...) names.
#[server(prefix = "/console", endpoint = "find_transaction", output = Answer)]
pub async fn find_transaction(typed: String) -> Result<Option<i64>, AppError> {
    crate::ports::console()?.find_transaction(typed).await
}

#[server(prefix = "/console", endpoint = "milestone_event", output = Answer)]
pub async fn milestone_event(transaction: i64, event: i64) -> Result<RawEventView, AppError> {
    crate::ports::console()?.milestone_event(transaction, event).await
}
