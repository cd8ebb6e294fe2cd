//! Family members: a guardian adds a member verified by an assertion naming them, and
//! removes them.

use super::*;

fn is_minor(document: &Document, today: Date) -> bool {
    match document {
        Document::BirthCertificate(_) => true,
        Document::ResidentId(id) => {
            let born = id.birth_date();
            let mut age = today.year() - born.year();
            if (today.month() as u8, today.day()) < (born.month() as u8, born.day()) {
                age -= 1;
            }
            age < 18
        }
        Document::HkMacaoPermit(_) | Document::Passport(_) => false,
    }
}

/// The answer to adding a family member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemberAdded {
    pub person_id: PersonId,
}

/// Adds the person the assertion verifies (registering them if new) to `guardian`'s family.
pub async fn add_family_member(
    services: &Services,
    ctx: &CommandContext,
    guardian: PersonId,
    assertion: &str,
    relation: &str,
) -> Result<commands::Outcome<MemberAdded>, ServiceError> {
    let relation = Relation::parse(relation).ok_or_else(|| {
        ServiceError::invalid(
            "relation",
            "relation.unknown",
            "relation is child, parent, spouse, grandparent, grandchild, sibling or other",
        )
    })?;
    let member = verify_assertion(services, assertion).await?;
    add_verified_member(services, ctx, guardian, &member, relation).await
}

/// Adds the verified `member` to `guardian`'s family.
async fn add_verified_member(
    services: &Services,
    ctx: &CommandContext,
    guardian: PersonId,
    member: &VerifiedIdentity,
    relation: Relation,
) -> Result<commands::Outcome<MemberAdded>, ServiceError> {
    let now = services.now();
    if member.claims.aud.as_deref() != Some(format!("family:{guardian}").as_str()) {
        return Err(ServiceError::Unauthenticated {
            code: "assertion.audience",
            detail: format!(
                "an assertion adding a family member names the guardian: aud = family:{guardian}"
            ),
        });
    }
    if matches!(
        member.claims.method.as_str(),
        "household" | "birth_certificate"
    ) && !is_minor(&member.document, today(now))
    {
        return Err(ServiceError::invalid(
            "assertion",
            "family.match_needs_minor",
            "a household or birth-certificate match verifies minors only; an adult member verifies with their face",
        ));
    }
    let g_stream = streams::person(guardian);
    // The member's own stream records the link too (so declarations for them are decided
    // on a stream the append version-checks); an existing member's stream is loaded.
    let known = crate::support::fold::<Identity>(services, &streams::identity(&member.digest))
        .await?
        .person_id();
    let mut streams = vec![
        streams::assertion(&member.claims.iss, &member.claims.jti),
        streams::identity(&member.digest),
        g_stream.clone(),
    ];
    if let Some(existing) = known {
        streams.push(streams::person(existing));
    }
    Ok(services
        .bus
        .execute(ctx, &streams, |loaded| {
            let mut appends = Appends::default();
            let Registered::Person {
                person_id: member_id,
                new: created,
            } = use_and_register(
                loaded,
                member,
                AssertionPurpose::AddFamilyMember,
                None,
                now,
                &mut appends,
            )?
            else {
                unreachable!("without a subject the login never finds it moved")
            };
            let m_stream = streams::person(member_id);
            let member_state = if created {
                Person::fold(&[domain::person::PersonEvent::PersonCreated {
                    digest: member.digest.clone(),
                    at: now,
                }])
            } else if streams.contains(&m_stream) {
                loaded.fold::<Person>(&m_stream)?
            } else {
                // Registered between our first read and the load: decide again.
                return Err(ServiceError::conflict(
                    "concurrency.conflict",
                    "the member registered concurrently; retry",
                ));
            };
            let linked = Person::decide(
                &PersonCommand::LinkGuardian { guardian, at: now },
                &member_state,
            );
            let guardian_state = loaded.fold::<Person>(&g_stream)?;
            let added = Person::decide_for(
                guardian,
                &PersonCommand::AddFamilyMember {
                    member: member_id,
                    relation,
                    at: now,
                },
                &guardian_state,
            )
            .map_err(ServiceError::refused)?;
            appends.push(&g_stream, &added)?;
            appends.push(&m_stream, &linked.map_err(ServiceError::refused)?)?;
            Ok::<_, ServiceError>(appends.into_decision(MemberAdded {
                person_id: member_id,
            }))
        })
        .await?)
}

/// Removes a family member (and the member's link back to the guardian).
pub async fn remove_family_member(
    services: &Services,
    ctx: &CommandContext,
    guardian: PersonId,
    member: &str,
) -> Result<commands::Outcome<Done>, ServiceError> {
    let member = person_id(member)?;
    let now = services.now();
    let g_stream = streams::person(guardian);
    let m_stream = streams::person(member);
    let streams = [g_stream.clone(), m_stream.clone()];
    Ok(services
        .bus
        .execute(ctx, &streams, |loaded| {
            let guardian_state = loaded.fold::<Person>(&g_stream)?;
            let removed = Person::decide(
                &PersonCommand::RemoveFamilyMember { member, at: now },
                &guardian_state,
            )
            .map_err(ServiceError::refused)?;
            let member_state = loaded.fold::<Person>(&m_stream)?;
            let unlinked = match Person::decide(
                &PersonCommand::UnlinkGuardian { guardian, at: now },
                &member_state,
            ) {
                Ok(events) => events,
                // Links made before the member's stream recorded them: nothing to undo.
                Err(PersonError::NotFamilyMember | PersonError::Unknown) => Vec::new(),
                Err(e) => return Err(ServiceError::refused(e)),
            };
            let mut appends = Appends::default();
            appends.push(&g_stream, &removed)?;
            appends.push(&m_stream, &unlinked)?;
            Ok::<_, ServiceError>(appends.into_decision(Done {}))
        })
        .await?)
}
