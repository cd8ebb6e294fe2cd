//! A registered person (stream `person-<uuid>`): their family members, the health
//! declarations and entry registrations filed for them.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::document::DocumentDigest;
use crate::health::{Declaration, Entry};
use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::Decider;

/// How a family member relates to the guardian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Child,
    Parent,
    Spouse,
    Grandparent,
    Grandchild,
    Sibling,
    Other,
}

impl Relation {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "child" => Some(Relation::Child),
            "parent" => Some(Relation::Parent),
            "spouse" => Some(Relation::Spouse),
            "grandparent" => Some(Relation::Grandparent),
            "grandchild" => Some(Relation::Grandchild),
            "sibling" => Some(Relation::Sibling),
            "other" => Some(Relation::Other),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Child => "child",
            Relation::Parent => "parent",
            Relation::Spouse => "spouse",
            Relation::Grandparent => "grandparent",
            Relation::Grandchild => "grandchild",
            Relation::Sibling => "sibling",
            Relation::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonCommand {
    /// Opens the person's stream at registration.
    Create {
        digest: DocumentDigest,
        at: OffsetDateTime,
    },
    AddFamilyMember {
        member: PersonId,
        relation: Relation,
        at: OffsetDateTime,
    },
    RemoveFamilyMember {
        member: PersonId,
        at: OffsetDateTime,
    },
    /// On the member's own stream: `guardian` added them to their family.
    LinkGuardian {
        guardian: PersonId,
        at: OffsetDateTime,
    },
    /// On the member's own stream: `guardian` removed them.
    UnlinkGuardian {
        guardian: PersonId,
        at: OffsetDateTime,
    },
    /// A declaration for this person, filed by `by` (the person or their guardian).
    FileDeclaration {
        declaration_id: Uuid,
        by: PersonId,
        org_id: Option<Uuid>,
        declaration: Declaration,
        at: OffsetDateTime,
    },
    RegisterEntry {
        entry_id: Uuid,
        entry: Entry,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum PersonEvent {
    PersonCreated {
        digest: DocumentDigest,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    FamilyMemberAdded {
        member: PersonId,
        relation: Relation,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    FamilyMemberRemoved {
        member: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GuardianLinked {
        guardian: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    GuardianUnlinked {
        guardian: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    DeclarationFiled {
        declaration_id: Uuid,
        by: PersonId,
        org_id: Option<Uuid>,
        declaration: Declaration,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    EntryRegistered {
        entry_id: Uuid,
        entry: Entry,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for PersonEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum PersonState {
    Absent,
    Active {
        digest: DocumentDigest,
        /// The members of this person's family.
        family: BTreeMap<PersonId, Relation>,
        /// The people whose family this person is a member of (they may act for them).
        guardians: BTreeSet<PersonId>,
    },
}

impl PersonState {
    /// Whether `member` is in this person's family.
    pub fn has_family_member(&self, member: PersonId) -> bool {
        match self {
            PersonState::Active { family, .. } => family.contains_key(&member),
            PersonState::Absent => false,
        }
    }
}

/// Whether `actor` may act for `subject` (declare, bind to an organisation, check in): they
/// are the subject, or one of the subject's guardians. `subject_state` is the subject's own
/// stream, which records their guardians (`Absent` will do when `actor` is `subject`).
pub fn may_act_for(actor: PersonId, subject: PersonId, subject_state: &PersonState) -> bool {
    actor == subject
        || match subject_state {
            PersonState::Active { guardians, .. } => guardians.contains(&actor),
            PersonState::Absent => false,
        }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonError {
    #[error("the person is already registered")]
    AlreadyCreated,
    #[error("no such person")]
    Unknown,
    #[error("a person cannot add themselves as a family member")]
    CannotAddSelf,
    #[error("this person is already a family member")]
    AlreadyFamilyMember,
    #[error("this person is not a family member")]
    NotFamilyMember,
    #[error("you may declare only for yourself or a member of your family")]
    NotGuardian,
}

impl Refusal for PersonError {
    fn code(&self) -> &'static str {
        match self {
            PersonError::AlreadyCreated => "person.already_registered",
            PersonError::Unknown => "person.unknown",
            PersonError::CannotAddSelf => "family.self",
            PersonError::AlreadyFamilyMember => "family.already_member",
            PersonError::NotFamilyMember => "family.not_a_member",
            PersonError::NotGuardian => FORBIDDEN,
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            PersonError::AlreadyCreated
            | PersonError::CannotAddSelf
            | PersonError::AlreadyFamilyMember => RefusalKind::Conflict,
            PersonError::Unknown | PersonError::NotFamilyMember => RefusalKind::NotFound,
            PersonError::NotGuardian => RefusalKind::Forbidden,
        }
    }
}

/// The person aggregate.
#[derive(Debug)]
pub struct Person;

impl Person {
    /// Decides with the person's own id known (the stream's id), for the self-check.
    pub fn decide_for(
        me: PersonId,
        command: &PersonCommand,
        state: &PersonState,
    ) -> Result<Vec<PersonEvent>, PersonError> {
        match command {
            PersonCommand::AddFamilyMember { member, .. } if *member == me => {
                return Err(PersonError::CannotAddSelf)
            }
            PersonCommand::FileDeclaration { by, .. } if !may_act_for(*by, me, state) => {
                return Err(PersonError::NotGuardian)
            }
            PersonCommand::Create { .. }
            | PersonCommand::AddFamilyMember { .. }
            | PersonCommand::RemoveFamilyMember { .. }
            | PersonCommand::LinkGuardian { .. }
            | PersonCommand::UnlinkGuardian { .. }
            | PersonCommand::FileDeclaration { .. }
            | PersonCommand::RegisterEntry { .. } => {}
        }
        Self::decide(command, state)
    }
}

impl Decider for Person {
    type Command = PersonCommand;
    type Event = PersonEvent;
    type State = PersonState;
    type Error = PersonError;

    fn initial() -> PersonState {
        PersonState::Absent
    }

    fn decide(
        command: &PersonCommand,
        state: &PersonState,
    ) -> Result<Vec<PersonEvent>, PersonError> {
        let family = match (command, state) {
            (PersonCommand::Create { digest, at }, PersonState::Absent) => {
                return Ok(vec![PersonEvent::PersonCreated {
                    digest: digest.clone(),
                    at: *at,
                }])
            }
            (PersonCommand::Create { .. }, PersonState::Active { .. }) => {
                return Err(PersonError::AlreadyCreated)
            }
            (
                PersonCommand::AddFamilyMember { .. }
                | PersonCommand::RemoveFamilyMember { .. }
                | PersonCommand::LinkGuardian { .. }
                | PersonCommand::UnlinkGuardian { .. }
                | PersonCommand::FileDeclaration { .. }
                | PersonCommand::RegisterEntry { .. },
                PersonState::Absent,
            ) => return Err(PersonError::Unknown),
            (
                PersonCommand::AddFamilyMember { .. }
                | PersonCommand::RemoveFamilyMember { .. }
                | PersonCommand::LinkGuardian { .. }
                | PersonCommand::UnlinkGuardian { .. }
                | PersonCommand::FileDeclaration { .. }
                | PersonCommand::RegisterEntry { .. },
                PersonState::Active {
                    family, guardians, ..
                },
            ) => (family, guardians),
        };
        let (family, guardians) = family;
        match command {
            PersonCommand::Create { .. } => Err(PersonError::AlreadyCreated),
            PersonCommand::AddFamilyMember {
                member,
                relation,
                at,
            } => {
                if family.contains_key(member) {
                    return Err(PersonError::AlreadyFamilyMember);
                }
                Ok(vec![PersonEvent::FamilyMemberAdded {
                    member: *member,
                    relation: *relation,
                    at: *at,
                }])
            }
            PersonCommand::RemoveFamilyMember { member, at } => {
                if !family.contains_key(member) {
                    return Err(PersonError::NotFamilyMember);
                }
                Ok(vec![PersonEvent::FamilyMemberRemoved {
                    member: *member,
                    at: *at,
                }])
            }
            PersonCommand::LinkGuardian { guardian, at } => {
                if guardians.contains(guardian) {
                    return Err(PersonError::AlreadyFamilyMember);
                }
                Ok(vec![PersonEvent::GuardianLinked {
                    guardian: *guardian,
                    at: *at,
                }])
            }
            PersonCommand::UnlinkGuardian { guardian, at } => {
                if !guardians.contains(guardian) {
                    return Err(PersonError::NotFamilyMember);
                }
                Ok(vec![PersonEvent::GuardianUnlinked {
                    guardian: *guardian,
                    at: *at,
                }])
            }
            PersonCommand::FileDeclaration {
                declaration_id,
                by,
                org_id,
                declaration,
                at,
            } => Ok(vec![PersonEvent::DeclarationFiled {
                declaration_id: *declaration_id,
                by: *by,
                org_id: *org_id,
                declaration: declaration.clone(),
                at: *at,
            }]),
            PersonCommand::RegisterEntry {
                entry_id,
                entry,
                at,
            } => Ok(vec![PersonEvent::EntryRegistered {
                entry_id: *entry_id,
                entry: entry.clone(),
                at: *at,
            }]),
        }
    }

    fn evolve(state: PersonState, event: &PersonEvent) -> PersonState {
        let (digest, mut family, mut guardians) = match state {
            PersonState::Absent => {
                return match event {
                    PersonEvent::PersonCreated { digest, .. } => PersonState::Active {
                        digest: digest.clone(),
                        family: BTreeMap::new(),
                        guardians: BTreeSet::new(),
                    },
                    PersonEvent::FamilyMemberAdded { .. }
                    | PersonEvent::FamilyMemberRemoved { .. }
                    | PersonEvent::GuardianLinked { .. }
                    | PersonEvent::GuardianUnlinked { .. }
                    | PersonEvent::DeclarationFiled { .. }
                    | PersonEvent::EntryRegistered { .. } => PersonState::Absent,
                }
            }
            PersonState::Active {
                digest,
                family,
                guardians,
            } => (digest, family, guardians),
        };
        match event {
            PersonEvent::FamilyMemberAdded {
                member, relation, ..
            } => {
                family.insert(*member, *relation);
            }
            PersonEvent::FamilyMemberRemoved { member, .. } => {
                family.remove(member);
            }
            PersonEvent::GuardianLinked { guardian, .. } => {
                guardians.insert(*guardian);
            }
            PersonEvent::GuardianUnlinked { guardian, .. } => {
                guardians.remove(guardian);
            }
            PersonEvent::PersonCreated { .. }
            | PersonEvent::DeclarationFiled { .. }
            | PersonEvent::EntryRegistered { .. } => {}
        }
        PersonState::Active {
            digest,
            family,
            guardians,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{DeclarationInput, EntryInput};
    use crate::Given;
    use time::macros::{date, datetime};

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn id(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn created() -> PersonEvent {
        PersonEvent::PersonCreated {
            digest: DocumentDigest::parse("d".repeat(64)).expect("digest"),
            at: AT,
        }
    }

    fn added(n: u128) -> PersonEvent {
        PersonEvent::FamilyMemberAdded {
            member: id(n),
            relation: Relation::Child,
            at: AT,
        }
    }

    #[test]
    fn family_members_are_added_without_limit_and_once_each() {
        let history: Vec<PersonEvent> = std::iter::once(created())
            .chain((2..60).map(added))
            .collect();
        Given::<Person>::events(history.clone())
            .when(&PersonCommand::AddFamilyMember {
                member: id(60),
                relation: Relation::Child,
                at: AT,
            })
            .then(vec![added(60)]);
        Given::<Person>::events(history)
            .when(&PersonCommand::AddFamilyMember {
                member: id(2),
                relation: Relation::Parent,
                at: AT,
            })
            .then_error(PersonError::AlreadyFamilyMember);
    }

    #[test]
    fn nobody_adds_themselves() {
        let state = Person::fold(&[created()]);
        assert_eq!(
            Person::decide_for(
                id(1),
                &PersonCommand::AddFamilyMember {
                    member: id(1),
                    relation: Relation::Other,
                    at: AT
                },
                &state
            ),
            Err(PersonError::CannotAddSelf)
        );
    }

    #[test]
    fn removing_needs_a_member_and_ends_the_membership() {
        Given::<Person>::events(vec![created()])
            .when(&PersonCommand::RemoveFamilyMember {
                member: id(2),
                at: AT,
            })
            .then_error(PersonError::NotFamilyMember);
        let removed = PersonEvent::FamilyMemberRemoved {
            member: id(2),
            at: AT,
        };
        Given::<Person>::events(vec![created(), added(2)])
            .when(&PersonCommand::RemoveFamilyMember {
                member: id(2),
                at: AT,
            })
            .then(vec![removed.clone()]);
        assert!(!Person::fold(&[created(), added(2), removed]).has_family_member(id(2)));
    }

    #[test]
    fn declarations_and_entries_are_recorded_as_filed() {
        let declaration = Declaration::parse(&DeclarationInput {
            temperature_c: Some(36.6),
            region: "440106",
            ..DeclarationInput::default()
        })
        .expect("valid");
        Given::<Person>::events(vec![created()])
            .when(&PersonCommand::FileDeclaration {
                declaration_id: Uuid::from_u128(9),
                by: id(1),
                org_id: None,
                declaration: declaration.clone(),
                at: AT,
            })
            .then(vec![PersonEvent::DeclarationFiled {
                declaration_id: Uuid::from_u128(9),
                by: id(1),
                org_id: None,
                declaration,
                at: AT,
            }]);
        let entry = Entry::parse(
            &EntryInput {
                origin: "Wuhan",
                transport: "car",
                trip_number: None,
                arrival_date: "2026-03-02",
                destination: "440106",
            },
            date!(2026 - 03 - 02),
        )
        .expect("valid");
        Given::<Person>::nothing()
            .when(&PersonCommand::RegisterEntry {
                entry_id: Uuid::from_u128(1),
                entry,
                at: AT,
            })
            .then_error(PersonError::Unknown);
    }

    #[test]
    fn only_oneself_or_a_guardian_declares() {
        let declaration = Declaration::parse(&DeclarationInput {
            band: Some("normal"),
            region: "44",
            ..DeclarationInput::default()
        })
        .expect("valid");
        let file = |by: u128| PersonCommand::FileDeclaration {
            declaration_id: Uuid::from_u128(9),
            by: id(by),
            org_id: None,
            declaration: declaration.clone(),
            at: AT,
        };
        let linked = PersonEvent::GuardianLinked {
            guardian: id(2),
            at: AT,
        };
        let member = Person::fold(&[created(), linked.clone()]);
        assert!(Person::decide_for(id(1), &file(1), &member).is_ok());
        assert!(Person::decide_for(id(1), &file(2), &member).is_ok());
        assert_eq!(
            Person::decide_for(id(1), &file(3), &member),
            Err(PersonError::NotGuardian)
        );
        let unlinked = Person::fold(&[
            created(),
            linked,
            PersonEvent::GuardianUnlinked {
                guardian: id(2),
                at: AT,
            },
        ]);
        assert_eq!(
            Person::decide_for(id(1), &file(2), &unlinked),
            Err(PersonError::NotGuardian)
        );
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let table = [
            (
                PersonError::AlreadyCreated,
                "person.already_registered",
                RefusalKind::Conflict,
            ),
            (
                PersonError::Unknown,
                "person.unknown",
                RefusalKind::NotFound,
            ),
            (
                PersonError::CannotAddSelf,
                "family.self",
                RefusalKind::Conflict,
            ),
            (
                PersonError::AlreadyFamilyMember,
                "family.already_member",
                RefusalKind::Conflict,
            ),
            (
                PersonError::NotFamilyMember,
                "family.not_a_member",
                RefusalKind::NotFound,
            ),
            (
                PersonError::NotGuardian,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }

    #[test]
    fn one_acts_for_oneself_and_for_the_members_one_is_guardian_of() {
        let linked = PersonEvent::GuardianLinked {
            guardian: id(2),
            at: AT,
        };
        let member = Person::fold(&[created(), linked.clone()]);
        assert!(may_act_for(id(1), id(1), &member));
        assert!(may_act_for(id(1), id(1), &PersonState::Absent));
        assert!(may_act_for(id(2), id(1), &member));
        assert!(!may_act_for(id(3), id(1), &member));
        assert!(!may_act_for(id(2), id(1), &PersonState::Absent));
        let unlinked = Person::fold(&[
            created(),
            linked,
            PersonEvent::GuardianUnlinked {
                guardian: id(2),
                at: AT,
            },
        ]);
        assert!(!may_act_for(id(2), id(1), &unlinked));
    }

    #[test]
    fn a_person_is_created_once() {
        Given::<Person>::nothing()
            .when(&PersonCommand::Create {
                digest: DocumentDigest::parse("d".repeat(64)).expect("digest"),
                at: AT,
            })
            .then(vec![created()]);
        Given::<Person>::events(vec![created()])
            .when(&PersonCommand::Create {
                digest: DocumentDigest::parse("d".repeat(64)).expect("digest"),
                at: AT,
            })
            .then_error(PersonError::AlreadyCreated);
    }
}
