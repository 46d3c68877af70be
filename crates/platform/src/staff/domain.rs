//! Who may do what to staff accounts. Pure: no I/O.
//!
//! - Nobody grants a role above their own.
//! - Nobody changes an account whose role is above their own.
//! - Nobody disables their own account (ask another owner).
//! - A tenant keeps at least one active owner.

use faro_auth::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The role asked for is above the actor's.
    AboveOwnRole,
    /// The account's role is above the actor's.
    OutranksYou,
    /// The actor's own account cannot be disabled by the actor.
    OwnAccount,
    /// The change would leave the tenant without an active owner.
    LastOwner,
}

pub fn may_create(actor: Role, role: Role) -> Result<(), Refusal> {
    if role > actor {
        Err(Refusal::AboveOwnRole)
    } else {
        Ok(())
    }
}

/// An account as far as these rules go.
#[derive(Clone, Copy, Debug)]
pub struct Account {
    pub role: Role,
    pub disabled: bool,
    pub is_actor: bool,
}

/// `active_owners`: the tenant's active owners now, this account included.
pub fn may_change(
    actor: Role,
    target: Account,
    new_role: Option<Role>,
    disable: Option<bool>,
    active_owners: usize,
) -> Result<(), Refusal> {
    if target.role > actor {
        return Err(Refusal::OutranksYou);
    }
    if new_role.is_some_and(|r| r > actor) {
        return Err(Refusal::AboveOwnRole);
    }
    if target.is_actor && disable == Some(true) {
        return Err(Refusal::OwnAccount);
    }
    let active_owner_now = target.role == Role::Owner && !target.disabled;
    let active_owner_after =
        new_role.unwrap_or(target.role) == Role::Owner && !disable.unwrap_or(target.disabled);
    if active_owner_now && !active_owner_after && active_owners <= 1 {
        return Err(Refusal::LastOwner);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn role() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }

    #[test]
    fn an_admin_manages_admins_and_below_but_not_owners() {
        assert_eq!(
            may_create(Role::Admin, Role::Owner),
            Err(Refusal::AboveOwnRole)
        );
        assert_eq!(may_create(Role::Admin, Role::Admin), Ok(()));
        let owner = Account {
            role: Role::Owner,
            disabled: false,
            is_actor: false,
        };
        assert_eq!(
            may_change(Role::Admin, owner, None, Some(true), 2),
            Err(Refusal::OutranksYou)
        );
        let agent = Account {
            role: Role::Agent,
            disabled: false,
            is_actor: false,
        };
        assert_eq!(
            may_change(Role::Admin, agent, Some(Role::Owner), None, 1),
            Err(Refusal::AboveOwnRole)
        );
        assert_eq!(
            may_change(Role::Admin, agent, Some(Role::Viewer), Some(true), 1),
            Ok(())
        );
    }

    #[test]
    fn the_last_owner_stays_and_nobody_disables_themselves() {
        let me = Account {
            role: Role::Owner,
            disabled: false,
            is_actor: true,
        };
        assert_eq!(
            may_change(Role::Owner, me, Some(Role::Admin), None, 1),
            Err(Refusal::LastOwner)
        );
        assert_eq!(
            may_change(Role::Owner, me, Some(Role::Admin), None, 2),
            Ok(())
        );
        assert_eq!(
            may_change(Role::Owner, me, None, Some(true), 2),
            Err(Refusal::OwnAccount)
        );
    }

    proptest! {
        /// Whatever is allowed leaves an active owner behind and never lifts anyone above the
        /// actor.
        #[test]
        fn allowed_changes_keep_an_owner_and_the_ranks(
            actor in role(), target_role in role(), disabled: bool, is_actor: bool,
            new_role in prop::option::of(role()), disable in prop::option::of(any::<bool>()),
            owners in 0usize..4,
        ) {
            let active_owner = target_role == Role::Owner && !disabled;
            let owners = owners.max(usize::from(active_owner));
            let target = Account { role: target_role, disabled, is_actor };
            if may_change(actor, target, new_role, disable, owners).is_ok() {
                prop_assert!(target_role <= actor);
                prop_assert!(new_role.is_none_or(|r| r <= actor));
                let after_owner = new_role.unwrap_or(target_role) == Role::Owner
                    && !disable.unwrap_or(disabled);
                let owners_after = owners - usize::from(active_owner) + usize::from(after_owner);
                prop_assert!(owners_after >= 1 || owners == 0);
                prop_assert!(!(is_actor && disable == Some(true)));
            }
        }
    }
}
