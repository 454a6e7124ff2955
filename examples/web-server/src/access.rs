//! Who may do what: the roles and cases a token grants, and the policy every request's
//! store goes through.
//!
//! A token's `roles` claim names [`Role`]s (`reader`, `editor`, …, as renraku-core names
//! them); a token without it gets the server's default roles (`RENRAKU_DEFAULT_ROLES`). Its
//! optional `cases` claim restricts it to the listed cases. Each request gets the store
//! wrapped in renraku-core's [`PolicyRepository`] with a [`TokenPolicy`]: the role-based
//! policy, within the token's cases. Handlers reach the store only through it (see
//! [`Principal::store`]), so every route is decided by the same policy, before any storage
//! is touched.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use renraku_core::access::{AccessPolicy, Action, PolicyRepository, Role, Roles, Scope};
use renraku_core::{Actor, CaseId, ContactRepository, Error, async_trait};

/// The roles of a token without a `roles` claim, unless configured otherwise: everything a
/// user could do before roles existed (read, edit, erase a case, read the audit trail, find,
/// export and erase a person across cases). Not `retention`: the server's own task purges.
pub const DEFAULT_ROLES: [Role; 6] =
    [Role::Reader, Role::Editor, Role::Eraser, Role::Auditor, Role::Searcher, Role::Privacy];

/// A set of roles as configuration writes it: names separated by commas (`reader,editor`);
/// empty for none.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RoleList(pub Roles);

impl Default for RoleList {
    fn default() -> Self {
        Self(DEFAULT_ROLES.into_iter().collect())
    }
}

impl FromStr for RoleList {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut roles = Roles::NONE;
        for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            let role = name.parse::<Role>().map_err(|_| {
                let known = Role::ALL.map(Role::as_str).join(", ");
                format!("{name:?} is not a role; the roles are {known}")
            })?;
            roles = roles.with(role);
        }
        Ok(Self(roles))
    }
}

impl fmt::Display for RoleList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.iter().map(Role::as_str).collect::<Vec<_>>().join(","))
    }
}

impl fmt::Debug for RoleList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoleList({self})")
    }
}

/// The role-based policy within the cases of a token: an action is allowed when one of the
/// actor's roles grants it and, for a token restricted to some cases, it is in one of them
/// (a restricted token does nothing across cases).
#[derive(Debug, Clone, Default)]
pub(crate) struct TokenPolicy {
    cases: Option<Arc<[CaseId]>>,
}

impl TokenPolicy {
    /// Whether the scope is within the token's cases.
    fn reaches(&self, scope: Scope<'_>) -> bool {
        match (&self.cases, scope) {
            (None, _) => true,
            (Some(cases), Scope::Case(case)) => cases.contains(case),
            (Some(_), Scope::AcrossCases) => false,
        }
    }
}

#[async_trait]
impl AccessPolicy for TokenPolicy {
    async fn allows(&self, actor: &Actor, scope: Scope<'_>, action: Action) -> bool {
        // RoleBasedPolicy's rule, without awaiting its boxed future.
        self.reaches(scope) && actor.roles().grants(action)
    }
}

/// The store of one request: the server's store behind the request's policy.
pub(crate) type Guarded = PolicyRepository<Arc<dyn ContactRepository>, TokenPolicy>;

/// Asks the request's policy, as its store would, whether `actor` may do `action` in
/// `case`: for the pages that offer an action (a form, a confirmation) before doing it.
///
/// # Errors
/// [`Error::Denied`] if the policy denies it.
pub(crate) async fn require(
    store: &Guarded,
    actor: &Actor,
    case: &CaseId,
    action: Action,
) -> Result<(), Error> {
    let scope = Scope::of(case);
    if store.policy().allows(actor, scope, action).await { Ok(()) } else { Err(Error::denied(action, scope)) }
}

/// The user of a request: the actor with its roles, and the cases its token is restricted
/// to (`None`: every case).
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub(crate) actor: Actor,
    pub(crate) cases: Option<Arc<[CaseId]>>,
}

impl Principal {
    /// The store as this user may use it: every operation asks the policy first.
    pub(crate) fn store(&self, store: &Arc<dyn ContactRepository>) -> Guarded {
        PolicyRepository::new(Arc::clone(store), TokenPolicy { cases: self.cases.clone() })
    }

    /// What the pages offer this user (the policy decides again on every request).
    pub(crate) fn may(&self) -> May {
        let roles = self.actor.roles();
        May {
            read: roles.grants(Action::Read),
            search: roles.grants(Action::Search),
            privacy: roles.grants(Action::ExportPerson) || roles.grants(Action::ErasePerson),
            create: roles.grants(Action::Create),
            edit: roles.grants(Action::Update),
            delete: roles.grants(Action::Delete),
            erase: roles.grants(Action::EraseCase),
            audit: roles.grants(Action::ReadAudit),
        }
    }

    /// The names of the user's roles, for the session page.
    pub(crate) fn role_names(&self) -> Vec<&'static str> {
        self.actor.roles().iter().map(Role::as_str).collect()
    }

    /// The cases the token is restricted to, for the session page.
    pub(crate) fn case_names(&self) -> Option<Vec<String>> {
        self.cases.as_ref().map(|cases| cases.iter().map(ToString::to_string).collect())
    }
}

/// Which buttons and links the pages show: what the user's roles grant. Within a case the
/// user cannot reach, every page is a 403 anyway.
#[derive(Debug, Clone, Copy, Default)]
#[allow(clippy::struct_excessive_bools)] // one flag per action, read by the templates
pub(crate) struct May {
    pub(crate) read: bool,
    pub(crate) search: bool,
    pub(crate) privacy: bool,
    pub(crate) create: bool,
    pub(crate) edit: bool,
    pub(crate) delete: bool,
    pub(crate) erase: bool,
    pub(crate) audit: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Handlers reach the store only through the request's policy: no module but `lib.rs`
    /// (which wraps it) touches the state's store.
    #[test]
    fn no_handler_goes_around_the_policy() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|name| name == "lib.rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            // Spelled in parts, so that this test does not find itself.
            for needle in [["state", ".store()"].concat(), ["shared", "_store()"].concat()] {
                let allowed = path.ends_with("auth.rs") && needle.starts_with("shared");
                assert!(allowed || !source.contains(needle.as_str()), "{} uses {needle}", path.display());
            }
        }
    }

    #[tokio::test]
    async fn the_policy_is_the_roles_within_the_cases() {
        let case = CaseId::new("42").unwrap();
        let other = CaseId::new("43").unwrap();
        let reader = Actor::new("u").unwrap().with_roles([Role::Reader, Role::Searcher]);
        let open = TokenPolicy::default();
        assert!(open.allows(&reader, Scope::Case(&case), Action::Read).await);
        assert!(!open.allows(&reader, Scope::Case(&case), Action::Update).await);
        assert!(open.allows(&reader, Scope::AcrossCases, Action::Search).await);
        let restricted = TokenPolicy { cases: Some(Arc::from([case.clone()])) };
        assert!(restricted.allows(&reader, Scope::Case(&case), Action::Read).await);
        assert!(!restricted.allows(&reader, Scope::Case(&other), Action::Read).await);
        assert!(!restricted.allows(&reader, Scope::AcrossCases, Action::Search).await);
        let nobody = Actor::new("u").unwrap();
        assert!(!open.allows(&nobody, Scope::Case(&case), Action::Read).await);
    }

    #[test]
    fn role_lists_parse_names_and_refuse_others() {
        assert_eq!(
            "reader, editor".parse::<RoleList>().unwrap().0.iter().collect::<Vec<_>>(),
            [Role::Reader, Role::Editor]
        );
        assert!("".parse::<RoleList>().unwrap().0.is_empty());
        assert!("reader,admin".parse::<RoleList>().unwrap_err().contains("admin"));
        assert_eq!(RoleList::default().to_string(), "reader,editor,eraser,auditor,searcher,privacy");
    }
}
