//! Person-held auditor and analyst roles: the province admin grants them to a person who has
//! signed in once (named by document) and revokes them; the person then uses the audit and
//! analysis routes with their own session, checked on the role stream at each request, so a
//! revocation takes effect at once.

use commands::{CommandContext, Decision, Outcome};
use domain::document::Document;
use domain::identity::{Identity, PersonId};
use domain::role_grant::{PersonRole, RoleGrantCommand, RoleGrants};
use domain::week::today;
use domain::Decider;
use domain::Refusal as _;
use serde::{Deserialize, Serialize};

use crate::citizens::digest_of;
use crate::feed::DocumentInput;
use crate::province::ProvinceAdmin;
use crate::support::{collect, fold, Done};
use crate::{streams, ServiceError, Services};

/// The answer to a grant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleGranted {
    pub person_id: PersonId,
    pub role: PersonRole,
}

fn role(raw: &str) -> Result<PersonRole, ServiceError> {
    PersonRole::parse(raw).map_err(ServiceError::refused)
}

/// The province admin grants `role` to the person holding `document`: `422` for a bad
/// document or role, `404 person.unknown` when nobody signed in with it, `409
/// role.already_granted`.
pub async fn grant(
    services: &Services,
    ctx: &CommandContext,
    permit: &ProvinceAdmin,
    document: &DocumentInput,
    raw_role: &str,
) -> Result<Outcome<RoleGranted>, ServiceError> {
    let now = services.now();
    let mut errors = Vec::new();
    let document = collect(
        Document::parse(&document.kind, &document.number, today(now)),
        &mut errors,
    );
    let role = collect(
        PersonRole::parse(raw_role).map_err(|e| domain::document::DocumentError {
            field: "role",
            code: e.code(),
            detail: e.to_string(),
        }),
        &mut errors,
    );
    let (Some(document), Some(role)) = (document, role) else {
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
    decide(services, ctx, permit, person, |by_province_admin| {
        RoleGrantCommand::Grant {
            person,
            role,
            by: permit.person,
            by_province_admin,
            at: now,
        }
    })
    .await
    .map(|outcome| {
        outcome.map(|()| RoleGranted {
            person_id: person,
            role,
        })
    })
}

/// The province admin revokes `role` from `person` (path segments): `404 role.not_granted`
/// when they do not hold it.
pub async fn revoke(
    services: &Services,
    ctx: &CommandContext,
    permit: &ProvinceAdmin,
    person: &str,
    raw_role: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let role = role(raw_role)?;
    let person = PersonId::parse(person)
        .ok_or_else(|| ServiceError::refused(domain::role_grant::RoleGrantError::NotGranted))?;
    let now = services.now();
    decide(services, ctx, permit, person, |by_province_admin| {
        RoleGrantCommand::Revoke {
            person,
            role,
            by: permit.person,
            by_province_admin,
            at: now,
        }
    })
    .await
    .map(|outcome| outcome.map(|()| Done {}))
}

async fn decide(
    services: &Services,
    ctx: &CommandContext,
    permit: &ProvinceAdmin,
    person: PersonId,
    command: impl Fn(bool) -> RoleGrantCommand,
) -> Result<Outcome<()>, ServiceError> {
    let stream = streams::role_grants(person);
    let loaded = permit
        .loaded()
        .join(services.bus.load(std::slice::from_ref(&stream)).await?);
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let events = RoleGrants::decide(
                &command(permit.holds(loaded)?),
                &loaded.fold::<RoleGrants>(&stream)?,
            )
            .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(())
                    .append(stream.clone(), &events)?
                    .check(permit.stream().clone()),
            )
        })
        .await?)
}

/// Whether `person` holds `role` now (read from their role stream, not a read model: a
/// revocation counts from its commit).
pub async fn holds(
    services: &Services,
    person: PersonId,
    role: PersonRole,
) -> Result<bool, ServiceError> {
    Ok(fold::<RoleGrants>(services, &streams::role_grants(person))
        .await?
        .holds(role))
}
