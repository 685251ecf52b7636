//! Business KPIs: each one per site over the chosen days or weeks, as a
//! server-rendered SVG chart with its data table; a point past its target is
//! marked, and each point opens the transactions behind it.

use chrono::{Duration, NaiveDate};
use crossdock::kpi::{BUCKETS, Kpi, KpiQuery, KpiSeries, KpiTargets, NO_SITE, Period, Unit};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::AppError;
use crate::components::forms::{ErrorNotice, FieldMessage, FormError, last_error, number};
use crate::serverfns::kpis::{SaveKpiTargets, read_kpis};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// The last day of the period starting `start`, within the report.
fn period_end(query: &KpiQuery, start: NaiveDate) -> NaiveDate {
    let end = match query.period {
        Period::Day => start,
        Period::Week => start + Duration::days(6),
    };
    end.min(query.to)
}

/// The transactions behind a point; none for what no site counted.
fn behind_link(kpi: Kpi, site: &str, query: &KpiQuery, start: NaiveDate) -> Option<String> {
    if site == NO_SITE {
        return None;
    }
    let to = period_end(query, start);
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let supplier = query.supplier.as_deref().map(|s| format!("&supplier={}", encode(s))).unwrap_or_default();
    Some(format!("/transactions?kpi={kpi}&site={}&from={start}&to={to}{supplier}", encode(site)))
}

fn shown(unit: Unit, value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| unit.format(v))
}

/// One KPI's chart: a line per site, a dashed target, a dot per point
/// linking to the transactions behind it.
fn chart(k: &KpiSeries, query: &KpiQuery) -> impl IntoView + use<> {
    let unit = k.kpi.unit();
    let values = k.series.iter().flat_map(|s| s.points.iter().filter_map(|p| p.value));
    let top = match unit {
        Unit::Percent => 100.0,
        Unit::Hours => values.chain(k.target).fold(1.0_f64, f64::max) * 1.15,
    };
    let count = k.series.first().map_or(0, |s| s.points.len());
    let step = if count > 1 { (WIDTH - LEFT - RIGHT) / (count - 1) as f64 } else { 0.0 };
    let x = move |i: usize| if count > 1 { LEFT + step * i as f64 } else { (LEFT + WIDTH - RIGHT) / 2.0 };
    let y = move |v: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (v / top).clamp(0.0, 1.0));
    let title_id = format!("chart-{}", k.kpi);
    let labelled_by = title_id.clone();
    let target = k.target.map(|t| {
        let at = y(t);
        view! {
            <line class="target" x1=LEFT y1=at x2=WIDTH - RIGHT y2=at />
            <text class="axis" x=WIDTH - RIGHT y=at - 4.0 text-anchor="end">{format!("target {}", unit.format(t))}</text>
        }
    });
    let ticks = [0.0, 0.5, 1.0].map(|f| {
        let v = top * f;
        view! { <text class="axis" x=LEFT - 6.0 y=y(v) + 4.0 text-anchor="end">{unit.format(v)}</text> }
    });
    let labels: Vec<_> = k.series.first().map(|s| s.points.iter().map(|p| p.period).collect()).unwrap_or_default();
    let every = labels.len().div_ceil(7).max(1);
    let dates = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, d)| view! { <text class="axis" x=x(i) y=HEIGHT - 8.0 text-anchor="middle">{d.format("%m-%d").to_string()}</text> })
        .collect_view();
    let lines = k
        .series
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let path: Vec<String> = s
                .points
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.value.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
                .collect();
            let dots = s
                .points
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let v = p.value?;
                    let href = behind_link(k.kpi, &s.site, query, p.period);
                    let label = format!(
                        "{} {} {}: {} ({} counted){}",
                        s.site,
                        k.kpi.label(),
                        p.period,
                        unit.format(v),
                        p.n,
                        if p.missed { ", past target" } else { "" }
                    );
                    let title = label.clone();
                    let dot =
                        view! { <circle class:missed=p.missed cx=x(i) cy=y(v) r="4"><title>{title}</title></circle> };
                    Some(match href {
                        Some(href) => view! { <a href=href aria-label=label>{dot}</a> }.into_any(),
                        None => dot.into_any(),
                    })
                })
                .collect_view();
            view! {
                <g class=format!("series series-{}", n % 4)>
                    <polyline points=path.join(" ") />
                    {dots}
                </g>
            }
        })
        .collect_view();
    let legend = k
        .series
        .iter()
        .enumerate()
        .map(|(n, s)| view! { <li class=format!("series-{}", n % 4)>{s.site.clone()}</li> })
        .collect_view();
    view! {
        <ul class="kpi-legend" aria-label="Sites">{legend}</ul>
        <svg class="kpi-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="group" aria-labelledby=labelled_by>
            <title id=title_id>{format!("{} per site", k.kpi.label())}</title>
            <line class="axis-line" x1=LEFT y1=TOP x2=LEFT y2=HEIGHT - BOTTOM />
            <line class="axis-line" x1=LEFT y1=HEIGHT - BOTTOM x2=WIDTH - RIGHT y2=HEIGHT - BOTTOM />
            {ticks}
            {dates}
            {target}
            {lines}
        </svg>
    }
}

/// The chart's numbers: a row per period, a column per site.
fn data_table(k: &KpiSeries, query: &KpiQuery) -> impl IntoView + use<> {
    let unit = k.kpi.unit();
    let sites: Vec<String> = k.series.iter().map(|s| s.site.clone()).collect();
    let periods: Vec<NaiveDate> =
        k.series.first().map(|s| s.points.iter().map(|p| p.period).collect()).unwrap_or_default();
    let rows = periods
        .iter()
        .enumerate()
        .map(|(i, period)| {
            let cells = k
                .series
                .iter()
                .map(|s| {
                    let p = &s.points[i];
                    let past = if p.missed { ", past target" } else { "" };
                    let text = format!("{} ({}){past}", shown(unit, p.value), p.n);
                    let href = behind_link(k.kpi, &s.site, query, *period).filter(|_| p.n > 0);
                    view! {
                        <td class:missed=p.missed>
                            {match href {
                                Some(href) => view! { <a href=href>{text}</a> }.into_any(),
                                None => view! { <span>{text}</span> }.into_any(),
                            }}
                        </td>
                    }
                })
                .collect_view();
            view! { <tr><th scope="row">{period.to_string()}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <table class="grid kpi-data" aria-label=format!("{} data", k.kpi.label())>
            <thead>
                <tr>
                    <th scope="col">{match query.period { Period::Day => "Day", Period::Week => "Week of" }}</th>
                    {sites.into_iter().map(|s| view! { <th scope="col">{format!("{s} (counted)")}</th> }).collect_view()}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn distribution(k: &KpiSeries) -> impl IntoView + use<> {
    let labels = k.kpi.bucket_labels();
    let counts: Vec<i64> = k.distribution.iter().take(labels.len().min(BUCKETS)).copied().collect();
    view! {
        <table class="grid kpi-distribution" aria-label=format!("{} distribution", k.kpi.label())>
            <thead><tr>{labels.into_iter().map(|l| view! { <th scope="col">{l}</th> }).collect_view()}</tr></thead>
            <tbody><tr>{counts.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr></tbody>
        </table>
    }
}

fn kpi_section(k: KpiSeries, query: &KpiQuery) -> impl IntoView + use<> {
    let unit = k.kpi.unit();
    let heading = format!("kpi-{}", k.kpi);
    let labelled_by = heading.clone();
    let headline = match (k.overall, k.target) {
        (Some(v), Some(t)) => format!("{} over {} counted (target {})", unit.format(v), k.n, unit.format(t)),
        (Some(v), None) => format!("{} over {} counted", unit.format(v), k.n),
        (None, _) => "Nothing counted in this range.".to_owned(),
    };
    view! {
        <section class="kpi" aria-labelledby=labelled_by>
            <h2 id=heading>{k.kpi.label()}</h2>
            <p class="kpi-headline" class:missed=k.overall_missed>
                {headline}
                {k.overall_missed.then(|| view! { <strong class="badge danger">" past target"</strong> })}
            </p>
            <p class="muted">{k.kpi.description()}</p>
            {chart(&k, query)}
            <details>
                <summary>"Data"</summary>
                {data_table(&k, query)}
                {distribution(&k)}
            </details>
        </section>
    }
}

/// What the reader chose, as the form shows it.
struct Choice {
    from: String,
    to: String,
    period: Period,
    site: String,
    supplier: String,
}

/// The form choosing the range, the period, a site and a supplier.
fn choose(chosen: Choice, sites: &[String], suppliers: &[String]) -> impl IntoView + use<> {
    let options = |all: &[String], pick: &str| {
        all.iter()
            .filter(|s| !s.is_empty())
            .map(|s| view! { <option value=s.clone() selected=s == pick>{s.clone()}</option> })
            .collect_view()
    };
    let (site_options, supplier_options) = (options(sites, &chosen.site), options(suppliers, &chosen.supplier));
    view! {
        <Form method="GET" action="/kpis" attr:aria-label="Choose KPIs" attr:class="form inline">
            <div class="field">
                <label for="kpi-from">"From"</label>
                <input id="kpi-from" name="from" type="date" value=chosen.from />
            </div>
            <div class="field">
                <label for="kpi-to">"To"</label>
                <input id="kpi-to" name="to" type="date" value=chosen.to />
            </div>
            <div class="field">
                <label for="kpi-period">"Per"</label>
                <select id="kpi-period" name="period">
                    <option value="day" selected=chosen.period == Period::Day>"day"</option>
                    <option value="week" selected=chosen.period == Period::Week>"week"</option>
                </select>
            </div>
            <div class="field">
                <label for="kpi-site">"Site"</label>
                <select id="kpi-site" name="site">
                    <option value="">"Every site"</option>
                    {site_options}
                </select>
            </div>
            <div class="field">
                <label for="kpi-supplier">"Supplier"</label>
                <select id="kpi-supplier" name="supplier">
                    <option value="">"Every supplier"</option>
                    {supplier_options}
                </select>
            </div>
            <button type="submit">"Show"</button>
        </Form>
    }
}

/// Targets, for admins.
#[component]
fn TargetsForm(targets: KpiTargets) -> impl IntoView {
    let save = ServerAction::<SaveKpiTargets>::new();
    let inputs: Vec<(Kpi, RwSignal<String>)> = Kpi::ALL
        .iter()
        .map(|k| (*k, RwSignal::new(targets.targets.get(k).map(|v| v.to_string()).unwrap_or_default())))
        .collect();
    let local = RwSignal::new(None::<AppError>);
    let error = Signal::derive(move || local.get().or_else(|| last_error(save.value()).get()));
    let stored = StoredValue::new(inputs.clone());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut targets = KpiTargets { targets: Default::default() };
        for (kpi, value) in stored.get_value() {
            let text = value.get_untracked();
            if text.trim().is_empty() {
                continue;
            }
            match number::<f64>(&format!("targets/{kpi}"), &text, "a number") {
                Ok(v) => {
                    targets.targets.insert(kpi, v);
                }
                Err(e) => {
                    local.set(Some(e));
                    return;
                }
            }
        }
        local.set(None);
        save.dispatch(SaveKpiTargets { targets });
    };
    view! {
        <form class="form wide" aria-label="KPI targets" on:submit=submit>
            <h2>"Targets"</h2>
            {inputs.into_iter().map(|(kpi, value)| {
                let id = format!("target-{kpi}");
                let field = format!("targets/{kpi}");
                let label = match kpi.unit() {
                    Unit::Percent if kpi.higher_is_better() => format!("{}: at least (%)", kpi.label()),
                    Unit::Percent => format!("{}: at most (%)", kpi.label()),
                    Unit::Hours => format!("{}: at most (hours)", kpi.label()),
                };
                view! {
                    <div class="field">
                        <label for=id.clone()>{label}</label>
                        <input id=id.clone() inputmode="decimal" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
                        <FieldMessage error field=field id=format!("{id}-error") />
                    </div>
                }
            }).collect_view()}
            <FormError error />
            <button type="submit">"Save targets"</button>
            <Show when=move || matches!(save.value().get(), Some(Ok(())))>
                <p role="status">"Targets saved."</p>
            </Show>
        </form>
    }
}

#[component]
pub fn KpisPage() -> impl IntoView {
    let params = use_query_map();
    let args = Memo::new(move |_| {
        let p = params.read();
        let text = |k: &str| p.get(k).filter(|v| !v.trim().is_empty());
        (
            text("from").and_then(|d| d.parse::<NaiveDate>().ok()),
            text("to").and_then(|d| d.parse::<NaiveDate>().ok()),
            if text("period").as_deref() == Some("week") { Period::Week } else { Period::Day },
            text("site"),
            text("supplier"),
        )
    });
    let view_of = Resource::new(
        move || args.get(),
        |(from, to, period, site, supplier)| read_kpis(from, to, period, site, supplier),
    );
    view! {
        <section class="page kpis-page">
            <h1>"Business KPIs"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading KPIs…"</p> }>
                {move || view_of.get().map(|answer| match answer {
                    Ok(v) => {
                        let q = v.report.query.clone();
                        let chosen = Choice {
                            from: q.from.to_string(),
                            to: q.to.to_string(),
                            period: q.period,
                            site: q.site.clone().unwrap_or_default(),
                            supplier: q.supplier.clone().unwrap_or_default(),
                        };
                        view! {
                            {choose(chosen, &v.sites, &v.suppliers)}
                            {q.supplier.is_some().then(|| view! { <p class="muted">"One supplier: fill rate and late receipts only."</p> })}
                            {v.report.kpis.into_iter().map(|k| kpi_section(k, &q)).collect_view()}
                            {v.may_set_targets.then(|| view! { <TargetsForm targets=v.targets.clone() /> })}
                        }
                        .into_any()
                    }
                    // The choice stays on screen to be corrected.
                    Err(error) => {
                        let p = params.read_untracked();
                        let get = |k: &str| p.get(k).unwrap_or_default();
                        let chosen = Choice {
                            from: get("from"),
                            to: get("to"),
                            period: if get("period") == "week" { Period::Week } else { Period::Day },
                            site: get("site"),
                            supplier: get("supplier"),
                        };
                        let (site, supplier) = (vec![chosen.site.clone()], vec![chosen.supplier.clone()]);
                        view! { {choose(chosen, &site, &supplier)} <ErrorNotice error /> }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}
