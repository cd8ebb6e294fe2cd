//! Logging in with a verified identity assertion: the assertion is spent once, and a
//! first login registers the person.

use super::*;

/// Uses the assertion once and registers the identity when it is new; answers the person.
pub(super) fn use_and_register(
    loaded: &Loaded,
    who: &VerifiedIdentity,
    purpose: AssertionPurpose,
    now: OffsetDateTime,
    appends: &mut Appends,
) -> Result<(PersonId, bool), ServiceError> {
    let a_stream = streams::assertion(&who.claims.iss, &who.claims.jti);
    let used = loaded.fold::<Assertion>(&a_stream)?;
    let events = Assertion::decide(
        &UseAssertion {
            issuer: who.claims.iss.clone(),
            purpose,
            at: now,
        },
        &used,
    )
    .map_err(ServiceError::refused)?;
    appends.push(&a_stream, &events)?;
    let i_stream = streams::identity(&who.digest);
    let identity = loaded.fold::<Identity>(&i_stream)?;
    if let Some(existing) = identity.person_id() {
        return Ok((existing, false));
    }
    let registered = Identity::decide(
        &IdentityCommand::Register {
            registration: who.registration.clone(),
            at: now,
        },
        &identity,
    )
    .map_err(ServiceError::refused)?;
    appends.push(&i_stream, &registered)?;
    let person_id = who.registration.person_id;
    let created = Person::decide(
        &PersonCommand::Create {
            digest: who.digest.clone(),
            at: now,
        },
        &Person::initial(),
    )
    .map_err(ServiceError::refused)?;
    appends.push(&streams::person(person_id), &created)?;
    Ok((person_id, true))
}

/// The answer to a login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginAnswer {
    pub person_id: PersonId,
    pub registered: bool,
}

/// Logs in with a verified assertion: records its use and registers a first-time person.
pub async fn login(
    services: &Services,
    who: &VerifiedIdentity,
) -> Result<(LoginAnswer, u64), ServiceError> {
    match who.document {
        Document::ResidentId(_) | Document::HkMacaoPermit(_) | Document::Passport(_) => {}
        Document::BirthCertificate(_) => {
            return Err(ServiceError::invalid(
                "document.type",
                "document.not_for_login",
                "log in with a resident ID, HK/Macao travel permit or passport; a child with a birth certificate is added as a family member",
            ))
        }
    }
    match who.claims.aud.as_deref() {
        None | Some("login") => {}
        Some(_) => {
            return Err(ServiceError::Unauthenticated {
                code: "assertion.audience",
                detail: "this assertion was made for adding a family member, not for logging in"
                    .into(),
            })
        }
    }
    if !matches!(who.claims.method.as_str(), "face" | "payment_password") {
        return Err(ServiceError::invalid(
            "assertion",
            "assertion.method_not_for_login",
            "logging in needs face or payment-password verification; household and birth-certificate matches only add minors as family members",
        ));
    }
    let now = services.now();
    let ctx = CommandContext::new(format!("identity-provider:{}", who.claims.iss));
    let streams = [
        streams::assertion(&who.claims.iss, &who.claims.jti),
        streams::identity(&who.digest),
    ];
    let outcome = services
        .bus
        .execute(&ctx, &streams, |loaded| {
            let mut appends = Appends::default();
            let (person_id, registered) =
                use_and_register(loaded, who, AssertionPurpose::Login, now, &mut appends)?;
            Ok::<_, ServiceError>(appends.into_decision(LoginAnswer {
                person_id,
                registered,
            }))
        })
        .await?;
    let position = outcome.position();
    Ok((outcome.into_response(), position))
}

/// A citizen's session: the bearer token and when it expires.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub person_id: PersonId,
    pub expires_at: OffsetDateTime,
    /// Whether this login registered the person.
    pub registered: bool,
    /// The log position of the login's events.
    pub position: u64,
}

/// Logs in with an identity assertion (the first login registers the person) and issues a
/// session token.
pub async fn log_in(services: &Services, assertion: &str) -> Result<Session, ServiceError> {
    let who = verify_assertion(services, assertion).await?;
    let (answer, position) = login(services, &who).await?;
    // The session epoch the token is issued in (moved on when the person is shredded).
    let epoch = crate::support::fold::<domain::session::Sessions>(
        services,
        &streams::sessions(answer.person_id),
    )
    .await?
    .epoch;
    let (token, expires_at) = crypto::session::issue(
        &services.keys.session_key,
        answer.person_id.as_uuid(),
        Uuid::now_v7(),
        epoch,
        services.now(),
        time::Duration::hours(crypto::session::DEFAULT_TTL_HOURS),
    );
    Ok(Session {
        token,
        person_id: answer.person_id,
        expires_at,
        registered: answer.registered,
        position,
    })
}

/// Signs out of the session `token` names: from this commit on the token is refused (`401
/// session.ended`); the person's other sessions go on. Signing out twice changes nothing.
pub async fn sign_out(services: &Services, token: &str) -> Result<u64, ServiceError> {
    let session = crypto::session::verify(&services.keys.session_key, token, services.now())
        .map_err(|e| ServiceError::Unauthenticated {
            code: e.code(),
            detail: e.to_string(),
        })?;
    let person = PersonId::new(session.person_id);
    let outcome =
        services
            .bus
            .decide::<domain::session::Sessions, _>(
                &CommandContext::new(crate::auth::person_actor(person)),
                streams::sessions(person),
                &domain::session::SessionCommand::End {
                    session_id: session.session_id,
                    at: services.now(),
                },
                |_| Done {},
            )
            .await
            .map_err(|e| {
                ServiceError::from(e.map_rejected(
                    |never: std::convert::Infallible| -> ServiceError { match never {} },
                ))
            })?;
    Ok(outcome.position())
}
