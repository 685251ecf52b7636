//! The reader's days and timestamps, held to the shape the schemas publish.

use super::*;

#[test]
fn a_timestamp_is_read_in_the_one_shape_the_schemas_publish() {
    for good in [
        "2026-11-24T15:42:10Z",
        "2026-11-24t15:42:10z",
        "2026-11-24 15:42:10+01:00",
        "2026-11-24T15:42:10.123456789-05:30",
        "2026-11-24T15:42:10.1234567890123Z",
        "2026-11-24T15:42:60Z",
        "2026-11-24T15:42:10\u{2212}05:00",
        "2024-02-29T00:00:00Z",
    ] {
        assert!(timestamp(good).is_ok(), "{good}");
    }
    for bad in [
        "2026-11-24T15:42:61Z",
        "2026-11-24T15:42:10.Z",
        "2026-11-24T15:42:10.",
        "2026-11-24T15:42:10+01:0",
        "2026-11-24T15:42:10\u{2212}",
        "2026-11-24T15:42:10\u{2013}05:00",
        "２026-11-24T15:42:10Z",
        "2026-11-24T15:42:10Zé",
        "2026-11-24T15:42:10",
        " 2026-11-24T15:42:10Z",
        "+2026-11-24T15:42:10Z",
        "2026-11-24T15:42:10Z\n",
        "2026-11-24T15:42:10+24:00",
        "2026-11-24T15:42:10+0100",
        "2026-02-30T15:42:10Z",
        "2025-02-29T00:00:00Z",
        "2026-11-24T5:42:10Z",
    ] {
        assert!(timestamp(bad).is_err(), "{bad:?}");
    }
}

proptest::proptest! {
    /// The published shape is what chrono reads as RFC 3339, and any
    /// text is answered without a panic.
    #[test]
    fn a_timestamp_is_read_as_chrono_reads_rfc_3339(
        s in "(19|20|21)[0-9]{2}-[01][0-9]-[0-3][0-9][Tt x][0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{0,12})?(Z|z|[+\\-\u{2212}\u{2013}][0-2][0-9]:?[0-6][0-9])?\\PC{0,2}"
    ) {
        proptest::prop_assert_eq!(timestamp(&s).is_ok(), DateTime::parse_from_rfc3339(&s).is_ok(), "{:?}", s);
    }

    #[test]
    fn any_text_is_answered_without_a_panic(s in "\\PC{0,40}") {
        let _ = (timestamp(&s), day(&s));
    }
}

#[test]
fn a_day_is_read_as_yyyy_mm_dd_only() {
    assert!(day("2026-12-09").is_some());
    assert!(day("2024-02-29").is_some());
    for bad in ["2026-12-9", "+2026-12-09", " 2026-12-09", "2026-12-09 ", "2026-02-30", "2026-13-01", "2026/12/09"] {
        assert!(day(bad).is_none(), "{bad:?}");
    }
}
