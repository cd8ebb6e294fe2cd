//! The citizen-side use cases: logging in with an identity assertion (first login
//! registers), family members, declarations and entries, appeals, the access log, the
//! province admin bootstrap and shredding; and what they share (the sealed profile, the
//! person's registration facts).
//!
//! Personal data (name, phone, document number) is sealed with the subject's key before it
//! reaches a command; the subject of a person is the keyed hash of their document.

mod access;
mod admin;
mod appeals;
mod declarations;
mod family;
mod login;
mod me;

pub use access::*;
pub use admin::*;
pub use appeals::*;
pub use declarations::*;
pub use family::*;
pub use login::*;
pub use me::*;
pub use projections::histories::HistoryKind;

use commands::{CommandContext, Decision, Loaded};
use crypto::assertion::IdentityClaims;
use crypto::keys::Keys;
use crypto::vault::{self};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::assertion::{Assertion, AssertionPurpose, UseAssertion};
use domain::demographics::{Demographics, Sex};
use domain::document::DocumentDigest;
use domain::document::{mask_name, Document, MobilePhone};
use domain::identity::{Identity, IdentityCommand, PersonId, RedReason, Registration};
use domain::person::{Person, PersonCommand, PersonError, Relation};
use domain::region::{Appointer, Region, RegionCode, RegionCommand};
use domain::sealed::Sealed;
use domain::subject::{Subject, SubjectCommand};
use domain::week::today;
use domain::{Decider, DomainEvent};
use event_store::EventReader;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::error::ServiceError;
use crate::streams;
use crate::support::{Appends, Done};
use crate::Services;

/// What is sealed in `PersonRegistered.profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub phone: Option<String>,
    pub document_type: String,
    pub document_number: String,
}

/// A person's name as asserted: 1 to 50 characters, no control characters.
pub(crate) fn parse_name(raw: &str, field: &'static str) -> Result<String, ServiceError> {
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 || n > 50 || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            "name.format",
            "a name has 1 to 50 characters",
        ));
    }
    Ok(name.to_owned())
}

/// The document's keyed hash.
pub fn digest_of(keys: &Keys, document: &Document) -> Result<DocumentDigest, ServiceError> {
    DocumentDigest::parse(keys.document_digest(document.kind(), document.number()))
        .map_err(|why| ServiceError::internal(anyhow::anyhow!(why)))
}

pub(crate) fn sealed(v: vault::Sealed) -> Sealed {
    Sealed::new(v.0)
}

/// A verified identity: the parsed document, its digest, the provider's subject (keyed
/// digest) and the sealed profile.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    pub claims: IdentityClaims,
    pub document: Document,
    pub digest: DocumentDigest,
    /// The keyed digest of the provider's subject; without a `sub` claim, of the document.
    pub subject: String,
    pub registration: Registration,
}

/// Verifies an identity assertion (refused as unauthenticated with the rule it broke),
/// parses what it says and seals it for the log.
pub async fn verify_assertion(
    services: &Services,
    token: &str,
) -> Result<VerifiedIdentity, ServiceError> {
    let now = services.now();
    let claims = crypto::assertion::verify(token, &services.keys.providers, now).map_err(|e| {
        ServiceError::Unauthenticated {
            code: e.code(),
            detail: e.to_string(),
        }
    })?;
    let document = Document::parse(&claims.doc_type, &claims.doc_number, today(now))?;
    let name = parse_name(&claims.name, "name")?;
    let phone = match claims
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => Some(MobilePhone::parse(p)?.as_str().to_owned()),
        None => None,
    };
    let digest = digest_of(&services.keys, &document)?;
    let subject = match &claims.sub {
        Some(sub) => services.keys.subject_digest(&claims.iss, sub),
        None => services
            .keys
            .subject_digest(&claims.iss, &format!("document:{}", digest.as_str())),
    };
    let (sex, birth_date) = match &document {
        Document::ResidentId(id) => (Some(id.sex()), Some(id.birth_date())),
        Document::HkMacaoPermit(_) | Document::Passport(_) | Document::BirthCertificate(_) => {
            (None, None)
        }
    };
    let profile = Profile {
        name,
        phone,
        document_type: document.kind().to_owned(),
        document_number: document.number().to_owned(),
    };
    let sealed_profile = services
        .vault
        .seal_json(digest.as_str(), &profile)
        .await
        .map_err(ServiceError::internal)?;
    Ok(VerifiedIdentity {
        registration: Registration {
            person_id: PersonId::new(Uuid::now_v7()),
            document_kind: document.kind().to_owned(),
            profile: sealed(sealed_profile),
            sex,
            birth_date,
        },
        claims,
        document,
        digest,
        subject,
    })
}

/// Opens a sealed profile; `None` when the subject's key was shredded.
pub async fn open_profile(
    services: &Services,
    digest: &str,
    profile: Option<&str>,
) -> Result<Option<Profile>, ServiceError> {
    let Some(profile) = profile else {
        return Ok(None);
    };
    services
        .vault
        .open_json(digest, &vault::Sealed(profile.to_owned()))
        .await
        .map_err(ServiceError::internal)
}

/// The masked name of a sealed profile (`张*强`), empty once shredded.
pub async fn masked_name(
    services: &Services,
    digest: &str,
    profile: Option<&str>,
) -> Result<String, ServiceError> {
    Ok(open_profile(services, digest, profile)
        .await?
        .map(|p| mask_name(&p.name))
        .unwrap_or_default())
}

/// What the log says of a registered person: their subject (the keyed digest of their
/// document, whose key seals their data), their sealed profile (`None` once shredded), and
/// the facts their document gives (sex and birth date of a resident ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    pub person_id: PersonId,
    pub digest: String,
    pub profile: Option<String>,
    pub sex: Option<Sex>,
    pub birth_date: Option<Date>,
}

impl PersonFacts {
    /// Sex and age band on `day`.
    pub fn demographics(&self, day: Date) -> Demographics {
        Demographics::on(self.sex, self.birth_date, day)
    }

    /// The facts a `people` row holds (decoded once, where they are read).
    fn from_row(row: projections::people::PersonRow) -> Result<Self, ServiceError> {
        let corrupt = |what: &str| {
            ServiceError::internal(anyhow::anyhow!("bad {what} in the people read model"))
        };
        Ok(PersonFacts {
            person_id: PersonId::parse(&row.person_id).ok_or_else(|| corrupt("person id"))?,
            sex: row
                .sex
                .as_deref()
                .map(|s| Sex::parse(s).ok_or_else(|| corrupt("sex")))
                .transpose()?,
            birth_date: row
                .birth_date
                .as_deref()
                .map(|b| {
                    Date::parse(b, time::macros::format_description!("[year]-[month]-[day]"))
                        .map_err(|_| corrupt("birth date"))
                })
                .transpose()?,
            digest: row.digest,
            profile: row.profile,
        })
    }
}

/// A person's registration facts folded from their streams (`person-<id>` gives the digest,
/// `identity-<digest>` the registration): what the `people` read model holds once it has
/// applied them (the profile as first registered, none once shredded; sex and birth date as
/// the registering document gave them).
pub(crate) async fn facts_from_streams(
    services: &Services,
    person: PersonId,
) -> Result<Option<PersonFacts>, ServiceError> {
    let created = services
        .bus
        .store()
        .read_stream(&streams::person(person), None)
        .await?;
    let Some(first) = created.first() else {
        return Ok(None);
    };
    let domain::person::PersonEvent::PersonCreated { digest, .. } =
        domain::person::PersonEvent::decode(
            &first.event_type,
            first.schema_version,
            &first.payload,
        )?
    else {
        return Ok(None);
    };
    let registration = services
        .bus
        .store()
        .read_stream(&streams::identity(&digest), None)
        .await?;
    let mut facts: Option<PersonFacts> = None;
    for e in registration {
        match domain::identity::IdentityEvent::decode(&e.event_type, e.schema_version, &e.payload)?
        {
            domain::identity::IdentityEvent::PersonRegistered {
                person_id,
                profile,
                sex,
                birth_date,
                ..
            } if person_id == person && facts.is_none() => {
                facts = Some(PersonFacts {
                    person_id,
                    digest: digest.to_string(),
                    profile: Some(profile.as_str().to_owned()),
                    sex,
                    birth_date,
                });
            }
            // As the read model: a shred empties the profile for good.
            domain::identity::IdentityEvent::PersonalDataShredded { .. } => {
                if let Some(facts) = &mut facts {
                    facts.profile = None;
                }
            }
            _ => {}
        }
    }
    Ok(facts)
}

/// The person's facts on a hot path (a check-in, a scan): folded from their streams, which
/// the store keeps in memory, when those give them whole (the registering document gave sex
/// and birth date); otherwise as [`person_facts_if_any`] (the read model also has what a
/// later document of the same person added).
pub(crate) async fn person_facts_fast(
    services: &Services,
    person: PersonId,
) -> Result<Option<PersonFacts>, ServiceError> {
    match facts_from_streams(services, person).await? {
        Some(facts) if facts.sex.is_some() && facts.birth_date.is_some() => Ok(Some(facts)),
        _ => person_facts_if_any(services, person).await,
    }
}

/// The person's facts from the `people` read model; when it has not applied the
/// registration yet (someone registered a moment ago), the same facts folded from the
/// person's streams. `404 person.unknown` for no such person.
pub async fn person_facts(
    services: &Services,
    person: PersonId,
) -> Result<PersonFacts, ServiceError> {
    person_facts_if_any(services, person)
        .await?
        .ok_or_else(|| unknown_person(person))
}

/// `404 person.unknown`.
pub(crate) fn unknown_person(person: PersonId) -> ServiceError {
    ServiceError::not_found("person.unknown", format!("no person {person}"))
}

/// As [`person_facts`], `None` for no such person.
pub async fn person_facts_if_any(
    services: &Services,
    person: PersonId,
) -> Result<Option<PersonFacts>, ServiceError> {
    if let Some(row) = projections::people::person(&services.db, &person.to_string())
        .await
        .map_err(ServiceError::internal)?
    {
        return PersonFacts::from_row(row).map(Some);
    }
    facts_from_streams(services, person).await
}

/// The keyed digest of a person's document (their subject), typed.
pub(crate) async fn person_digest(
    services: &Services,
    person: PersonId,
) -> Result<DocumentDigest, ServiceError> {
    DocumentDigest::parse(person_facts(services, person).await?.digest)
        .map_err(|why| ServiceError::internal(anyhow::anyhow!(why)))
}

/// The subject (document digest) of a person, whose key seals their data.
pub async fn subject_of(services: &Services, person: PersonId) -> Result<String, ServiceError> {
    Ok(person_facts(services, person).await?.digest)
}

/// A person named by a path segment: `404 person.unknown` when it is no person id.
pub fn person_id(raw: &str) -> Result<PersonId, ServiceError> {
    PersonId::parse(raw).ok_or_else(|| {
        ServiceError::not_found("person.unknown", format!("{raw:?} is not a person id"))
    })
}
