//! The access log: who read a person's data.

use super::*;

/// Appends an access record to `person`'s access log (no version check: records only add up).
pub async fn record_access(
    services: &Services,
    actor: &str,
    person: PersonId,
    accessor: Accessor,
    data: AccessedData,
) -> Result<u64, ServiceError> {
    let now = services.now();
    let ctx = CommandContext::new(actor);
    let stream = streams::access(person);
    let event = AccessEvent::PersonalDataAccessed {
        accessor,
        data,
        at: now,
    };
    let outcome = services
        .bus
        .execute(&ctx, &[], |_| {
            Decision::unchanged(Done {}).append(stream.clone(), std::slice::from_ref(&event))
        })
        .await?;
    Ok(outcome.position())
}
