//! Administrative regions (GB/T 2260 / NBS division codes) and their appointed admins.
//!
//! The stream `region-<code>` records who administers a region. The province admin
//! (`region-44`) is appointed by the operator (`yuekang admin bootstrap`); the admin of a
//! region appoints the admins of the regions directly inside it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::document::DocumentDigest;
use crate::document::DocumentError;
use crate::identity::PersonId;
use crate::refusal::{Refusal, RefusalKind};
use crate::sealed::Sealed;
use crate::Decider;

/// A division code: 2 (province), 4 (city), 6 (county), 9 (town) or 12 (village) digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Guangdong.
    pub const GUANGDONG: &'static str = "44";

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, DocumentError> {
        let raw = raw.trim();
        if matches!(raw.len(), 2 | 4 | 6 | 9 | 12) && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DocumentError {
                field,
                code: "region.format",
                detail: "a region is a division code of 2, 4, 6, 9 or 12 digits".into(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit province prefix.
    pub fn province(&self) -> &str {
        &self.0[..2]
    }

    /// Whether `other` lies inside this region (or is it).
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(&self.0)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = DocumentError;
    fn try_from(raw: String) -> Result<Self, DocumentError> {
        Self::parse(&raw, "region")
    }
}

impl From<RegionCode> for String {
    fn from(r: RegionCode) -> String {
        r.0
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who appointed a region admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Appointer {
    /// The operator, on the command line (only for the province).
    Operator,
    /// The admin of the enclosing region.
    RegionAdmin { person_id: PersonId },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionCommand {
    AppointAdmin {
        region: RegionCode,
        admin: DocumentDigest,
        /// The appointee's name, sealed with their subject key.
        name: Sealed,
        by: Appointer,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum RegionEvent {
    RegionAdminAppointed {
        region: RegionCode,
        admin: DocumentDigest,
        name: Sealed,
        by: Appointer,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for RegionEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum RegionState {
    Vacant,
    Held { admin: DocumentDigest },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    #[error("region {0} already has an admin")]
    AlreadyHeld(RegionCode),
    #[error("the operator appoints only the province admin (region 44)")]
    OperatorOnlyAppointsProvince,
}

impl Refusal for RegionError {
    fn code(&self) -> &'static str {
        match self {
            RegionError::AlreadyHeld(_) => "region.admin_already_appointed",
            RegionError::OperatorOnlyAppointsProvince => "region.appointment",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            RegionError::AlreadyHeld(_) | RegionError::OperatorOnlyAppointsProvince => {
                RefusalKind::Conflict
            }
        }
    }
}

/// A region's admin seat.
#[derive(Debug)]
pub struct Region;

impl Decider for Region {
    type Command = RegionCommand;
    type Event = RegionEvent;
    type State = RegionState;
    type Error = RegionError;

    fn initial() -> RegionState {
        RegionState::Vacant
    }

    fn decide(
        command: &RegionCommand,
        state: &RegionState,
    ) -> Result<Vec<RegionEvent>, RegionError> {
        match command {
            RegionCommand::AppointAdmin {
                region,
                admin,
                name,
                by,
                at,
            } => {
                match by {
                    Appointer::Operator if region.as_str() != RegionCode::GUANGDONG => {
                        return Err(RegionError::OperatorOnlyAppointsProvince)
                    }
                    Appointer::Operator | Appointer::RegionAdmin { .. } => {}
                }
                match state {
                    RegionState::Held { admin: held } if held == admin => Ok(vec![]),
                    RegionState::Held { .. } => Err(RegionError::AlreadyHeld(region.clone())),
                    RegionState::Vacant => Ok(vec![RegionEvent::RegionAdminAppointed {
                        region: region.clone(),
                        admin: admin.clone(),
                        name: name.clone(),
                        by: by.clone(),
                        at: *at,
                    }]),
                }
            }
        }
    }

    fn evolve(_state: RegionState, event: &RegionEvent) -> RegionState {
        match event {
            RegionEvent::RegionAdminAppointed { admin, .. } => RegionState::Held {
                admin: admin.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 09:00 +08:00);

    fn province() -> RegionCode {
        RegionCode::parse("44", "region").expect("code")
    }

    fn digest(c: char) -> DocumentDigest {
        DocumentDigest::parse(c.to_string().repeat(64)).expect("digest")
    }

    fn appoint(who: char) -> RegionCommand {
        RegionCommand::AppointAdmin {
            region: province(),
            admin: digest(who),
            name: Sealed::new("v1.n.c"),
            by: Appointer::Operator,
            at: AT,
        }
    }

    fn appointed(who: char) -> RegionEvent {
        RegionEvent::RegionAdminAppointed {
            region: province(),
            admin: digest(who),
            name: Sealed::new("v1.n.c"),
            by: Appointer::Operator,
            at: AT,
        }
    }

    #[test]
    fn the_operator_bootstraps_the_province_admin_once() {
        Given::<Region>::nothing()
            .when(&appoint('a'))
            .then(vec![appointed('a')]);
        Given::<Region>::events(vec![appointed('a')])
            .when(&appoint('a'))
            .then(vec![]);
        Given::<Region>::events(vec![appointed('a')])
            .when(&appoint('b'))
            .then_error(RegionError::AlreadyHeld(province()));
    }

    #[test]
    fn the_operator_appoints_only_the_province() {
        Given::<Region>::nothing()
            .when(&RegionCommand::AppointAdmin {
                region: RegionCode::parse("4401", "region").expect("code"),
                admin: digest('a'),
                name: Sealed::new("v1.n.c"),
                by: Appointer::Operator,
                at: AT,
            })
            .then_error(RegionError::OperatorOnlyAppointsProvince);
    }

    #[test]
    fn every_refusal_says_its_code_and_kind() {
        let table = [
            (
                RegionError::AlreadyHeld(province()),
                "region.admin_already_appointed",
            ),
            (
                RegionError::OperatorOnlyAppointsProvince,
                "region.appointment",
            ),
        ];
        for (error, code) in table {
            assert_eq!(
                (error.code(), error.kind()),
                (code, RefusalKind::Conflict),
                "{error:?}"
            );
            assert!(error.extensions().is_empty());
        }
    }

    #[test]
    fn region_codes_are_parsed_and_nest() {
        for ok in ["44", "4401", "440106", "440106001", "440106001001"] {
            assert!(RegionCode::parse(ok, "region").is_ok(), "{ok}");
        }
        for bad in ["4", "440", "44010", "4401060011", "44a1", ""] {
            assert_eq!(
                RegionCode::parse(bad, "region").expect_err(bad).code,
                "region.format"
            );
        }
        let gd = province();
        assert!(gd.contains(&RegionCode::parse("440106", "r").expect("code")));
        assert!(!gd.contains(&RegionCode::parse("110101", "r").expect("code")));
    }
}
