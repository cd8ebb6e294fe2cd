//! Operator actions: appointing the province admin, crypto-shredding a subject.

use super::*;

/// Appoints the province admin (operator action).
pub async fn bootstrap_province_admin(
    services: &Services,
    doc_type: &str,
    doc_number: &str,
    name: &str,
) -> Result<u64, ServiceError> {
    let now = services.now();
    let document = Document::parse(doc_type, doc_number, today(now))?;
    let name = parse_name(name, "name")?;
    let digest = digest_of(&services.keys, &document)?;
    let sealed_name = services
        .vault
        .seal(digest.as_str(), name.as_bytes())
        .await
        .map_err(ServiceError::internal)?;
    let region = RegionCode::parse(RegionCode::GUANGDONG, "region")?;
    let ctx = CommandContext::new("operator");
    let outcome = services
        .bus
        .decide::<Region, _>(
            &ctx,
            streams::region(&region),
            &RegionCommand::AppointAdmin {
                region: region.clone(),
                admin: digest,
                // The operator appoints by document; the admin signs in later.
                appointee_registered: true,
                name: sealed(sealed_name),
                by: Appointer::Operator,
                enclosing: None,
                at: now,
            },
            |_| Done {},
        )
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))?;
    Ok(outcome.position())
}

/// Crypto-shreds a subject: records `PersonalDataShredded` (projections drop what they hold),
/// ends every session of the registered person, then destroys the data key, so every sealed
/// value of the subject in the log becomes unreadable while the events stay in place. A
/// person with several documents is shredded on each of them. Safe to repeat.
pub async fn shred(
    services: &Services,
    actor: &str,
    digest: &DocumentDigest,
) -> Result<u64, ServiceError> {
    let now = services.now();
    let ctx = CommandContext::new(actor);
    let registered = crate::support::fold::<Identity>(services, &streams::identity(digest))
        .await?
        .person_id();
    let mut subjects = vec![digest.clone()];
    if let Some(person) = registered {
        let (facts, code) = person_documents(services, person).await?;
        for other in documents(&facts, &code)? {
            if !subjects.contains(&other) {
                subjects.push(other);
            }
        }
    }
    let mut position = 0;
    for subject in &subjects {
        let outcome = services
            .bus
            .decide::<Identity, _>(
                &ctx,
                streams::identity(subject),
                &IdentityCommand::Shred { at: now },
                |_| Done {},
            )
            .await
            .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))?;
        position = position.max(outcome.position());
    }
    // Their sessions stop counting: nobody signs in as a shredded person.
    if let Some(person) = registered {
        services
            .bus
            .decide::<domain::session::Sessions, _>(
                &ctx,
                streams::sessions(person),
                &domain::session::SessionCommand::EndAll { at: now },
                |_| Done {},
            )
            .await
            .map_err(|e| {
                ServiceError::from(e.map_rejected(
                    |never: std::convert::Infallible| -> ServiceError { match never {} },
                ))
            })?;
    }
    for subject in &subjects {
        services
            .vault
            .shred(subject.as_str())
            .await
            .map_err(ServiceError::internal)?;
    }
    Ok(position)
}
