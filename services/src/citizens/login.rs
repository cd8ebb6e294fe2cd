//! Logging in with a verified identity assertion: the assertion is spent once, and a
//! first login registers the person.

use super::*;

/// The provider subject of a login and the person it was linked to when the login began
/// (that person's code stream is loaded too, to attach a new document to it).
pub(super) struct LoginSubject {
    pub stream: event_store::StreamId,
    pub linked: Option<PersonId>,
}

/// Whether a login found the subject as it was read before the command's streams were loaded.
pub(super) enum Registered {
    Person {
        person_id: PersonId,
        new: bool,
    },
    /// The subject was linked to a person in between: read again and retry.
    SubjectMoved,
}

/// Uses the assertion once and registers the identity when it is new; answers the person.
///
/// With a `subject` (logins), the document joins the person the provider's subject already
/// is: a new document of a known subject is attached to that person (its reasons colour
/// their code), and a known document of a subject seen for the first time links the subject.
pub(super) fn use_and_register(
    loaded: &Loaded,
    who: &VerifiedIdentity,
    purpose: AssertionPurpose,
    subject: Option<&LoginSubject>,
    now: OffsetDateTime,
    appends: &mut Appends,
) -> Result<Registered, ServiceError> {
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
    let (linked, subject_state) = match subject {
        Some(s) => {
            let state = loaded.fold::<Subject>(&s.stream)?;
            if state.person_id() != s.linked {
                return Ok(Registered::SubjectMoved);
            }
            (s.linked, Some((s, state)))
        }
        None => (None, None),
    };
    let link = |person_id: PersonId, appends: &mut Appends| -> Result<(), ServiceError> {
        if let Some((s, state)) = &subject_state {
            let events = Subject::decide(&SubjectCommand::Link { person_id, at: now }, state)
                .map_err(ServiceError::refused)?;
            appends.push(&s.stream, &events)?;
        }
        Ok(())
    };
    if let Some(existing) = identity.person_id() {
        link(existing, appends)?;
        return Ok(Registered::Person {
            person_id: existing,
            new: false,
        });
    }
    let person_id = linked.unwrap_or(who.registration.person_id);
    let registered = Identity::decide(
        &IdentityCommand::Register {
            registration: Registration {
                person_id,
                ..who.registration.clone()
            },
            at: now,
        },
        &identity,
    )
    .map_err(ServiceError::refused)?;
    appends.push(&i_stream, &registered)?;
    if let Some(person_id) = linked {
        // A second document of a known subject: its reasons colour the same code.
        let c_stream = streams::health_code(person_id);
        let code = loaded.fold::<domain::health_code::HealthCode>(&c_stream)?;
        let attached = domain::health_code::HealthCode::decide(
            &domain::health_code::CodeCommand::AttachDocument {
                digest: who.digest.clone(),
                at: now,
            },
            &code,
        )
        .map_err(ServiceError::internal)?;
        appends.push(&c_stream, &attached)?;
        return Ok(Registered::Person {
            person_id,
            new: false,
        });
    }
    let created = Person::decide(
        &PersonCommand::Create {
            digest: who.digest.clone(),
            at: now,
        },
        &Person::initial(),
    )
    .map_err(ServiceError::refused)?;
    appends.push(&streams::person(person_id), &created)?;
    link(person_id, appends)?;
    Ok(Registered::Person {
        person_id,
        new: true,
    })
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
    let s_stream = streams::subject(&who.subject);
    // A subject linked meanwhile (another login of the same person) is read again.
    for _ in 0..3 {
        let linked = crate::support::fold::<Subject>(services, &s_stream)
            .await?
            .person_id();
        let subject = LoginSubject {
            stream: s_stream.clone(),
            linked,
        };
        let mut streams = vec![
            streams::assertion(&who.claims.iss, &who.claims.jti),
            streams::identity(&who.digest),
            s_stream.clone(),
        ];
        streams.extend(linked.map(streams::health_code));
        let outcome = services
            .bus
            .execute(&ctx, &streams, |loaded| {
                let mut appends = Appends::default();
                let registered = use_and_register(
                    loaded,
                    who,
                    AssertionPurpose::Login,
                    Some(&subject),
                    now,
                    &mut appends,
                )?;
                Ok::<_, ServiceError>(match registered {
                    Registered::Person { person_id, new } => {
                        appends.into_decision(Some(LoginAnswer {
                            person_id,
                            registered: new,
                        }))
                    }
                    Registered::SubjectMoved => Decision::unchanged(None),
                })
            })
            .await?;
        let position = outcome.position();
        if let Some(answer) = outcome.into_response() {
            return Ok((answer, position));
        }
    }
    Err(ServiceError::conflict(
        "concurrency.conflict",
        "the sign-in raced with other sign-ins of the same person; try again",
    ))
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
