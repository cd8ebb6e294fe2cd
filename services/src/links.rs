//! Retention of the links from venue check-ins, scans, checks and grid visits to a person
//! (SPEC §2; decision 0023). Those events name the person (and a check-in the guardian who
//! made it) by a per-day pseudonym: the person id enciphered under the vault key
//! `links-<day>`, the day in China Standard Time. The same person has the same pseudonym all
//! day, so the statistics count people per day exactly, also on a rebuild; the key is kept
//! `retention_days` days after its day, then the retention job shreds it, and from then on
//! those events resolve to nobody while the log stays as it was and verifies.

use domain::access::Accessor;
use domain::identity::PersonId;
use time::{Date, OffsetDateTime};

use crate::error::ServiceError;
use crate::Services;

/// The vault subjects of the per-day link keys start so.
pub const PREFIX: &str = "links-";
/// How many days a day's links stay resolvable after the day, by default.
pub const DEFAULT_RETENTION_DAYS: u32 = 28;

/// The vault subject of the links of `day`.
pub fn day_subject(day: Date) -> String {
    format!("{PREFIX}{day}")
}

/// The day (China Standard Time) whose key names a person at `at`.
pub fn day_of(at: OffsetDateTime) -> Date {
    domain::week::today(at)
}

/// The pseudonym naming `person` in the link events of `at`'s day (the day's key is made on
/// first use).
pub async fn link(
    services: &Services,
    person: PersonId,
    at: OffsetDateTime,
) -> Result<PersonId, ServiceError> {
    let pseudonym = services
        .vault
        .pseudonym(&day_subject(day_of(at)), person.as_uuid().into_bytes())
        .await
        .map_err(ServiceError::internal)?;
    Ok(PersonId::new(uuid::Uuid::from_bytes(pseudonym)))
}

/// The pseudonym of a venue or grid id in the access records of `at`'s day.
async fn link_place(
    services: &Services,
    place: uuid::Uuid,
    at: OffsetDateTime,
) -> Result<uuid::Uuid, ServiceError> {
    services
        .vault
        .pseudonym(&day_subject(day_of(at)), place.into_bytes())
        .await
        .map(uuid::Uuid::from_bytes)
        .map_err(ServiceError::internal)
}

/// The access record of a scan (or of a declaration viewed on one) links the person to a
/// venue or grid, at a time: it names the venue or grid and who scanned by the day's
/// pseudonyms too, so it expires with the scan. Other accessors stay as they are.
pub async fn link_accessor(
    services: &Services,
    accessor: Accessor,
    at: OffsetDateTime,
) -> Result<Accessor, ServiceError> {
    Ok(match accessor {
        Accessor::Venue {
            venue_id,
            person_id,
        } => Accessor::Venue {
            venue_id: link_place(services, venue_id, at).await?,
            person_id: link(services, person_id, at).await?,
        },
        Accessor::Grid { grid_id, person_id } => Accessor::Grid {
            grid_id: link_place(services, grid_id, at).await?,
            person_id: link(services, person_id, at).await?,
        },
        other => other,
    })
}

/// The accessor an access record of `at` names: a venue or grid and who scanned, deciphered
/// while the day's key exists (as recorded for records from before links were pseudonymous);
/// `None` once it expired.
pub async fn resolve_accessor(
    services: &Services,
    accessor: &Accessor,
    at: OffsetDateTime,
) -> Result<Option<Accessor>, ServiceError> {
    let (place, named) = match accessor {
        Accessor::Venue {
            venue_id,
            person_id,
        } => (*venue_id, *person_id),
        Accessor::Grid { grid_id, person_id } => (*grid_id, *person_id),
        other => return Ok(Some(other.clone())),
    };
    let (person, place) = match named_person(services, named, at).await? {
        None => return Ok(None),
        Some(Named::InClear(person)) => (person, place),
        Some(Named::ByPseudonym(person)) => {
            let deciphered = services
                .vault
                .resolve(&day_subject(day_of(at)), place.into_bytes())
                .await
                .map_err(ServiceError::internal)?;
            let Some(place) = deciphered else {
                return Ok(None);
            };
            (person, uuid::Uuid::from_bytes(place))
        }
    };
    Ok(Some(match accessor {
        Accessor::Venue { .. } => Accessor::Venue {
            venue_id: place,
            person_id: person,
        },
        _ => Accessor::Grid {
            grid_id: place,
            person_id: person,
        },
    }))
}

/// How a link event names a registered person.
enum Named {
    /// By the pseudonym of its day (the person deciphered).
    ByPseudonym(PersonId),
    /// In clear: an event from before links were pseudonymous.
    InClear(PersonId),
}

/// The registered person `named` is in a link event of `at`, and how it names them.
async fn named_person(
    services: &Services,
    named: PersonId,
    at: OffsetDateTime,
) -> Result<Option<Named>, ServiceError> {
    let deciphered = services
        .vault
        .resolve(&day_subject(day_of(at)), named.as_uuid().into_bytes())
        .await
        .map_err(ServiceError::internal)?;
    if let Some(bytes) = deciphered {
        let person = PersonId::new(uuid::Uuid::from_bytes(bytes));
        if crate::citizens::person_facts_if_any(services, person)
            .await?
            .is_some()
        {
            return Ok(Some(Named::ByPseudonym(person)));
        }
    }
    Ok(crate::citizens::person_facts_if_any(services, named)
        .await?
        .map(|_| Named::InClear(named)))
}

/// The person a link event of `at` names by `named`: the pseudonym deciphered under the day's
/// key when that names a registered person; `named` itself for an event from before links
/// were pseudonymous; `None` once the day's key was shredded (or for nobody).
pub async fn resolve(
    services: &Services,
    named: PersonId,
    at: OffsetDateTime,
) -> Result<Option<PersonId>, ServiceError> {
    Ok(named_person(services, named, at).await?.map(|n| match n {
        Named::ByPseudonym(person) | Named::InClear(person) => person,
    }))
}

/// As [`resolve`], refusing a link that resolves to nobody as `404 person.unknown`.
pub async fn resolve_or_unknown(
    services: &Services,
    named: PersonId,
    at: OffsetDateTime,
) -> Result<PersonId, ServiceError> {
    resolve(services, named, at).await?.ok_or_else(|| {
        ServiceError::not_found(
            "person.unknown",
            "the person this names can no longer be told (retention ended)",
        )
    })
}

/// Every name `person` has in link events still kept: their pseudonym of each day whose key
/// still exists, and their own id (events from before links were pseudonymous).
pub async fn names_of(services: &Services, person: PersonId) -> Result<Vec<String>, ServiceError> {
    let mut names = vec![person.to_string()];
    for subject in services
        .vault
        .subjects_with_prefix(PREFIX)
        .await
        .map_err(ServiceError::internal)?
    {
        // A key shredded since the list was read names nobody.
        if let Some(pseudonym) = services
            .vault
            .existing_pseudonym(&subject, person.as_uuid().into_bytes())
            .await
            .map_err(ServiceError::internal)?
        {
            names.push(uuid::Uuid::from_bytes(pseudonym).to_string());
        }
    }
    Ok(names)
}

/// What a retention run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionRun {
    /// The days whose link keys were shredded, oldest first.
    pub shredded: Vec<Date>,
    /// The oldest day still kept.
    pub kept_from: Option<Date>,
}

/// Shreds the link keys of every day more than `retention_days` before today: a check-in,
/// scan, check or grid visit of such a day names nobody any more.
pub async fn run_retention(services: &Services) -> Result<RetentionRun, ServiceError> {
    let today = day_of(services.now());
    let kept_from = today - time::Duration::days(i64::from(services.retention_days));
    let mut run = RetentionRun {
        kept_from: Some(kept_from),
        ..RetentionRun::default()
    };
    for subject in services
        .vault
        .subjects_with_prefix(PREFIX)
        .await
        .map_err(ServiceError::internal)?
    {
        let Some(day) = subject.strip_prefix(PREFIX).and_then(|d| {
            Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()
        }) else {
            continue;
        };
        if day < kept_from {
            services
                .vault
                .shred(&subject)
                .await
                .map_err(ServiceError::internal)?;
            run.shredded.push(day);
        }
    }
    if !run.shredded.is_empty() {
        tracing::info!(
            days = run.shredded.len(),
            kept_from = %kept_from,
            "retention: shredded the link keys of past days"
        );
    }
    Ok(run)
}
