//! Public venues (公共场所) with temperature checkpoints (stream `venue-<uuid>`), their
//! inspectors' bindings (`venue-member-<venue>-<person>`), scans of a citizen's code
//! (`scan-<uuid>`, holding the check made on it) and quick check-ins (`checkin-<uuid>`).
//!
//! One admin has at most one venue (claim `venue-admin-<person>`), one venue exactly one
//! admin; the venue code (`3…`) is claimed on `code-<code>`. Details change at most once per
//! natural week (CST). A handover moves the admin claim to the successor in one append.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::code::BindingCode;
use crate::demographics::Demographics;
use crate::document::DocumentError;
use crate::health::Band;
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

/// A town-level region of Guangdong, as the shipped division data knows it.
pub fn parse_town(raw: &str) -> Result<RegionCode, DocumentError> {
    let code = RegionCode::parse(raw, "region")?;
    if crate::divisions::guangdong().is_town(code.as_str()) {
        Ok(code)
    } else {
        Err(refuse(
            "region",
            "region.unknown_town",
            format!(
                "{} is not a town-level division of Guangdong (9 digits, NBS 2023)",
                code.as_str()
            ),
        ))
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
        let (admin, last_edit) = match (command, state) {
            (
                VenueCommand::Create {
                    venue_id,
                    admin,
                    code,
                    details,
                    at,
                },
                VenueState::Absent,
            ) => {
                return Ok(vec![VenueEvent::VenueCreated {
                    venue_id: *venue_id,
                    admin: *admin,
                    code: *code,
                    region: details.region.clone(),
                    address: details.address.clone(),
                    kind: details.kind,
                    name: details.name.clone(),
                    phone: details.phone.clone(),
                    at: *at,
                }])
            }
            (VenueCommand::Create { .. }, VenueState::Active { .. }) => {
                return Err(VenueError::AlreadyCreated)
            }
            (VenueCommand::Edit { .. } | VenueCommand::HandOver { .. }, VenueState::Absent) => {
                return Err(VenueError::Unknown)
            }
            (
                VenueCommand::Edit { .. } | VenueCommand::HandOver { .. },
                VenueState::Active {
                    admin, last_edit, ..
                },
            ) => (*admin, *last_edit),
        };
        match command {
            VenueCommand::Create { .. } => Err(VenueError::AlreadyCreated),
            VenueCommand::Edit { by, changes, at } => {
                if *by != admin {
                    return Err(VenueError::NotAdmin);
                }
                if changes.is_empty() {
                    return Err(VenueError::NothingToChange);
                }
                week::weekly_edit_allowed(last_edit, *at)
                    .map_err(|next_allowed_at| VenueError::WeeklyEditLimit { next_allowed_at })?;
                Ok(vec![VenueEvent::VenueDetailsEdited {
                    changes: changes.clone(),
                    at: *at,
                }])
            }
            VenueCommand::HandOver { by, successor, at } => {
                if *by != admin {
                    return Err(VenueError::NotAdmin);
                }
                if *successor == admin {
                    return Err(VenueError::SuccessorIsAdmin);
                }
                Ok(vec![VenueEvent::VenueHandedOver {
                    from: admin,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectionCommand {
    Bind {
        venue_id: VenueId,
        inspector: PersonId,
        at: OffsetDateTime,
    },
    Unbind {
        by: PersonId,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum InspectionEvent {
    InspectorBound {
        venue_id: VenueId,
        inspector: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    InspectorUnbound {
        venue_id: VenueId,
        inspector: PersonId,
        /// The inspector, or the venue's admin.
        by: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for InspectionEvent {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum InspectionState {
    Unbound,
    Bound {
        venue_id: VenueId,
        inspector: PersonId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectionError {
    #[error("not an inspector of this venue")]
    NotBound,
}

impl Refusal for InspectionError {
    fn code(&self) -> &'static str {
        match self {
            InspectionError::NotBound => "venue.not_bound",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            InspectionError::NotBound => RefusalKind::NotFound,
        }
    }
}

/// An inspector's binding to a venue.
#[derive(Debug)]
pub struct Inspection;

impl Decider for Inspection {
    type Command = InspectionCommand;
    type Event = InspectionEvent;
    type State = InspectionState;
    type Error = InspectionError;

    fn initial() -> InspectionState {
        InspectionState::Unbound
    }

    fn decide(
        command: &InspectionCommand,
        state: &InspectionState,
    ) -> Result<Vec<InspectionEvent>, InspectionError> {
        match (command, state) {
            (
                InspectionCommand::Bind {
                    venue_id,
                    inspector,
                    at,
                },
                InspectionState::Unbound,
            ) => Ok(vec![InspectionEvent::InspectorBound {
                venue_id: *venue_id,
                inspector: *inspector,
                at: *at,
            }]),
            (InspectionCommand::Bind { .. }, InspectionState::Bound { .. }) => Ok(vec![]),
            (
                InspectionCommand::Unbind { by, at },
                InspectionState::Bound {
                    venue_id,
                    inspector,
                },
            ) => Ok(vec![InspectionEvent::InspectorUnbound {
                venue_id: *venue_id,
                inspector: *inspector,
                by: *by,
                at: *at,
            }]),
            (InspectionCommand::Unbind { .. }, InspectionState::Unbound) => {
                Err(InspectionError::NotBound)
            }
        }
    }

    fn evolve(_state: InspectionState, event: &InspectionEvent) -> InspectionState {
        match event {
            InspectionEvent::InspectorBound {
                venue_id,
                inspector,
                ..
            } => InspectionState::Bound {
                venue_id: *venue_id,
                inspector: *inspector,
            },
            InspectionEvent::InspectorUnbound { .. } => InspectionState::Unbound,
        }
    }
}

/// How long a scan may be followed by a check or a declaration view.
pub const SCAN_VALIDITY: time::Duration = time::Duration::minutes(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanCommand {
    Scan {
        scan_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        at: OffsetDateTime,
    },
    Check {
        check_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        band: Band,
        demographics: Demographics,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ScanEvent {
    CodeScanned {
        scan_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    TemperatureChecked {
        check_id: Uuid,
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        band: Band,
        demographics: Demographics,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for ScanEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum ScanState {
    Absent,
    Scanned {
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    Checked {
        venue_id: VenueId,
        inspector: PersonId,
        subject: PersonId,
        /// When the code was scanned.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl ScanState {
    /// Who scanned whom, where and when, once scanned.
    pub fn scanned(&self) -> Option<(VenueId, PersonId, PersonId, OffsetDateTime)> {
        match self {
            ScanState::Absent => None,
            ScanState::Scanned {
                venue_id,
                inspector,
                subject,
                at,
            }
            | ScanState::Checked {
                venue_id,
                inspector,
                subject,
                at,
            } => Some((*venue_id, *inspector, *subject, *at)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("no such scan")]
    Unknown,
    #[error("the scan already exists")]
    AlreadyScanned,
    #[error("only the inspector who scanned may use this scan")]
    NotTheScanner,
    #[error("this scan was made at another venue")]
    OtherVenue,
    #[error("the scan is older than 30 minutes; scan the code again")]
    Expired,
    #[error("a check was already recorded for this scan; scan again for a new check")]
    AlreadyChecked,
}

impl Refusal for ScanError {
    fn code(&self) -> &'static str {
        match self {
            ScanError::Unknown => "scan.unknown",
            ScanError::AlreadyScanned => "scan.exists",
            ScanError::NotTheScanner => FORBIDDEN,
            ScanError::OtherVenue => "scan.other_venue",
            ScanError::Expired => "scan.expired",
            ScanError::AlreadyChecked => "check.already_recorded",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            ScanError::Unknown => RefusalKind::NotFound,
            ScanError::NotTheScanner => RefusalKind::Forbidden,
            ScanError::AlreadyScanned
            | ScanError::OtherVenue
            | ScanError::Expired
            | ScanError::AlreadyChecked => RefusalKind::Conflict,
        }
    }
}

/// A scan of a citizen's code at a venue, and the check made on it.
#[derive(Debug)]
pub struct Scan;

impl Decider for Scan {
    type Command = ScanCommand;
    type Event = ScanEvent;
    type State = ScanState;
    type Error = ScanError;

    fn initial() -> ScanState {
        ScanState::Absent
    }

    fn decide(command: &ScanCommand, state: &ScanState) -> Result<Vec<ScanEvent>, ScanError> {
        match (command, state) {
            (
                ScanCommand::Scan {
                    scan_id,
                    venue_id,
                    inspector,
                    subject,
                    at,
                },
                ScanState::Absent,
            ) => Ok(vec![ScanEvent::CodeScanned {
                scan_id: *scan_id,
                venue_id: *venue_id,
                inspector: *inspector,
                subject: *subject,
                at: *at,
            }]),
            (ScanCommand::Scan { .. }, ScanState::Scanned { .. } | ScanState::Checked { .. }) => {
                Err(ScanError::AlreadyScanned)
            }
            (ScanCommand::Check { .. }, ScanState::Absent) => Err(ScanError::Unknown),
            (ScanCommand::Check { .. }, ScanState::Checked { .. }) => {
                Err(ScanError::AlreadyChecked)
            }
            (
                ScanCommand::Check {
                    check_id,
                    venue_id,
                    inspector,
                    band,
                    demographics,
                    at,
                },
                ScanState::Scanned {
                    venue_id: scanned_at_venue,
                    inspector: scanner,
                    subject,
                    at: scanned,
                },
            ) => {
                if inspector != scanner {
                    return Err(ScanError::NotTheScanner);
                }
                if venue_id != scanned_at_venue {
                    return Err(ScanError::OtherVenue);
                }
                if *at - *scanned > SCAN_VALIDITY {
                    return Err(ScanError::Expired);
                }
                Ok(vec![ScanEvent::TemperatureChecked {
                    check_id: *check_id,
                    venue_id: *venue_id,
                    inspector: *inspector,
                    subject: *subject,
                    band: *band,
                    demographics: *demographics,
                    at: *at,
                }])
            }
        }
    }

    fn evolve(state: ScanState, event: &ScanEvent) -> ScanState {
        match (state, event) {
            (
                ScanState::Absent,
                ScanEvent::CodeScanned {
                    venue_id,
                    inspector,
                    subject,
                    at,
                    ..
                },
            ) => ScanState::Scanned {
                venue_id: *venue_id,
                inspector: *inspector,
                subject: *subject,
                at: *at,
            },
            (
                ScanState::Scanned {
                    venue_id,
                    inspector,
                    subject,
                    at,
                },
                ScanEvent::TemperatureChecked { .. },
            ) => ScanState::Checked {
                venue_id,
                inspector,
                subject,
                at,
            },
            (
                state @ (ScanState::Scanned { .. } | ScanState::Checked { .. }),
                ScanEvent::CodeScanned { .. },
            )
            | (
                state @ (ScanState::Absent | ScanState::Checked { .. }),
                ScanEvent::TemperatureChecked { .. },
            ) => state,
        }
    }
}

/// A quick check-in with the venue's poster (band normal), for oneself or a family member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CheckInEvent {
    CheckedIn {
        check_id: Uuid,
        venue_id: VenueId,
        subject: PersonId,
        by: PersonId,
        demographics: Demographics,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for CheckInEvent {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::CodeKind;
    use crate::demographics::{AgeBand, Sex};
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn p(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn venue() -> VenueId {
        VenueId::new(Uuid::from_u128(100))
    }

    fn created() -> VenueEvent {
        VenueEvent::VenueCreated {
            venue_id: venue(),
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
    fn regions_must_be_real_towns() {
        assert!(parse_town("440106001").is_ok());
        assert!(parse_town("441900003").is_ok(), "a Dongguan town");
        assert_eq!(
            parse_town("440106").expect_err("district").code,
            "region.unknown_town"
        );
        assert_eq!(
            parse_town("440106999").expect_err("unknown").code,
            "region.unknown_town"
        );
        assert_eq!(
            parse_town("4401x").expect_err("format").code,
            "region.format"
        );
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
    fn inspectors_bind_once_and_unbind() {
        let bound = InspectionEvent::InspectorBound {
            venue_id: venue(),
            inspector: p(5),
            at: AT,
        };
        let bind = InspectionCommand::Bind {
            venue_id: venue(),
            inspector: p(5),
            at: AT,
        };
        Given::<Inspection>::nothing()
            .when(&bind)
            .then(vec![bound.clone()]);
        Given::<Inspection>::events(vec![bound.clone()])
            .when(&bind)
            .then(vec![]);
        Given::<Inspection>::events(vec![bound])
            .when(&InspectionCommand::Unbind { by: p(1), at: AT })
            .then(vec![InspectionEvent::InspectorUnbound {
                venue_id: venue(),
                inspector: p(5),
                by: p(1),
                at: AT,
            }]);
        Given::<Inspection>::nothing()
            .when(&InspectionCommand::Unbind { by: p(1), at: AT })
            .then_error(InspectionError::NotBound);
    }

    fn scanned() -> ScanEvent {
        ScanEvent::CodeScanned {
            scan_id: Uuid::from_u128(7),
            venue_id: venue(),
            inspector: p(5),
            subject: p(9),
            at: AT,
        }
    }

    fn check(inspector: u128, venue_id: VenueId, at: OffsetDateTime) -> ScanCommand {
        ScanCommand::Check {
            check_id: Uuid::from_u128(8),
            venue_id,
            inspector: p(inspector),
            band: Band::Fever,
            demographics: Demographics {
                sex: Some(Sex::Female),
                age_band: Some(AgeBand::From18To39),
            },
            at,
        }
    }

    #[test]
    fn a_check_follows_its_own_scan_once_and_soon() {
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, venue(), AT + time::Duration::minutes(1)))
            .then(vec![ScanEvent::TemperatureChecked {
                check_id: Uuid::from_u128(8),
                venue_id: venue(),
                inspector: p(5),
                subject: p(9),
                band: Band::Fever,
                demographics: Demographics {
                    sex: Some(Sex::Female),
                    age_band: Some(AgeBand::From18To39),
                },
                at: AT + time::Duration::minutes(1),
            }]);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(6, venue(), AT))
            .then_error(ScanError::NotTheScanner);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, VenueId::new(Uuid::from_u128(101)), AT))
            .then_error(ScanError::OtherVenue);
        Given::<Scan>::events(vec![scanned()])
            .when(&check(5, venue(), AT + time::Duration::minutes(31)))
            .then_error(ScanError::Expired);
        let state_after = Scan::fold(&[scanned()]);
        let events = Scan::decide(&check(5, venue(), AT), &state_after).expect("checked");
        Given::<Scan>::events(vec![scanned(), events[0].clone()])
            .when(&check(5, venue(), AT))
            .then_error(ScanError::AlreadyChecked);
        Given::<Scan>::nothing()
            .when(&check(5, venue(), AT))
            .then_error(ScanError::Unknown);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let conflict = RefusalKind::Conflict;
        let limit = VenueError::WeeklyEditLimit {
            next_allowed_at: datetime!(2026-03-09 00:00 +08:00),
        };
        let venue_table = [
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
        for (error, code, kind) in venue_table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
        }
        assert_eq!(
            limit.extensions(),
            vec![("next_allowed_at", "2026-03-09T00:00:00+08:00".to_owned())]
        );
        assert!(VenueError::NotAdmin.extensions().is_empty());
        let error = InspectionError::NotBound;
        assert_eq!(
            (error.code(), error.kind()),
            ("venue.not_bound", RefusalKind::NotFound)
        );
        let scan_table = [
            (ScanError::Unknown, "scan.unknown", RefusalKind::NotFound),
            (ScanError::AlreadyScanned, "scan.exists", conflict),
            (
                ScanError::NotTheScanner,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (ScanError::OtherVenue, "scan.other_venue", conflict),
            (ScanError::Expired, "scan.expired", conflict),
            (
                ScanError::AlreadyChecked,
                "check.already_recorded",
                conflict,
            ),
        ];
        for (error, code, kind) in scan_table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
            assert!(error.extensions().is_empty());
        }
    }
}
