//! Stream categories: the first part of every stream name, shared by the write side's
//! catalogue and the projections that match on them.

pub const IDENTITY: &str = "identity";
pub const PERSON: &str = "person";
pub const ACCESS: &str = "access";
pub const ASSERTION: &str = "assertion";
pub const REGION: &str = "region";
pub const FEED_RECORD: &str = "feed-record";
pub const CODE: &str = "code";
pub const ORG: &str = "org";
pub const ORG_ADMIN: &str = "org-admin";
pub const ORG_MEMBER: &str = "org-member";
pub const VENUE: &str = "venue";
pub const VENUE_ADMIN: &str = "venue-admin";
pub const VENUE_MEMBER: &str = "venue-member";
pub const SCAN: &str = "scan";
pub const CHECKIN: &str = "checkin";
pub const SERVICE_ACCOUNT: &str = "service-account";
