//! Sites and their business calendars: time zone, weekly shifts (overnight
//! allowed) or around the clock, and holidays.

use crossdock::calendar::{CalendarSpec, HoursSpec, ShiftSpec};
use crossdock::config::SiteSpec;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::AppError;
use crate::components::forms::{FieldMessage, FormError, last_error, messages_under};
use crate::components::loaded::Loaded;
use crate::serverfns::config::{SaveSite, list_sites};

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// One editable shift; each field its own signal so typing does not redraw the list.
#[derive(Clone, Copy)]
struct ShiftRow {
    id: usize,
    day: RwSignal<String>,
    start: RwSignal<String>,
    end: RwSignal<String>,
    overnight: RwSignal<bool>,
}

#[derive(Clone, Copy)]
struct HolidayRow {
    id: usize,
    date: RwSignal<String>,
}

/// The site being edited.
#[derive(Clone, Copy)]
struct SiteEditor {
    code: RwSignal<String>,
    name: RwSignal<String>,
    time_zone: RwSignal<String>,
    always_open: RwSignal<bool>,
    shifts: RwSignal<Vec<ShiftRow>>,
    holidays: RwSignal<Vec<HolidayRow>>,
    next_id: StoredValue<usize>,
}

impl SiteEditor {
    fn new() -> Self {
        Self {
            code: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            time_zone: RwSignal::new("America/Chicago".to_owned()),
            always_open: RwSignal::new(false),
            shifts: RwSignal::new(Vec::new()),
            holidays: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
        }
    }

    fn id(&self) -> usize {
        self.next_id.update_value(|n| *n += 1);
        self.next_id.get_value()
    }

    fn add_shift(&self, day: &str, start: &str, end: &str, overnight: bool) {
        let row = ShiftRow {
            id: self.id(),
            day: RwSignal::new(day.to_owned()),
            start: RwSignal::new(start.to_owned()),
            end: RwSignal::new(end.to_owned()),
            overnight: RwSignal::new(overnight),
        };
        self.shifts.update(|s| s.push(row));
    }

    fn add_holiday(&self, date: &str) {
        let row = HolidayRow { id: self.id(), date: RwSignal::new(date.to_owned()) };
        self.holidays.update(|h| h.push(row));
    }

    fn load(&self, site: &SiteSpec) {
        self.code.set(site.code.clone());
        self.name.set(site.name.clone());
        self.time_zone.set(site.calendar.time_zone.clone());
        self.shifts.set(Vec::new());
        self.holidays.set(Vec::new());
        match &site.calendar.hours {
            HoursSpec::AlwaysOpen => self.always_open.set(true),
            HoursSpec::Weekly { shifts } => {
                self.always_open.set(false);
                for s in shifts {
                    self.add_shift(&s.day, &s.start, &s.end, s.overnight);
                }
            }
        }
        for h in &site.calendar.holidays {
            self.add_holiday(&h.to_string());
        }
    }

    /// The site as entered; holidays that are not dates are refused here.
    fn spec(&self) -> Result<SiteSpec, AppError> {
        let mut holidays = Vec::new();
        for (i, h) in self.holidays.get_untracked().iter().enumerate() {
            let text = h.date.get_untracked();
            if text.trim().is_empty() {
                continue;
            }
            match text.trim().parse() {
                Ok(date) => holidays.push(date),
                Err(_) => {
                    return Err(AppError::invalid(format!("calendar/holidays/{i}"), "must be a date, e.g. 2026-12-25"));
                }
            }
        }
        let hours = if self.always_open.get_untracked() {
            HoursSpec::AlwaysOpen
        } else {
            HoursSpec::Weekly {
                shifts: self
                    .shifts
                    .get_untracked()
                    .iter()
                    .map(|s| ShiftSpec {
                        day: s.day.get_untracked(),
                        start: s.start.get_untracked().trim().to_owned(),
                        end: s.end.get_untracked().trim().to_owned(),
                        overnight: s.overnight.get_untracked(),
                    })
                    .collect(),
            }
        };
        Ok(SiteSpec {
            code: self.code.get_untracked().trim().to_owned(),
            name: self.name.get_untracked().trim().to_owned(),
            calendar: CalendarSpec { time_zone: self.time_zone.get_untracked().trim().to_owned(), hours, holidays },
        })
    }
}

fn describe(site: &SiteSpec) -> String {
    match &site.calendar.hours {
        HoursSpec::AlwaysOpen => "around the clock".to_owned(),
        HoursSpec::Weekly { shifts } => format!("{} shifts a week", shifts.len()),
    }
}

#[component]
pub fn SitesPage() -> impl IntoView {
    let save = ServerAction::<SaveSite>::new();
    let sites = Resource::new(move || save.version().get(), |_| list_sites());
    let editor = SiteEditor::new();
    let local_error = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || local_error.get().or_else(|| last_error(save.value()).get()));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match editor.spec() {
            Ok(site) => {
                local_error.set(None);
                save.dispatch(SaveSite { site });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    view! {
        <section class="page">
            <h1>"Sites and calendars"</h1>
            <Loaded resource=sites what="sites" show=move |list| {
                                view! {
                                    <table class="grid" aria-label="Sites">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Code"</th>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Time zone"</th>
                                                <th scope="col">"Hours"</th>
                                                <th scope="col">"Holidays"</th>
                                                <th scope="col">"Actions"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|site| {
                                                    let hours = describe(&site);
                                                    let label = format!("Edit {}", site.code);
                                                    let stored = StoredValue::new(site.clone());
                                                    view! {
                                                        <tr>
                                                            <td>{site.code.clone()}</td>
                                                            <td>{site.name.clone()}</td>
                                                            <td>{site.calendar.time_zone.clone()}</td>
                                                            <td>{hours}</td>
                                                            <td>{site.calendar.holidays.len()}</td>
                                                            <td class="actions">
                                                                <button type="button" on:click=move |_| editor.load(&stored.get_value())>
                                                                    {label}
                                                                </button>
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
            <h2>"Site"</h2>
            <form class="form wide" on:submit=submit aria-label="Site">
                <div class="field">
                    <label for="site-code">"Code"</label>
                    <input id="site-code" placeholder="DC-PHX" prop:value=editor.code on:input=move |ev| editor.code.set(event_target_value(&ev)) />
                    <FieldMessage error field="code" id="site-code-error" />
                </div>
                <div class="field">
                    <label for="site-name">"Name"</label>
                    <input id="site-name" prop:value=editor.name on:input=move |ev| editor.name.set(event_target_value(&ev)) />
                    <FieldMessage error field="name" id="site-name-error" />
                </div>
                <div class="field">
                    <label for="site-tz">"Time zone (IANA)"</label>
                    <input id="site-tz" placeholder="America/Phoenix" prop:value=editor.time_zone on:input=move |ev| editor.time_zone.set(event_target_value(&ev)) />
                    <FieldMessage error field="calendar/time_zone" id="site-tz-error" />
                </div>
                <label class="check" for="site-24x7">
                    <input id="site-24x7" type="checkbox" prop:checked=editor.always_open on:change=move |ev| editor.always_open.set(event_target_checked(&ev)) />
                    "Open around the clock (24x7)"
                </label>
                <Show when=move || !editor.always_open.get()>
                    <fieldset class="shifts">
                        <legend>"Weekly shifts"</legend>
                        <FieldMessage error field="calendar/hours/shifts" id="site-shifts-error" />
                        <For each=move || editor.shifts.get() key=|s| s.id let:shift>
                            <ShiftEditor shift editor error />
                        </For>
                        <button type="button" on:click=move |_| editor.add_shift("mon", "08:00", "17:00", false)>"Add shift"</button>
                    </fieldset>
                </Show>
                <fieldset class="holidays">
                    <legend>"Holidays"</legend>
                    <For each=move || editor.holidays.get() key=|h| h.id let:holiday>
                        <HolidayEditor holiday editor error />
                    </For>
                    <button type="button" on:click=move |_| editor.add_holiday("")>"Add holiday"</button>
                </fieldset>
                <FormError error />
                <button type="submit">"Save site"</button>
                <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                    <p role="status">"Site saved."</p>
                </Show>
            </form>
        </section>
    }
}

#[component]
fn ShiftEditor(shift: ShiftRow, editor: SiteEditor, error: Signal<Option<AppError>>) -> impl IntoView {
    let index = move || editor.shifts.get().iter().position(|s| s.id == shift.id).unwrap_or(0);
    let messages = move || messages_under(error.get(), &format!("calendar/hours/shifts/{}", index()));
    let id = shift.id;
    view! {
        <div class="shift" role="group" aria-label=move || format!("Shift {}", index() + 1)>
            <label for=format!("shift-day-{id}")>"Day"</label>
            <select id=format!("shift-day-{id}") on:change=move |ev| shift.day.set(event_target_value(&ev))>
                {DAYS
                    .iter()
                    .map(|(value, label)| view! { <option value=*value selected=move || shift.day.get() == *value>{*label}</option> })
                    .collect_view()}
            </select>
            <label for=format!("shift-start-{id}")>"From"</label>
            <input id=format!("shift-start-{id}") class="time" placeholder="HH:MM" prop:value=shift.start on:input=move |ev| shift.start.set(event_target_value(&ev)) />
            <label for=format!("shift-end-{id}")>"To"</label>
            <input id=format!("shift-end-{id}") class="time" placeholder="HH:MM" prop:value=shift.end on:input=move |ev| shift.end.set(event_target_value(&ev)) />
            <label class="check" for=format!("shift-night-{id}")>
                <input id=format!("shift-night-{id}") type="checkbox" prop:checked=shift.overnight on:change=move |ev| shift.overnight.set(event_target_checked(&ev)) />
                "ends the next day"
            </label>
            <button type="button" on:click=move |_| editor.shifts.update(|s| s.retain(|r| r.id != id))>"Remove"</button>
            {move || messages().into_iter().map(|m| view! { <p class="field-error" role="alert">{m}</p> }).collect_view()}
        </div>
    }
}

#[component]
fn HolidayEditor(holiday: HolidayRow, editor: SiteEditor, error: Signal<Option<AppError>>) -> impl IntoView {
    let index = move || editor.holidays.get().iter().position(|h| h.id == holiday.id).unwrap_or(0);
    let messages = move || messages_under(error.get(), &format!("calendar/holidays/{}", index()));
    let id = holiday.id;
    view! {
        <div class="holiday">
            <label for=format!("holiday-{id}")>"Date"</label>
            <input id=format!("holiday-{id}") type="date" prop:value=holiday.date on:input=move |ev| holiday.date.set(event_target_value(&ev)) />
            <button type="button" on:click=move |_| editor.holidays.update(|h| h.retain(|r| r.id != id))>"Remove"</button>
            {move || messages().into_iter().map(|m| view! { <p class="field-error" role="alert">{m}</p> }).collect_view()}
        </div>
    }
}
