//! Crossdock core: the rules of the exception-management console, pure.
//!
//! No IO lives here (no tokio, sqlx, axum or leptos): the crate builds for the
//! browser (`wasm32-unknown-unknown`) and the server alike, so both share the
//! same types and rules.

pub mod accounts;
pub mod audit;
pub mod board;
pub mod calendar;
pub mod channel;
pub mod config;
pub mod escalation;
pub mod event;
pub mod exception;
pub mod grouping;
pub mod kpi;
pub mod lifecycle;
pub mod lineage;
pub mod queue;
pub mod refs;
pub mod replay;
pub mod retry;
pub mod routing;
pub mod search;
pub mod severity;
pub mod sla;
pub mod source;
pub mod summary;
pub mod text;
pub mod triage;
pub mod wire;

pub use exception::{ExceptionId, ExceptionKind, ExceptionListItem};
pub use lifecycle::Status;
pub use refs::{BusinessRefs, RefKind};
pub use severity::Severity;

/// One problem with a value from outside, at the JSON pointer of the field
/// concerned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldProblem {
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() { "the event" } else { &self.pointer };
        write!(f, "{at}: {}", self.message)
    }
}

/// The error returned when a wire or database name does not name a variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
}

/// An enum whose variants have stable names.
pub trait Named: std::str::FromStr + Copy + 'static {
    /// The names of all variants, in declaration order.
    const NAMES: &'static [&'static str];
}

/// Declares a fieldless enum whose variants have one stable name each: the
/// name used on the wire, in the database and in URLs.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name of this variant.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl $crate::Named for $name {
            const NAMES: &'static [&'static str] = &[$($text),+];
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::UnknownName { what: $what, value: s.to_owned() }),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use named_enum;
