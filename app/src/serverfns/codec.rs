//! The encoding of every server function's answer: JSON, read as text.
//!
//! The browser reads the data a page was rendered with (hydration) as text.
//! Reading answers the same way, rather than as bytes, lets both share one
//! copy of each type's JSON reader in the browser bundle, not two.

use leptos::server_fn::Bytes;
use leptos::server_fn::codec::Post;
use leptos::server_fn::{ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON, decoded from text.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|_| serde::de::Error::custom("the answer is not UTF-8"))?;
        serde_json::from_str(text)
    }
}

/// The answer of a server function: a `POST`, answered in JSON.
pub type Answer = Post<JsonText>;
