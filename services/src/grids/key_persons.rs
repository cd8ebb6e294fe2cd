//! A grid's key persons (重点人员), for its admin and authorised workers: people visited in
//! the grid with a fever or symptoms in the last 14 days, and red-coded people whose feed
//! region lies inside the grid's region; each with reason labels and masked name and phone.
//! Each registered person on a page shown gets an entry in their access log.

use crypto::vault;
use domain::access::{AccessedData, Accessor};
use domain::document::{mask_name, DocumentDigest};
use domain::grid::{GridId, ManualVisitEvent};
use domain::identity::{Identity, IdentityEvent, PersonId, RedReason};
use domain::Decider;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{authorize_reader, grid_id, grid_subject, ManualPerson};
use crate::page::{Page, PageRequest};
use crate::support::{events, instant, masked_phone};
use crate::{streams, ServiceError, Services};

/// How far back visits make a key person.
const VISIT_WINDOW: time::Duration = time::Duration::days(14);

/// One key person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPerson {
    /// The registered person, when known (a person entered by hand, or red-coded before
    /// registering, has none).
    pub person_id: Option<PersonId>,
    pub name_masked: String,
    /// Empty when unknown.
    pub phone_masked: String,
    /// Why they are listed: `发热` and `有症状` from visits, and the red reasons' labels.
    pub reason_labels: Vec<String>,
    /// The latest visit or red hit that lists them.
    pub since: OffsetDateTime,
}

const FEVER: &str = "发热";
const SYMPTOMS: &str = "有症状";

/// The grid's key persons, newest first, paged (`after` is the number of items already seen):
/// the grid's admin and authorised workers only.
pub async fn key_persons(
    services: &Services,
    viewer: PersonId,
    raw: &str,
    page: PageRequest,
) -> Result<Page<KeyPerson>, ServiceError> {
    let grid_id = grid_id(raw)?;
    let state = authorize_reader(services, grid_id, viewer).await?;
    let Some(region) = state.region().cloned() else {
        return Err(ServiceError::not_found(
            "grid.unknown",
            format!("no grid {grid_id}"),
        ));
    };
    let mut people: Vec<KeyPerson> = Vec::new();
    let since = (services.now() - VISIT_WINDOW).unix_timestamp();
    let visits = projections::grids::key_visits(&services.db, &grid_id.to_string(), since)
        .await
        .map_err(ServiceError::internal)?;
    for v in visits {
        let mut labels = Vec::new();
        if v.fever != 0 {
            labels.push(FEVER.to_owned());
        }
        if v.symptoms != 0 {
            labels.push(SYMPTOMS.to_owned());
        }
        let person = match v.person_id.as_deref() {
            // A visit whose link expired (retention) names nobody.
            Some(id) => match scanned_person(services, id, instant(v.at)).await? {
                Some(person) => person,
                None => continue,
            },
            None => manual_person(services, grid_id, &v.visit_id).await?,
        };
        merge(&mut people, person, labels, instant(v.at));
    }
    let red = projections::red_regions::in_region(&services.db, region.as_str())
        .await
        .map_err(ServiceError::internal)?;
    for r in red {
        let Some(reason) = RedReason::parse(&r.reason) else {
            continue;
        };
        let person = red_person(services, &r.digest).await?;
        merge(
            &mut people,
            person,
            vec![reason.label().to_owned()],
            instant(r.since),
        );
    }
    people.sort_by_key(|p| std::cmp::Reverse(p.since));
    let page = page.slice(people);
    // Each registered person shown is told who saw their (masked) data.
    for id in page.items.iter().filter_map(|p| p.person_id) {
        crate::citizens::record_access(
            services,
            &crate::auth::person_actor(viewer),
            id,
            Accessor::Grid {
                grid_id: grid_id.as_uuid(),
                person_id: viewer,
            },
            AccessedData::Profile,
        )
        .await?;
    }
    Ok(page)
}

/// Adds `labels` to the person already listed (same registered person), or lists them.
fn merge(people: &mut Vec<KeyPerson>, person: KeyPerson, labels: Vec<String>, at: OffsetDateTime) {
    let listed = person
        .person_id
        .and_then(|id| people.iter_mut().find(|p| p.person_id == Some(id)));
    let entry = match listed {
        Some(entry) => entry,
        None => {
            people.push(person);
            let last = people.len() - 1;
            &mut people[last]
        }
    };
    for label in labels {
        if !entry.reason_labels.contains(&label) {
            entry.reason_labels.push(label);
        }
    }
    entry.since = entry.since.max(at);
}

/// A scanned person (named by the pseudonym of the visit's day, `at`): their masked name and
/// phone from their registration; `None` once the link expired.
async fn scanned_person(
    services: &Services,
    raw: &str,
    at: OffsetDateTime,
) -> Result<Option<KeyPerson>, ServiceError> {
    let named = PersonId::new(Uuid::parse_str(raw).map_err(ServiceError::internal)?);
    match crate::links::resolve(services, named, at).await? {
        Some(id) => registered_person(services, id).await.map(Some),
        None => Ok(None),
    }
}

/// A registered person: their masked name and phone.
async fn registered_person(services: &Services, id: PersonId) -> Result<KeyPerson, ServiceError> {
    // Only the masked name and phone are used: the key persons list has its own reasons.
    let answer = crate::venues::masked_answer(services, id, true, &Default::default())
        .await?
        .answer;
    Ok(KeyPerson {
        person_id: Some(id),
        name_masked: answer.name_masked,
        phone_masked: answer.phone_masked,
        reason_labels: Vec::new(),
        since: OffsetDateTime::UNIX_EPOCH,
    })
}

/// A person entered by hand: masked from what the grid sealed.
async fn manual_person(
    services: &Services,
    grid_id: GridId,
    visit_id: &str,
) -> Result<KeyPerson, ServiceError> {
    let id = Uuid::parse_str(visit_id).map_err(ServiceError::internal)?;
    let mut person = None;
    for e in events::<ManualVisitEvent>(services, &streams::grid_visit(id)).await? {
        let ManualVisitEvent::ManualVisitRecorded { person: sealed, .. } = e;
        person = services
            .vault
            .open_json::<ManualPerson>(
                &grid_subject(grid_id),
                &vault::Sealed(sealed.as_str().to_owned()),
            )
            .await
            .map_err(ServiceError::internal)?;
    }
    Ok(KeyPerson {
        person_id: None,
        name_masked: person
            .as_ref()
            .map(|p| mask_name(&p.name))
            .unwrap_or_default(),
        phone_masked: masked_phone(person.as_ref().and_then(|p| p.phone.as_deref())),
        reason_labels: Vec::new(),
        since: OffsetDateTime::UNIX_EPOCH,
    })
}

/// A red-coded identity: the registered person's masked name and phone, or the masked name
/// the feed gave.
async fn red_person(services: &Services, digest: &str) -> Result<KeyPerson, ServiceError> {
    let digest = DocumentDigest::parse(digest.to_owned())
        .map_err(|why| ServiceError::internal(anyhow::anyhow!(why)))?;
    let decoded = events::<IdentityEvent>(services, &streams::identity(&digest)).await?;
    if let Some(person_id) = Identity::fold(&decoded).person_id() {
        return registered_person(services, person_id).await;
    }
    let named = decoded.iter().rev().find_map(|e| match e {
        IdentityEvent::RedReasonHit { name, .. } => Some(name.as_str()),
        _ => None,
    });
    Ok(KeyPerson {
        person_id: None,
        name_masked: crate::citizens::masked_name(services, digest.as_str(), named).await?,
        phone_masked: String::new(),
        reason_labels: Vec::new(),
        since: OffsetDateTime::UNIX_EPOCH,
    })
}
