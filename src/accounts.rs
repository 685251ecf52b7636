//! People: roles, what each role may do, and the values of an account.

use serde::{Deserialize, Serialize};

use crate::named_enum;

named_enum! {
    /// What a person does in Crossdock.
    pub enum Role ("role") {
        /// Works exceptions in the queues they are a member of.
        Staff => "staff",
        /// Sees every queue, reassigns anyone, watches the SLA board.
        Supervisor => "supervisor",
        /// Reads everything, the audit trail included; changes nothing.
        Auditor => "auditor",
        /// Configures users, queues, routing, SLA and retry policies, sources.
        Admin => "admin",
    }
}

impl Role {
    pub const fn label(self) -> &'static str {
        match self {
            Role::Staff => "Staff",
            Role::Supervisor => "Supervisor",
            Role::Auditor => "Auditor",
            Role::Admin => "Admin",
        }
    }

    /// Whether this role may do `permission` at all (staff only within the
    /// queues they are members of).
    pub const fn allows(self, permission: Permission) -> bool {
        use Permission as P;
        match permission {
            P::ViewExceptions => true,
            P::WorkExceptions => matches!(self, Role::Staff | Role::Supervisor | Role::Admin),
            // Auditors read the board; it changes nothing.
            P::ViewSlaBoard => matches!(self, Role::Supervisor | Role::Admin | Role::Auditor),
            P::ReassignAnyone | P::CorrectMessages | P::ConfirmReplays | P::PublishViews => {
                matches!(self, Role::Supervisor | Role::Admin)
            }
            P::ViewAudit => matches!(self, Role::Auditor | Role::Admin),
            P::ManageUsers | P::ManageSources | P::ManageConfiguration => matches!(self, Role::Admin),
        }
    }

    /// Whether the role's reach is limited to its member queues.
    pub const fn limited_to_member_queues(self) -> bool {
        matches!(self, Role::Staff)
    }
}

named_enum! {
    /// Things a person may be allowed to do.
    pub enum Permission ("permission") {
        ViewExceptions => "view_exceptions",
        WorkExceptions => "work_exceptions",
        ReassignAnyone => "reassign_anyone",
        ViewSlaBoard => "view_sla_board",
        /// Correct a failed message before replaying it.
        CorrectMessages => "correct_messages",
        /// Replay a failure filed by a source its connector does not trust.
        ConfirmReplays => "confirm_replays",
        /// Save a queue view for a whole team.
        PublishViews => "publish_views",
        ViewAudit => "view_audit",
        ManageUsers => "manage_users",
        ManageSources => "manage_sources",
        ManageConfiguration => "manage_configuration",
    }
}

named_enum! {
    /// How a person likes their queue list.
    pub enum Density ("list density") {
        /// One line per exception.
        Compact => "compact",
        /// Roomier rows, business keys stacked.
        Comfortable => "comfortable",
    }
}

/// The identity of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

/// A user name: 3 to 64 letters, digits, dots, dashes, underscores or @.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// Why a value of an account was refused; the message is for the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountValueError {
    #[error("a user name is required")]
    UsernameEmpty,
    #[error("a user name is 3 to 64 characters")]
    UsernameLength,
    #[error("a user name uses letters, digits, dots, dashes, underscores or @")]
    UsernameCharacters,
    #[error("a display name is required")]
    DisplayNameEmpty,
    #[error("a display name is at most 100 characters")]
    DisplayNameLength,
    #[error("a display name holds no control characters")]
    DisplayNameCharacters,
}

impl Username {
    pub fn parse(s: &str) -> Result<Self, AccountValueError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(AccountValueError::UsernameEmpty);
        }
        if !(3..=64).contains(&s.chars().count()) {
            return Err(AccountValueError::UsernameLength);
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@')) {
            return Err(AccountValueError::UsernameCharacters);
        }
        // Names are compared without regard to case.
        Ok(Self(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = AccountValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Username::parse(&value)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> Self {
        u.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name people see.
pub fn parse_display_name(s: &str) -> Result<String, AccountValueError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(AccountValueError::DisplayNameEmpty);
    }
    if s.chars().count() > 100 {
        return Err(AccountValueError::DisplayNameLength);
    }
    if !crate::text::is_one_line(s) {
        return Err(AccountValueError::DisplayNameCharacters);
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditors_read_everything_and_change_nothing() {
        for p in Permission::ALL {
            let changes = !matches!(p, Permission::ViewExceptions | Permission::ViewAudit | Permission::ViewSlaBoard);
            assert_eq!(Role::Auditor.allows(*p), !changes, "{p}");
        }
    }

    #[test]
    fn only_admins_manage() {
        for role in Role::ALL {
            for p in [Permission::ManageUsers, Permission::ManageSources, Permission::ManageConfiguration] {
                assert_eq!(role.allows(p), *role == Role::Admin, "{role} {p}");
            }
        }
    }

    #[test]
    fn user_names_are_checked_and_compared_without_case() {
        assert_eq!(Username::parse(" Pat.Lee ").unwrap().as_str(), "pat.lee");
        assert_eq!(Username::parse(""), Err(AccountValueError::UsernameEmpty));
        assert_eq!(Username::parse("ab"), Err(AccountValueError::UsernameLength));
        assert_eq!(Username::parse("pat lee"), Err(AccountValueError::UsernameCharacters));
        assert!(Username::parse(&"a".repeat(65)).is_err());
        assert_eq!(parse_display_name("  "), Err(AccountValueError::DisplayNameEmpty));
        assert_eq!(parse_display_name("Ada\u{0}"), Err(AccountValueError::DisplayNameCharacters));
    }
}
