//! Business keys an event or exception touches.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::named_enum;

named_enum! {
    /// The kinds of business key of the contract's `refs`.
    pub enum RefKind ("business key") {
        Po => "po",
        PoLine => "po_line",
        Asn => "asn",
        Receipt => "receipt",
        Order => "order",
        Shipment => "shipment",
        Tracking => "tracking",
        Invoice => "invoice",
        Item => "item",
        Supplier => "supplier",
        Carrier => "carrier",
        Customer => "customer",
    }
}

impl RefKind {
    /// A short label for people.
    pub const fn label(self) -> &'static str {
        match self {
            RefKind::Po => "PO",
            RefKind::PoLine => "PO line",
            RefKind::Asn => "ASN",
            RefKind::Receipt => "Receipt",
            RefKind::Order => "Order",
            RefKind::Shipment => "Shipment",
            RefKind::Tracking => "Tracking",
            RefKind::Invoice => "Invoice",
            RefKind::Item => "Item",
            RefKind::Supplier => "Supplier",
            RefKind::Carrier => "Carrier",
            RefKind::Customer => "Customer",
        }
    }
}

/// The business keys of one event or exception, one value per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BusinessRefs(BTreeMap<RefKind, String>);

impl BusinessRefs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the key of one kind; an empty value is ignored.
    pub fn insert(&mut self, kind: RefKind, value: impl Into<String>) {
        let value = value.into();
        if !value.trim().is_empty() {
            self.0.insert(kind, value);
        }
    }

    pub fn with(mut self, kind: RefKind, value: impl Into<String>) -> Self {
        self.insert(kind, value);
        self
    }

    pub fn get(&self, kind: RefKind) -> Option<&str> {
        self.0.get(&kind).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (RefKind, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl FromIterator<(RefKind, String)> for BusinessRefs {
    fn from_iter<I: IntoIterator<Item = (RefKind, String)>>(iter: I) -> Self {
        let mut refs = BusinessRefs::new();
        for (k, v) in iter {
            refs.insert(k, v);
        }
        refs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_serialize_as_the_contract_object() {
        let refs = BusinessRefs::new().with(RefKind::Po, "PO-10045").with(RefKind::Supplier, "SUP-017");
        let json = serde_json::to_string(&refs).unwrap();
        assert_eq!(json, r#"{"po":"PO-10045","supplier":"SUP-017"}"#);
        let back: BusinessRefs = serde_json::from_str(&json).unwrap();
        assert_eq!(back, refs);
    }

    #[test]
    fn an_unknown_ref_kind_is_refused() {
        assert!(serde_json::from_str::<BusinessRefs>(r#"{"pallet":"P1"}"#).is_err());
    }

    #[test]
    fn blank_keys_are_not_kept() {
        let refs = BusinessRefs::new().with(RefKind::Po, "  ");
        assert!(refs.is_empty());
    }
}
