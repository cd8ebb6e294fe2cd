//! Inspectors: binding by venue code, unbinding (the inspector themself or the venue's admin),
//! the venues a person inspects and a venue's inspectors.

use super::*;

/// The answer to a binding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bound {
    pub venue_id: Uuid,
}

/// Binds `inspector` to the venue of `code` (binding twice changes nothing).
pub async fn bind(
    services: &Services,
    ctx: &CommandContext,
    inspector: PersonId,
    code: &str,
) -> Result<Outcome<Bound>, ServiceError> {
    let venue_id = venue_of_code(services, code).await?;
    let now = services.now();
    services
        .bus
        .decide::<Inspection, _>(
            ctx,
            streams::inspection(venue_id, inspector),
            &InspectionCommand::Bind {
                venue_id,
                inspector,
                at: now,
            },
            |_| Bound {
                venue_id: venue_id.as_uuid(),
            },
        )
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))
}

/// Unbinds `inspector` from `venue_id`: by the inspector themself, or by the venue's admin
/// (checked on the venue's stream at commit, so a handover racing it wins).
pub async fn unbind(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    venue_id: VenueId,
    inspector: PersonId,
) -> Result<Outcome<Done>, ServiceError> {
    let mut streams = vec![streams::inspection(venue_id, inspector)];
    if by != inspector {
        streams.push(streams::venue(venue_id));
    }
    let loaded = services.bus.load(&streams).await?;
    decide_unbind(services, ctx, loaded, by, venue_id, inspector).await
}

/// Decides an unbinding on the binding's stream and, when someone else asks, the venue's.
async fn decide_unbind(
    services: &Services,
    ctx: &CommandContext,
    loaded: commands::Loaded,
    by: PersonId,
    venue_id: VenueId,
    inspector: PersonId,
) -> Result<Outcome<Done>, ServiceError> {
    let now = services.now();
    let i_stream = streams::inspection(venue_id, inspector);
    let v_stream = streams::venue(venue_id);
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            // The fact the decider needs: does `by` administer the venue (from its stream,
            // checked at commit so a handover racing this unbinding wins)?
            let by_venue_admin = if by == inspector {
                false
            } else {
                match loaded.fold::<Venue>(&v_stream)?.admin() {
                    None => return Err(ServiceError::not_found("venue.unknown", "no such venue")),
                    Some(admin) => admin == by,
                }
            };
            let state = loaded.fold::<Inspection>(&i_stream)?;
            let events = Inspection::decide(
                &InspectionCommand::Unbind {
                    by,
                    inspector,
                    by_venue_admin,
                    at: now,
                },
                &state,
            )
            .map_err(ServiceError::refused)?;
            let decision = Decision::unchanged(Done {}).append(i_stream.clone(), &events)?;
            Ok(if by_venue_admin {
                decision.check(v_stream.clone())
            } else {
                decision
            })
        })
        .await?)
}

/// A venue an inspector is bound to.
#[derive(Debug, Clone)]
pub struct InspectedVenue {
    pub venue_id: String,
    pub name: String,
    pub code: String,
    pub region: String,
    pub kind: String,
    pub bound_at: OffsetDateTime,
}

/// The venues `person` inspects, oldest binding first.
pub async fn my_venues(
    services: &Services,
    person: PersonId,
    page: PageRequest,
) -> Result<Page<InspectedVenue>, ServiceError> {
    let rows = projections::venues::of_inspector(&services.db, &person.to_string())
        .await
        .map_err(ServiceError::internal)?;
    Ok(page.slice(rows).map(|r| InspectedVenue {
        bound_at: instant(r.bound_at),
        venue_id: r.venue_id,
        name: r.name,
        code: r.code,
        region: r.region,
        kind: r.venue_type,
    }))
}

/// An inspector of a venue, name masked.
#[derive(Debug, Clone)]
pub struct VenueInspector {
    pub person_id: String,
    pub name_masked: String,
    pub bound_at: OffsetDateTime,
}

/// The venue's inspectors (admin only), names masked, oldest binding first.
pub async fn inspectors(
    services: &Services,
    admin: &VenueAdmin,
    page: PageRequest,
) -> Result<Page<VenueInspector>, ServiceError> {
    let venue_id = admin.venue_id;
    let rows = projections::venues::inspectors(&services.db, &venue_id.to_string())
        .await
        .map_err(ServiceError::internal)?;
    let page = page.slice(rows);
    let mut items = Vec::with_capacity(page.items.len());
    for r in page.items {
        let id = PersonId::parse(&r.person_id).ok_or_else(|| {
            ServiceError::internal(anyhow::anyhow!("bad person id in read model"))
        })?;
        let row = crate::citizens::person_facts(services, id).await?;
        items.push(VenueInspector {
            name_masked: crate::citizens::masked_name(
                services,
                &row.digest,
                row.profile.as_deref(),
            )
            .await?,
            bound_at: instant(r.bound_at),
            person_id: r.person_id,
        });
    }
    Ok(Page {
        items,
        next: page.next,
    })
}

/// An inspector unbinds themself from the venue named by `raw` (`404 venue.not_bound` when
/// it names no venue they inspect).
pub async fn unbind_self(
    services: &Services,
    ctx: &CommandContext,
    person: PersonId,
    raw: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let venue_id = Uuid::parse_str(raw)
        .map(VenueId::new)
        .map_err(|_| ServiceError::not_found("venue.not_bound", "you do not inspect this venue"))?;
    unbind(services, ctx, person, venue_id, person).await
}

/// The venue's admin unbinds the inspector named by `raw`, deciding on the venue's stream as
/// the authorisation read it.
pub async fn unbind_inspector(
    services: &Services,
    ctx: &CommandContext,
    permit: VenueAdmin,
    raw: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let inspector = PersonId::parse(raw)
        .ok_or_else(|| ServiceError::not_found("venue.not_bound", "no such inspector"))?;
    let i_stream = streams::inspection(permit.venue_id, inspector);
    let loaded = permit
        .loaded
        .join(services.bus.load(std::slice::from_ref(&i_stream)).await?);
    decide_unbind(
        services,
        ctx,
        loaded,
        permit.admin,
        permit.venue_id,
        inspector,
    )
    .await
}
