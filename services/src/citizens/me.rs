//! What a person sees of themself and their family: their profile and roles, their health
//! code (colour and active red reasons), a family member's code, the family list, and their
//! histories.

use domain::health_code::Colour;
use projections::histories::HistoryKind;

use super::*;
use crate::page::{Page, PageRequest};

/// One role a person holds, with what it covers (an org, a venue, a region code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// `citizen`, `guardian`, `org_admin`, `org_member`, `venue_admin`, `venue_inspector`,
    /// `grid_admin`, `grid_worker`, `region_admin`, `medical_staff`, `auditor`, `analyst`.
    pub role: &'static str,
    pub scope: Option<String>,
}

/// A person's own data, unmasked (their profile is `None` once their key was shredded).
#[derive(Debug, Clone)]
pub struct Me {
    pub person_id: PersonId,
    pub profile: Option<Profile>,
    pub sex: Option<Sex>,
    pub birth_date: Option<Date>,
    pub roles: Vec<Role>,
}

/// The person's own data and every role they hold.
pub async fn me(services: &Services, person: PersonId) -> Result<Me, ServiceError> {
    let db = &services.db;
    let row = person_facts(services, person).await?;
    let profile = open_profile(services, &row.digest, row.profile.as_deref()).await?;
    let internal = ServiceError::internal;
    let mut roles = vec![Role {
        role: "citizen",
        scope: None,
    }];
    let family = projections::people::family(db, &person.to_string())
        .await
        .map_err(internal)?;
    if !family.is_empty() {
        roles.push(Role {
            role: "guardian",
            scope: None,
        });
    }
    if let Some(org) = projections::orgs::of_admin(db, &person.to_string())
        .await
        .map_err(internal)?
    {
        roles.push(Role {
            role: "org_admin",
            scope: Some(org.org_id),
        });
    }
    for org in projections::orgs::of_member(db, &person.to_string())
        .await
        .map_err(internal)?
    {
        roles.push(Role {
            role: "org_member",
            scope: Some(org.org_id),
        });
    }
    if let Some(venue) = projections::venues::of_admin(db, &person.to_string())
        .await
        .map_err(internal)?
    {
        roles.push(Role {
            role: "venue_admin",
            scope: Some(venue.venue_id),
        });
    }
    for venue in projections::venues::of_inspector(db, &person.to_string())
        .await
        .map_err(internal)?
    {
        roles.push(Role {
            role: "venue_inspector",
            scope: Some(venue.venue_id),
        });
    }
    for grid in projections::grids::of_admin(db, &person.to_string())
        .await
        .map_err(internal)?
    {
        roles.push(Role {
            role: "grid_admin",
            scope: Some(grid),
        });
    }
    for grid in projections::grids::of_worker(db, &person.to_string())
        .await
        .map_err(internal)?
    {
        roles.push(Role {
            role: "grid_worker",
            scope: Some(grid.grid_id),
        });
    }
    for region in projections::people::admin_regions(db, &row.digest)
        .await
        .map_err(internal)?
    {
        roles.push(Role {
            role: "region_admin",
            scope: Some(region),
        });
    }
    if projections::medical::staff(db, &person.to_string())
        .await
        .map_err(internal)?
        .is_some_and(|staff| staff.revoked_at.is_none())
    {
        roles.push(Role {
            role: "medical_staff",
            scope: None,
        });
    }
    for role in projections::medical::roles_of(db, &person.to_string())
        .await
        .map_err(internal)?
        .iter()
        .filter_map(|r| domain::role_grant::PersonRole::parse(r).ok())
    {
        roles.push(Role {
            role: role.as_str(),
            scope: None,
        });
    }
    Ok(Me {
        person_id: person,
        profile,
        sex: row.sex,
        birth_date: row.birth_date,
        roles,
    })
}

/// One active red reason on a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveReason {
    pub reason: RedReason,
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// The feed record that set it.
    pub source: String,
}

/// A person's health code: the signed QR payload, issued now (valid long-term for the colour,
/// fresh for a few minutes for more: apps and pages fetch it again), its colour now, and the
/// active red reasons.
#[derive(Debug, Clone)]
pub struct HealthCode {
    pub person_id: PersonId,
    pub token: String,
    pub colour: Colour,
    pub reasons: Vec<ActiveReason>,
}

/// The health code of `person`.
pub async fn health_code(
    services: &Services,
    person: PersonId,
) -> Result<HealthCode, ServiceError> {
    let (facts, code) = person_documents(services, person).await?;
    let reasons = reasons_of(services, &documents(&facts, &code)?).await?;
    Ok(HealthCode {
        person_id: person,
        token: services.keys.code_keys.sign(
            person.as_uuid(),
            (services.now().unix_timestamp_nanos() / 1_000) as i64,
        ),
        colour: Colour::of(reasons.iter().map(|r| &r.reason)),
        reasons,
    })
}

/// Resets `person`'s code: every code token issued before now is refused from then on (a
/// photographed or shared code stops working); the code the person fetches next works.
pub async fn reset_code(
    services: &Services,
    ctx: &CommandContext,
    person: PersonId,
) -> Result<commands::Outcome<crate::Done>, ServiceError> {
    let stream = crate::streams::health_code(person);
    let now = services.now();
    Ok(services
        .bus
        .execute(ctx, std::slice::from_ref(&stream), |loaded| {
            let state = loaded.fold::<domain::health_code::HealthCode>(&stream)?;
            let events = domain::health_code::HealthCode::decide(
                &domain::health_code::CodeCommand::Reset { at: now },
                &state,
            )
            .map_err(ServiceError::internal)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(crate::Done {}).append(stream.clone(), &events)?,
            )
        })
        .await?)
}

/// The documents whose red reasons colour a person's code: the one they registered with
/// (`facts`), then those attached to their code since (`code`, their code stream folded).
pub(crate) fn documents(
    facts: &PersonFacts,
    code: &domain::health_code::CodeState,
) -> Result<Vec<DocumentDigest>, ServiceError> {
    let registered = DocumentDigest::parse(facts.digest.clone())
        .map_err(|why| ServiceError::internal(anyhow::anyhow!(why)))?;
    Ok(std::iter::once(registered)
        .chain(code.attached.iter().cloned())
        .collect())
}

/// A person's registration facts and their code stream, folded: what
/// [`documents`] needs.
pub(crate) async fn person_documents(
    services: &Services,
    person: PersonId,
) -> Result<(PersonFacts, domain::health_code::CodeState), ServiceError> {
    let facts = person_facts(services, person).await?;
    let code = crate::support::fold::<domain::health_code::HealthCode>(
        services,
        &crate::streams::health_code(person),
    )
    .await?;
    Ok((facts, code))
}

/// The active red reasons of a person whose documents are `documents` (the health codes read
/// model's, per document): each reason once, as the document where it has been active the
/// longest has it, ordered by since. A red reason recorded against any of a person's
/// documents makes their code red.
pub(crate) async fn reasons_of(
    services: &Services,
    documents: &[DocumentDigest],
) -> Result<Vec<ActiveReason>, ServiceError> {
    let mut all: Vec<ActiveReason> = Vec::new();
    for digest in documents {
        for reason in active_reasons(services, digest).await? {
            match all.iter_mut().find(|r| r.reason == reason.reason) {
                Some(known) if known.since <= reason.since => {}
                Some(known) => *known = reason,
                None => all.push(reason),
            }
        }
    }
    all.sort_by_key(|r| (r.since, r.reason));
    Ok(all)
}

/// The active red reasons of the identity `digest`, folded from its stream (which the store
/// keeps in memory): what the `red_reasons` read model holds once it has applied them, without
/// its lag, and without a database read on a scan. Times to the second, as the read model.
async fn active_reasons(
    services: &Services,
    digest: &DocumentDigest,
) -> Result<Vec<ActiveReason>, ServiceError> {
    let identity = crate::support::fold::<domain::identity::Identity>(
        services,
        &crate::streams::identity(digest),
    )
    .await?;
    let red = match identity {
        domain::identity::IdentityState::Absent => return Ok(Vec::new()),
        domain::identity::IdentityState::Unregistered { red }
        | domain::identity::IdentityState::Registered { red, .. } => red,
    };
    Ok(red
        .reasons
        .into_iter()
        .map(|(reason, active)| ActiveReason {
            reason,
            since: OffsetDateTime::from_unix_timestamp(active.since.unix_timestamp())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            source: active.record_id.as_str().to_owned(),
        })
        .collect())
}

/// The code of `member` of `guardian`'s family; the guardian's look is recorded in the
/// member's access log.
pub async fn member_code(
    services: &Services,
    guardian: PersonId,
    member: PersonId,
) -> Result<HealthCode, ServiceError> {
    let family = projections::people::family(&services.db, &guardian.to_string())
        .await
        .map_err(ServiceError::internal)?;
    if !family.iter().any(|m| m.person_id == member.to_string()) {
        return Err(ServiceError::not_found(
            "family.not_a_member",
            "this person is not a member of your family",
        ));
    }
    record_access(
        services,
        &crate::auth::person_actor(guardian),
        member,
        Accessor::Guardian {
            person_id: guardian,
        },
        AccessedData::Code,
    )
    .await?;
    health_code(services, member).await
}

/// A member of a family, name masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyMember {
    pub person_id: Uuid,
    pub name_masked: String,
    pub relation: String,
}

/// The members of `guardian`'s family, oldest first.
pub async fn family(
    services: &Services,
    guardian: PersonId,
    page: PageRequest,
) -> Result<Page<FamilyMember>, ServiceError> {
    let rows = projections::people::family(&services.db, &guardian.to_string())
        .await
        .map_err(ServiceError::internal)?;
    let page = page.slice(rows);
    let mut items = Vec::with_capacity(page.items.len());
    for row in page.items {
        items.push(FamilyMember {
            person_id: Uuid::parse_str(&row.person_id).map_err(ServiceError::internal)?,
            name_masked: masked_name(services, &row.digest, row.profile.as_deref()).await?,
            relation: row.relation,
        });
    }
    Ok(Page {
        items,
        next: page.next,
    })
}

/// A page of one of `person`'s histories, newest first (keyset-paged by log position).
pub async fn history(
    services: &Services,
    person: PersonId,
    kind: HistoryKind,
    page: PageRequest,
) -> Result<Page<serde_json::Value>, ServiceError> {
    // Checks name the person by the pseudonym of their day while it is kept (retention).
    let names = match kind {
        HistoryKind::Checks => crate::links::names_of(services, person).await?,
        _ => vec![person.to_string()],
    };
    let found = projections::histories::page(&services.db, &names, kind, page.after, page.limit)
        .await
        .map_err(ServiceError::internal)?;
    let items = match kind {
        HistoryKind::AccessLog => {
            let mut items = Vec::with_capacity(found.items.len());
            for item in found.items {
                items.push(resolve_access(services, item).await?);
            }
            items
        }
        _ => found.items,
    };
    Ok(Page {
        items,
        next: found.next.map(|n| n.to_string()),
    })
}

/// An access record as the person sees it: a scan's venue or grid and scanner deciphered
/// while the day's key exists; afterwards only the kind of accessor, `"expired": true`
/// (retention: `crate::links`).
async fn resolve_access(
    services: &Services,
    mut item: serde_json::Value,
) -> Result<serde_json::Value, ServiceError> {
    let corrupt = || ServiceError::internal(anyhow::anyhow!("bad access record in the history"));
    let accessor: Accessor =
        serde_json::from_value(item["accessor"].clone()).map_err(|_| corrupt())?;
    let at = item["at"]
        .as_str()
        .and_then(|at| {
            OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
        })
        .ok_or_else(corrupt)?;
    item["accessor"] = match crate::links::resolve_accessor(services, &accessor, at).await? {
        Some(accessor) => serde_json::to_value(accessor).map_err(ServiceError::internal)?,
        None => serde_json::json!({"kind": item["accessor"]["kind"], "expired": true}),
    };
    Ok(item)
}
