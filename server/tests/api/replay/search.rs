//! A corrected message is found by its new words, and no longer by the
//! words the correction took out.

use super::{Target, configure, file, ok, replay, replay_app};
use crate::views::all_pages;

#[tokio::test]
async fn word_search_follows_a_correction() {
    let (app, key) = replay_app().await;
    let target = Target::start(&[]).await;
    configure(&app, &target, 5, false).await;
    let id = file(&app, &key, "f-words", "SHP-7710").await;
    let sam = app.signed_in("sam").await;
    assert_eq!(all_pages(&sam, "q=SHP-7710+12").await, [id], "the payload as it came");
    assert_eq!(all_pages(&sam, "q=CARTON-55").await, Vec::<i64>::new());

    ok(replay(&sam, id, Some("{\"shipment\": \"SHP-7710\", \"weight_kg\": 14, \"carton\": \"CARTON-5581\"}")).await)
        .await;
    assert_eq!(all_pages(&sam, "q=CARTON-55").await, [id], "the payload as corrected");
    assert_eq!(all_pages(&sam, "q=SHP-7710+12").await, Vec::<i64>::new(), "the old weight is gone");
}
