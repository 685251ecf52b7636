//! Sources: register, change prefixes and allowance, rotate and revoke keys,
//! add signing secrets. A key or secret is shown once, right after it is made.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::forms::{ConfirmButton, FieldMessage, FormError, last_error};
use crate::components::loaded::Loaded;
use crate::components::time::LocalTime;
use crate::dto::{DeadLetterEntry, SourceEntry};
use crate::serverfns::sources::{
    AddSigningSecret, CreateSource, RevokeSourceKeys, RotateSourceKey, UpdateSource, list_sources, source_dead_letters,
};

#[component]
pub fn SourcesPage() -> impl IntoView {
    let create = ServerAction::<CreateSource>::new();
    let update = ServerAction::<UpdateSource>::new();
    let rotate = ServerAction::<RotateSourceKey>::new();
    let revoke = ServerAction::<RevokeSourceKeys>::new();
    let sign = ServerAction::<AddSigningSecret>::new();
    // Read again after a change that took: a refused one leaves the form
    // open with its message.
    let saved = Memo::new(move |last: Option<&usize>| {
        let version = update.version().get();
        if update.value().with(|v| matches!(v, Some(Ok(())))) { version } else { last.copied().unwrap_or(0) }
    });
    let sources = Resource::new(
        move || (create.version().get(), saved.get(), sign.version().get(), revoke.version().get()),
        |_| list_sources(),
    );
    // The newest key or secret, to copy now: it is not shown again.
    let shown_once = move || {
        let pick =
            |v: Option<Result<String, crate::AppError>>, what: &'static str| v.and_then(Result::ok).map(|s| (what, s));
        pick(rotate.value().get(), "New API key").or_else(|| pick(sign.value().get(), "New signing secret"))
    };
    view! {
        <section class="page">
            <h1>"Sources"</h1>
            {move || {
                shown_once()
                    .map(|(what, secret)| {
                        view! {
                            <div class="notice" role="status">
                                <p>{what} " (copy it now; it is not shown again):"</p>
                                <code class="secret">{secret}</code>
                            </div>
                        }
                    })
            }}
            <FormError error=last_error(rotate.value()) />
            <FormError error=last_error(revoke.value()) />
            <FormError error=last_error(sign.value()) />
            <FormError error=last_error(update.value()) />
            <Loaded resource=sources what="sources" show=move |list| {
                                view! {
                                    <table class="grid" aria-label="Sources">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Source prefixes"</th>
                                                <th scope="col">"Events/s"</th>
                                                <th scope="col">"Burst"</th>
                                                <th scope="col">"Signed"</th>
                                                <th scope="col">"NATS subject"</th>
                                                <th scope="col">"Actions"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|source| view! { <SourceRow source update rotate revoke sign /> })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                }
                                    .into_any()
                            } />
            <CreateSourceForm create />
            <h2>"Messages on subjects no source takes"</h2>
            <DeadLetters source=None />
        </section>
    }
}

#[component]
fn SourceRow(
    source: SourceEntry,
    update: ServerAction<UpdateSource>,
    rotate: ServerAction<RotateSourceKey>,
    revoke: ServerAction<RevokeSourceKeys>,
    sign: ServerAction<AddSigningSecret>,
) -> impl IntoView {
    let name = StoredValue::new(source.name.clone());
    let editing = RwSignal::new(false);
    let prefixes = RwSignal::new(source.prefixes.join(" "));
    let rate = RwSignal::new(source.rate_per_sec.to_string());
    let burst = RwSignal::new(source.burst.to_string());
    let subject = RwSignal::new(source.nats_subject.clone().unwrap_or_default());
    let grace = RwSignal::new("24".to_owned());
    let error = last_error(update.value());
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        update.dispatch(UpdateSource {
            name: name.get_value(),
            prefixes: prefixes.get(),
            rate_per_sec: rate.get().trim().parse().unwrap_or(-1.0),
            burst: burst.get().trim().parse().unwrap_or(0),
            nats_subject: subject.get(),
        });
    };
    let n = source.name.clone();
    let set_aside = source.dead_letters;
    // A test event is written as a system under the source's first prefix.
    let prefix = source.prefixes.first().cloned().unwrap_or_else(|| source.name.clone());
    view! {
        <tr>
            <td>{source.name.clone()}</td>
            <td><code>{source.prefixes.join(" ")}</code></td>
            <td>{source.rate_per_sec}</td>
            <td>{source.burst}</td>
            <td>{if source.signed { "yes" } else { "no" }}</td>
            <td>
                {source.nats_subject.clone().map(|s| view! { <code>{s}</code> })}
                {(set_aside > 0).then(|| view! { <span class="badge danger">{format!("{set_aside} set aside")}</span> })}
            </td>
            <td class="actions">
                <button type="button" on:click=move |_| editing.update(|e| *e = !*e)>{format!("Manage {n}")}</button>
            </td>
        </tr>
        <Show when=move || editing.get()>
            <tr class="editor">
                <td colspan="7">
                    <form class="form inline" on:submit=save>
                        <div class="field">
                            <label for=format!("prefix-{}", name.get_value())>"Source prefixes (space-separated)"</label>
                            <input id=format!("prefix-{}", name.get_value()) prop:value=prefixes on:input=move |ev| prefixes.set(event_target_value(&ev)) />
                            <FieldMessage error field="prefixes" id="edit-prefix-error" />
                        </div>
                        <div class="field">
                            <label for=format!("rate-{}", name.get_value())>"Events a second"</label>
                            <input id=format!("rate-{}", name.get_value()) inputmode="decimal" prop:value=rate on:input=move |ev| rate.set(event_target_value(&ev)) />
                            <FieldMessage error field="rate_per_sec" id="edit-rate-error" />
                        </div>
                        <div class="field">
                            <label for=format!("burst-{}", name.get_value())>"Burst"</label>
                            <input id=format!("burst-{}", name.get_value()) inputmode="numeric" prop:value=burst on:input=move |ev| burst.set(event_target_value(&ev)) />
                            <FieldMessage error field="burst" id="edit-burst-error" />
                        </div>
                        <div class="field">
                            <label for=format!("subject-{}", name.get_value())>"NATS subject (empty: not on NATS)"</label>
                            <input id=format!("subject-{}", name.get_value()) placeholder="crossdock.events.wms.>" prop:value=subject on:input=move |ev| subject.set(event_target_value(&ev)) />
                            <FieldMessage error field="nats_subject" id="edit-subject-error" />
                        </div>
                        <button type="submit">"Save"</button>
                    </form>
                    <div class="form inline">
                        <div class="field">
                            <label for=format!("grace-{}", name.get_value())>"Old keys stay valid (hours)"</label>
                            <input id=format!("grace-{}", name.get_value()) inputmode="numeric" prop:value=grace on:input=move |ev| grace.set(event_target_value(&ev)) />
                        </div>
                        <button
                            type="button"
                            on:click=move |_| {
                                rotate.dispatch(RotateSourceKey { name: name.get_value(), grace_hours: grace.get().trim().parse().unwrap_or(24) });
                            }
                        >
                            "Rotate key"
                        </button>
                        <ConfirmButton
                            label="Revoke all keys"
                            question=format!("Revoke every key of {}? Its requests are refused at once.", name.get_value())
                            yes="Yes, revoke them"
                            on_yes=Callback::new(move |()| { revoke.dispatch(RevokeSourceKeys { name: name.get_value() }); })
                        />
                        <button type="button" on:click=move |_| { sign.dispatch(AddSigningSecret { name: name.get_value(), replace: false, retire_after_hours: None }); }>
                            "Add signing secret"
                        </button>
                        <button type="button" on:click=move |_| { sign.dispatch(AddSigningSecret { name: name.get_value(), replace: false, retire_after_hours: Some(24) }); }>
                            "Rotate signing secret (the old ones work 24 h more)"
                        </button>
                        <button type="button" on:click=move |_| { sign.dispatch(AddSigningSecret { name: name.get_value(), replace: true, retire_after_hours: None }); }>
                            "Replace signing secrets"
                        </button>
                    </div>
                    <super::test_event::TestEvent source=name.get_value() prefix=prefix.clone() />
                    <DeadLetters source=Some(name.get_value()) />
                </td>
            </tr>
        </Show>
    }
}

/// A source's messages from NATS that were set aside, newest first; with no
/// source, those on subjects no source takes.
#[component]
fn DeadLetters(source: Option<String>) -> impl IntoView {
    let label = if source.is_some() { "Messages set aside" } else { "Messages no source takes" };
    let letters = Resource::new(move || source.clone(), source_dead_letters);
    let show = move |list: Vec<DeadLetterEntry>| {
        if list.is_empty() {
            return view! { <p class="muted">"No message from NATS was set aside."</p> }.into_any();
        }
        let rows = list
            .into_iter()
            .map(|l| {
                view! {
                    <tr>
                        <td><LocalTime at=l.at /></td>
                        <td><code>{l.subject}</code></td>
                        <td>{l.stream_seq}</td>
                        <td>{l.reason}</td>
                        <td><code class="body">{l.body}</code></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="grid" aria-label=label>
                <caption>"Messages from NATS set aside (newest first): never accepted, published on the dead-letter subject"</caption>
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Stream sequence"</th>
                        <th scope="col">"Why"</th>
                        <th scope="col">"Body"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
            .into_any()
    };
    view! { <Loaded resource=letters what="messages set aside" show /> }
}

#[component]
fn CreateSourceForm(create: ServerAction<CreateSource>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let prefixes = RwSignal::new(String::new());
    let rate = RwSignal::new("100".to_owned());
    let burst = RwSignal::new("1000".to_owned());
    let subject = RwSignal::new(String::new());
    let error = last_error(create.value());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateSource {
            name: name.get(),
            prefixes: prefixes.get(),
            rate_per_sec: rate.get().trim().parse().unwrap_or(-1.0),
            burst: burst.get().trim().parse().unwrap_or(0),
            nats_subject: subject.get(),
        });
    };
    view! {
        <h2>"New source"</h2>
        <form class="form" on:submit=submit aria-label="New source">
            <div class="field">
                <label for="source-name">"Name"</label>
                <input id="source-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
                <FieldMessage error field="name" id="source-name-error" />
            </div>
            <div class="field">
                <label for="source-prefix">"Source prefixes (space-separated; `wms` covers `wms` and `wms/...`)"</label>
                <input id="source-prefix" placeholder="wms" prop:value=prefixes on:input=move |ev| prefixes.set(event_target_value(&ev)) />
                <FieldMessage error field="prefixes" id="source-prefix-error" />
            </div>
            <div class="field">
                <label for="source-rate">"Events a second"</label>
                <input id="source-rate" inputmode="decimal" prop:value=rate on:input=move |ev| rate.set(event_target_value(&ev)) />
                <FieldMessage error field="rate_per_sec" id="source-rate-error" />
            </div>
            <div class="field">
                <label for="source-burst">"Burst"</label>
                <input id="source-burst" inputmode="numeric" prop:value=burst on:input=move |ev| burst.set(event_target_value(&ev)) />
                <FieldMessage error field="burst" id="source-burst-error" />
            </div>
            <div class="field">
                <label for="source-subject">"NATS subject, when it publishes to JetStream (`*` one token, a last `>` the rest)"</label>
                <input id="source-subject" placeholder="crossdock.events.wms.>" prop:value=subject on:input=move |ev| subject.set(event_target_value(&ev)) />
                <FieldMessage error field="nats_subject" id="source-subject-error" />
            </div>
            <FormError error />
            <button type="submit">"Create source"</button>
            {move || {
                create
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|key| {
                        view! {
                            <div class="notice" role="status">
                                <p>"API key of the new source (copy it now; it is not shown again):"</p>
                                <code class="secret">{key}</code>
                            </div>
                        }
                    })
            }}
        </form>
    }
}
