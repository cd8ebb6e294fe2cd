//! Who read a person's data: every scan or read of a person's data by someone else appends
//! an access record to `access-<person>`, which the person sees in their access log.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::PersonId;

/// In what capacity someone read the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Accessor {
    /// A guardian showing a family member's code.
    Guardian { person_id: PersonId },
    /// An inspector at a venue.
    Venue {
        venue_id: uuid::Uuid,
        person_id: PersonId,
    },
    /// A grid worker or admin.
    Grid {
        grid_id: uuid::Uuid,
        person_id: PersonId,
    },
    /// Medical staff.
    Medical { person_id: PersonId },
    /// An auditor or other service account.
    Service { account_id: String },
    /// A person granted the auditor role.
    Auditor { person_id: PersonId },
}

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessedData {
    /// The health code and its colour.
    Code,
    /// The latest or all health declarations.
    Declarations,
    /// Name, phone or document.
    Profile,
    /// Their recorded history: an auditor reading one of their streams.
    History,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum AccessEvent {
    PersonalDataAccessed {
        accessor: Accessor,
        data: AccessedData,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for AccessEvent {}
