//! Pieces of forms: messages next to fields, notices.

use leptos::prelude::*;

use crate::AppError;

/// The message for one field, from the last answer of a form's action.
#[component]
pub fn FieldMessage(
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(into)] field: String,
    #[prop(into)] id: String,
) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.for_field(&field)).map(|message| {
            view! {
                <p class="field-error" id=id.clone() role="alert">
                    {message}
                </p>
            }
        })
    }
}

/// A form-level error that is not about one field.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().filter(|e| !e.is_about_fields() || matches!(e, AppError::Fields(f) if f.is_empty())).map(|e| {
            view! {
                <p class="error" role="alert">
                    {e.to_string()}
                </p>
            }
        })
    }
}

/// The error of an action's last answer, if it failed.
pub fn last_error<T, S>(value: S) -> Signal<Option<AppError>>
where
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|r| r.err()))
}

/// An error shown in place of what could not be loaded.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    view! {
        <p class="error" role="alert">
            {error.to_string()}
        </p>
    }
}

/// Messages for every field under `prefix`.
pub fn messages_under(error: Option<AppError>, prefix: &str) -> Vec<String> {
    match error {
        Some(AppError::Fields(fields)) => fields
            .into_iter()
            .filter(|f| f.field == prefix || f.field.starts_with(&format!("{prefix}/")))
            .map(|f| f.message)
            .collect(),
        Some(AppError::Invalid { field, message }) if field == prefix || field.starts_with(&format!("{prefix}/")) => {
            vec![message]
        }
        _ => Vec::new(),
    }
}

/// A number typed into a field, or a message for that field saying `what`
/// is expected.
pub fn number<T: std::str::FromStr>(field: &str, text: &str, what: &str) -> Result<T, AppError> {
    text.trim().parse::<T>().map_err(|_| AppError::invalid(field, what))
}

/// A button whose action is confirmed first: a click asks `question`, and
/// only `yes` goes ahead.
#[component]
pub fn ConfirmButton(
    #[prop(into)] label: String,
    #[prop(into)] question: String,
    #[prop(into)] yes: String,
    on_yes: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    view! {
        <Show
            when=move || asking.get()
            fallback=move || {
                let label = label.clone();
                view! { <button type="button" on:click=move |_| asking.set(true)>{label}</button> }
            }
        >
            <span class="confirm" role="group" aria-label="Confirm">
                {question.clone()} " "
                <button type="button" class="danger" on:click=move |_| {
                    asking.set(false);
                    on_yes.run(());
                }>{yes.clone()}</button>
                " "
                <button type="button" class="secondary" on:click=move |_| asking.set(false)>"Cancel"</button>
            </span>
        </Show>
    }
}
