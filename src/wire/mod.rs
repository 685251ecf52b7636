//! Reading what arrives on the wire before it is an event: the `ce-*`
//! headers of binary mode and the Standard Webhooks signature headers. Pure
//! and total (no input makes them panic), so they are fuzzed on their own.

pub mod binary;
pub mod webhook;
