//! Users: create, change role and queues, disable, reset password.

use crossdock::accounts::Role;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::forms::{ConfirmButton, FieldMessage, FormError, last_error};
use crate::components::loaded::Loaded;
use crate::dto::UserEntry;
use crate::serverfns::queues::list_queues;
use crate::serverfns::users::{CreateUser, ResetPassword, SetUserDisabled, UpdateUser, list_users};

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let disable = ServerAction::<SetUserDisabled>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let users = Resource::new(
        move || (create.version().get(), update.version().get(), disable.version().get()),
        |_| list_users(),
    );
    let queues = Resource::new(|| (), |_| list_queues());
    // Read inside the loaded views only, so the server's page and the
    // browser's first render agree.
    let queue_keys = Signal::derive(move || {
        queues
            .get()
            .and_then(Result::ok)
            .map(|(q, _)| q.into_iter().map(|q| q.key).collect::<Vec<_>>())
            .unwrap_or_default()
    });

    view! {
        <section class="page">
            <h1>"Users"</h1>
            <Loaded resource=users what="users" show=move |list| {
                                view! {
                                    <table class="grid" aria-label="Users">
                                        <thead>
                                            <tr>
                                                <th scope="col">"User name"</th>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"Role"</th>
                                                <th scope="col">"Queues"</th>
                                                <th scope="col">"Status"</th>
                                                <th scope="col">"Actions"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {list
                                                .into_iter()
                                                .map(|user| view! { <UserRow user update disable reset queue_keys /> })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                }
                                    .into_any()
                            } />
            <FormError error=last_error(update.value()) />
            <FormError error=last_error(disable.value()) />
            <Loaded resource=queues what="queues" show=move |(list, _)| {
                let keys: Vec<String> = list.into_iter().map(|q| q.key).collect();
                view! { <CreateUserForm create queue_keys=Signal::derive(move || keys.clone()) /> }
            } />
        </section>
    }
}

fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .iter()
        .map(|r| view! { <option value=r.as_str() selected=*r == selected>{r.label()}</option> })
        .collect_view()
}

/// Checkboxes for the queues a user works in.
#[component]
fn QueuePicker(id_prefix: String, queue_keys: Signal<Vec<String>>, chosen: RwSignal<Vec<String>>) -> impl IntoView {
    view! {
        <fieldset class="queues">
            <legend>"Queues (staff)"</legend>
            {move || {
                queue_keys
                    .get()
                    .into_iter()
                    .map(|key| {
                        let id = format!("{id_prefix}-{key}");
                        let label_for = id.clone();
                        let k = key.clone();
                        let checked = move || chosen.get().contains(&k);
                        let k2 = key.clone();
                        view! {
                            <label for=label_for class="check">
                                <input
                                    id=id
                                    type="checkbox"
                                    prop:checked=checked
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| {
                                            c.retain(|q| q != &k2);
                                            if on {
                                                c.push(k2.clone());
                                            }
                                        });
                                    }
                                />
                                {key}
                            </label>
                        }
                    })
                    .collect_view()
            }}
        </fieldset>
    }
}

#[component]
fn UserRow(
    user: UserEntry,
    update: ServerAction<UpdateUser>,
    disable: ServerAction<SetUserDisabled>,
    reset: ServerAction<ResetPassword>,
    queue_keys: Signal<Vec<String>>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let display = RwSignal::new(user.display_name.clone());
    let role = RwSignal::new(user.role.as_str().to_owned());
    let chosen = RwSignal::new(user.queues.clone());
    let password = RwSignal::new(String::new());
    let id = user.id;
    let name = user.username.clone();
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        update.dispatch(UpdateUser { id, display_name: display.get(), role: role.get(), queues: chosen.get() });
        editing.set(false);
    };
    let reset_now = move |ev: SubmitEvent| {
        ev.prevent_default();
        reset.dispatch(ResetPassword { id, password: password.get() });
    };
    let reset_error = last_error(reset.value());
    let reset_done = move || matches!(reset.value().get(), Some(Ok(())));
    let status = if user.disabled { "Disabled" } else { "Active" };
    view! {
        <tr>
            <td>{user.username.clone()} {user.demo.then_some(" (demo)")}</td>
            <td>{user.display_name.clone()}</td>
            <td>{user.role.label()}</td>
            <td>{user.queues.join(", ")}</td>
            <td>{status}</td>
            <td class="actions">
                <button type="button" on:click=move |_| editing.update(|e| *e = !*e)>
                    {format!("Edit {name}")}
                </button>
                {if user.disabled {
                    view! {
                        <button type="button" on:click=move |_| { disable.dispatch(SetUserDisabled { id, disabled: false }); }>
                            {format!("Enable {name}")}
                        </button>
                    }.into_any()
                } else {
                    let on_yes = Callback::new(move |()| { disable.dispatch(SetUserDisabled { id, disabled: true }); });
                    view! {
                        <ConfirmButton
                            label=format!("Disable {name}")
                            question=format!("Disable {name}? Their sessions end at once.")
                            yes=format!("Yes, disable {name}")
                            on_yes
                        />
                    }.into_any()
                }}
            </td>
        </tr>
        <Show when=move || editing.get()>
            <tr class="editor">
                <td colspan="6">
                    <form class="form inline" on:submit=save>
                        <div class="field">
                            <label for=format!("display-{id}")>"Name"</label>
                            <input
                                id=format!("display-{id}")
                                prop:value=display
                                on:input=move |ev| display.set(event_target_value(&ev))
                            />
                        </div>
                        <div class="field">
                            <label for=format!("role-{id}")>"Role"</label>
                            <select id=format!("role-{id}") on:change=move |ev| role.set(event_target_value(&ev))>
                                {role_options(user.role)}
                            </select>
                        </div>
                        <QueuePicker id_prefix=format!("queues-{id}") queue_keys chosen />
                        <button type="submit">"Save"</button>
                    </form>
                    <form class="form inline" on:submit=reset_now>
                        <div class="field">
                            <label for=format!("password-{id}")>"New password"</label>
                            <input
                                id=format!("password-{id}")
                                type="password"
                                autocomplete="new-password"
                                prop:value=password
                                on:input=move |ev| password.set(event_target_value(&ev))
                            />
                            <FieldMessage error=reset_error field="password" id="reset-password-error" />
                        </div>
                        <button type="submit">"Reset password"</button>
                        <Show when=reset_done>
                            <p role="status">"Password reset; their sessions have ended."</p>
                        </Show>
                    </form>
                </td>
            </tr>
        </Show>
    }
}

#[component]
fn CreateUserForm(create: ServerAction<CreateUser>, queue_keys: Signal<Vec<String>>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let display = RwSignal::new(String::new());
    let role = RwSignal::new("staff".to_owned());
    let password = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let error = last_error(create.value());
    // A staff member without queues sees nothing: asked before creating one.
    let asking = RwSignal::new(false);
    let send = move || {
        asking.set(false);
        create.dispatch(CreateUser {
            username: username.get(),
            display_name: display.get(),
            role: role.get(),
            password: password.get(),
            queues: chosen.get(),
        });
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if role.get_untracked() == "staff" && chosen.get_untracked().is_empty() {
            asking.set(true);
        } else {
            send();
        }
    };
    // Clear the form once a user is created.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            username.set(String::new());
            display.set(String::new());
            password.set(String::new());
            chosen.set(Vec::new());
        }
    });
    view! {
        <h2>"New user"</h2>
        <form class="form" on:submit=submit aria-label="New user">
            <div class="field">
                <label for="new-username">"User name"</label>
                <input
                    id="new-username"
                    autocomplete="off"
                    prop:value=username
                    on:input=move |ev| username.set(event_target_value(&ev))
                    aria-describedby="new-username-error"
                />
                <FieldMessage error field="username" id="new-username-error" />
            </div>
            <div class="field">
                <label for="new-display">"Name"</label>
                <input
                    id="new-display"
                    prop:value=display
                    on:input=move |ev| display.set(event_target_value(&ev))
                    aria-describedby="new-display-error"
                />
                <FieldMessage error field="display_name" id="new-display-error" />
            </div>
            <div class="field">
                <label for="new-role">"Role"</label>
                <select id="new-role" on:change=move |ev| role.set(event_target_value(&ev))>
                    {role_options(Role::Staff)}
                </select>
                <FieldMessage error field="role" id="new-role-error" />
            </div>
            <div class="field">
                <label for="new-password">"Password"</label>
                <input
                    id="new-password"
                    type="password"
                    autocomplete="new-password"
                    prop:value=password
                    on:input=move |ev| password.set(event_target_value(&ev))
                    aria-describedby="new-password-error"
                />
                <FieldMessage error field="password" id="new-password-error" />
            </div>
            <QueuePicker id_prefix="new-queues".to_owned() queue_keys chosen />
            <FieldMessage error field="queues" id="new-queues-error" />
            <FormError error />
            <Show when=move || asking.get()>
                <div class="confirm" role="group" aria-label="Confirm">
                    <p>"A staff member without queues sees no exceptions. Create this user without queues?"</p>
                    <button type="button" class="danger" on:click=move |_| send()>"Create without queues"</button>
                    " "
                    <button type="button" class="secondary" on:click=move |_| asking.set(false)>"Choose queues"</button>
                </div>
            </Show>
            <button type="submit">"Create user"</button>
            <Show when=move || matches!(create.value().get(), Some(Ok(_)))>
                <p role="status">"User created."</p>
            </Show>
        </form>
    }
}
