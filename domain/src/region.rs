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
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
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

/// The region whose admin appoints and revokes the admin of a region (the county for a
/// town, the city for a county or for a Dongguan or Zhongshan town, the province for a city),
/// and whether the person asking holds it: the fact the enclosing-region rule needs, read
/// from that region's stream by the use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enclosing {
    pub region: RegionCode,
    pub held_by_asker: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionCommand {
    AppointAdmin {
        region: RegionCode,
        admin: DocumentDigest,
        /// Whether anyone has signed in with the appointee's document (the fact, from their
        /// identity stream): an admin is a person who can sign in.
        appointee_registered: bool,
        /// The appointee's name, sealed with their subject key.
        name: Sealed,
        by: Appointer,
        /// `None` for the province (no region encloses it).
        enclosing: Option<Enclosing>,
        at: OffsetDateTime,
    },
    RevokeAdmin {
        region: RegionCode,
        /// The admin named by the request (`None`: the name is nobody registered).
        admin: Option<DocumentDigest>,
        by: PersonId,
        enclosing: Option<Enclosing>,
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
    RegionAdminRevoked {
        region: RegionCode,
        admin: DocumentDigest,
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
    #[error("{}", not_enclosing_admin(.region, .enclosing.as_ref()))]
    NotEnclosingAdmin {
        region: RegionCode,
        enclosing: Option<RegionCode>,
    },
    #[error("region {0} has no admin")]
    NoAdmin(RegionCode),
    #[error("this person does not administer region {0}")]
    NotTheAdmin(RegionCode),
    #[error("nobody has registered with this document; the appointee signs in once first")]
    AppointeeUnknown,
}

fn not_enclosing_admin(region: &RegionCode, enclosing: Option<&RegionCode>) -> String {
    match enclosing {
        Some(e) => format!(
            "only the admin of region {e}, which encloses region {region}, appoints and revokes its admin"
        ),
        None => format!(
            "no region admin appoints or revokes the admin of region {region} (the operator appoints the province admin)"
        ),
    }
}

impl Refusal for RegionError {
    fn code(&self) -> &'static str {
        match self {
            RegionError::AlreadyHeld(_) => "region.admin_already_appointed",
            RegionError::OperatorOnlyAppointsProvince => "region.appointment",
            RegionError::NotEnclosingAdmin { .. } => FORBIDDEN,
            RegionError::NoAdmin(_) => "region.no_admin",
            RegionError::NotTheAdmin(_) => "region.not_the_admin",
            RegionError::AppointeeUnknown => "person.unknown",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            RegionError::AlreadyHeld(_) | RegionError::OperatorOnlyAppointsProvince => {
                RefusalKind::Conflict
            }
            RegionError::NotEnclosingAdmin { .. } => RefusalKind::Forbidden,
            RegionError::NoAdmin(_)
            | RegionError::NotTheAdmin(_)
            | RegionError::AppointeeUnknown => RefusalKind::NotFound,
        }
    }
}

/// The enclosing-region rule: the operator appoints the province admin; a region admin
/// appoints and revokes only the admins of the regions their own region directly encloses.
fn authorise(
    by: &Appointer,
    region: &RegionCode,
    enclosing: Option<&Enclosing>,
) -> Result<(), RegionError> {
    match by {
        Appointer::Operator if region.as_str() == RegionCode::GUANGDONG => Ok(()),
        Appointer::Operator => Err(RegionError::OperatorOnlyAppointsProvince),
        Appointer::RegionAdmin { .. } => match enclosing {
            Some(e) if e.held_by_asker => Ok(()),
            Some(e) => Err(RegionError::NotEnclosingAdmin {
                region: region.clone(),
                enclosing: Some(e.region.clone()),
            }),
            None => Err(RegionError::NotEnclosingAdmin {
                region: region.clone(),
                enclosing: None,
            }),
        },
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
        // Who may ask comes before what the seat holds.
        match command {
            RegionCommand::AppointAdmin {
                region,
                by,
                enclosing,
                ..
            } => authorise(by, region, enclosing.as_ref())?,
            RegionCommand::RevokeAdmin {
                region,
                by,
                enclosing,
                ..
            } => authorise(
                &Appointer::RegionAdmin { person_id: *by },
                region,
                enclosing.as_ref(),
            )?,
        }
        if let RegionCommand::AppointAdmin {
            appointee_registered: false,
            ..
        } = command
        {
            return Err(RegionError::AppointeeUnknown);
        }
        match (command, state) {
            (RegionCommand::AppointAdmin { admin, .. }, RegionState::Held { admin: held })
                if held == admin =>
            {
                Ok(vec![])
            }
            (RegionCommand::AppointAdmin { region, .. }, RegionState::Held { .. }) => {
                Err(RegionError::AlreadyHeld(region.clone()))
            }
            (
                RegionCommand::AppointAdmin {
                    region,
                    admin,
                    name,
                    by,
                    at,
                    ..
                },
                RegionState::Vacant,
            ) => Ok(vec![RegionEvent::RegionAdminAppointed {
                region: region.clone(),
                admin: admin.clone(),
                name: name.clone(),
                by: by.clone(),
                at: *at,
            }]),
            (RegionCommand::RevokeAdmin { region, .. }, RegionState::Vacant) => {
                Err(RegionError::NoAdmin(region.clone()))
            }
            (
                RegionCommand::RevokeAdmin { region, admin, .. },
                RegionState::Held { admin: held },
            ) if admin.as_ref() != Some(held) => Err(RegionError::NotTheAdmin(region.clone())),
            (
                RegionCommand::RevokeAdmin { region, by, at, .. },
                RegionState::Held { admin: held },
            ) => Ok(vec![RegionEvent::RegionAdminRevoked {
                region: region.clone(),
                admin: held.clone(),
                by: Appointer::RegionAdmin { person_id: *by },
                at: *at,
            }]),
        }
    }

    fn evolve(_state: RegionState, event: &RegionEvent) -> RegionState {
        match event {
            RegionEvent::RegionAdminAppointed { admin, .. } => RegionState::Held {
                admin: admin.clone(),
            },
            RegionEvent::RegionAdminRevoked { .. } => RegionState::Vacant,
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
            appointee_registered: true,
            name: Sealed::new("v1.n.c"),
            by: Appointer::Operator,
            enclosing: None,
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
                appointee_registered: true,
                name: Sealed::new("v1.n.c"),
                by: Appointer::Operator,
                enclosing: None,
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
        let city = RegionCode::parse("4403", "region").expect("code");
        let table = [
            (
                RegionError::NotEnclosingAdmin {
                    region: city.clone(),
                    enclosing: Some(province()),
                },
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (
                RegionError::NoAdmin(city.clone()),
                "region.no_admin",
                RefusalKind::NotFound,
            ),
            (
                RegionError::NotTheAdmin(city),
                "region.not_the_admin",
                RefusalKind::NotFound,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
        }
    }

    fn code(raw: &str) -> RegionCode {
        RegionCode::parse(raw, "region").expect("code")
    }

    fn admin_of(region: &str, held: bool) -> Option<Enclosing> {
        Some(Enclosing {
            region: code(region),
            held_by_asker: held,
        })
    }

    fn person(n: u128) -> PersonId {
        PersonId::new(uuid::Uuid::from_u128(n))
    }

    fn appoint_in(region: &str, who: char, enclosing: Option<Enclosing>) -> RegionCommand {
        RegionCommand::AppointAdmin {
            region: code(region),
            admin: digest(who),
            appointee_registered: true,
            name: Sealed::new("v1.n.c"),
            by: Appointer::RegionAdmin {
                person_id: person(1),
            },
            enclosing,
            at: AT,
        }
    }

    fn appointed_in(region: &str, who: char) -> RegionEvent {
        RegionEvent::RegionAdminAppointed {
            region: code(region),
            admin: digest(who),
            name: Sealed::new("v1.n.c"),
            by: Appointer::RegionAdmin {
                person_id: person(1),
            },
            at: AT,
        }
    }

    #[test]
    fn only_the_enclosing_regions_admin_appoints() {
        Given::<Region>::nothing()
            .when(&appoint_in("4403", 'a', admin_of("44", true)))
            .then(vec![appointed_in("4403", 'a')]);
        // A Guangzhou district admin asking for a Shenzhen district: not their region's.
        Given::<Region>::nothing()
            .when(&appoint_in("440305", 'a', admin_of("4403", false)))
            .then_error(RegionError::NotEnclosingAdmin {
                region: code("440305"),
                enclosing: Some(code("4403")),
            });
        // No region admin appoints the province admin.
        Given::<Region>::nothing()
            .when(&appoint_in("44", 'a', None))
            .then_error(RegionError::NotEnclosingAdmin {
                region: code("44"),
                enclosing: None,
            });
        // Who may ask comes first: a stranger learns nothing of the seat.
        Given::<Region>::events(vec![appointed_in("4403", 'a')])
            .when(&appoint_in("4403", 'b', admin_of("44", false)))
            .then_error(RegionError::NotEnclosingAdmin {
                region: code("4403"),
                enclosing: Some(code("44")),
            });
        Given::<Region>::events(vec![appointed_in("4403", 'a')])
            .when(&appoint_in("4403", 'b', admin_of("44", true)))
            .then_error(RegionError::AlreadyHeld(code("4403")));
        Given::<Region>::events(vec![appointed_in("4403", 'a')])
            .when(&appoint_in("4403", 'a', admin_of("44", true)))
            .then(vec![]);
        // Whether a document is registered is told only to whoever may appoint.
        let unknown = |enclosing| match appoint_in("4403", 'f', enclosing) {
            RegionCommand::AppointAdmin {
                region,
                admin,
                name,
                by,
                enclosing,
                at,
                ..
            } => RegionCommand::AppointAdmin {
                region,
                admin,
                appointee_registered: false,
                name,
                by,
                enclosing,
                at,
            },
            other @ RegionCommand::RevokeAdmin { .. } => other,
        };
        Given::<Region>::nothing()
            .when(&unknown(admin_of("44", false)))
            .then_error(RegionError::NotEnclosingAdmin {
                region: code("4403"),
                enclosing: Some(code("44")),
            });
        Given::<Region>::nothing()
            .when(&unknown(admin_of("44", true)))
            .then_error(RegionError::AppointeeUnknown);
    }

    fn revoke(region: &str, who: char, enclosing: Option<Enclosing>) -> RegionCommand {
        RegionCommand::RevokeAdmin {
            region: code(region),
            admin: Some(digest(who)),
            by: person(1),
            enclosing,
            at: AT,
        }
    }

    #[test]
    fn the_enclosing_regions_admin_revokes_and_the_seat_is_free_again() {
        let revoked = RegionEvent::RegionAdminRevoked {
            region: code("440305"),
            admin: digest('a'),
            by: Appointer::RegionAdmin {
                person_id: person(1),
            },
            at: AT,
        };
        Given::<Region>::events(vec![appointed_in("440305", 'a')])
            .when(&revoke("440305", 'a', admin_of("4403", true)))
            .then(vec![revoked.clone()]);
        Given::<Region>::events(vec![appointed_in("440305", 'a')])
            .when(&revoke("440305", 'a', admin_of("4403", false)))
            .then_error(RegionError::NotEnclosingAdmin {
                region: code("440305"),
                enclosing: Some(code("4403")),
            });
        Given::<Region>::events(vec![appointed_in("440305", 'a')])
            .when(&revoke("440305", 'b', admin_of("4403", true)))
            .then_error(RegionError::NotTheAdmin(code("440305")));
        Given::<Region>::nothing()
            .when(&revoke("440305", 'a', admin_of("4403", true)))
            .then_error(RegionError::NoAdmin(code("440305")));
        Given::<Region>::events(vec![appointed_in("440305", 'a'), revoked])
            .when(&appoint_in("440305", 'b', admin_of("4403", true)))
            .then(vec![appointed_in("440305", 'b')]);
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
