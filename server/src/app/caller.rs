//! Who is asking: the one `Caller` every use case takes, whatever door (token, session cookie,
//! command line) it came through. What a caller may read, follow and append is decided here and
//! in `disclosure`; how a request finds its caller is `access`'s business.

use std::collections::BTreeSet;

use parcours_core::store::access::{Role, TokenRecord};
use parcours_core::store::{Author, WriteScope};
use parcours_core::vocabulary::{Actor, Slug};

/// The actor id of the environment's admin token (`PARCOURS_ADMIN_TOKEN`), in `recorded_by`.
pub const ENV_ADMIN_ACTOR: &str = "admin:env";

/// Who the command line acts as, in `recorded_by` and `created_by`: whoever can open the data
/// directory holds every right over it.
pub const CLI_ACTOR: &str = "cli";

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// A token's id (never the token): what `recorded_by` and the access log name.
    pub actor: Actor,
    pub role: Role,
    /// The structures of a coordinator; empty for the other roles.
    pub structures: Vec<Slug>,
    /// Set when the caller came with the session cookie: its CSRF token.
    pub csrf: Option<String>,
}

impl Caller {
    pub fn from_token(record: &TokenRecord) -> Caller {
        Caller { actor: Actor(record.id.clone()), role: record.role, structures: record.structures.clone(), csrf: None }
    }

    pub fn env_admin() -> Caller {
        Caller { actor: Actor(ENV_ADMIN_ACTOR.into()), role: Role::Admin, structures: Vec::new(), csrf: None }
    }

    /// Whoever opens the data directory holds every right over it: the command line acts as an admin.
    pub fn command_line() -> Caller {
        Caller { actor: Actor(CLI_ACTOR.into()), role: Role::Admin, structures: Vec::new(), csrf: None }
    }

    /// Whether the caller may read the stream of a person registered in, or referred to, these
    /// structures. Evaluators read no stream.
    pub fn may_read(&self, structures: &BTreeSet<Slug>) -> bool {
        match self.role {
            Role::Admin | Role::Auditor => true,
            Role::Coordinator => self.structures.iter().any(|mine| structures.contains(mine)),
            Role::Evaluator => false,
        }
    }

    /// Whether the caller may see figures about this structure (dashboards, exact statistics).
    pub fn may_follow(&self, structure: &Slug) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Coordinator => self.structures.contains(structure),
            Role::Auditor | Role::Evaluator => false,
        }
    }

    /// Who appends, with the scope the writer enforces.
    pub fn author(&self) -> Author {
        let scope = match self.role {
            Role::Coordinator => WriteScope::Structures(self.structures.clone()),
            _ => WriteScope::Everything,
        };
        Author { actor: self.actor.clone(), scope }
    }
}
