//! Region admins: the admin of a region appoints and revokes the admins of the regions it
//! directly encloses (the province its cities, a city its counties — and, for Dongguan and
//! Zhongshan, its towns —, a county its towns). The appointee is named by document and must
//! have signed in once.

use commands::{CommandContext, Decision, Outcome};
use domain::divisions;
use domain::document::Document;
use domain::identity::{Identity, PersonId};
use domain::region::{
    Appointer, Enclosing, Region, RegionCode, RegionCommand, RegionError, RegionState,
};
use domain::Decider;
use serde::{Deserialize, Serialize};

use crate::citizens::{digest_of, parse_name, sealed};
use crate::support::{fold, Done};
use crate::{streams, ServiceError, Services};

/// The region named by a path segment: `422` for a malformed code, `404 region.unknown` for
/// no division of Guangdong, and the region whose admin appoints its admin (none for the
/// province and for codes nobody administers).
pub(crate) fn region_and_enclosing(
    raw: &str,
) -> Result<(RegionCode, Option<RegionCode>), ServiceError> {
    let region = RegionCode::parse(raw, "region")?;
    let known = divisions::guangdong();
    if region.as_str() != RegionCode::GUANGDONG && known.get(region.as_str()).is_none() {
        return Err(ServiceError::not_found(
            "region.unknown",
            format!("{region} is no division of Guangdong (NBS 2023 codes down to towns)"),
        ));
    }
    let enclosing = known
        .enclosing_admin_region(region.as_str())
        .map(|e| RegionCode::parse(e, "region"))
        .transpose()?;
    Ok((region, enclosing))
}

/// The answer to an appointment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Appointed {
    pub region: String,
    pub person_id: PersonId,
}

/// The enclosing-region fact for the decider, from the enclosing region's stream as loaded.
fn enclosing_fact(
    loaded: &commands::Loaded,
    enclosing: Option<&RegionCode>,
    asker: &domain::document::DocumentDigest,
) -> Result<Option<Enclosing>, ServiceError> {
    enclosing
        .map(|e| {
            let held_by_asker = matches!(
                loaded.fold::<Region>(&streams::region(e))?,
                RegionState::Held { admin } if &admin == asker
            );
            Ok(Enclosing {
                region: e.clone(),
                held_by_asker,
            })
        })
        .transpose()
}

/// `by` appoints the person holding the document (`doc_type`, `doc_number`) named `name` as
/// the admin of `region`: only the admin of the enclosing region may (checked at commit, so a
/// revocation racing it is decided again); the appointee must have signed in once.
pub async fn appoint_admin(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    region: &str,
    doc_type: &str,
    doc_number: &str,
    name: &str,
) -> Result<Outcome<Appointed>, ServiceError> {
    let (region, enclosing) = region_and_enclosing(region)?;
    let now = services.now();
    let asker = crate::citizens::person_digest(services, by).await?;
    let document = Document::parse(doc_type, doc_number, domain::week::today(now))?;
    let name = parse_name(name, "name")?;
    let digest = digest_of(&services.keys, &document)?;
    // Whether the document is registered is answered by the decider, after who may ask.
    let appointee = fold::<Identity>(services, &streams::identity(&digest))
        .await?
        .person_id();
    let sealed_name = services
        .vault
        .seal(digest.as_str(), name.as_bytes())
        .await
        .map_err(ServiceError::internal)?;
    let r_stream = streams::region(&region);
    let mut loaded_streams = vec![r_stream.clone()];
    if let Some(e) = &enclosing {
        loaded_streams.push(streams::region(e));
    }
    Ok(services
        .bus
        .execute(ctx, &loaded_streams, |loaded| {
            let enclosing_fact = enclosing_fact(loaded, enclosing.as_ref(), &asker)?;
            let events = Region::decide(
                &RegionCommand::AppointAdmin {
                    region: region.clone(),
                    admin: digest.clone(),
                    appointee_registered: appointee.is_some(),
                    name: sealed(sealed_name.clone()),
                    by: Appointer::RegionAdmin { person_id: by },
                    enclosing: enclosing_fact,
                    at: now,
                },
                &loaded.fold::<Region>(&r_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let person_id =
                appointee.ok_or_else(|| ServiceError::refused(RegionError::AppointeeUnknown))?;
            let mut decision = Decision::unchanged(Appointed {
                region: region.to_string(),
                person_id,
            })
            .append(r_stream.clone(), &events)?;
            // The appointer must still hold the enclosing region when this commits.
            if let Some(e) = &enclosing {
                decision = decision.check(streams::region(e));
            }
            Ok::<_, ServiceError>(decision)
        })
        .await?)
}

/// `by` revokes the admin of `region`, the person `person` (as the path names them): only
/// the admin of the enclosing region may; `404` when that person does not administer it.
pub async fn revoke_admin(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    region: &str,
    person: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let (region, enclosing) = region_and_enclosing(region)?;
    let asker = crate::citizens::person_digest(services, by).await?;
    // A name that is nobody registered is refused by the decider, after who may ask.
    let admin = match PersonId::parse(person) {
        Some(id) => crate::citizens::person_facts_if_any(services, id)
            .await?
            .map(|facts| domain::document::DocumentDigest::parse(facts.digest))
            .transpose()
            .map_err(|why| ServiceError::internal(anyhow::anyhow!(why)))?,
        None => None,
    };
    let now = services.now();
    let r_stream = streams::region(&region);
    let mut loaded_streams = vec![r_stream.clone()];
    if let Some(e) = &enclosing {
        loaded_streams.push(streams::region(e));
    }
    Ok(services
        .bus
        .execute(ctx, &loaded_streams, |loaded| {
            let enclosing_fact = enclosing_fact(loaded, enclosing.as_ref(), &asker)?;
            let events = Region::decide(
                &RegionCommand::RevokeAdmin {
                    region: region.clone(),
                    admin: admin.clone(),
                    by,
                    enclosing: enclosing_fact,
                    at: now,
                },
                &loaded.fold::<Region>(&r_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let mut decision = Decision::unchanged(Done {}).append(r_stream.clone(), &events)?;
            if let Some(e) = &enclosing {
                decision = decision.check(streams::region(e));
            }
            Ok::<_, ServiceError>(decision)
        })
        .await?)
}
