//! SLA policies: targets to acknowledge and to resolve per severity, in
//! business minutes, and the share after which a clock is at risk. A change
//! applies to exceptions opened after it.

use std::collections::BTreeMap;

use crossdock::Severity;
use crossdock::sla::{SlaPolicySpec, SlaTargets};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::AppError;
use crate::components::forms::{FieldMessage, FormError, last_error};
use crate::components::loaded::Loaded;
use crate::serverfns::config::{SavePolicy, list_policies};

/// The policy being edited: text fields, checked on the server.
#[derive(Clone, Copy)]
struct PolicyEditor {
    name: RwSignal<String>,
    at_risk: RwSignal<String>,
    targets: [(RwSignal<String>, RwSignal<String>); 4],
}

impl PolicyEditor {
    fn new() -> Self {
        let t = || (RwSignal::new(String::new()), RwSignal::new(String::new()));
        Self {
            name: RwSignal::new(String::new()),
            at_risk: RwSignal::new("75".to_owned()),
            targets: [t(), t(), t(), t()],
        }
    }

    fn load(&self, p: &SlaPolicySpec) {
        self.name.set(p.name.clone());
        self.at_risk.set(p.at_risk_percent.to_string());
        for (i, severity) in Severity::ALL.iter().enumerate() {
            let t =
                p.targets.get(severity).copied().unwrap_or(SlaTargets { acknowledge_minutes: 0, resolve_minutes: 0 });
            self.targets[i].0.set(t.acknowledge_minutes.to_string());
            self.targets[i].1.set(t.resolve_minutes.to_string());
        }
    }

    fn spec(&self) -> Result<SlaPolicySpec, AppError> {
        let minutes = |field: String, text: String| {
            text.trim().parse::<u32>().map_err(|_| AppError::invalid(field, "a whole number of minutes"))
        };
        let mut targets = BTreeMap::new();
        for (i, severity) in Severity::ALL.iter().enumerate() {
            let (ack, resolve) = self.targets[i];
            targets.insert(
                *severity,
                SlaTargets {
                    acknowledge_minutes: minutes(
                        format!("targets/{severity}/acknowledge_minutes"),
                        ack.get_untracked(),
                    )?,
                    resolve_minutes: minutes(format!("targets/{severity}/resolve_minutes"), resolve.get_untracked())?,
                },
            );
        }
        let at_risk_percent = self
            .at_risk
            .get_untracked()
            .trim()
            .parse::<u8>()
            .map_err(|_| AppError::invalid("at_risk_percent", "a whole percentage"))?;
        Ok(SlaPolicySpec { name: self.name.get_untracked().trim().to_owned(), targets, at_risk_percent })
    }
}

fn hours(minutes: u32) -> String {
    if minutes.is_multiple_of(60) { format!("{} h", minutes / 60) } else { format!("{minutes} min") }
}

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let save = ServerAction::<SavePolicy>::new();
    let policies = Resource::new(move || save.version().get(), |_| list_policies());
    let editor = PolicyEditor::new();
    let local_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || local_error.get().or_else(|| last_error(save.value()).get()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match editor.spec() {
            Ok(policy) => {
                local_error.set(None);
                save.dispatch(SavePolicy { policy });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    view! {
        <section class="page">
            <h1>"SLA policies"</h1>
            <p class="muted">"Targets are business minutes in the queue's calendar. A change applies to exceptions opened after it."</p>
            <Loaded resource=policies what="policies" show=move |list| {
                                view! {
                                    <table class="grid" aria-label="SLA policies">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Policy"</th>
                                                {Severity::ALL.iter().map(|s| view! { <th scope="col">{s.label()} " (ack / resolve)"</th> }).collect_view()}
                                                <th scope="col">"At risk"</th>
                                                <th scope="col">"Actions"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|p| {
                                                    let label = format!("Edit {}", p.name);
                                                    let stored = StoredValue::new(p.clone());
                                                    view! {
                                                        <tr>
                                                            <td>{p.name.clone()}</td>
                                                            {Severity::ALL
                                                                .iter()
                                                                .map(|s| {
                                                                    let t = p.targets.get(s).copied();
                                                                    let text = t.map(|t| format!("{} / {}", hours(t.acknowledge_minutes), hours(t.resolve_minutes))).unwrap_or_default();
                                                                    view! { <td>{text}</td> }
                                                                })
                                                                .collect_view()}
                                                            <td>{format!("{}%", p.at_risk_percent)}</td>
                                                            <td class="actions">
                                                                <button type="button" on:click=move |_| editor.load(&stored.get_value())>{label}</button>
                                                            </td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                }
                                    .into_any()
                            } />
            <h2>"Policy"</h2>
            <form class="form wide" on:submit=submit aria-label="SLA policy">
                <div class="field">
                    <label for="policy-name">"Name"</label>
                    <input id="policy-name" prop:value=editor.name on:input=move |ev| editor.name.set(event_target_value(&ev)) />
                    <FieldMessage error field="name" id="policy-name-error" />
                </div>
                <table class="targets">
                    <thead>
                        <tr>
                            <th scope="col">"Severity"</th>
                            <th scope="col">"Acknowledge within (minutes)"</th>
                            <th scope="col">"Resolve within (minutes)"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {Severity::ALL
                            .iter()
                            .enumerate()
                            .map(|(i, severity)| {
                                let (ack, resolve) = editor.targets[i];
                                let s = severity.as_str();
                                let ack_field: &'static str = match i { 0 => "targets/low/acknowledge_minutes", 1 => "targets/medium/acknowledge_minutes", 2 => "targets/high/acknowledge_minutes", _ => "targets/critical/acknowledge_minutes" };
                                let resolve_field: &'static str = match i { 0 => "targets/low/resolve_minutes", 1 => "targets/medium/resolve_minutes", 2 => "targets/high/resolve_minutes", _ => "targets/critical/resolve_minutes" };
                                view! {
                                    <tr>
                                        <th scope="row">{severity.label()}</th>
                                        <td>
                                            <input id=format!("ack-{s}") aria-label=format!("{} acknowledge minutes", severity.label()) inputmode="numeric" prop:value=ack on:input=move |ev| ack.set(event_target_value(&ev)) />
                                            <FieldMessage error field=ack_field id="ack-error" />
                                        </td>
                                        <td>
                                            <input id=format!("resolve-{s}") aria-label=format!("{} resolve minutes", severity.label()) inputmode="numeric" prop:value=resolve on:input=move |ev| resolve.set(event_target_value(&ev)) />
                                            <FieldMessage error field=resolve_field id="resolve-error" />
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
                <div class="field">
                    <label for="policy-risk">"At risk after (% of the target)"</label>
                    <input id="policy-risk" inputmode="numeric" prop:value=editor.at_risk on:input=move |ev| editor.at_risk.set(event_target_value(&ev)) />
                    <FieldMessage error field="at_risk_percent" id="policy-risk-error" />
                </div>
                <FormError error />
                <button type="submit">"Save policy"</button>
                <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                    <p role="status">"Policy saved."</p>
                </Show>
            </form>
        </section>
    }
}
