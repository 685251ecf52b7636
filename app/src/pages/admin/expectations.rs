//! Expectations: after one milestone of a transaction, another is due
//! within some hours (of the site's business calendar, or around the
//! clock). When it does not come, the lineage sweep files a "milestone
//! overdue" exception on the transaction. A change applies to milestones
//! seen after it is saved.

use crossdock::event::MilestoneKind;
use crossdock::lineage::{ExpectationRule, ExpectationSet, Flow};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::AppError;
use crate::components::forms::{FormError, last_error, messages_under};
use crate::components::loaded::Loaded;
use crate::serverfns::config::{SaveExpectations, expectations};

/// One expectation being edited; the hours stay text until saved.
#[derive(Clone, Copy)]
struct RuleRow {
    id: usize,
    after: RwSignal<MilestoneKind>,
    expect: RwSignal<MilestoneKind>,
    hours: RwSignal<String>,
    business: RwSignal<bool>,
}

#[derive(Clone, Copy)]
struct Editor {
    rows: RwSignal<Vec<RuleRow>>,
    next_id: StoredValue<usize>,
}

impl Editor {
    fn new(set: &ExpectationSet) -> Self {
        let editor = Self { rows: RwSignal::new(Vec::new()), next_id: StoredValue::new(0) };
        editor.rows.set(set.rules.iter().map(|r| editor.row(r)).collect());
        editor
    }

    fn row(&self, r: &ExpectationRule) -> RuleRow {
        self.next_id.update_value(|n| *n += 1);
        RuleRow {
            id: self.next_id.get_value(),
            after: RwSignal::new(r.after),
            expect: RwSignal::new(r.expect),
            hours: RwSignal::new(r.within_hours.to_string()),
            business: RwSignal::new(r.business_hours),
        }
    }

    /// The set as edited, or the first field that is not a number of hours.
    fn spec(&self) -> Result<ExpectationSet, AppError> {
        let rules =
            self.rows
                .get_untracked()
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let within_hours =
                        r.hours.get_untracked().trim().parse::<u32>().map_err(|_| {
                            AppError::invalid(format!("rules/{i}/within_hours"), "a whole number of hours")
                        })?;
                    Ok(ExpectationRule {
                        after: r.after.get_untracked(),
                        expect: r.expect.get_untracked(),
                        within_hours,
                        business_hours: r.business.get_untracked(),
                    })
                })
                .collect::<Result<Vec<_>, AppError>>()?;
        Ok(ExpectationSet { rules })
    }
}

#[component]
pub fn ExpectationsPage() -> impl IntoView {
    let loaded = Resource::new(|| (), |_| expectations());
    view! {
        <section class="page">
            <h1>"Expectations"</h1>
            <p class="muted">
                "After a milestone, the next one is expected within some hours. When it does not come, the transaction "
                "gets a “milestone overdue” exception, which resolves itself when the milestone arrives. "
                "A change applies to milestones seen after it; every version is kept in the history."
            </p>
            <Loaded resource=loaded what="expectations" show=move |set| view! { <SetEditor set /> }.into_any() />
        </section>
    }
}

#[component]
fn SetEditor(set: ExpectationSet) -> impl IntoView {
    let editor = Editor::new(&set);
    let save = ServerAction::<SaveExpectations>::new();
    let local_error = RwSignal::new(None::<AppError>);
    let saved_error = last_error(save.value());
    let error = Signal::derive(move || local_error.get().or_else(|| saved_error.get()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match editor.spec() {
            Ok(expectations) => {
                local_error.set(None);
                save.dispatch(SaveExpectations { expectations });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    let add = move |_| {
        let rule = ExpectationRule {
            after: MilestoneKind::PoCreated,
            expect: MilestoneKind::PoAcknowledged,
            within_hours: 24,
            business_hours: true,
        };
        editor.rows.update(|rows| rows.push(editor.row(&rule)));
    };
    view! {
        <form class="form wide" on:submit=submit aria-label="Expectations">
            <table class="grid" aria-label="Expected milestones">
                <thead>
                    <tr>
                        <th scope="col">"After"</th>
                        <th scope="col">"Expect"</th>
                        <th scope="col">"Within (hours)"</th>
                        <th scope="col">"Counted in"</th>
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || editor.rows.get() key=|r| r.id let:row>
                        <RuleEditor row editor error />
                    </For>
                </tbody>
            </table>
            <button type="button" on:click=add>"Add expectation"</button>
            <FormError error />
            <button type="submit">"Save expectations"</button>
            <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                <p role="status">"Expectations saved."</p>
            </Show>
        </form>
    }
}

/// A milestone picker grouped by flow.
#[component]
fn MilestoneSelect(value: RwSignal<MilestoneKind>, #[prop(into)] label: Signal<String>) -> impl IntoView {
    view! {
        <select
            aria-label=label
            on:change=move |ev| {
                if let Ok(kind) = event_target_value(&ev).parse::<MilestoneKind>() {
                    value.set(kind);
                }
            }
        >
            {Flow::ALL
                .iter()
                .map(|flow| {
                    view! {
                        <optgroup label=flow.label()>
                            {flow
                                .stages()
                                .iter()
                                .map(|m| {
                                    let m = *m;
                                    view! {
                                        <option value=m.as_str() selected=move || value.get() == m>{m.label()}</option>
                                    }
                                })
                                .collect_view()}
                        </optgroup>
                    }
                })
                .collect_view()}
        </select>
    }
}

#[component]
fn RuleEditor(row: RuleRow, editor: Editor, error: Signal<Option<AppError>>) -> impl IntoView {
    let index = move || editor.rows.with(|rows| rows.iter().position(|r| r.id == row.id).unwrap_or(0));
    let messages = move || messages_under(error.get(), &format!("rules/{}", index()));
    let remove = move |_| editor.rows.update(|rows| rows.retain(|r| r.id != row.id));
    let n = move || index() + 1;
    view! {
        <tr>
            <td><MilestoneSelect value=row.after label=Signal::derive(move || format!("Expectation {} after", n())) /></td>
            <td><MilestoneSelect value=row.expect label=Signal::derive(move || format!("Expectation {} expects", n())) /></td>
            <td>
                <input
                    aria-label=move || format!("Expectation {} within hours", n())
                    inputmode="numeric"
                    prop:value=row.hours
                    on:input=move |ev| row.hours.set(event_target_value(&ev))
                />
            </td>
            <td>
                <label class="check">
                    <input
                        type="checkbox"
                        prop:checked=row.business
                        on:change=move |ev| row.business.set(event_target_checked(&ev))
                    />
                    "business hours of the site"
                </label>
            </td>
            <td class="actions">
                <button type="button" on:click=remove>{move || format!("Remove expectation {}", n())}</button>
                {move || messages().into_iter().map(|m| view! { <p class="field-error" role="alert">{m}</p> }).collect_view()}
            </td>
        </tr>
    }
}
