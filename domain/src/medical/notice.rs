//! Release-from-medical-observation notices (解除隔离医学观察电子告知书), stream
//! `notice-<notice uuid>`: issued by granted staff on their own recent scan, immutable once
//! issued; a mistaken one is withdrawn by its issuer (still granted) or the province admin,
//! which brings the reasons it released back (the identity decides that part).
//!
//! Numbers come from `notice-number-<year>`: each notice takes the next number of its year
//! (China Standard Time) in the same commit as the notice, so numbers are unique and
//! gap-free, `YK2026-000123`.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::identity::{PersonId, RedReason};
use crate::refusal::{Refusal, RefusalKind, FORBIDDEN};
use crate::Decider;

use super::staff::Posting;

/// The longest observation period a notice may name.
pub const LONGEST_OBSERVATION: Duration = Duration::days(366);

/// A notice's human-readable number: `YK<year>-<sequence, 6 digits at least>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoticeNumber {
    pub year: i32,
    pub seq: u32,
}

impl std::fmt::Display for NoticeNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "YK{}-{:06}", self.year, self.seq)
    }
}

/// The year (China Standard Time) whose numbers a notice issued at `at` takes.
pub fn number_year(at: OffsetDateTime) -> i32 {
    at.to_offset(crate::week::CST).year()
}

/// The observation a notice ends: from its first to its last day, at most 366 days, over by
/// the day the notice is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationPeriod {
    pub from: Date,
    pub to: Date,
}

impl ObservationPeriod {
    pub fn new(from: Date, to: Date, today: Date) -> Result<Self, NoticeError> {
        if to > today {
            return Err(NoticeError::Period {
                field: "observation_to",
                detail: "the observation must have ended: observation_to is today or earlier",
            });
        }
        if from > to {
            return Err(NoticeError::Period {
                field: "observation_from",
                detail: "observation_from is on or before observation_to",
            });
        }
        if to - from > LONGEST_OBSERVATION {
            return Err(NoticeError::Period {
                field: "observation_from",
                detail: "an observation lasts at most 366 days",
            });
        }
        Ok(Self { from, to })
    }
}

/// The reasons a notice names: at least one, none twice (which of them a notice may release,
/// and whether they are active, the identity decides).
pub fn check_reasons(reasons: &[RedReason]) -> Result<(), NoticeError> {
    let mut distinct = reasons.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if reasons.is_empty() || distinct.len() != reasons.len() {
        return Err(NoticeError::Reasons);
    }
    Ok(())
}

/// Who withdrew a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawnAs {
    /// The staff member who issued it.
    Issuer,
    ProvinceAdmin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeCommand {
    /// `staff_granted`: the fact, from the roster stream, that the issuer holds the
    /// permission; `posting` is their unit and position there.
    Issue {
        notice_id: Uuid,
        number: NoticeNumber,
        scan_id: Uuid,
        staff: PersonId,
        staff_granted: bool,
        posting: Option<Posting>,
        subject: PersonId,
        period: ObservationPeriod,
        reasons: Vec<RedReason>,
        at: OffsetDateTime,
    },
    /// `by_granted_staff`: `by` holds the medical-staff permission; `by_province_admin`:
    /// `by` holds `region-44`.
    Withdraw {
        by: PersonId,
        by_granted_staff: bool,
        by_province_admin: bool,
        detail: String,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum NoticeEvent {
    NoticeIssued {
        notice_id: Uuid,
        /// `YK2026-000123`
        number: String,
        scan_id: Uuid,
        staff: PersonId,
        posting: Posting,
        subject: PersonId,
        observation_from: Date,
        observation_to: Date,
        reasons: Vec<RedReason>,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    NoticeWithdrawn {
        notice_id: Uuid,
        number: String,
        subject: PersonId,
        by: PersonId,
        by_role: WithdrawnAs,
        detail: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for NoticeEvent {}

/// What a notice's stages share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedNotice {
    pub notice_id: Uuid,
    pub number: String,
    pub staff: PersonId,
    pub subject: PersonId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum NoticeState {
    Absent,
    Issued(IssuedNotice),
    Withdrawn(IssuedNotice),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("you are not an authorised medical staff member")]
    NotStaff,
    #[error("medical staff do not release themselves: another staff member issues your notice")]
    OwnCode,
    #[error("a notice names at least one reason, none twice")]
    Reasons,
    #[error("{detail}")]
    Period {
        field: &'static str,
        detail: &'static str,
    },
    #[error("this notice was already issued")]
    AlreadyIssued,
    #[error("no such notice")]
    UnknownNotice,
    #[error("only the staff member who issued the notice, while authorised, or the province admin withdraws it")]
    NotWithdrawer,
    #[error("a withdrawal needs a detail of 1 to 500 characters")]
    WithdrawalDetail,
    #[error("this notice was already withdrawn")]
    AlreadyWithdrawn,
}

impl Refusal for NoticeError {
    fn code(&self) -> &'static str {
        match self {
            NoticeError::NotStaff | NoticeError::NotWithdrawer => FORBIDDEN,
            NoticeError::OwnCode => "notice.own_code",
            NoticeError::Reasons => "notice.reasons",
            NoticeError::Period { .. } => "notice.period",
            NoticeError::AlreadyIssued => "notice.already_issued",
            NoticeError::UnknownNotice => "notice.unknown",
            NoticeError::WithdrawalDetail => "withdrawal.detail",
            NoticeError::AlreadyWithdrawn => "notice.already_withdrawn",
        }
    }

    fn kind(&self) -> RefusalKind {
        match self {
            NoticeError::NotStaff | NoticeError::NotWithdrawer => RefusalKind::Forbidden,
            NoticeError::Reasons => RefusalKind::Invalid { field: "reasons" },
            NoticeError::Period { field, .. } => RefusalKind::Invalid { field },
            NoticeError::WithdrawalDetail => RefusalKind::Invalid { field: "detail" },
            NoticeError::AlreadyIssued | NoticeError::AlreadyWithdrawn | NoticeError::OwnCode => {
                RefusalKind::Conflict
            }
            NoticeError::UnknownNotice => RefusalKind::NotFound,
        }
    }
}

/// A release notice.
#[derive(Debug)]
pub struct Notice;

impl Decider for Notice {
    type Command = NoticeCommand;
    type Event = NoticeEvent;
    type State = NoticeState;
    type Error = NoticeError;

    fn initial() -> NoticeState {
        NoticeState::Absent
    }

    fn decide(
        command: &NoticeCommand,
        state: &NoticeState,
    ) -> Result<Vec<NoticeEvent>, NoticeError> {
        match command {
            NoticeCommand::Issue {
                notice_id,
                number,
                scan_id,
                staff,
                staff_granted,
                posting,
                subject,
                period,
                reasons,
                at,
            } => {
                let posting = match (staff_granted, posting) {
                    (true, Some(posting)) => posting,
                    _ => return Err(NoticeError::NotStaff),
                };
                if subject == staff {
                    return Err(NoticeError::OwnCode);
                }
                check_reasons(reasons)?;
                if !matches!(state, NoticeState::Absent) {
                    return Err(NoticeError::AlreadyIssued);
                }
                Ok(vec![NoticeEvent::NoticeIssued {
                    notice_id: *notice_id,
                    number: number.to_string(),
                    scan_id: *scan_id,
                    staff: *staff,
                    posting: posting.clone(),
                    subject: *subject,
                    observation_from: period.from,
                    observation_to: period.to,
                    reasons: reasons.clone(),
                    at: *at,
                }])
            }
            NoticeCommand::Withdraw {
                by,
                by_granted_staff,
                by_province_admin,
                detail,
                at,
            } => {
                let (notice, withdrawn) = match state {
                    NoticeState::Absent => return Err(NoticeError::UnknownNotice),
                    NoticeState::Issued(notice) => (notice, false),
                    NoticeState::Withdrawn(notice) => (notice, true),
                };
                let by_role = if notice.staff == *by && *by_granted_staff {
                    WithdrawnAs::Issuer
                } else if *by_province_admin {
                    WithdrawnAs::ProvinceAdmin
                } else {
                    return Err(NoticeError::NotWithdrawer);
                };
                let detail = detail.trim();
                if detail.is_empty() || detail.chars().count() > 500 {
                    return Err(NoticeError::WithdrawalDetail);
                }
                if withdrawn {
                    return Err(NoticeError::AlreadyWithdrawn);
                }
                Ok(vec![NoticeEvent::NoticeWithdrawn {
                    notice_id: notice.notice_id,
                    number: notice.number.clone(),
                    subject: notice.subject,
                    by: *by,
                    by_role,
                    detail: detail.to_owned(),
                    at: *at,
                }])
            }
        }
    }

    fn evolve(state: NoticeState, event: &NoticeEvent) -> NoticeState {
        match (state, event) {
            (
                _,
                NoticeEvent::NoticeIssued {
                    notice_id,
                    number,
                    staff,
                    subject,
                    ..
                },
            ) => NoticeState::Issued(IssuedNotice {
                notice_id: *notice_id,
                number: number.clone(),
                staff: *staff,
                subject: *subject,
            }),
            (
                NoticeState::Issued(notice) | NoticeState::Withdrawn(notice),
                NoticeEvent::NoticeWithdrawn { .. },
            ) => NoticeState::Withdrawn(notice),
            (NoticeState::Absent, NoticeEvent::NoticeWithdrawn { .. }) => NoticeState::Absent,
        }
    }
}

/// The numbers of one year's notices (stream `notice-number-<year>`): each notice takes the
/// next.
#[derive(Debug)]
pub struct NoticeNumbers;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberCommand {
    Take {
        notice_id: Uuid,
        year: i32,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum NumberEvent {
    NoticeNumberTaken {
        notice_id: Uuid,
        year: i32,
        seq: u32,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl crate::DomainEvent for NumberEvent {}

impl NumberEvent {
    /// The number taken.
    pub fn number(&self) -> NoticeNumber {
        match self {
            NumberEvent::NoticeNumberTaken { year, seq, .. } => NoticeNumber {
                year: *year,
                seq: *seq,
            },
        }
    }
}

/// The last number taken in the year (0: none yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct NumbersTaken {
    pub last: u32,
}

impl Decider for NoticeNumbers {
    type Command = NumberCommand;
    type Event = NumberEvent;
    type State = NumbersTaken;
    type Error = std::convert::Infallible;

    fn initial() -> NumbersTaken {
        NumbersTaken::default()
    }

    fn decide(
        command: &NumberCommand,
        state: &NumbersTaken,
    ) -> Result<Vec<NumberEvent>, std::convert::Infallible> {
        match command {
            NumberCommand::Take {
                notice_id,
                year,
                at,
            } => Ok(vec![NumberEvent::NoticeNumberTaken {
                notice_id: *notice_id,
                year: *year,
                seq: state.last + 1,
                at: *at,
            }]),
        }
    }

    fn evolve(state: NumbersTaken, event: &NumberEvent) -> NumbersTaken {
        match event {
            NumberEvent::NoticeNumberTaken { seq, .. } => NumbersTaken {
                last: state.last.max(*seq),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Given;
    use time::macros::{date, datetime};

    const AT: OffsetDateTime = datetime!(2026-03-01 09:00 +8);

    fn person(n: u128) -> PersonId {
        PersonId::new(Uuid::from_u128(n))
    }

    fn posting() -> Posting {
        Posting::parse("广州市第一人民医院", "主治医师").expect("valid")
    }

    fn period() -> ObservationPeriod {
        ObservationPeriod::new(
            date!(2026 - 02 - 14),
            date!(2026 - 02 - 28),
            date!(2026 - 03 - 01),
        )
        .expect("valid")
    }

    fn issue(staff_granted: bool, reasons: Vec<RedReason>) -> NoticeCommand {
        NoticeCommand::Issue {
            notice_id: Uuid::from_u128(7),
            number: NoticeNumber {
                year: 2026,
                seq: 123,
            },
            scan_id: Uuid::from_u128(9),
            staff: person(1),
            staff_granted,
            posting: staff_granted.then(posting),
            subject: person(2),
            period: period(),
            reasons,
            at: AT,
        }
    }

    fn issued() -> NoticeEvent {
        NoticeEvent::NoticeIssued {
            notice_id: Uuid::from_u128(7),
            number: "YK2026-000123".into(),
            scan_id: Uuid::from_u128(9),
            staff: person(1),
            posting: posting(),
            subject: person(2),
            observation_from: date!(2026 - 02 - 14),
            observation_to: date!(2026 - 02 - 28),
            reasons: vec![RedReason::HomeQuarantine],
            at: AT,
        }
    }

    fn withdraw(by: u128, granted: bool, province: bool, detail: &str) -> NoticeCommand {
        NoticeCommand::Withdraw {
            by: person(by),
            by_granted_staff: granted,
            by_province_admin: province,
            detail: detail.into(),
            at: AT,
        }
    }

    fn withdrawn(by: u128, by_role: WithdrawnAs) -> NoticeEvent {
        NoticeEvent::NoticeWithdrawn {
            notice_id: Uuid::from_u128(7),
            number: "YK2026-000123".into(),
            subject: person(2),
            by: person(by),
            by_role,
            detail: "wrong person".into(),
            at: AT,
        }
    }

    #[test]
    fn granted_staff_issue_a_numbered_notice() {
        Given::<Notice>::nothing()
            .when(&issue(true, vec![RedReason::HomeQuarantine]))
            .then(vec![issued()]);
        Given::<Notice>::nothing()
            .when(&issue(false, vec![RedReason::HomeQuarantine]))
            .then_error(NoticeError::NotStaff);
        Given::<Notice>::events(vec![issued()])
            .when(&issue(true, vec![RedReason::HomeQuarantine]))
            .then_error(NoticeError::AlreadyIssued);
    }

    #[test]
    fn staff_do_not_release_themselves() {
        let mut own = issue(true, vec![RedReason::HomeQuarantine]);
        if let NoticeCommand::Issue { subject, .. } = &mut own {
            *subject = person(1);
        }
        Given::<Notice>::nothing()
            .when(&own)
            .then_error(NoticeError::OwnCode);
        assert_eq!(NoticeError::OwnCode.code(), "notice.own_code");
        assert_eq!(NoticeError::OwnCode.kind(), RefusalKind::Conflict);
    }

    #[test]
    fn a_notice_names_distinct_reasons() {
        Given::<Notice>::nothing()
            .when(&issue(true, vec![]))
            .then_error(NoticeError::Reasons);
        Given::<Notice>::nothing()
            .when(&issue(
                true,
                vec![RedReason::CloseContact, RedReason::CloseContact],
            ))
            .then_error(NoticeError::Reasons);
    }

    #[test]
    fn the_observation_is_over_and_in_order() {
        let today = date!(2026 - 03 - 01);
        assert!(ObservationPeriod::new(today, today, today).is_ok());
        let err = |from, to| {
            ObservationPeriod::new(from, to, today)
                .map(|_| ())
                .map_err(|e| e.kind())
        };
        assert_eq!(
            err(today, date!(2026 - 03 - 02)),
            Err(RefusalKind::Invalid {
                field: "observation_to"
            })
        );
        assert_eq!(
            err(date!(2026 - 02 - 20), date!(2026 - 02 - 19)),
            Err(RefusalKind::Invalid {
                field: "observation_from"
            })
        );
        assert_eq!(
            err(date!(2024 - 01 - 01), today),
            Err(RefusalKind::Invalid {
                field: "observation_from"
            })
        );
    }

    #[test]
    fn the_issuer_while_granted_or_the_province_admin_withdraws_once() {
        Given::<Notice>::events(vec![issued()])
            .when(&withdraw(1, true, false, " wrong person "))
            .then(vec![withdrawn(1, WithdrawnAs::Issuer)]);
        Given::<Notice>::events(vec![issued()])
            .when(&withdraw(5, false, true, "wrong person"))
            .then(vec![withdrawn(5, WithdrawnAs::ProvinceAdmin)]);
        // Revoked issuer, other staff, anyone else.
        for (by, granted) in [(1, false), (3, true), (4, false)] {
            Given::<Notice>::events(vec![issued()])
                .when(&withdraw(by, granted, false, "wrong person"))
                .then_error(NoticeError::NotWithdrawer);
        }
        Given::<Notice>::events(vec![issued()])
            .when(&withdraw(1, true, false, " "))
            .then_error(NoticeError::WithdrawalDetail);
        Given::<Notice>::events(vec![issued(), withdrawn(1, WithdrawnAs::Issuer)])
            .when(&withdraw(5, false, true, "again"))
            .then_error(NoticeError::AlreadyWithdrawn);
        Given::<Notice>::nothing()
            .when(&withdraw(5, false, true, "x"))
            .then_error(NoticeError::UnknownNotice);
    }

    #[test]
    fn numbers_are_consecutive_per_year_and_readable() {
        let take = NumberCommand::Take {
            notice_id: Uuid::from_u128(7),
            year: 2026,
            at: AT,
        };
        let taken = |seq| NumberEvent::NoticeNumberTaken {
            notice_id: Uuid::from_u128(7),
            year: 2026,
            seq,
            at: AT,
        };
        Given::<NoticeNumbers>::nothing()
            .when(&take)
            .then(vec![taken(1)]);
        Given::<NoticeNumbers>::events(vec![taken(1), taken(2)])
            .when(&take)
            .then(vec![taken(3)]);
        assert_eq!(taken(123).number().to_string(), "YK2026-000123");
        assert_eq!(
            NoticeNumber {
                year: 2027,
                seq: 1_234_567
            }
            .to_string(),
            "YK2027-1234567"
        );
        assert_eq!(number_year(datetime!(2026-12-31 16:30 UTC)), 2027);
    }

    #[test]
    fn refusals_say_their_code_and_kind() {
        let table = [
            (
                NoticeError::NotStaff,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (
                NoticeError::NotWithdrawer,
                "auth.forbidden",
                RefusalKind::Forbidden,
            ),
            (
                NoticeError::Reasons,
                "notice.reasons",
                RefusalKind::Invalid { field: "reasons" },
            ),
            (
                NoticeError::AlreadyIssued,
                "notice.already_issued",
                RefusalKind::Conflict,
            ),
            (
                NoticeError::UnknownNotice,
                "notice.unknown",
                RefusalKind::NotFound,
            ),
            (
                NoticeError::WithdrawalDetail,
                "withdrawal.detail",
                RefusalKind::Invalid { field: "detail" },
            ),
            (
                NoticeError::AlreadyWithdrawn,
                "notice.already_withdrawn",
                RefusalKind::Conflict,
            ),
        ];
        for (error, code, kind) in table {
            assert_eq!((error.code(), error.kind()), (code, kind), "{error:?}");
        }
    }
}
