//! Quick check-ins with a venue's poster (stream `checkin-<uuid>`), band normal, for oneself
//! or a member of one's family.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::demographics::Demographics;
use crate::identity::PersonId;

use super::aggregate::VenueId;

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
