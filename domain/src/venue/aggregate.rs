//! The venue aggregate (stream `venue-<uuid>`) and its value types.
//!
//! One admin has at most one venue (claim `venue-admin-<person>`), one venue exactly one
//! admin; the venue code (`3…`) is claimed on `code-<code>`. Details change at most once per
//! natural week (CST). A handover moves the admin claim to the successor in one append.

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

/// What kind of place a venue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueType {
    Residential,
    Office,
    Retail,
    Dining,
    Lodging,
    Entertainment,
    Sports,
    Transport,
    Other,
}

impl VenueType {
    pub const ALL: [VenueType; 9] = [
        VenueType::Residential,
        VenueType::Office,
        VenueType::Retail,
        VenueType::Dining,
        VenueType::Lodging,
        VenueType::Entertainment,
        VenueType::Sports,
        VenueType::Transport,
        VenueType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VenueType::Residential => "residential",
            VenueType::Office => "office",
            VenueType::Retail => "retail",
            VenueType::Dining => "dining",
            VenueType::Lodging => "lodging",
            VenueType::Entertainment => "entertainment",
            VenueType::Sports => "sports",
            VenueType::Transport => "transport",
            VenueType::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| {
                refuse(
                    "type",
                    "venue.type",
                    format!(
                        "type is one of {}",
                        Self::ALL.map(VenueType::as_str).join(", ")
                    ),
                )
            })
    }
}

/// A venue's name, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VenueName(String);

impl VenueName {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        text(raw, 100, "name").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A venue's address, 1 to 200 characters (a place's, not a person's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VenueAddress(String);

impl VenueAddress {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        text(raw, 200, "address").map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The venue id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VenueId(Uuid);

impl VenueId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for VenueId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A venue's details (the phone sealed with the admin's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueDetails {
    pub region: RegionCode,
    pub address: VenueAddress,
    pub kind: VenueType,
    pub name: VenueName,
    pub phone: Sealed,
}

/// An edit: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueChanges {
    pub region: Option<RegionCode>,
    pub address: Option<VenueAddress>,
    #[serde(rename = "type")]
    pub kind: Option<VenueType>,
    pub name: Option<VenueName>,
    pub phone: Option<Sealed>,
}

impl VenueChanges {
    pub fn is_empty(&self) -> bool {
        self.region.is_none()
            && self.address.is_none()
            && self.kind.is_none()
            && self.name.is_none()
            && self.phone.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VenueCommand {
    Create {
        venue_id: VenueId,
        admin: PersonId,
        code: BindingCode,
        details: VenueDetails,
        at: OffsetDateTime,
    },
    Edit {
        by: PersonId,
        changes: VenueChanges,
        at: OffsetDateTime,
    },
    HandOver {
        by: PersonId,
        successor: PersonId,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum VenueEvent {
    VenueCreated {
        venue_id: VenueId,
        admin: PersonId,
        code: BindingCode,
        region: RegionCode,
        address: VenueAddress,
        #[serde(rename = "venue_type")]
        kind: VenueType,
        name: VenueName,
        phone: Sealed,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    VenueDetailsEdited {
        changes: VenueChanges,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    VenueHandedOver {
        from: PersonId,
        to: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for VenueEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum VenueState {
    Absent,
    Active {
        admin: PersonId,
        code: BindingCode,
        name: VenueName,
        #[serde(with = "time::serde::rfc3339::option")]
        last_edit: Option<OffsetDateTime>,
    },
}

impl VenueState {
    pub fn name(&self) -> Option<&VenueName> {
        match self {
            VenueState::Active { name, .. } => Some(name),
            VenueState::Absent => None,
        }
    }

    pub fn admin(&self) -> Option<PersonId> {
        match self {
            VenueState::Active { admin, .. } => Some(*admin),
            VenueState::Absent => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VenueError {
    #[error("the venue already exists")]
    AlreadyCreated,
    #[error("no such venue")]
    Unknown,
    #[error("only the venue's admin may do this")]
    NotAdmin,
    #[error("an edit changes at least one of region, address, type, name, phone")]
    NothingToChange,
    #[error("venue details may change once per natural week (Monday to Sunday, China Standard Time); next change allowed at {next_allowed_at}")]
    WeeklyEditLimit { next_allowed_at: OffsetDateTime },
    #[error("the successor is already the admin")]
    SuccessorIsAdmin,
}

impl Refusal for VenueError {
    fn code(&self) -> &'static str {
        match self {
            VenueError::AlreadyCreated => "venue.exists",
            VenueError::Unknown => "venue.unknown",
            VenueError::NotAdmin => FORBIDDEN,
            VenueError::NothingToChange => "venue.nothing_to_change",
            VenueError::WeeklyEditLimit { .. } => "venue.weekly_edit_limit",
            VenueError::SuccessorIsAdmin => "venue.successor_is_admin",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            VenueError::AlreadyCreated
            | VenueError::WeeklyEditLimit { .. }
            | VenueError::SuccessorIsAdmin => RefusalKind::Conflict,
            VenueError::Unknown => RefusalKind::NotFound,
            VenueError::NotAdmin => RefusalKind::Forbidden,
            VenueError::NothingToChange => RefusalKind::Invalid { field: "body" },
        }
    }

    fn extensions(&self) -> Vec<(&'static str, String)> {
        match self {
            VenueError::WeeklyEditLimit { next_allowed_at } => {
                vec![("next_allowed_at", week::cst_rfc3339(*next_allowed_at))]
            }
            VenueError::AlreadyCreated
            | VenueError::Unknown
            | VenueError::NotAdmin
            | VenueError::NothingToChange
            | VenueError::SuccessorIsAdmin => Vec::new(),
        }
    }
}

/// The venue aggregate.
#[derive(Debug)]
pub struct Venue;

impl Decider for Venue {
    type Command = VenueCommand;
    type Event = VenueEvent;
    type State = VenueState;
    type Error = VenueError;

    fn initial() -> VenueState {
        VenueState::Absent
    }

    fn decide(command: &VenueCommand, state: &VenueState) -> Result<Vec<VenueEvent>, VenueError> {
        match (command, state) {
            (
                VenueCommand::Create {
                    venue_id,
                    admin,
                    code,
                    details,
                    at,
                },
                VenueState::Absent,
            ) => Ok(vec![VenueEvent::VenueCreated {
                venue_id: *venue_id,
                admin: *admin,
                code: *code,
                region: details.region.clone(),
                address: details.address.clone(),
                kind: details.kind,
                name: details.name.clone(),
                phone: details.phone.clone(),
                at: *at,
            }]),
            (VenueCommand::Create { .. }, VenueState::Active { .. }) => {
                Err(VenueError::AlreadyCreated)
            }
            (VenueCommand::Edit { .. } | VenueCommand::HandOver { .. }, VenueState::Absent) => {
                Err(VenueError::Unknown)
            }
            (
                VenueCommand::Edit { by, changes, at },
                VenueState::Active {
                    admin, last_edit, ..
                },
            ) => {
                if by != admin {
                    return Err(VenueError::NotAdmin);
                }
                if changes.is_empty() {
                    return Err(VenueError::NothingToChange);
                }
                week::weekly_edit_allowed(*last_edit, *at)
                    .map_err(|next_allowed_at| VenueError::WeeklyEditLimit { next_allowed_at })?;
                Ok(vec![VenueEvent::VenueDetailsEdited {
                    changes: changes.clone(),
                    at: *at,
                }])
            }
            (VenueCommand::HandOver { by, successor, at }, VenueState::Active { admin, .. }) => {
                if by != admin {
                    return Err(VenueError::NotAdmin);
                }
                if successor == admin {
                    return Err(VenueError::SuccessorIsAdmin);
                }
                Ok(vec![VenueEvent::VenueHandedOver {
                    from: *admin,
                    to: *successor,
                    at: *at,
                }])
            }
        }
    }

    fn evolve(state: VenueState, event: &VenueEvent) -> VenueState {
        match (state, event) {
            (
                VenueState::Absent,
                VenueEvent::VenueCreated {
                    admin, code, name, ..
                },
            ) => VenueState::Active {
                admin: *admin,
                code: *code,
                name: name.clone(),
                last_edit: None,
            },
            (
                VenueState::Active {
                    admin, code, name, ..
                },
                VenueEvent::VenueDetailsEdited { changes, at },
            ) => VenueState::Active {
                admin,
                code,
                name: changes.name.clone().unwrap_or(name),
                last_edit: Some(*at),
            },
            (
                VenueState::Active {
                    code,
                    name,
                    last_edit,
                    ..
                },
                VenueEvent::VenueHandedOver { to, .. },
            ) => VenueState::Active {
                admin: *to,
                code,
                name,
                last_edit,
            },
            (state @ VenueState::Active { .. }, VenueEvent::VenueCreated { .. })
            | (
                state @ VenueState::Absent,
                VenueEvent::VenueDetailsEdited { .. } | VenueEvent::VenueHandedOver { .. },
            ) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::CodeKind;
    use crate::venue::town::parse_town;
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn p(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn created() -> VenueEvent {
        VenueEvent::VenueCreated {
            venue_id: VenueId::new(Uuid::from_u128(100)),
            admin: p(1),
            code: BindingCode::new(CodeKind::Venue, 5),
            region: parse_town("440106001").expect("town"),
            address: VenueAddress::parse("天河路1号").expect("address"),
            kind: VenueType::Retail,
            name: VenueName::parse("天河城").expect("name"),
            phone: Sealed::new("v1.a.b"),
            at: AT,
        }
    }

    #[test]
    fn creation_happens_once() {
        let details = VenueDetails {
            region: parse_town("440106001").expect("town"),
            address: VenueAddress::parse("天河路1号").expect("address"),
            kind: VenueType::Retail,
            name: VenueName::parse("天河城").expect("name"),
            phone: Sealed::new("v1.a.b"),
        };
        let create = VenueCommand::Create {
            venue_id: VenueId::new(Uuid::from_u128(100)),
            admin: p(1),
            code: BindingCode::new(CodeKind::Venue, 5),
            details,
            at: AT,
        };
        Given::<Venue>::nothing()
            .when(&create)
            .then(vec![created()]);
        Given::<Venue>::events(vec![created()])
            .when(&create)
            .then_error(VenueError::AlreadyCreated);
    }

    #[test]
    fn an_unknown_venue_is_neither_edited_nor_handed_over() {
        Given::<Venue>::nothing()
            .when(&VenueCommand::HandOver {
                by: p(1),
                successor: p(2),
                at: AT,
            })
            .then_error(VenueError::Unknown);
        Given::<Venue>::nothing()
            .when(&VenueCommand::Edit {
                by: p(1),
                changes: VenueChanges::default(),
                at: AT,
            })
            .then_error(VenueError::Unknown);
        Given::<Venue>::events(vec![created()])
            .when(&VenueCommand::Edit {
                by: p(1),
                changes: VenueChanges::default(),
                at: AT,
            })
            .then_error(VenueError::NothingToChange);
    }

    #[test]
    fn types_are_parsed() {
        for kind in VenueType::ALL {
            assert_eq!(VenueType::parse(kind.as_str()), Ok(kind));
        }
        assert_eq!(VenueType::parse("casino").expect_err("type").field, "type");
    }

    #[test]
    fn edits_are_weekly_and_by_the_admin() {
        let edit = |by, at| VenueCommand::Edit {
            by: p(by),
            changes: VenueChanges {
                name: Some(VenueName::parse("新名").expect("name")),
                ..VenueChanges::default()
            },
            at,
        };
        let edited = |at| VenueEvent::VenueDetailsEdited {
            changes: VenueChanges {
                name: Some(VenueName::parse("新名").expect("name")),
                ..VenueChanges::default()
            },
            at,
        };
        Given::<Venue>::events(vec![created()])
            .when(&edit(1, AT))
            .then(vec![edited(AT)]);
        Given::<Venue>::events(vec![created()])
            .when(&edit(2, AT))
            .then_error(VenueError::NotAdmin);
        Given::<Venue>::events(vec![created(), edited(AT)])
            .when(&edit(1, datetime!(2026-03-08 23:59:59 +08:00)))
            .then_error(VenueError::WeeklyEditLimit {
                next_allowed_at: datetime!(2026-03-09 00:00 +08:00),
            });
        Given::<Venue>::events(vec![created(), edited(AT)])
            .when(&edit(1, datetime!(2026-03-08 16:30 UTC)))
            .then(vec![edited(datetime!(2026-03-08 16:30 UTC))]);
    }

    #[test]
    fn a_handover_makes_the_successor_admin() {
        let handed = VenueEvent::VenueHandedOver {
            from: p(1),
            to: p(2),
            at: AT,
        };
        Given::<Venue>::events(vec![created()])
            .when(&VenueCommand::HandOver {
                by: p(1),
                successor: p(2),
                at: AT,
            })
            .then(vec![handed.clone()]);
        Given::<Venue>::events(vec![created()])
            .when(&VenueCommand::HandOver {
                by: p(3),
                successor: p(2),
                at: AT,
            })
            .then_error(VenueError::NotAdmin);
        Given::<Venue>::events(vec![created()])
            .when(&VenueCommand::HandOver {
                by: p(1),
                successor: p(1),
                at: AT,
            })
            .then_error(VenueError::SuccessorIsAdmin);
        assert_eq!(Venue::fold(&[created(), handed]).admin(), Some(p(2)));
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let conflict = RefusalKind::Conflict;
        let limit = VenueError::WeeklyEditLimit {
            next_allowed_at: datetime!(2026-03-09 00:00 +08:00),
        };
        let table = [
            (VenueError::AlreadyCreated, "venue.exists", conflict),
            (VenueError::Unknown, "venue.unknown", RefusalKind::NotFound),
            (
                VenueError::NotAdmin,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (
                VenueError::NothingToChange,
                "venue.nothing_to_change",
                RefusalKind::Invalid { field: "body" },
            ),
            (limit.clone(), "venue.weekly_edit_limit", conflict),
            (
                VenueError::SuccessorIsAdmin,
                "venue.successor_is_admin",
                conflict,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
        }
        assert_eq!(
            limit.extensions(),
            vec![("next_allowed_at", "2026-03-09T00:00:00+08:00".to_owned())]
        );
        assert!(VenueError::NotAdmin.extensions().is_empty());
    }
}
