use chrono::{TimeZone, Utc};

use super::*;
use crate::audit::{Actor, AuditAction, AuditRecord, Entity};

fn entry(n: i64) -> AuditEntry {
    let at = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap() + chrono::Duration::milliseconds(n * 1500);
    AuditEntry::new(at, Actor::User("pat".into()), AuditAction::ExceptionClaimed, Entity::Exception, n.to_string())
        .after(serde_json::json!({"status": "acknowledged", "assignee": "pat", "queue": "receiving"}))
        .reason("mine")
}

fn chain(n: i64) -> Vec<SealedRecord> {
    let mut prev = ChainHash::GENESIS;
    (1..=n)
        .map(|seq| {
            let r = SealedRecord::new(seq, entry(seq), prev);
            prev = r.hash;
            r
        })
        .collect()
}

fn walk(records: &[SealedRecord]) -> Result<(), ChainBreak> {
    let mut w = ChainWalk::from_start();
    records.iter().try_for_each(|r| w.step(r))
}

#[test]
fn the_canonical_form_is_the_documented_one() {
    let e = entry(1);
    let text = String::from_utf8(canonical(1, &e, ChainHash::GENESIS)).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"action":"exception.claimed","actor":"user:pat","after":{{"assignee":"pat","queue":"receiving","status":"acknowledged"}},"at":{},"before":null,"entity":"exception","entity_id":"1","prev":"{}","reason":"mine","seq":1}}"#,
            e.at.timestamp_millis(),
            "0".repeat(64)
        )
    );
    // The same record always seals to the same hash, and the hash reads back.
    let hash = seal(1, &e, ChainHash::GENESIS);
    assert_eq!(hash, seal(1, &e, ChainHash::GENESIS));
    assert_eq!(hash.to_string().parse::<ChainHash>(), Ok(hash));
    assert_eq!("xyz".parse::<ChainHash>(), Err(NotAHash));
}

/// The canonical form as the whole object canonicalised at once.
fn canonical_of_the_whole(seq: i64, entry: &AuditEntry, prev: ChainHash) -> Vec<u8> {
    let form = serde_json::json!({
        "seq": seq, "at": entry.at.timestamp_millis(), "actor": entry.actor.to_string(),
        "action": entry.action.as_str(), "entity": entry.entity.as_str(), "entity_id": entry.entity_id,
        "before": entry.before, "after": entry.after, "reason": entry.reason, "prev": prev.to_string(),
    });
    serde_json_canonicalizer::to_vec(&form).unwrap()
}

#[test]
fn the_canonical_form_written_key_by_key_is_the_whole_object_canonicalised() {
    let odd = [
        "",
        "plain",
        "quote \" and \\ back",
        "tab\tnew\nline\r\u{8}\u{c}",
        "\u{1}\u{1f}\u{7f}",
        "é ü ß 中文",
        "😀 \u{2028}\u{2029}",
        "</script>",
    ];
    for (i, text) in odd.iter().enumerate() {
        let e = AuditEntry::new(entry(1).at, Actor::Source((*text).into()), AuditAction::MessageCorrected, Entity::Exception, *text)
            .before(serde_json::json!({"b": [1, 2.5, -0.0, 1e21, 3.0], (*text): text, "a": null, "😀": {"z": true, "é": false}}))
            .after(serde_json::json!(text))
            .reason(*text);
        let prev = seal(i as i64, &entry(1), ChainHash::GENESIS);
        assert_eq!(canonical(7, &e, prev), canonical_of_the_whole(7, &e, prev), "{text:?}");
        let bare = AuditEntry::new(e.at, e.actor.clone(), e.action, e.entity, "9");
        assert_eq!(canonical(i as i64, &bare, prev), canonical_of_the_whole(i as i64, &bare, prev));
    }
}

#[test]
fn an_untouched_chain_walks_to_its_head() {
    let records = chain(5);
    let mut w = ChainWalk::from_start().holding(Some(KeptHead { seq: 3, hash: records[2].hash }));
    for r in &records {
        w.step(r).unwrap();
    }
    w.finish().unwrap();
    assert_eq!(w.checked(), 5);
    assert_eq!(w.head(), Some((5, records[4].hash)));
}

#[test]
fn each_kind_of_tampering_is_named_at_the_record_where_it_happened() {
    let mut edited = chain(5);
    edited[2].record.entry.reason = Some("not mine".into());
    assert_eq!(walk(&edited), Err(ChainBreak::Edited(3)));

    let mut deleted = chain(5);
    deleted.remove(2);
    assert_eq!(walk(&deleted), Err(ChainBreak::Missing { first: 3, last: 3 }));

    // A record written in by hand, sealed properly and numbered into place.
    let mut inserted = chain(5);
    inserted[2] = SealedRecord::new(3, entry(99), inserted[1].hash);
    assert_eq!(walk(&inserted), Err(ChainBreak::Unlinked(4)));

    // Two records' contents swapped between their numbers.
    let mut reordered = chain(5);
    let second = reordered[1].clone();
    reordered[1] =
        SealedRecord { record: AuditRecord { id: 2, ..reordered[2].record.clone() }, ..reordered[2].clone() };
    reordered[2] = SealedRecord { record: AuditRecord { id: 3, ..second.record }, ..second };
    assert_eq!(walk(&reordered), Err(ChainBreak::Edited(2)));

    let truncated = chain(5)[2..].to_vec();
    assert_eq!(walk(&truncated), Err(ChainBreak::Truncated(3)));

    // Records deleted from the end show only against a head kept outside.
    let records = chain(5);
    let mut w = ChainWalk::from_start().holding(Some(KeptHead { seq: 5, hash: records[4].hash }));
    records[..4].iter().for_each(|r| w.step(r).unwrap());
    assert_eq!(w.finish(), Err(ChainBreak::HeadMissing { last: 4, head: 5 }));
    let mut w = ChainWalk::from_start().holding(Some(KeptHead { seq: 2, hash: ChainHash::GENESIS }));
    assert_eq!(
        records.iter().try_for_each(|r| w.step(r)),
        Err(ChainBreak::HeadMismatch { seq: 2, expected: ChainHash::GENESIS })
    );
}

#[test]
fn an_export_of_a_filtered_range_checks_each_record_and_each_link_it_holds() {
    let records = chain(8);
    let picked: Vec<_> = [2, 3, 6].iter().map(|i| records[*i].clone()).collect();
    let mut w = ChainWalk::from_anywhere();
    picked.iter().try_for_each(|r| w.step(r)).unwrap();
    let mut changed = picked.clone();
    changed[2].record.entry.actor = Actor::User("sam".into());
    let mut w = ChainWalk::from_anywhere();
    assert_eq!(changed.iter().try_for_each(|r| w.step(r)), Err(ChainBreak::Edited(7)));
    let mut relinked = picked.clone();
    relinked[1] = SealedRecord::new(4, entry(4), ChainHash::GENESIS);
    let mut w = ChainWalk::from_anywhere();
    assert_eq!(relinked.iter().try_for_each(|r| w.step(r)), Err(ChainBreak::Unlinked(4)));
}

#[test]
fn a_kept_head_reads_as_written() {
    let head = KeptHead { seq: 41, hash: chain(1)[0].hash };
    assert_eq!(head.to_string().parse::<KeptHead>(), Ok(head));
    assert!("41".parse::<KeptHead>().is_err());
}
