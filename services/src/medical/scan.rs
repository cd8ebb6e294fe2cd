//! A medical staff member scans a citizen's code: the colour, each active reason with its
//! label, since when and its source, and — staff being a government role (SPEC §2) — the
//! person's name and phone in clear, to pre-fill the notice; recorded in the citizen's
//! access log. Only granted staff (checked at commit).

use commands::{CommandContext, Decision, Outcome};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::medical::{MedicalScan, MedicalScanCommand};
use domain::Decider;

use super::StaffPermit;
use crate::venues::ScanAnswer;
use crate::{streams, ServiceError, Services};

/// Scans the code `token` as the staff member of `permit`.
pub async fn scan(
    services: &Services,
    ctx: &CommandContext,
    permit: StaffPermit,
    token: &str,
) -> Result<Outcome<ScanAnswer>, ServiceError> {
    let code = crate::venues::read_code(services, token)?;
    let subject = code.subject;
    let c_stream = streams::health_code(subject);
    let loaded = permit
        .loaded
        .clone()
        .join(services.bus.load(std::slice::from_ref(&c_stream)).await?);
    // Staff, a government role, see the reasons whatever the code's age; a reset code is
    // refused to them too.
    crate::venues::code_is_fresh(services, &loaded, &code)?;
    let shown = crate::venues::masked_answer(
        services,
        subject,
        true,
        &crate::venues::code_state(&loaded, &code)?,
    )
    .await?;
    let mut answer = shown.answer;
    answer.reasons = Some(shown.reasons);
    let profile = shown.profile;
    let now = services.now();
    let s_stream = streams::medical_scan(answer.scan_id);
    let a_stream = streams::access(subject);
    let staff = permit.staff;
    let accessed = |data| AccessEvent::PersonalDataAccessed {
        accessor: Accessor::Medical { person_id: staff },
        data,
        at: now,
    };
    let outcome = services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            crate::venues::code_is_fresh(services, loaded, &code)?;
            let scanned = MedicalScan::decide(
                &MedicalScanCommand::Scan {
                    scan_id: answer.scan_id,
                    staff,
                    subject,
                    staff_granted: permit.state(loaded)?.is_granted(),
                    at: now,
                },
                &MedicalScan::initial(),
            )
            .map_err(ServiceError::refused)?;
            // The answer a retry replays holds no name or phone in clear.
            Ok::<_, ServiceError>(
                Decision::unchanged(answer.clone())
                    .append(s_stream.clone(), &scanned)?
                    .append(
                        a_stream.clone(),
                        &[
                            accessed(AccessedData::Code),
                            accessed(AccessedData::Profile),
                        ],
                    )?
                    .check(permit.stream.clone())
                    .check(c_stream.clone()),
            )
        })
        .await?;
    Ok(outcome.map(|mut answer| {
        answer.name = Some(profile.as_ref().map(|p| p.name.clone()).unwrap_or_default());
        answer.phone = Some(profile.and_then(|p| p.phone).unwrap_or_default());
        answer
    }))
}
