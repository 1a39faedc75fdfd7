//! The custom search attributes of order workflows, named once. Every Temporal server the system
//! uses must have them registered (upserting an unregistered one makes the workflow task fail and
//! the workflow hang): `ticketing` registers them where they are missing, and `ticketing dev`
//! starts its dev server with them.

use std::collections::HashMap;

use temporalio_client::{
    Client,
    tonic::{self, Code},
};
use temporalio_common::{
    protos::temporal::api::{
        enums::v1::IndexedValueType,
        operatorservice::v1::{AddSearchAttributesRequest, ListSearchAttributesRequest},
    },
    search_attributes::{SearchAttributeKey, Timestamp},
};

/// The order's status (`reserving`, `created`, `awaiting:payment`, `cancelled`, `complete`,
/// `rejected`).
pub const ORDER_STATUS: SearchAttributeKey<String> = SearchAttributeKey::keyword("OrderStatus");
/// The ticket the order is for.
pub const TICKET_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("TicketId");
/// The buyer.
pub const BUYER_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("BuyerId");
/// How the order ended, once it has: `complete`, `expired`, `declined`, `cancelled` (by the
/// buyer), `operator_cancelled`, `rejected` (the reservation was refused).
pub const ORDER_OUTCOME: SearchAttributeKey<String> = SearchAttributeKey::keyword("OrderOutcome");
/// When the order expires unless paid (set once the ticket is reserved): `ExpiresAt <
/// '<now>' AND ExecutionStatus = 'Running'` lists the open orders past their expiry.
pub const EXPIRES_AT: SearchAttributeKey<Timestamp> = SearchAttributeKey::datetime("ExpiresAt");

/// Every custom search attribute: its name and its type.
pub fn all() -> [(&'static str, IndexedValueType); 5] {
    let keywords = [ORDER_STATUS, TICKET_ID, BUYER_ID, ORDER_OUTCOME]
        .map(|key| (key.name(), key.indexed_value_type()));
    let [status, ticket, buyer, outcome] = keywords;
    [
        status,
        ticket,
        buyer,
        outcome,
        (EXPIRES_AT.name(), EXPIRES_AT.indexed_value_type()),
    ]
}

/// The `--search-attribute` values of `temporal server start-dev` (`OrderStatus=Keyword`, ...).
pub fn dev_server_flags() -> Vec<String> {
    all()
        .into_iter()
        .map(|(name, kind)| {
            let kind = match kind {
                IndexedValueType::Keyword => "Keyword",
                IndexedValueType::Datetime => "Datetime",
                IndexedValueType::Int => "Int",
                IndexedValueType::Bool => "Bool",
                IndexedValueType::Double => "Double",
                IndexedValueType::KeywordList => "KeywordList",
                _ => "Text",
            };
            format!("{name}={kind}")
        })
        .collect()
}

/// Registers the search attributes where they are missing. Idempotent, so every start-up can
/// call it.
pub async fn ensure_registered(client: &Client) -> anyhow::Result<()> {
    let namespace = client.options().namespace.clone();
    let mut operator = client.connection().operator_service();
    // Servers that cannot list (the time-skipping test server) are asked to add all of them.
    let listed = match operator
        .list_search_attributes(tonic::Request::new(ListSearchAttributesRequest {
            namespace: namespace.clone(),
        }))
        .await
    {
        Ok(listed) => listed.into_inner().custom_attributes,
        Err(status) if status.code() == Code::Unimplemented => HashMap::new(),
        Err(status) => {
            return Err(anyhow::anyhow!(
                "cannot list Temporal search attributes: {}",
                status.message()
            ));
        }
    };
    let missing: HashMap<String, i32> = all()
        .into_iter()
        .filter(|(name, _)| !listed.contains_key(*name))
        .map(|(name, kind)| (name.to_owned(), kind as i32))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    tracing::info!(attributes = ?missing.keys().collect::<Vec<_>>(), "registering Temporal search attributes");
    match operator
        .add_search_attributes(tonic::Request::new(AddSearchAttributesRequest {
            search_attributes: missing,
            namespace,
        }))
        .await
    {
        Ok(_) => Ok(()),
        Err(status) if status.code() == Code::AlreadyExists => Ok(()),
        Err(status) => Err(anyhow::anyhow!(
            "cannot register the search attributes {:?}: {status}",
            all().map(|(name, _)| name)
        )),
    }
}
