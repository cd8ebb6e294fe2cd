//! Health declarations (for oneself or a family member, optionally for a bound
//! organisation) and entry registrations.

use super::*;

/// The answer to a filed declaration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeclarationFiled {
    pub declaration_id: Uuid,
}

/// Files a declaration for the subject (`subject_id`: the actor when absent, or a member of the actor's family: the
/// member's own stream records their guardians, and the append checks its version).
pub async fn file_declaration(
    services: &Services,
    ctx: &CommandContext,
    actor: PersonId,
    subject_id: Option<Uuid>,
    org_id: Option<Uuid>,
    declaration: &domain::health::DeclarationInput<'_>,
) -> Result<commands::Outcome<DeclarationFiled>, ServiceError> {
    let declaration = domain::health::Declaration::parse(declaration)?;
    let subject = subject_id.map_or(actor, PersonId::new);
    let now = services.now();
    let declaration_id = Uuid::now_v7();
    let s_stream = streams::person(subject);
    let mut streams = vec![s_stream.clone()];
    let binding =
        org_id.map(|org| crate::streams::org_membership(domain::org::OrgId::new(org), subject));
    if let Some(b) = &binding {
        streams.push(b.clone());
    }
    Ok(services
        .bus
        .execute(ctx, &streams, |loaded| {
            // Who may declare for the subject comes first: a stranger learns nothing of
            // the subject's bindings.
            let state = loaded.fold::<Person>(&s_stream)?;
            let events = Person::decide_for(
                subject,
                &PersonCommand::FileDeclaration {
                    declaration_id,
                    by: actor,
                    org_id,
                    declaration: declaration.clone(),
                    at: now,
                },
                &state,
            )
            .map_err(ServiceError::refused)?;
            let mut decision = Decision::unchanged(DeclarationFiled { declaration_id })
                .append(s_stream.clone(), &events)?;
            if let (Some(b), Some(org)) = (&binding, org_id) {
                domain::org::Membership::decide(
                    &domain::org::MembershipCommand::AcceptDeclaration {
                        org_id: domain::org::OrgId::new(org),
                    },
                    &loaded.fold::<domain::org::Membership>(b)?,
                )
                .map_err(ServiceError::refused)?;
                // An unbinding racing this declaration makes it decide again.
                decision = decision.check(b.clone());
            }
            Ok::<_, ServiceError>(decision)
        })
        .await?)
}

/// The answer to an entry registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntryRegistered {
    pub entry_id: Uuid,
}

/// Registers an entry into Guangdong for the actor.
pub async fn register_entry(
    services: &Services,
    ctx: &CommandContext,
    person: PersonId,
    entry: &domain::health::EntryInput<'_>,
) -> Result<commands::Outcome<EntryRegistered>, ServiceError> {
    let now = services.now();
    let entry = domain::health::Entry::parse(entry, today(now))?;
    let entry_id = Uuid::now_v7();
    services
        .bus
        .decide::<Person, _>(
            ctx,
            streams::person(person),
            &PersonCommand::RegisterEntry {
                entry_id,
                entry,
                at: now,
            },
            |_| EntryRegistered { entry_id },
        )
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))
}
