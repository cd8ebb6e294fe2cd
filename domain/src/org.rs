//! Organisations (组织机构) that collect health declarations from their members (stream
//! `org-<uuid>`), and each member's binding to an org (stream `org-member-<org>-<person>`).
//!
//! One admin has at most one org (the claim stream `org-admin-<person>`, see [`crate::claim`])
//! and one org exactly one admin (fixed at registration). The declaration code is claimed on
//! `code-<code>` so it is never assigned twice. The admin edits the details at most once per
//! natural week (CST).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::code::BindingCode;
use crate::document::DocumentError;
use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::region::RegionCode;
use crate::sealed::Sealed;
use crate::week;
use crate::Decider;

fn refuse(field: &'static str, code: &'static str, detail: impl Into<String>) -> DocumentError {
    DocumentError {
        field,
        code,
        detail: detail.into(),
    }
}

/// Text of 1 to `max` characters without control characters.
fn text(raw: &str, max: usize, field: &'static str) -> Result<String, DocumentError> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0 || n > max || t.chars().any(char::is_control) {
        return Err(refuse(
            field,
            "text.length",
            format!("{field} has 1 to {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// An org's name, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        text(raw, 100, "name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An org's address, 1 to 200 characters (an organisation's, not a person's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgAddress(String);

impl OrgAddress {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        text(raw, 200, "address").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The administrative level the org belongs to (行政归属层级): a named level, or the division
/// code of the region it belongs to (whose length gives the level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AdminLevel(String);

impl AdminLevel {
    pub const NAMED: [&'static str; 5] = ["province", "city", "county", "town", "village"];

    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        let raw = raw.trim();
        if Self::NAMED.contains(&raw) || RegionCode::parse(raw, "level").is_ok() {
            Ok(Self(raw.to_owned()))
        } else {
            Err(refuse(
                "level",
                "level.unknown",
                "level is province, city, county, town, village, or a division code",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The org id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgId(Uuid);

impl OrgId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for OrgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Details as registered (the admin's phone sealed with the admin's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgDetails {
    pub name: OrgName,
    pub address: OrgAddress,
    pub level: AdminLevel,
    pub phone: Sealed,
}

/// An edit: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgChanges {
    pub name: Option<OrgName>,
    pub address: Option<OrgAddress>,
    pub level: Option<AdminLevel>,
    pub phone: Option<Sealed>,
}

impl OrgChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.address.is_none()
            && self.level.is_none()
            && self.phone.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgCommand {
    Register {
        org_id: OrgId,
        admin: PersonId,
        code: BindingCode,
        details: OrgDetails,
        at: OffsetDateTime,
    },
    Edit {
        by: PersonId,
        changes: OrgChanges,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum OrgEvent {
    OrgRegistered {
        org_id: OrgId,
        admin: PersonId,
        code: BindingCode,
        name: OrgName,
        address: OrgAddress,
        level: AdminLevel,
        phone: Sealed,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    OrgDetailsEdited {
        changes: OrgChanges,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for OrgEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum OrgState {
    Absent,
    Active {
        admin: PersonId,
        code: BindingCode,
        #[serde(with = "time::serde::rfc3339::option")]
        last_edit: Option<OffsetDateTime>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("the organisation already exists")]
    AlreadyRegistered,
    #[error("no such organisation")]
    Unknown,
    #[error("only the organisation's admin may do this")]
    NotAdmin,
    #[error("an edit changes at least one of name, address, level, phone")]
    NothingToChange,
    #[error("organisation details may change once per natural week (Monday to Sunday, China Standard Time); next change allowed at {next_allowed_at}")]
    WeeklyEditLimit { next_allowed_at: OffsetDateTime },
}

impl Refusal for OrgError {
    fn code(&self) -> &'static str {
        match self {
            OrgError::AlreadyRegistered => "org.exists",
            OrgError::Unknown => "org.unknown",
            OrgError::NotAdmin => FORBIDDEN,
            OrgError::NothingToChange => "org.nothing_to_change",
            OrgError::WeeklyEditLimit { .. } => "org.weekly_edit_limit",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            OrgError::AlreadyRegistered | OrgError::WeeklyEditLimit { .. } => RefusalKind::Conflict,
            OrgError::Unknown => RefusalKind::NotFound,
            OrgError::NotAdmin => RefusalKind::Forbidden,
            OrgError::NothingToChange => RefusalKind::Invalid { field: "body" },
        }
    }

    fn extensions(&self) -> Vec<(&'static str, String)> {
        match self {
            OrgError::WeeklyEditLimit { next_allowed_at } => {
                vec![("next_allowed_at", week::cst_rfc3339(*next_allowed_at))]
            }
            OrgError::AlreadyRegistered
            | OrgError::Unknown
            | OrgError::NotAdmin
            | OrgError::NothingToChange => Vec::new(),
        }
    }
}

/// The organisation aggregate.
#[derive(Debug)]
pub struct Org;

impl Decider for Org {
    type Command = OrgCommand;
    type Event = OrgEvent;
    type State = OrgState;
    type Error = OrgError;

    fn initial() -> OrgState {
        OrgState::Absent
    }

    fn decide(command: &OrgCommand, state: &OrgState) -> Result<Vec<OrgEvent>, OrgError> {
        match (command, state) {
            (
                OrgCommand::Register {
                    org_id,
                    admin,
                    code,
                    details,
                    at,
                },
                OrgState::Absent,
            ) => Ok(vec![OrgEvent::OrgRegistered {
                org_id: *org_id,
                admin: *admin,
                code: *code,
                name: details.name.clone(),
                address: details.address.clone(),
                level: details.level.clone(),
                phone: details.phone.clone(),
                at: *at,
            }]),
            (OrgCommand::Register { .. }, OrgState::Active { .. }) => {
                Err(OrgError::AlreadyRegistered)
            }
            (OrgCommand::Edit { .. }, OrgState::Absent) => Err(OrgError::Unknown),
            (
                OrgCommand::Edit { by, changes, at },
                OrgState::Active {
                    admin, last_edit, ..
                },
            ) => {
                if by != admin {
                    return Err(OrgError::NotAdmin);
                }
                if changes.is_empty() {
                    return Err(OrgError::NothingToChange);
                }
                week::weekly_edit_allowed(*last_edit, *at)
                    .map_err(|next_allowed_at| OrgError::WeeklyEditLimit { next_allowed_at })?;
                Ok(vec![OrgEvent::OrgDetailsEdited {
                    changes: changes.clone(),
                    at: *at,
                }])
            }
        }
    }

    fn evolve(state: OrgState, event: &OrgEvent) -> OrgState {
        match (state, event) {
            (OrgState::Absent, OrgEvent::OrgRegistered { admin, code, .. }) => OrgState::Active {
                admin: *admin,
                code: *code,
                last_edit: None,
            },
            (OrgState::Active { admin, code, .. }, OrgEvent::OrgDetailsEdited { at, .. }) => {
                OrgState::Active {
                    admin,
                    code,
                    last_edit: Some(*at),
                }
            }
            (state @ OrgState::Active { .. }, OrgEvent::OrgRegistered { .. })
            | (state @ OrgState::Absent, OrgEvent::OrgDetailsEdited { .. }) => state,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipCommand {
    /// Binds `person`, at the request of someone who may act for them: `acting_for_allowed`
    /// is [`crate::person::may_act_for`] on the person's stream at decision time.
    Bind {
        org_id: OrgId,
        person: PersonId,
        acting_for_allowed: bool,
        at: OffsetDateTime,
    },
    Unbind {
        at: OffsetDateTime,
    },
    /// A health declaration filed for the organisation by (or for) the binding's person:
    /// decides no event of its own, and is refused unless the person is bound (the
    /// declaration commits only while the binding is unchanged).
    AcceptDeclaration {
        org_id: OrgId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum MembershipEvent {
    OrgMemberBound {
        org_id: OrgId,
        person: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    OrgMemberUnbound {
        org_id: OrgId,
        person: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for MembershipEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum MembershipState {
    Unbound,
    Bound { org_id: OrgId, person: PersonId },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    #[error("you are not bound to this organisation")]
    NotBound,
    #[error("you may bind only yourself or a member of your family")]
    NotFamily,
    #[error(
        "the declarant is not bound to organisation {0}; bind with its declaration code first"
    )]
    DeclarantNotBound(OrgId),
}

impl Refusal for MembershipError {
    fn code(&self) -> &'static str {
        match self {
            MembershipError::NotBound | MembershipError::DeclarantNotBound(_) => "org.not_bound",
            MembershipError::NotFamily => FORBIDDEN,
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            MembershipError::NotBound => RefusalKind::NotFound,
            MembershipError::NotFamily => RefusalKind::Forbidden,
            MembershipError::DeclarantNotBound(_) => RefusalKind::Conflict,
        }
    }
}

/// A member's binding to an org.
#[derive(Debug)]
pub struct Membership;

impl Decider for Membership {
    type Command = MembershipCommand;
    type Event = MembershipEvent;
    type State = MembershipState;
    type Error = MembershipError;

    fn initial() -> MembershipState {
        MembershipState::Unbound
    }

    fn decide(
        command: &MembershipCommand,
        state: &MembershipState,
    ) -> Result<Vec<MembershipEvent>, MembershipError> {
        match (command, state) {
            (
                MembershipCommand::Bind {
                    acting_for_allowed: false,
                    ..
                },
                MembershipState::Unbound | MembershipState::Bound { .. },
            ) => Err(MembershipError::NotFamily),
            (
                MembershipCommand::Bind {
                    org_id,
                    person,
                    acting_for_allowed: true,
                    at,
                },
                MembershipState::Unbound,
            ) => Ok(vec![MembershipEvent::OrgMemberBound {
                org_id: *org_id,
                person: *person,
                at: *at,
            }]),
            // Binding twice is a no-op answer, not an error.
            (
                MembershipCommand::Bind {
                    acting_for_allowed: true,
                    ..
                },
                MembershipState::Bound { .. },
            ) => Ok(vec![]),
            (MembershipCommand::Unbind { at }, MembershipState::Bound { org_id, person }) => {
                Ok(vec![MembershipEvent::OrgMemberUnbound {
                    org_id: *org_id,
                    person: *person,
                    at: *at,
                }])
            }
            (MembershipCommand::Unbind { .. }, MembershipState::Unbound) => {
                Err(MembershipError::NotBound)
            }
            (MembershipCommand::AcceptDeclaration { .. }, MembershipState::Bound { .. }) => {
                Ok(vec![])
            }
            (MembershipCommand::AcceptDeclaration { org_id }, MembershipState::Unbound) => {
                Err(MembershipError::DeclarantNotBound(*org_id))
            }
        }
    }

    fn evolve(_state: MembershipState, event: &MembershipEvent) -> MembershipState {
        match event {
            MembershipEvent::OrgMemberBound { org_id, person, .. } => MembershipState::Bound {
                org_id: *org_id,
                person: *person,
            },
            MembershipEvent::OrgMemberUnbound { .. } => MembershipState::Unbound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::CodeKind;
    use crate::Given;
    use time::macros::datetime;

    fn admin() -> PersonId {
        PersonId::new(Uuid::from_u128(1))
    }

    fn org() -> OrgId {
        OrgId::new(Uuid::from_u128(10))
    }

    fn registered() -> OrgEvent {
        OrgEvent::OrgRegistered {
            org_id: org(),
            admin: admin(),
            code: BindingCode::new(CodeKind::Org, 42),
            name: OrgName::parse("天河区某公司").expect("name"),
            address: OrgAddress::parse("广州市天河区某路1号").expect("address"),
            level: AdminLevel::parse("440106").expect("level"),
            phone: Sealed::new("v1.a.b"),
            at: datetime!(2026-03-02 09:00 +08:00),
        }
    }

    fn rename(at: OffsetDateTime) -> OrgCommand {
        OrgCommand::Edit {
            by: admin(),
            changes: OrgChanges {
                name: Some(OrgName::parse("新名字").expect("name")),
                ..OrgChanges::default()
            },
            at,
        }
    }

    fn edited(at: OffsetDateTime) -> OrgEvent {
        OrgEvent::OrgDetailsEdited {
            changes: OrgChanges {
                name: Some(OrgName::parse("新名字").expect("name")),
                ..OrgChanges::default()
            },
            at,
        }
    }

    #[test]
    fn registration_happens_once() {
        let details = OrgDetails {
            name: OrgName::parse("天河区某公司").expect("name"),
            address: OrgAddress::parse("广州市天河区某路1号").expect("address"),
            level: AdminLevel::parse("440106").expect("level"),
            phone: Sealed::new("v1.a.b"),
        };
        let register = OrgCommand::Register {
            org_id: org(),
            admin: admin(),
            code: BindingCode::new(CodeKind::Org, 42),
            details,
            at: datetime!(2026-03-02 09:00 +08:00),
        };
        Given::<Org>::nothing()
            .when(&register)
            .then(vec![registered()]);
        Given::<Org>::events(vec![registered()])
            .when(&register)
            .then_error(OrgError::AlreadyRegistered);
    }

    #[test]
    fn the_first_edit_of_a_week_is_allowed() {
        Given::<Org>::events(vec![registered()])
            .when(&rename(datetime!(2026-03-02 10:00 +08:00)))
            .then(vec![edited(datetime!(2026-03-02 10:00 +08:00))]);
    }

    #[test]
    fn a_second_edit_in_the_week_is_refused_until_monday() {
        let first = datetime!(2026-03-02 10:00 +08:00);
        Given::<Org>::events(vec![registered(), edited(first)])
            .when(&rename(datetime!(2026-03-08 23:59:59 +08:00)))
            .then_error(OrgError::WeeklyEditLimit {
                next_allowed_at: datetime!(2026-03-09 00:00 +08:00),
            });
        Given::<Org>::events(vec![registered(), edited(first)])
            .when(&rename(datetime!(2026-03-09 00:00:00 +08:00)))
            .then(vec![edited(datetime!(2026-03-09 00:00:00 +08:00))]);
    }

    #[test]
    fn monday_half_past_midnight_cst_is_sunday_utc_but_a_new_week() {
        let sunday_cst = datetime!(2026-03-08 12:00 +08:00);
        let monday_0030_cst = datetime!(2026-03-08 16:30 UTC);
        Given::<Org>::events(vec![registered(), edited(sunday_cst)])
            .when(&rename(monday_0030_cst))
            .then(vec![edited(monday_0030_cst)]);
        Given::<Org>::events(vec![registered(), edited(monday_0030_cst)])
            .when(&rename(datetime!(2026-03-09 09:00 +08:00)))
            .then_error(OrgError::WeeklyEditLimit {
                next_allowed_at: datetime!(2026-03-16 00:00 +08:00),
            });
    }

    #[test]
    fn only_the_admin_edits_and_an_edit_changes_something() {
        Given::<Org>::events(vec![registered()])
            .when(&OrgCommand::Edit {
                by: PersonId::new(Uuid::from_u128(2)),
                changes: OrgChanges {
                    name: Some(OrgName::parse("x").expect("name")),
                    ..OrgChanges::default()
                },
                at: datetime!(2026-03-02 10:00 +08:00),
            })
            .then_error(OrgError::NotAdmin);
        Given::<Org>::events(vec![registered()])
            .when(&OrgCommand::Edit {
                by: admin(),
                changes: OrgChanges::default(),
                at: datetime!(2026-03-02 10:00 +08:00),
            })
            .then_error(OrgError::NothingToChange);
        Given::<Org>::nothing()
            .when(&rename(datetime!(2026-03-02 10:00 +08:00)))
            .then_error(OrgError::Unknown);
    }

    #[test]
    fn binding_twice_is_a_no_op_and_unbinding_needs_a_binding() {
        let at = datetime!(2026-03-02 10:00 +08:00);
        let member = PersonId::new(Uuid::from_u128(3));
        let bind = MembershipCommand::Bind {
            org_id: org(),
            person: member,
            acting_for_allowed: true,
            at,
        };
        let bound = MembershipEvent::OrgMemberBound {
            org_id: org(),
            person: member,
            at,
        };
        Given::<Membership>::nothing()
            .when(&bind)
            .then(vec![bound.clone()]);
        Given::<Membership>::events(vec![bound.clone()])
            .when(&bind)
            .then(vec![]);
        Given::<Membership>::events(vec![bound])
            .when(&MembershipCommand::Unbind { at })
            .then(vec![MembershipEvent::OrgMemberUnbound {
                org_id: org(),
                person: member,
                at,
            }]);
        Given::<Membership>::nothing()
            .when(&MembershipCommand::Unbind { at })
            .then_error(MembershipError::NotBound);
    }

    #[test]
    fn declarations_for_an_org_need_a_binding() {
        let at = datetime!(2026-03-02 10:00 +08:00);
        let member = PersonId::new(Uuid::from_u128(3));
        let bound = MembershipEvent::OrgMemberBound {
            org_id: org(),
            person: member,
            at,
        };
        let unbound = MembershipEvent::OrgMemberUnbound {
            org_id: org(),
            person: member,
            at,
        };
        let declare = MembershipCommand::AcceptDeclaration { org_id: org() };
        Given::<Membership>::events(vec![bound.clone()])
            .when(&declare)
            .then(vec![]);
        Given::<Membership>::nothing()
            .when(&declare)
            .then_error(MembershipError::DeclarantNotBound(org()));
        Given::<Membership>::events(vec![bound, unbound])
            .when(&declare)
            .then_error(MembershipError::DeclarantNotBound(org()));
        assert_eq!(
            MembershipError::DeclarantNotBound(org()).to_string(),
            format!(
                "the declarant is not bound to organisation {}; bind with its declaration code first",
                org()
            )
        );
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let limit = OrgError::WeeklyEditLimit {
            next_allowed_at: datetime!(2026-03-08 16:00 UTC),
        };
        let table = [
            (
                OrgError::AlreadyRegistered,
                "org.exists",
                RefusalKind::Conflict,
            ),
            (OrgError::Unknown, "org.unknown", RefusalKind::NotFound),
            (OrgError::NotAdmin, "auth.forbidden", RefusalKind::Forbidden),
            (
                OrgError::NothingToChange,
                "org.nothing_to_change",
                RefusalKind::Invalid { field: "body" },
            ),
            (
                limit.clone(),
                "org.weekly_edit_limit",
                RefusalKind::Conflict,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
        }
        assert!(OrgError::NotAdmin.extensions().is_empty());
        assert_eq!(
            limit.extensions(),
            vec![("next_allowed_at", "2026-03-09T00:00:00+08:00".to_owned())]
        );
        let table = [
            (
                MembershipError::NotBound,
                "org.not_bound",
                RefusalKind::NotFound,
            ),
            (
                MembershipError::NotFamily,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (
                MembershipError::DeclarantNotBound(org()),
                "org.not_bound",
                RefusalKind::Conflict,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }

    #[test]
    fn one_binds_oneself_or_a_family_member_only() {
        use crate::person::{may_act_for, PersonState};
        let at = datetime!(2026-03-02 10:00 +08:00);
        let member = PersonId::new(Uuid::from_u128(3));
        let guardian = PersonId::new(Uuid::from_u128(4));
        let stranger = PersonId::new(Uuid::from_u128(5));
        let member_state = PersonState::Active {
            digest: crate::document::DocumentDigest::parse("d".repeat(64)).expect("digest"),
            family: Default::default(),
            guardians: [guardian].into(),
        };
        let bind = |by| MembershipCommand::Bind {
            org_id: org(),
            person: member,
            acting_for_allowed: may_act_for(by, member, &member_state),
            at,
        };
        let bound = MembershipEvent::OrgMemberBound {
            org_id: org(),
            person: member,
            at,
        };
        Given::<Membership>::nothing()
            .when(&bind(member))
            .then(vec![bound.clone()]);
        Given::<Membership>::nothing()
            .when(&bind(guardian))
            .then(vec![bound.clone()]);
        Given::<Membership>::nothing()
            .when(&bind(stranger))
            .then_error(MembershipError::NotFamily);
        Given::<Membership>::events(vec![bound])
            .when(&bind(stranger))
            .then_error(MembershipError::NotFamily);
    }

    #[test]
    fn details_are_parsed() {
        assert!(OrgName::parse("").is_err());
        assert!(OrgName::parse(&"名".repeat(101)).is_err());
        assert!(OrgAddress::parse(&"址".repeat(200)).is_ok());
        assert!(AdminLevel::parse("city").is_ok());
        assert!(AdminLevel::parse("4401").is_ok());
        assert_eq!(
            AdminLevel::parse("galaxy").expect_err("bad").code,
            "level.unknown"
        );
    }
}
