//! The event parser: any bytes a sender posts, read as JSON, then as an
//! event of the contract.

#![no_main]

mod shared;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        shared::ingest(&value);
    }
});
