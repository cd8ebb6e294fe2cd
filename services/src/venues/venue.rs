//! A venue: creation (one admin, one venue, a venue code), weekly-limited edits, handover,
//! and the venue as its admin sees it.

use super::*;

/// A venue as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct VenueInput {
    /// A town-level division code of Guangdong (9 digits).
    pub region: String,
    pub address: String,
    /// `residential`, `office`, `retail`, `dining`, `lodging`, `entertainment`, `sports`,
    /// `transport` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// The admin's mobile phone.
    pub phone: String,
}

/// An edit as sent: any of the fields.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VenuePatch {
    pub region: Option<String>,
    pub address: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// The answer to a creation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VenueCreated {
    pub venue_id: Uuid,
    pub code: String,
}

/// Creates a venue administered by `admin` (whose key seals the phone).
pub async fn create(
    services: &Services,
    ctx: &CommandContext,
    admin: PersonId,
    input: &VenueInput,
) -> Result<Outcome<VenueCreated>, ServiceError> {
    let mut errors = Vec::new();
    let region = collect(parse_town(&input.region), &mut errors);
    let address = collect(VenueAddress::parse(&input.address), &mut errors);
    let kind = collect(VenueType::parse(&input.kind), &mut errors);
    let name = collect(VenueName::parse(&input.name), &mut errors);
    let phone = collect(MobilePhone::parse(&input.phone), &mut errors);
    let (Some(region), Some(address), Some(kind), Some(name), Some(phone)) =
        (region, address, kind, name, phone)
    else {
        return Err(errors.into());
    };
    let details = VenueDetails {
        region,
        address,
        kind,
        name,
        phone: seal_phone(
            &services.vault,
            &crate::citizens::subject_of(services, admin).await?,
            &phone,
        )
        .await?,
    };
    let now = services.now();
    let venue_id = VenueId::new(Uuid::now_v7());
    crate::support::create_with_code(
        services,
        ctx,
        streams::venue_admin(admin),
        venue_id.as_uuid(),
        CodeKind::Venue,
        crate::support::AdminHasOne {
            code: "venue.admin_has_venue",
            noun: "venue",
            id_field: "venue_id",
        },
        |code| {
            let events = Venue::decide(
                &VenueCommand::Create {
                    venue_id,
                    admin,
                    code,
                    details: details.clone(),
                    at: now,
                },
                &Venue::initial(),
            )
            .map_err(ServiceError::refused)?
            .iter()
            .map(domain::DomainEvent::encode)
            .collect::<Result<Vec<_>, _>>()?;
            Ok((
                streams::venue(venue_id),
                events,
                VenueCreated {
                    venue_id: venue_id.as_uuid(),
                    code: code.to_string(),
                },
            ))
        },
    )
    .await
}

/// Edits a venue's details (its admin only, once per natural week).
pub async fn edit(
    services: &Services,
    ctx: &CommandContext,
    permit: VenueAdmin,
    patch: &VenuePatch,
) -> Result<Outcome<Done>, ServiceError> {
    let by = permit.admin;
    let mut errors = Vec::new();
    let region = patch
        .region
        .as_deref()
        .and_then(|r| collect(parse_town(r), &mut errors));
    let address = patch
        .address
        .as_deref()
        .and_then(|a| collect(VenueAddress::parse(a), &mut errors));
    let kind = patch
        .kind
        .as_deref()
        .and_then(|k| collect(VenueType::parse(k), &mut errors));
    let name = patch
        .name
        .as_deref()
        .and_then(|n| collect(VenueName::parse(n), &mut errors));
    let phone = patch
        .phone
        .as_deref()
        .and_then(|p| collect(MobilePhone::parse(p), &mut errors));
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let phone = match phone {
        Some(p) => Some(
            seal_phone(
                &services.vault,
                &crate::citizens::subject_of(services, by).await?,
                &p,
            )
            .await?,
        ),
        None => None,
    };
    let command = VenueCommand::Edit {
        by,
        changes: VenueChanges {
            region,
            address,
            kind,
            name,
            phone,
        },
        at: services.now(),
    };
    let stream = streams::venue(permit.venue_id);
    // Decided on the venue's stream as the authorisation read it (checked at commit).
    Ok(services
        .bus
        .execute_loaded(ctx, permit.loaded, |loaded| {
            let events = Venue::decide(&command, &loaded.fold::<Venue>(&stream)?)
                .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(Decision::unchanged(Done {}).append(stream.clone(), &events)?)
        })
        .await?)
}

/// The prefix of venue handover tokens (`yk_vh_<venue>_<secret>`).
pub const HANDOVER_TOKEN_PREFIX: &str = "yk_vh_";

/// The venue's admin names a successor by document: a one-time token valid 24 hours (a new
/// one voids the old), to give the successor. Only its SHA-256 is recorded, and nothing is
/// looked up: the answer is the same whether or not anyone registered with the document.
pub async fn offer_handover(
    services: &Services,
    ctx: &CommandContext,
    permit: VenueAdmin,
    doc_type: &str,
    doc_number: &str,
) -> Result<crate::grids::HandoverOffered, ServiceError> {
    let now = services.now();
    let document =
        Document::parse(doc_type, doc_number, domain::week::today(now)).map_err(|e| {
            ServiceError::invalid(
                format!("successor.{}", e.field.trim_start_matches("document.")),
                e.code,
                e.detail,
            )
        })?;
    let successor = crate::citizens::digest_of(&services.keys, &document)?;
    let (by, venue_id) = (permit.admin, permit.venue_id);
    let token = crate::support::handover_token(HANDOVER_TOKEN_PREFIX, venue_id.as_uuid());
    let token_hash = crypto::token::token_hash(&token);
    let v_stream = streams::venue(venue_id);
    let h_stream = streams::venue_handover(venue_id);
    let loaded = permit
        .loaded
        .join(services.bus.load(std::slice::from_ref(&h_stream)).await?);
    let outcome = services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let by_admin = loaded.fold::<Venue>(&v_stream)?.admin() == Some(by);
            let events = VenueHandover::decide(
                &VenueHandoverCommand::Offer {
                    venue_id,
                    by_admin,
                    successor: successor.clone(),
                    token_hash: token_hash.clone(),
                    at: now,
                },
                &loaded.fold::<VenueHandover>(&h_stream)?,
            )
            .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(Done {})
                    .append(h_stream.clone(), &events)?
                    .check(v_stream.clone()),
            )
        })
        .await?;
    Ok(crate::grids::HandoverOffered {
        token,
        expires_at: now + domain::handover::HANDOVER_VALIDITY,
        position: outcome.position(),
    })
}

/// The successor, signed in with the document the admin named, accepts the handover: they
/// become the admin, the old admin's claim is released and theirs taken, in one append
/// (`409 venue.successor_has_venue` when they already administer one).
pub async fn accept_handover(
    services: &Services,
    ctx: &CommandContext,
    successor: PersonId,
    token: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let venue_id = VenueId::new(crate::support::handover_target(
        HANDOVER_TOKEN_PREFIX,
        token,
    )?);
    let token_hash = crypto::token::token_hash(token);
    let by_digest = crate::citizens::person_digest(services, successor).await?;
    let v_stream = streams::venue(venue_id);
    let h_stream = streams::venue_handover(venue_id);
    let new_claim = streams::venue_admin(successor);
    let loaded = services
        .bus
        .load(&[v_stream.clone(), h_stream.clone(), new_claim.clone()])
        .await?;
    let Some(old_admin) = loaded.fold::<Venue>(&v_stream)?.admin() else {
        return Err(ServiceError::refused(
            domain::handover::HandoverError::InvalidToken,
        ));
    };
    let old_claim = streams::venue_admin(old_admin);
    let loaded = loaded.join(services.bus.load(std::slice::from_ref(&old_claim)).await?);
    let now = services.now();
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let accepted = VenueHandover::decide(
                &VenueHandoverCommand::Accept {
                    token_hash: token_hash.clone(),
                    by: successor,
                    by_digest: by_digest.clone(),
                    at: now,
                },
                &loaded.fold::<VenueHandover>(&h_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let handed = Venue::decide(
                &VenueCommand::HandOver {
                    by: old_admin,
                    successor,
                    at: now,
                },
                &loaded.fold::<Venue>(&v_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let (released, taken) = crate::support::move_admin_claim(
                loaded,
                (&old_claim, &new_claim),
                venue_id.as_uuid(),
                now,
                || {
                    ServiceError::conflict(
                        "venue.successor_has_venue",
                        "you already administer a venue; one admin has at most one venue",
                    )
                },
            )?;
            Decision::unchanged(Done {})
                .append(h_stream.clone(), &accepted)?
                .append(v_stream.clone(), &handed)?
                .append(old_claim.clone(), &released)?
                .append(new_claim.clone(), &taken)
                .map_err(ServiceError::from)
        })
        .await?)
}

/// A venue as its admin sees it.
#[derive(Debug, Clone)]
pub struct VenueForAdmin {
    pub venue_id: String,
    pub name: String,
    pub region: String,
    pub kind: String,
    pub address: String,
    pub code: String,
    pub created_at: OffsetDateTime,
}

/// The venue as its admin (`authorize_admin` for [`AdminAction::SeeDetails`]) sees it, with
/// the code to share.
pub async fn show(services: &Services, admin: &VenueAdmin) -> Result<VenueForAdmin, ServiceError> {
    let venue_id = admin.venue_id;
    let v = projections::venues::venue(&services.db, &venue_id.to_string())
        .await
        .map_err(ServiceError::internal)?
        .ok_or_else(|| ServiceError::not_found("venue.unknown", "no such venue"))?;
    Ok(VenueForAdmin {
        created_at: instant(v.created_at),
        venue_id: v.venue_id,
        name: v.name,
        region: v.region,
        kind: v.venue_type,
        address: v.address,
        code: v.code,
    })
}
