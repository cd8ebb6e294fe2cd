//! Quick check-ins with a venue's poster (葵花码), and the poster itself.

use super::*;

/// The answer to a quick check-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckedIn {
    pub check_id: Uuid,
    pub venue_name: String,
}

/// A quick check-in with a venue's poster (`poster_token`), band normal, for the actor or
/// (`subject_id`) a member of their family. One pass: the venue's and the subject's streams
/// are read once, inside the decision, and a guardian's right is checked at commit.
pub async fn check_in(
    services: &Services,
    ctx: &CommandContext,
    actor: PersonId,
    poster_token: &str,
    subject_id: Option<Uuid>,
) -> Result<Outcome<CheckedIn>, ServiceError> {
    let venue_id = services
        .keys
        .code_keys
        .verify_poster(poster_token)
        .map(VenueId::new)
        .map_err(|e| refused_token("poster_token", e))?;
    let subject = subject_id.map_or(actor, PersonId::new);
    // The subject's registration facts (sex, birth date) never change: folded from their
    // streams, which the store keeps in memory; a missing person is refused only after who
    // may act for them.
    let row = crate::citizens::person_facts_fast(services, subject).await?;
    let now = services.now();
    let day = domain::week::today(now);
    let check_id = Uuid::now_v7();
    // The check-in names the person and whoever checked them in by the day's pseudonyms
    // (retention: `crate::links`).
    let (linked_subject, linked_by) = (
        crate::links::link(services, subject, now).await?,
        crate::links::link(services, actor, now).await?,
    );
    let v_stream = streams::venue(venue_id);
    let p_stream = streams::person(subject);
    let mut loaded_streams = vec![v_stream.clone()];
    if subject != actor {
        loaded_streams.push(p_stream.clone());
    }
    Ok(services
        .bus
        .execute(ctx, &loaded_streams, |loaded| {
            let venue = loaded.fold::<Venue>(&v_stream)?;
            let acting_for_allowed = subject == actor
                || domain::person::may_act_for(
                    actor,
                    subject,
                    &loaded.fold::<domain::person::Person>(&p_stream)?,
                );
            let events = CheckIn::decide(
                &CheckInCommand::CheckIn {
                    check_id,
                    venue_id,
                    subject: linked_subject,
                    by: linked_by,
                    venue_exists: matches!(venue, VenueState::Active { .. }),
                    acting_for_allowed,
                    demographics: row
                        .as_ref()
                        .map_or(Demographics::on(None, None, day), |row| {
                            row.demographics(day)
                        }),
                    at: now,
                },
                &CheckIn::initial(),
            )
            .map_err(ServiceError::refused)?;
            if row.is_none() {
                return Err(crate::citizens::unknown_person(subject));
            }
            let venue_name = venue
                .name()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default();
            let decision = Decision::unchanged(CheckedIn {
                check_id,
                venue_name,
            })
            .append(streams::check_in(check_id), &events)?;
            // A guardian's right must still hold when the check-in commits.
            Ok(if subject == actor {
                decision
            } else {
                decision.check(p_stream.clone())
            })
        })
        .await?)
}

/// The venue's poster token (葵花码), for its admin and bound inspectors.
pub async fn poster(
    services: &Services,
    person: PersonId,
    raw: &str,
) -> Result<String, ServiceError> {
    let venue_id = venue_id(raw)?;
    let admin = admin_of(services, venue_id).await?;
    if admin != person && !is_inspector(services, venue_id, person).await? {
        return Err(ServiceError::Forbidden(
            "the poster is for the venue's admin and bound inspectors".into(),
        ));
    }
    Ok(services.keys.code_keys.sign_poster(venue_id.as_uuid()))
}
