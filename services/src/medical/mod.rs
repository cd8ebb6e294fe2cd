//! Medical staff (SPEC §8): the province admin's roster (grant, revoke, list), staff scans of
//! citizens' codes, and the release-from-medical-observation notices they issue, withdraw and
//! list; the citizen's view of a notice.

mod notices;
mod scan;

pub use notices::*;
pub use scan::*;

use commands::{CommandContext, Decision, Loaded, Outcome};
use domain::document::{Document, DocumentError, MobilePhone};
use domain::identity::{Identity, PersonId};
use domain::medical::{MedicalStaff, Posting, StaffCommand, StaffState};
use domain::week::today;
use domain::Decider;
use event_store::StreamId;
use serde::{Deserialize, Serialize};

use crate::citizens::{digest_of, person_facts};
use crate::feed::DocumentInput;
use crate::page::{Page, PageRequest};
use crate::province::ProvinceAdmin;
use crate::support::{collect, fold, instant, Done};
use crate::{streams, ServiceError, Services};

/// A person to put on the roster, as the province admin sends it (表5-2: name, phone, unit,
/// position, all required; and the document they signed in with).
#[derive(Debug, Clone, Deserialize)]
pub struct StaffInput {
    pub document: DocumentInput,
    pub name: String,
    pub phone: String,
    pub unit: String,
    pub position: String,
}

/// What the roster seals under the staff member's subject key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub phone: String,
}

/// The answer to a grant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Granted {
    pub person_id: PersonId,
}

fn field(field: &'static str, code: &'static str, detail: impl Into<String>) -> DocumentError {
    DocumentError {
        field,
        code,
        detail: detail.into(),
    }
}

/// The roster's name, by the rule of every name (`parse_name`), as a field error to collect.
fn roster_name(raw: &str) -> Result<String, DocumentError> {
    crate::citizens::parse_name(raw, "name")
        .map_err(|_| field("name", "name.format", "a name has 1 to 50 characters"))
}

fn posting(unit: &str, position: &str) -> Result<Posting, DocumentError> {
    Posting::parse(unit, position).map_err(|e| match e {
        domain::medical::StaffError::Posting(name) => field(name, "medical.posting", e.to_string()),
        other => field("unit", "medical.posting", other.to_string()),
    })
}

/// The province admin puts the person holding `input.document` on the roster: `422` naming
/// each bad field, `404 person.unknown` when nobody signed in with the document yet, `409
/// medical.already_granted`. The name and phone are sealed with the person's subject key;
/// the admin still holding the seat is checked at commit.
pub async fn grant_staff(
    services: &Services,
    ctx: &CommandContext,
    permit: &ProvinceAdmin,
    input: &StaffInput,
) -> Result<Outcome<Granted>, ServiceError> {
    let now = services.now();
    let mut errors = Vec::new();
    let document = collect(
        Document::parse(&input.document.kind, &input.document.number, today(now)),
        &mut errors,
    );
    let name = collect(roster_name(&input.name), &mut errors);
    let phone = collect(MobilePhone::parse(&input.phone), &mut errors);
    let posting = collect(posting(&input.unit, &input.position), &mut errors);
    let (Some(document), Some(name), Some(phone), Some(posting)) = (document, name, phone, posting)
    else {
        return Err(errors.into());
    };
    let digest = digest_of(&services.keys, &document)?;
    let person = fold::<Identity>(services, &streams::identity(&digest))
        .await?
        .person_id()
        .ok_or_else(|| {
            ServiceError::not_found(
                "person.unknown",
                "nobody has signed in with this document; the person signs in once first",
            )
        })?;
    let contact = services
        .vault
        .seal_json(
            digest.as_str(),
            &Contact {
                name,
                phone: phone.as_str().to_owned(),
            },
        )
        .await
        .map_err(ServiceError::internal)?;
    let contact = crate::citizens::sealed(contact);
    let stream = streams::medical_staff(person);
    let loaded = permit
        .loaded()
        .join(services.bus.load(std::slice::from_ref(&stream)).await?);
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let events = MedicalStaff::decide(
                &StaffCommand::Grant {
                    person,
                    contact: contact.clone(),
                    posting: posting.clone(),
                    by: permit.person,
                    by_province_admin: permit.holds(loaded)?,
                    at: now,
                },
                &loaded.fold::<MedicalStaff>(&stream)?,
            )
            .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(Granted { person_id: person })
                    .append(stream.clone(), &events)?
                    .check(permit.stream().clone()),
            )
        })
        .await?)
}

/// The province admin takes the permission from `person` (a path segment): `404` when they
/// do not hold it. Their scans and notices are refused from this commit on.
pub async fn revoke_staff(
    services: &Services,
    ctx: &CommandContext,
    permit: &ProvinceAdmin,
    person: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let person = PersonId::parse(person)
        .ok_or_else(|| ServiceError::refused(domain::medical::StaffError::NotStaff))?;
    let stream = streams::medical_staff(person);
    let loaded = permit
        .loaded()
        .join(services.bus.load(std::slice::from_ref(&stream)).await?);
    let now = services.now();
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let events = MedicalStaff::decide(
                &StaffCommand::Revoke {
                    by: permit.person,
                    by_province_admin: permit.holds(loaded)?,
                    at: now,
                },
                &loaded.fold::<MedicalStaff>(&stream)?,
            )
            .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(Done {})
                    .append(stream.clone(), &events)?
                    .check(permit.stream().clone()),
            )
        })
        .await?)
}

/// A staff member as the roster lists them (to the province admin: name and phone unmasked,
/// empty once the person's key was shredded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    pub person_id: String,
    pub name: String,
    pub phone: String,
    pub unit: String,
    pub position: String,
    pub granted_at: time::OffsetDateTime,
}

/// Opens a roster row's sealed contact (`None` once shredded).
async fn contact(
    services: &Services,
    person_id: &str,
    sealed: &str,
) -> Result<Option<Contact>, ServiceError> {
    let person = crate::citizens::person_id(person_id)?;
    let digest = person_facts(services, person).await?.digest;
    services
        .vault
        .open_json(&digest, &crypto::vault::Sealed(sealed.to_owned()))
        .await
        .map_err(ServiceError::internal)
}

/// The roster, granted staff in grant order (the province admin only).
pub async fn roster(
    services: &Services,
    _permit: &ProvinceAdmin,
    page: PageRequest,
) -> Result<Page<RosterEntry>, ServiceError> {
    let rows = projections::medical::roster(&services.db, page.after.unwrap_or(0), page.limit + 1)
        .await
        .map_err(ServiceError::internal)?;
    let more = rows.len() > page.limit as usize;
    let mut items = Vec::with_capacity(rows.len().min(page.limit as usize));
    for row in rows.iter().take(page.limit as usize) {
        let contact = contact(services, &row.person_id, &row.contact).await?;
        items.push(RosterEntry {
            person_id: row.person_id.clone(),
            name: contact.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
            phone: contact.map(|c| c.phone).unwrap_or_default(),
            unit: row.unit.clone(),
            position: row.post.clone(),
            granted_at: instant(row.granted_at),
        });
    }
    let next = more
        .then(|| {
            rows.get(page.limit as usize - 1)
                .map(|r| r.granted_seq.to_string())
        })
        .flatten();
    Ok(Page { items, next })
}

/// A person found holding the medical-staff permission, with their roster stream as read.
#[derive(Debug)]
pub struct StaffPermit {
    pub staff: PersonId,
    stream: StreamId,
    loaded: Loaded,
}

/// Lets `person` act as medical staff: `403` unless they hold the permission now.
pub async fn permit_staff(
    services: &Services,
    person: PersonId,
) -> Result<StaffPermit, ServiceError> {
    let stream = streams::medical_staff(person);
    let loaded = services.bus.load(std::slice::from_ref(&stream)).await?;
    if !loaded.fold::<MedicalStaff>(&stream)?.is_granted() {
        return Err(ServiceError::refused(
            domain::medical::MedicalScanError::NotStaff,
        ));
    }
    Ok(StaffPermit {
        staff: person,
        stream,
        loaded,
    })
}

impl StaffPermit {
    /// The roster state in `loaded` (the permit's read joined with the command's, or a fresh
    /// one after a conflict).
    fn state(&self, loaded: &Loaded) -> Result<StaffState, ServiceError> {
        Ok(loaded.fold::<MedicalStaff>(&self.stream)?)
    }
}
