//! The one catalogue of stream categories: a stream is named `<category>-<id>`, and every
//! category the log holds is a constant here. Names never change (stored events keep them).

/// A registered person: family, declarations, entries (`person-<person uuid>`).
pub const PERSON: &str = "person";
/// A real-name identity, keyed by the document digest (`identity-<digest>`).
pub const IDENTITY: &str = "identity";
/// Who read a person's data (`access-<person uuid>`).
pub const ACCESS: &str = "access";
/// A region's admin seat (`region-<division code>`).
pub const REGION: &str = "region";
/// The once-only claim of a feed record id (`feed-record-<record id>`).
pub const FEED_RECORD: &str = "feed-record";
/// The once-only use of an identity assertion (`assertion-<hash of issuer and id>`).
pub const ASSERTION: &str = "assertion";
/// The claim of a binding code, any kind (`code-<8 digits>`).
pub const CODE: &str = "code";
/// A venue (`venue-<venue uuid>`).
pub const VENUE: &str = "venue";
/// The claim "one venue per admin" (`venue-admin-<person uuid>`).
pub const VENUE_ADMIN: &str = "venue-admin";
/// An inspector's binding to a venue (`venue-member-<venue uuid>-<person uuid>`).
pub const VENUE_MEMBER: &str = "venue-member";
/// A scan of a code at a venue and its check (`scan-<scan uuid>`).
pub const SCAN: &str = "scan";
/// A quick check-in (`checkin-<check uuid>`).
pub const CHECKIN: &str = "checkin";
/// An organisation (`org-<org uuid>`).
pub const ORG: &str = "org";
/// The claim "one organisation per admin" (`org-admin-<person uuid>`).
pub const ORG_ADMIN: &str = "org-admin";
/// A member's binding to an organisation (`org-member-<org uuid>-<person uuid>`).
pub const ORG_MEMBER: &str = "org-member";
/// A service account (`service-account-<account uuid>`).
pub const SERVICE_ACCOUNT: &str = "service-account";
/// A community grid (`grid-<grid uuid>`).
pub const GRID: &str = "grid";
/// The claim "one grid per admin" (`grid-admin-<person uuid>`).
pub const GRID_ADMIN: &str = "grid-admin";
/// A worker's binding to a grid (`grid-member-<grid uuid>-<person uuid>`).
pub const GRID_MEMBER: &str = "grid-member";
/// A worker's current grid (`grid-current-<person uuid>`).
pub const GRID_CURRENT: &str = "grid-current";
/// A scan of a code in a grid and the visit recorded on it (`grid-scan-<scan uuid>`).
pub const GRID_SCAN: &str = "grid-scan";
/// A visit entered by hand (`grid-visit-<visit uuid>`).
pub const GRID_VISIT: &str = "grid-visit";
/// A grid's pending handover (`grid-handover-<grid uuid>`).
pub const GRID_HANDOVER: &str = "grid-handover";

/// A person's place on the medical-staff roster (`medical-staff-<person uuid>`).
pub const MEDICAL_STAFF: &str = "medical-staff";
/// A medical staff member's scan of a code (`medical-scan-<scan uuid>`).
pub const MEDICAL_SCAN: &str = "medical-scan";
/// A release-from-medical-observation notice (`notice-<notice uuid>`).
pub const NOTICE: &str = "notice";
/// The notice numbers taken in a year (`notice-number-<year>`).
pub const NOTICE_NUMBER: &str = "notice-number";
/// A person's auditor and analyst roles (`role-grant-<person uuid>`).
pub const ROLE_GRANT: &str = "role-grant";

/// A person's ended sessions (`session-<person uuid>`).
pub const SESSION: &str = "session";
/// A person's code resets (`health-code-<person uuid>`).
pub const HEALTH_CODE: &str = "health-code";
/// A venue's pending handover (`venue-handover-<venue uuid>`).
pub const VENUE_HANDOVER: &str = "venue-handover";

/// An identity provider's subject and the person it is (`subject-<keyed hash of issuer and
/// subject>`).
pub const SUBJECT: &str = "subject";

/// Every category.
pub const ALL: [&str; 32] = [
    PERSON,
    IDENTITY,
    ACCESS,
    REGION,
    FEED_RECORD,
    ASSERTION,
    CODE,
    VENUE,
    VENUE_ADMIN,
    VENUE_MEMBER,
    SCAN,
    CHECKIN,
    ORG,
    ORG_ADMIN,
    ORG_MEMBER,
    SERVICE_ACCOUNT,
    GRID,
    GRID_ADMIN,
    GRID_MEMBER,
    GRID_CURRENT,
    GRID_SCAN,
    GRID_VISIT,
    GRID_HANDOVER,
    MEDICAL_STAFF,
    MEDICAL_SCAN,
    NOTICE,
    NOTICE_NUMBER,
    ROLE_GRANT,
    SESSION,
    HEALTH_CODE,
    VENUE_HANDOVER,
    SUBJECT,
];

/// The two-part id of a binding stream (`<venue>-<person>`, `<org>-<person>`).
pub fn pair_id(first: impl std::fmt::Display, second: impl std::fmt::Display) -> String {
    format!("{first}-{second}")
}

/// A stream name's category and id: the longest category the name starts with, followed by
/// `-` (so `venue-member-…` is a binding, not a venue). `None` for a name of no category.
pub fn split(stream: &str) -> Option<(&'static str, &str)> {
    ALL.into_iter()
        .filter_map(|category| {
            stream
                .strip_prefix(category)
                .and_then(|rest| rest.strip_prefix('-'))
                .map(|id| (category, id))
        })
        .max_by_key(|(category, _)| category.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_never_change() {
        let mut names = ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert_eq!(
            ALL,
            [
                "person",
                "identity",
                "access",
                "region",
                "feed-record",
                "assertion",
                "code",
                "venue",
                "venue-admin",
                "venue-member",
                "scan",
                "checkin",
                "org",
                "org-admin",
                "org-member",
                "service-account",
                "grid",
                "grid-admin",
                "grid-member",
                "grid-current",
                "grid-scan",
                "grid-visit",
                "grid-handover",
                "medical-staff",
                "medical-scan",
                "notice",
                "notice-number",
                "role-grant",
                "session",
                "health-code",
                "venue-handover",
                "subject",
            ]
        );
    }

    #[test]
    fn a_stream_name_splits_at_its_longest_category() {
        assert_eq!(split("venue-0192"), Some((VENUE, "0192")));
        assert_eq!(
            split(&format!("{VENUE_MEMBER}-{}", pair_id("v1", "p1"))),
            Some((VENUE_MEMBER, "v1-p1"))
        );
        assert_eq!(split("venue-admin-p1"), Some((VENUE_ADMIN, "p1")));
        assert_eq!(split("org-member-o-p"), Some((ORG_MEMBER, "o-p")));
        assert_eq!(split("org-o"), Some((ORG, "o")));
        assert_eq!(split("feed-record-PSB-1"), Some((FEED_RECORD, "PSB-1")));
        assert_eq!(split("notice-number-2026"), Some((NOTICE_NUMBER, "2026")));
        assert_eq!(split("notice-n1"), Some((NOTICE, "n1")));
        assert_eq!(split("venues-1"), None);
        assert_eq!(split("venue"), None);
        assert_eq!(split("s-1"), None);
    }
}
