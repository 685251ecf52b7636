//! Business transactions: where each stands, filtered by flow, site,
//! supplier, customer and stage, and those stuck without a milestone for
//! longer than a number of business hours, the longest stuck first.

use crossdock::Named;
use crossdock::event::MilestoneKind;
use crossdock::lineage::{Flow, TransactionCursor};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::loaded::Loaded;
use crate::components::time::LocalTime;
use crate::dto::{TransactionQuery, TransactionSummary};
use crate::serverfns::lineage::transactions;

fn row(t: TransactionSummary) -> impl IntoView {
    let stage = t.stage.map_or_else(|| "—".to_owned(), |s| format!("{} ({} of {})", s.label(), t.reached, t.stages));
    let party = t.supplier.clone().or(t.customer.clone()).unwrap_or_default();
    view! {
        <tr>
            <td><a href=format!("/transactions/{}", t.id)>{t.name.clone()}</a></td>
            <td>{t.flow.map_or("", |f| f.label())}</td>
            <td>{stage}</td>
            <td>{t.site.clone().unwrap_or_default()}</td>
            <td>{party}</td>
            <td>{t.last_milestone_at.map(|at| view! { <LocalTime at /> })}</td>
            <td>{t.quiet_hours.map(|h| format!("{h} h")).unwrap_or_default()}</td>
        </tr>
    }
}

fn table(list: Vec<TransactionSummary>) -> AnyView {
    if list.is_empty() {
        return view! { <p class="muted">"No transaction matches."</p> }.into_any();
    }
    view! {
        <table class="grid" aria-label="Transactions">
            <thead>
                <tr>
                    <th scope="col">"Transaction"</th>
                    <th scope="col">"Flow"</th>
                    <th scope="col">"Stage"</th>
                    <th scope="col">"Site"</th>
                    <th scope="col">"Supplier or customer"</th>
                    <th scope="col">"Last milestone"</th>
                    <th scope="col">"Quiet for"</th>
                </tr>
            </thead>
            <tbody>{list.into_iter().map(row).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn TransactionsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        let text = |k: &str| p.get(k).filter(|v| !v.trim().is_empty());
        TransactionQuery {
            flow: text("flow").and_then(|f| f.parse().ok()),
            site: text("site"),
            supplier: text("supplier"),
            customer: text("customer"),
            stage: text("stage").and_then(|s| s.parse().ok()),
            stuck_hours: text("stuck").and_then(|h| h.trim().parse().ok()),
            after: text("after"),
            kpi: text("kpi").and_then(|k| k.parse().ok()),
            from: text("from").and_then(|d| d.parse().ok()),
            to: text("to").and_then(|d| d.parse().ok()),
        }
    });
    // The same view from the row after `cursor`, or from the start.
    let page_link = move |cursor: Option<String>| {
        let mut p = params.get();
        match cursor {
            Some(c) => p.replace("after", c),
            None => {
                p.remove("after");
            }
        }
        format!("/transactions{}", p.to_query_string())
    };
    let listed = Resource::new(move || query.get(), transactions);
    let value = move |k: &'static str| move || params.read().get(k).unwrap_or_default();
    let stage_options = [Flow::ProcureToReceive, Flow::OrderToCash]
        .into_iter()
        .flat_map(|f| f.stages().iter().copied())
        .map(|s: MilestoneKind| {
            let chosen = move || params.read().get("stage").as_deref() == Some(s.as_str());
            view! { <option value=s.as_str() selected=chosen>{s.label()}</option> }
        })
        .collect_view();
    let listing = move |list: Vec<TransactionSummary>| {
        let next = (list.len() >= TransactionCursor::PAGE)
            .then(|| {
                list.last()
                    .map(|t| TransactionCursor { at: t.last_milestone_at.map(|a| a.timestamp_millis()), id: t.id })
            })
            .flatten();
        let paged = params.read_untracked().get("after").is_some();
        view! {
            {table(list)}
            <nav class="pager" aria-label="Pages">
                {paged.then(|| view! { <a href=page_link(None)>"First page"</a> })}
                {next.map(|c| view! { <a href=page_link(Some(c.to_string()))>"Next page"</a> })}
            </nav>
        }
        .into_any()
    };
    view! {
        <section class="page transactions-page">
            <h1>"Transactions"</h1>
            <Form method="GET" action="/transactions" attr:aria-label="Filter transactions" attr:class="form inline">
                <div class="field">
                    <label for="t-flow">"Flow"</label>
                    <select id="t-flow" name="flow">
                        <option value="">"Any"</option>
                        {Flow::NAMES.iter().zip([Flow::ProcureToReceive, Flow::OrderToCash]).map(|(n, f)| {
                            let chosen = move || params.read().get("flow").as_deref() == Some(*n);
                            view! { <option value=*n selected=chosen>{f.label()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="t-stage">"Stage reached"</label>
                    <select id="t-stage" name="stage"><option value="">"Any"</option>{stage_options}</select>
                </div>
                <div class="field"><label for="t-site">"Site"</label><input id="t-site" name="site" prop:value=value("site") /></div>
                <div class="field"><label for="t-supplier">"Supplier"</label><input id="t-supplier" name="supplier" prop:value=value("supplier") /></div>
                <div class="field"><label for="t-customer">"Customer"</label><input id="t-customer" name="customer" prop:value=value("customer") /></div>
                <div class="field">
                    <label for="t-stuck">"Stuck for more than (business hours)"</label>
                    <input id="t-stuck" name="stuck" type="number" min="1" prop:value=value("stuck") />
                </div>
                <button type="submit">"Show"</button>
            </Form>
            <Loaded resource=listed what="transactions" show=listing />
        </section>
    }
}
