//! Community grids: a grid admin creates one grid (pending, with a grid code), a region admin
//! whose region encloses it confirms it, the admin edits it once a week; workers bind with the
//! code, choose a current grid and unbind; only the grid's admin authorises, revokes and
//! unbinds workers.

use commands::{CommandContext, Decision, Loaded, Outcome};
use domain::access::{AccessEvent, AccessedData, Accessor};
use domain::claim::{Claim, ClaimState};
use domain::code::CodeKind;
use domain::divisions;
use domain::document::{Document, MobilePhone};
use domain::grid::{
    CurrentGrid, CurrentGridCommand, Grid, GridChanges, GridCommand, GridId, GridName, GridScan,
    GridScanCommand, GridWorker, ManualVisit, ManualVisitCommand, VisitError, VisitFacts,
    WorkerCommand, WorkerState,
};
use domain::health::Reading;
use domain::identity::PersonId;
use domain::region::{Region, RegionCode, RegionState};
use domain::{Decider, DomainEvent};
use event_store::StreamId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::citizens::sealed;
use crate::orgs::parse_code;
use crate::support::{collect, fold, instant, Done};
use crate::{streams, ServiceError, Services};

mod key_persons;
mod region_list;
mod scan_view;
pub use key_persons::{key_persons, KeyPerson};
pub use region_list::{authorize_region_viewer, region_grids, RegionViewer, StatusFilter};
pub use scan_view::{permit_scan_declaration, scanned_declaration, GridDeclarationView};

/// A grid's region: a real town of Guangdong (9 digits), or a village in one (12 digits
/// whose first 9 are a real town). A grid is a community's; a city or county is no grid.
fn grid_region(raw: &str) -> Result<RegionCode, domain::document::DocumentError> {
    let region = RegionCode::parse(raw, "region")?;
    let code = region.as_str();
    let in_a_town = matches!(code.len(), 9 | 12) && divisions::guangdong().is_town(&code[..9]);
    if in_a_town {
        Ok(region)
    } else {
        Err(domain::document::DocumentError {
            field: "region",
            code: "region.not_a_town",
            detail: format!(
                "{region} is no town of Guangdong (9 digits, NBS 2023) nor a village in one (12 digits)"
            ),
        })
    }
}

/// A grid named by a path segment: `404 grid.unknown` when it is no grid id.
pub fn grid_id(raw: &str) -> Result<GridId, ServiceError> {
    Uuid::parse_str(raw)
        .map(GridId::new)
        .map_err(|_| ServiceError::not_found("grid.unknown", format!("no grid {raw:?}")))
}

/// A grid as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct GridInput {
    pub region: String,
    pub name: String,
}

/// The answer to a creation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridCreated {
    pub grid_id: Uuid,
    pub code: String,
    /// `pending` until a region admin confirms it.
    pub status: String,
}

/// Creates a grid administered by `admin` (one grid per admin) with a fresh grid code.
pub async fn create(
    services: &Services,
    ctx: &CommandContext,
    admin: PersonId,
    input: &GridInput,
) -> Result<Outcome<GridCreated>, ServiceError> {
    let mut errors = Vec::new();
    let region = collect(grid_region(&input.region), &mut errors);
    let name = collect(GridName::parse(&input.name), &mut errors);
    let (Some(region), Some(name)) = (region, name) else {
        return Err(errors.into());
    };
    let now = services.now();
    let grid_id = GridId::new(Uuid::now_v7());
    crate::support::create_with_code(
        services,
        ctx,
        streams::grid_admin(admin),
        grid_id.as_uuid(),
        CodeKind::Grid,
        crate::support::AdminHasOne {
            code: "grid.admin_has_grid",
            noun: "grid",
            id_field: "grid_id",
        },
        |code| {
            let events = Grid::decide(
                &GridCommand::Create {
                    grid_id,
                    admin,
                    code,
                    region: region.clone(),
                    name: name.clone(),
                    at: now,
                },
                &Grid::initial(),
            )
            .map_err(ServiceError::refused)?
            .iter()
            .map(DomainEvent::encode)
            .collect::<Result<Vec<_>, _>>()?;
            Ok((
                streams::grid(grid_id),
                events,
                GridCreated {
                    grid_id: grid_id.as_uuid(),
                    code: code.to_string(),
                    status: "pending".into(),
                },
            ))
        },
    )
    .await
}

/// Every region that encloses `region` (itself included), innermost first.
fn enclosing_regions(region: &RegionCode) -> Vec<RegionCode> {
    let known = divisions::guangdong();
    let mut out = vec![region.clone()];
    let mut at = if region.as_str().len() == 12 {
        Some(&region.as_str()[..9])
    } else {
        known.get(region.as_str()).and_then(|d| d.parent)
    };
    if region.as_str().len() == 12 {
        if let Ok(town) = RegionCode::parse(&region.as_str()[..9], "region") {
            out.push(town);
        }
        at = known.get(&region.as_str()[..9]).and_then(|d| d.parent);
    }
    while let Some(code) = at {
        if let Ok(r) = RegionCode::parse(code, "region") {
            out.push(r);
        }
        at = known.get(code).and_then(|d| d.parent);
    }
    out
}

/// A region admin confirms the grid named by `raw`: the admin of any region enclosing the
/// grid's region (checked at commit on that region's stream).
pub async fn confirm(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    raw: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let grid_id = grid_id(raw)?;
    let g_stream = streams::grid(grid_id);
    let loaded = services.bus.load(std::slice::from_ref(&g_stream)).await?;
    let grid = loaded.fold::<Grid>(&g_stream)?;
    grid.require_open().map_err(ServiceError::refused)?;
    let Some(region) = grid.region().cloned() else {
        return Err(ServiceError::not_found(
            "grid.unknown",
            format!("no grid {grid_id}"),
        ));
    };
    let regions = enclosing_regions(&region);
    let region_streams: Vec<StreamId> = regions.iter().map(streams::region).collect();
    let loaded = loaded.join(services.bus.load(&region_streams).await?);
    let asker = crate::citizens::person_digest(services, by).await?;
    let now = services.now();
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let mut confirming = None;
            for (region, stream) in regions.iter().zip(&region_streams) {
                if matches!(
                    loaded.fold::<Region>(stream)?,
                    RegionState::Held { admin } if admin == asker
                ) {
                    confirming = Some((region.clone(), stream.clone()));
                    break;
                }
            }
            let events = Grid::decide(
                &GridCommand::Confirm {
                    by,
                    confirming_region: confirming.as_ref().map(|(r, _)| r.clone()),
                    at: now,
                },
                &loaded.fold::<Grid>(&g_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let mut decision = Decision::unchanged(Done {}).append(g_stream.clone(), &events)?;
            // The confirming admin must still hold their region when this commits.
            if let Some((_, stream)) = confirming {
                decision = decision.check(stream);
            }
            Ok::<_, ServiceError>(decision)
        })
        .await?)
}

/// A grid's admin, found before what they ask is read: the grid's stream as read.
#[derive(Debug)]
pub struct GridAdmin {
    pub grid_id: GridId,
    pub admin: PersonId,
    loaded: Loaded,
}

/// `person` when they administer the grid named by `raw`: `404 grid.unknown`, `403` otherwise.
pub async fn authorize_admin(
    services: &Services,
    raw: &str,
    person: PersonId,
) -> Result<GridAdmin, ServiceError> {
    let grid_id = grid_id(raw)?;
    let stream = streams::grid(grid_id);
    let loaded = services.bus.load(std::slice::from_ref(&stream)).await?;
    let grid = loaded.fold::<Grid>(&stream)?;
    if grid.admin().is_some() {
        grid.require_open().map_err(ServiceError::refused)?;
    }
    match grid.admin() {
        None => Err(ServiceError::not_found(
            "grid.unknown",
            format!("no grid {grid_id}"),
        )),
        Some(admin) if admin == person => Ok(GridAdmin {
            grid_id,
            admin,
            loaded,
        }),
        Some(_) => Err(ServiceError::Forbidden(
            "only the grid's admin may do this".into(),
        )),
    }
}

/// An edit as sent: any of the fields.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GridPatch {
    pub region: Option<String>,
    pub name: Option<String>,
}

/// The grid's admin edits its region or name, once per natural week (CST).
pub async fn edit(
    services: &Services,
    ctx: &CommandContext,
    permit: GridAdmin,
    patch: &GridPatch,
) -> Result<Outcome<Done>, ServiceError> {
    let mut errors = Vec::new();
    let region = patch
        .region
        .as_deref()
        .and_then(|r| collect(grid_region(r), &mut errors));
    let name = patch
        .name
        .as_deref()
        .and_then(|n| collect(GridName::parse(n), &mut errors));
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let command = GridCommand::Edit {
        by: permit.admin,
        changes: GridChanges { region, name },
        at: services.now(),
    };
    let stream = streams::grid(permit.grid_id);
    Ok(services
        .bus
        .execute_loaded(ctx, permit.loaded, |loaded| {
            let events = Grid::decide(&command, &loaded.fold::<Grid>(&stream)?)
                .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(Decision::unchanged(Done {}).append(stream.clone(), &events)?)
        })
        .await?)
}

/// The grid a grid code belongs to: `422` for a malformed code or another kind (an
/// organisation declaration code says so), `404 grid.unknown_code` for a code never given.
pub async fn grid_of_code(services: &Services, raw: &str) -> Result<GridId, ServiceError> {
    let code = parse_code(raw, CodeKind::Grid)?;
    match fold::<Claim>(services, &streams::code(&code)).await? {
        ClaimState::Held { holder } => Ok(GridId::new(holder)),
        ClaimState::Free => Err(ServiceError::not_found(
            "grid.unknown_code",
            format!("no grid has the grid code {code}"),
        )),
    }
}

/// The answer to a binding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerBound {
    pub grid_id: Uuid,
}

/// Binds `worker` to the grid of a grid code (binding again changes nothing).
pub async fn bind(
    services: &Services,
    ctx: &CommandContext,
    worker: PersonId,
    code: &str,
) -> Result<Outcome<WorkerBound>, ServiceError> {
    let grid_id = grid_of_code(services, code).await?;
    fold::<Grid>(services, &streams::grid(grid_id))
        .await?
        .require_open()
        .map_err(ServiceError::refused)?;
    let now = services.now();
    services
        .bus
        .decide::<GridWorker, _>(
            ctx,
            streams::grid_worker(grid_id, worker),
            &WorkerCommand::Bind {
                grid_id,
                worker,
                at: now,
            },
            |_| WorkerBound {
                grid_id: grid_id.as_uuid(),
            },
        )
        .await
        .map_err(|e| ServiceError::from(e.map_rejected(ServiceError::refused)))
}

/// What a worker or the grid admin asks of a worker's binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerAction {
    Unbind,
    Authorise,
    RevokeAuthorisation,
}

/// `by` acts on `worker`'s binding to the grid: the worker unbinds themself; the grid's own
/// admin authorises, revokes or unbinds (checked at commit on the grid's stream).
async fn act_on_worker(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    grid_id: GridId,
    worker: PersonId,
    action: WorkerAction,
) -> Result<Outcome<Done>, ServiceError> {
    let g_stream = streams::grid(grid_id);
    let w_stream = streams::grid_worker(grid_id, worker);
    let c_stream = streams::grid_current(worker);
    let now = services.now();
    Ok(services
        .bus
        .execute(
            ctx,
            &[g_stream.clone(), w_stream.clone(), c_stream.clone()],
            |loaded| {
                let grid = loaded.fold::<Grid>(&g_stream)?;
                let Some(admin) = grid.admin() else {
                    return Err(ServiceError::not_found(
                        "grid.unknown",
                        format!("no grid {grid_id}"),
                    ));
                };
                grid.require_open().map_err(ServiceError::refused)?;
                let by_grid_admin = admin == by;
                let command = match action {
                    WorkerAction::Unbind => WorkerCommand::Unbind {
                        by,
                        worker,
                        by_grid_admin,
                        at: now,
                    },
                    WorkerAction::Authorise => WorkerCommand::Authorise {
                        by_grid_admin,
                        at: now,
                    },
                    WorkerAction::RevokeAuthorisation => WorkerCommand::RevokeAuthorisation {
                        by_grid_admin,
                        at: now,
                    },
                };
                let events = GridWorker::decide(&command, &loaded.fold::<GridWorker>(&w_stream)?)
                    .map_err(ServiceError::refused)?;
                // A worker who leaves their current grid has no current grid any more.
                let left = if events
                    .iter()
                    .any(|e| matches!(e, domain::grid::WorkerEvent::GridWorkerUnbound { .. }))
                {
                    CurrentGrid::decide(
                        &CurrentGridCommand::Leave { grid_id, at: now },
                        &loaded.fold::<CurrentGrid>(&c_stream)?,
                    )
                    .map_err(ServiceError::refused)?
                } else {
                    Vec::new()
                };
                let decision = Decision::unchanged(Done {})
                    .append(w_stream.clone(), &events)?
                    .append(c_stream.clone(), &left)?;
                // The admin's right must still hold when this commits (a handover racing it).
                Ok(if by_grid_admin {
                    decision.check(g_stream.clone())
                } else {
                    decision
                })
            },
        )
        .await?)
}

/// The grid's admin (or the worker, to unbind themself) acts on the worker named by the path.
pub async fn manage_worker(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    grid: &str,
    worker: &str,
    action: WorkerAction,
) -> Result<Outcome<Done>, ServiceError> {
    let grid_id = grid_id(grid)?;
    let worker = PersonId::parse(worker)
        .ok_or_else(|| ServiceError::not_found("grid.not_bound", "no such worker"))?;
    act_on_worker(services, ctx, by, grid_id, worker, action).await
}

/// A worker unbinds themself from the grid named by `raw`.
pub async fn unbind_self(
    services: &Services,
    ctx: &CommandContext,
    worker: PersonId,
    raw: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let grid_id = Uuid::parse_str(raw)
        .map(GridId::new)
        .map_err(|_| ServiceError::not_found("grid.not_bound", "you are not bound to this grid"))?;
    act_on_worker(services, ctx, worker, grid_id, worker, WorkerAction::Unbind).await
}

/// The worker chooses their current grid among those they are bound to (checked at commit).
pub async fn choose_current(
    services: &Services,
    ctx: &CommandContext,
    worker: PersonId,
    grid_id: Uuid,
) -> Result<Outcome<Done>, ServiceError> {
    let grid_id = GridId::new(grid_id);
    let w_stream = streams::grid_worker(grid_id, worker);
    let c_stream = streams::grid_current(worker);
    let now = services.now();
    Ok(services
        .bus
        .execute(ctx, &[w_stream.clone(), c_stream.clone()], |loaded| {
            let bound = matches!(
                loaded.fold::<GridWorker>(&w_stream)?,
                WorkerState::Bound { .. }
            );
            let events = CurrentGrid::decide(
                &CurrentGridCommand::Choose {
                    grid_id,
                    bound,
                    at: now,
                },
                &loaded.fold::<CurrentGrid>(&c_stream)?,
            )
            .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(Done {})
                    .append(c_stream.clone(), &events)?
                    .check(w_stream.clone()),
            )
        })
        .await?)
}

/// A grid a worker is bound to.
#[derive(Debug, Clone)]
pub struct WorkerGrid {
    pub grid_id: String,
    pub name: String,
    pub region: String,
    pub status: String,
    pub authorised: bool,
    pub current: bool,
    pub bound_at: OffsetDateTime,
}

/// The grids `worker` is bound to, oldest binding first, the current one marked.
pub async fn my_grids(
    services: &Services,
    worker: PersonId,
) -> Result<Vec<WorkerGrid>, ServiceError> {
    let rows = projections::grids::of_worker(&services.db, &worker.to_string())
        .await
        .map_err(ServiceError::internal)?;
    Ok(rows
        .into_iter()
        .map(|r| WorkerGrid {
            bound_at: instant(r.bound_at),
            current: r.current != 0,
            authorised: r.authorised != 0,
            grid_id: r.grid_id,
            name: r.name,
            region: r.region,
            status: r.status,
        })
        .collect())
}

/// A worker found bound to a confirmed grid, before what they ask is read: the grid's and the
/// binding's streams as read, so the visit decides on that read (checked at commit).
#[derive(Debug)]
pub struct VisitPermit {
    pub grid_id: GridId,
    pub worker: PersonId,
    loaded: Loaded,
}

/// The facts a scan or visit needs, from the grid's and the binding's streams.
fn visit_facts(
    loaded: &Loaded,
    grid_id: GridId,
    worker: PersonId,
) -> Result<VisitFacts, ServiceError> {
    let grid = loaded.fold::<Grid>(&streams::grid(grid_id))?;
    if grid.admin().is_none() {
        return Err(ServiceError::not_found(
            "grid.unknown",
            format!("no grid {grid_id}"),
        ));
    }
    grid.require_open().map_err(ServiceError::refused)?;
    Ok(VisitFacts {
        grid_confirmed: matches!(grid, domain::grid::GridState::Active { .. }),
        worker_bound: matches!(
            loaded.fold::<GridWorker>(&streams::grid_worker(grid_id, worker))?,
            WorkerState::Bound { .. }
        ),
    })
}

/// `worker` when bound to the confirmed grid `grid_id`: `404 grid.unknown`, `403` when not
/// bound, `409 grid.pending` before a region admin confirmed it.
async fn permit_visit(
    services: &Services,
    worker: PersonId,
    grid_id: GridId,
) -> Result<VisitPermit, ServiceError> {
    let loaded = services
        .bus
        .load(&[
            streams::grid(grid_id),
            streams::grid_worker(grid_id, worker),
        ])
        .await?;
    let facts = visit_facts(&loaded, grid_id, worker)?;
    if !facts.worker_bound {
        return Err(ServiceError::refused(VisitError::NotBound(grid_id)));
    }
    if !facts.grid_confirmed {
        return Err(ServiceError::refused(VisitError::Pending(grid_id)));
    }
    Ok(VisitPermit {
        grid_id,
        worker,
        loaded,
    })
}

/// A worker scans a citizen's code in a grid: the masked answer as at venues, the access
/// recorded in the citizen's access log; only a worker bound to the confirmed grid (checked
/// at commit).
pub(crate) async fn scan(
    services: &Services,
    ctx: &CommandContext,
    worker: PersonId,
    grid_id: GridId,
    code: crate::venues::ShownCode,
) -> Result<Outcome<crate::venues::ScanAnswer>, ServiceError> {
    let subject = code.subject;
    // Who may scan is answered before the person is looked up.
    let permit = permit_visit(services, worker, grid_id).await?;
    let c_stream = streams::health_code(subject);
    let loaded = permit
        .loaded
        .join(services.bus.load(std::slice::from_ref(&c_stream)).await?);
    let fresh = crate::venues::code_is_fresh(services, &loaded, &code)?;
    let answer = crate::venues::masked_answer(
        services,
        subject,
        fresh,
        &crate::venues::code_state(&loaded, &code)?,
    )
    .await?
    .answer;
    let now = services.now();
    // The scan (and the visit on it) names the person by the day's pseudonym (retention).
    let linked = crate::links::link(services, subject, now).await?;
    let accessor = crate::links::link_accessor(
        services,
        Accessor::Grid {
            grid_id: grid_id.as_uuid(),
            person_id: worker,
        },
        now,
    )
    .await?;
    let s_stream = streams::grid_scan(answer.scan_id);
    let a_stream = streams::access(subject);
    let (g_stream, w_stream) = (
        streams::grid(grid_id),
        streams::grid_worker(grid_id, worker),
    );
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let scanned = GridScan::decide(
                &GridScanCommand::Scan {
                    scan_id: answer.scan_id,
                    grid_id,
                    worker,
                    subject: linked,
                    facts: visit_facts(loaded, grid_id, worker)?,
                    fresh: crate::venues::code_is_fresh(services, loaded, &code)?,
                    at: now,
                },
                &GridScan::initial(),
            )
            .map_err(ServiceError::refused)?;
            let accessed = AccessEvent::PersonalDataAccessed {
                accessor: accessor.clone(),
                data: AccessedData::Code,
                at: now,
            };
            Ok::<_, ServiceError>(
                Decision::unchanged(answer.clone())
                    .append(s_stream.clone(), &scanned)?
                    .append(a_stream.clone(), &[accessed])?
                    .check(g_stream.clone())
                    .check(w_stream.clone())
                    .check(c_stream.clone()),
            )
        })
        .await?)
}

/// A person entered by hand, as sent.
#[derive(Debug, Clone, Deserialize)]
pub struct ManualPersonInput {
    pub name: String,
    /// `{"type","number"}`: resident ID, HK/Macao permit, passport, or a birth certificate
    /// for an infant.
    pub document: crate::feed::DocumentInput,
    pub phone: Option<String>,
    pub address: String,
}

/// A visit as sent: by a scan, or entered by hand; with a temperature or band, symptoms and
/// notes.
#[derive(Debug, Clone, Deserialize)]
pub struct VisitInput {
    pub scan_id: Option<Uuid>,
    pub manual: Option<ManualPersonInput>,
    pub temperature_c: Option<f64>,
    pub band: Option<String>,
    pub symptoms: Vec<String>,
    pub notes: Option<String>,
}

/// What a manual visit seals under the grid's key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ManualPerson {
    name: String,
    document_type: String,
    document_number: String,
    phone: Option<String>,
    address: String,
}

/// The answer to a visit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VisitRecorded {
    pub visit_id: Uuid,
}

/// The subject under which a grid's own data is sealed: destroying its key (dissolution)
/// makes everything the grid collected unreadable.
pub fn grid_subject(grid_id: GridId) -> String {
    format!("grid-{grid_id}")
}

/// Text of at most `max` characters, without control characters.
fn text(raw: &str, max: usize, field: &'static str) -> Result<String, ServiceError> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0 || n > max || t.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            "text.length",
            format!("{field} has 1 to {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// A bound worker records a visit in a confirmed grid: on a scan they made in the grid within
/// 30 minutes (once), or entered by hand (sealed under the grid's key).
pub async fn record_visit(
    services: &Services,
    ctx: &CommandContext,
    worker: PersonId,
    grid: &str,
    input: &VisitInput,
) -> Result<Outcome<VisitRecorded>, ServiceError> {
    let grid_id = grid_id(grid)?;
    let permit = permit_visit(services, worker, grid_id).await?;
    let reading = Reading::parse(input.temperature_c, input.band.as_deref(), &input.symptoms)?;
    let subject = grid_subject(grid_id);
    let notes = match input.notes.as_deref() {
        Some(raw) => Some(sealed(
            services
                .vault
                .seal(&subject, text(raw, 500, "notes")?.as_bytes())
                .await
                .map_err(ServiceError::internal)?,
        )),
        None => None,
    };
    let now = services.now();
    let visit_id = Uuid::now_v7();
    let (g_stream, w_stream) = (
        streams::grid(grid_id),
        streams::grid_worker(grid_id, worker),
    );
    match (&input.scan_id, &input.manual) {
        (Some(scan_id), None) => {
            let s_stream = streams::grid_scan(*scan_id);
            let loaded = permit
                .loaded
                .join(services.bus.load(std::slice::from_ref(&s_stream)).await?);
            Ok(services
                .bus
                .execute_loaded(ctx, loaded, |loaded| {
                    let events = GridScan::decide(
                        &GridScanCommand::RecordVisit {
                            visit_id,
                            grid_id,
                            worker,
                            reading: reading.clone(),
                            notes: notes.clone(),
                            facts: visit_facts(loaded, grid_id, worker)?,
                            at: now,
                        },
                        &loaded.fold::<GridScan>(&s_stream)?,
                    )
                    .map_err(ServiceError::refused)?;
                    Ok::<_, ServiceError>(
                        Decision::unchanged(VisitRecorded { visit_id })
                            .append(s_stream.clone(), &events)?
                            .check(g_stream.clone())
                            .check(w_stream.clone()),
                    )
                })
                .await?)
        }
        (None, Some(manual)) => {
            let today = domain::week::today(now);
            let mut errors = Vec::new();
            let name = crate::citizens::parse_name(&manual.name, "manual.name")
                .map_err(|e| errors.push(e))
                .ok();
            let document = Document::parse(&manual.document.kind, &manual.document.number, today)
                .map_err(|e| {
                    errors.push(ServiceError::invalid(
                        format!("manual.{}", e.field),
                        e.code,
                        e.detail,
                    ))
                })
                .ok();
            let phone = match manual.phone.as_deref() {
                Some(p) => MobilePhone::parse(p)
                    .map(|p| Some(p.as_str().to_owned()))
                    .map_err(|e| {
                        errors.push(ServiceError::invalid("manual.phone", e.code, e.detail))
                    })
                    .ok()
                    .flatten(),
                None => None,
            };
            let address = text(&manual.address, 200, "manual.address")
                .map_err(|e| errors.push(e))
                .ok();
            let (Some(name), Some(document), Some(address)) = (name, document, address) else {
                return Err(merge(errors));
            };
            if !errors.is_empty() {
                return Err(merge(errors));
            }
            let person = services
                .vault
                .seal_json(
                    &subject,
                    &ManualPerson {
                        name,
                        document_type: document.kind().to_owned(),
                        document_number: document.number().to_owned(),
                        phone,
                        address,
                    },
                )
                .await
                .map_err(ServiceError::internal)?;
            let v_stream = streams::grid_visit(visit_id);
            let (document_kind, person) = (document.kind().to_owned(), sealed(person));
            Ok(services
                .bus
                .execute_loaded(ctx, permit.loaded, |loaded| {
                    let events = ManualVisit::decide(
                        &ManualVisitCommand::Record {
                            visit_id,
                            grid_id,
                            worker,
                            document_kind: document_kind.clone(),
                            person: person.clone(),
                            reading: reading.clone(),
                            notes: notes.clone(),
                            facts: visit_facts(loaded, grid_id, worker)?,
                            at: now,
                        },
                        &ManualVisit::initial(),
                    )
                    .map_err(ServiceError::refused)?;
                    Ok::<_, ServiceError>(
                        Decision::unchanged(VisitRecorded { visit_id })
                            .append(v_stream.clone(), &events)?
                            .check(g_stream.clone())
                            .check(w_stream.clone()),
                    )
                })
                .await?)
        }
        (Some(_), Some(_)) | (None, None) => Err(ServiceError::invalid(
            "scan_id",
            "visit.subject",
            "a visit names either a scan_id or a manual person, not both",
        )),
    }
}

/// Several field refusals as one.
fn merge(errors: Vec<ServiceError>) -> ServiceError {
    let fields = errors
        .into_iter()
        .flat_map(|e| match e {
            ServiceError::Invalid { errors, .. } => errors,
            other => vec![crate::FieldError {
                field: "manual".into(),
                code: other.code().into(),
                detail: other.to_string(),
            }],
        })
        .collect();
    ServiceError::Invalid {
        code: crate::error::VALIDATION_FAILED,
        errors: fields,
    }
}

/// The grid's admin dissolves it, confirming with its code (`confirm_code`): the grid ends,
/// the admin's claim is released (they may create another grid), the code is never given out
/// again, and everything the grid collected that identifies a person becomes unreadable for
/// everyone by destroying the grid's key. The log stays as it is. Safe to repeat.
pub async fn dissolve(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    grid: &str,
    confirm_code: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let grid_id = grid_id(grid)?;
    let g_stream = streams::grid(grid_id);
    let c_stream = streams::grid_admin(by);
    let loaded = services
        .bus
        .load(&[g_stream.clone(), c_stream.clone()])
        .await?;
    let state = loaded.fold::<Grid>(&g_stream)?;
    // Who may ask comes before what they sent.
    match state.admin() {
        None => {
            return Err(ServiceError::not_found(
                "grid.unknown",
                format!("no grid {grid_id}"),
            ))
        }
        Some(admin) if admin != by => {
            return Err(ServiceError::refused(domain::grid::GridError::NotAdmin))
        }
        Some(_) => {}
    }
    let confirm_code = domain::code::BindingCode::parse(confirm_code, "confirm_code")?;
    let now = services.now();
    let outcome = services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let events = Grid::decide(
                &GridCommand::Dissolve {
                    by,
                    confirm_code,
                    at: now,
                },
                &loaded.fold::<Grid>(&g_stream)?,
            )
            .map_err(ServiceError::refused)?;
            // The admin's claim is released with the dissolution (they may create another).
            let released = match (events.is_empty(), loaded.fold::<Claim>(&c_stream)?) {
                (false, held @ ClaimState::Held { .. }) => {
                    Claim::decide(&domain::claim::ClaimCommand::Release { at: now }, &held)
                        .map_err(ServiceError::internal)?
                }
                (true, _) | (false, ClaimState::Free) => Vec::new(),
            };
            Ok::<_, ServiceError>(
                Decision::unchanged(Done {})
                    .append(g_stream.clone(), &events)?
                    .append(c_stream.clone(), &released)?,
            )
        })
        .await?;
    // The grid's key goes once the dissolution is in the log (again on a repeat, which
    // finishes a dissolution interrupted between the two).
    services
        .vault
        .shred(&grid_subject(grid_id))
        .await
        .map_err(ServiceError::internal)?;
    Ok(outcome)
}

/// Prefix of grid handover tokens.
pub const HANDOVER_TOKEN_PREFIX: &str = "yk_gh_";

/// A handover offered: the one-time token (shown once) and when it expires.
#[derive(Debug, Clone)]
pub struct HandoverOffered {
    pub token: String,
    pub expires_at: OffsetDateTime,
    pub position: u64,
}

/// The grid's admin names a successor by name and document: a one-time token valid 24 hours
/// (a new one voids the old). Only the token's SHA-256 is recorded.
pub async fn offer_handover(
    services: &Services,
    ctx: &CommandContext,
    by: PersonId,
    grid: &str,
    successor_name: &str,
    doc_type: &str,
    doc_number: &str,
) -> Result<HandoverOffered, ServiceError> {
    let grid_id = grid_id(grid)?;
    let g_stream = streams::grid(grid_id);
    let h_stream = streams::grid_handover(grid_id);
    let loaded = services
        .bus
        .load(&[g_stream.clone(), h_stream.clone()])
        .await?;
    let state = loaded.fold::<Grid>(&g_stream)?;
    let Some(admin) = state.admin() else {
        return Err(ServiceError::not_found(
            "grid.unknown",
            format!("no grid {grid_id}"),
        ));
    };
    state.require_open().map_err(ServiceError::refused)?;
    // Who may ask comes before what they sent.
    if admin != by {
        return Err(ServiceError::refused(domain::grid::HandoverError::NotAdmin));
    }
    crate::citizens::parse_name(successor_name, "successor_name")?;
    let now = services.now();
    let document =
        Document::parse(doc_type, doc_number, domain::week::today(now)).map_err(|e| {
            ServiceError::invalid(
                format!(
                    "successor_document.{}",
                    e.field.trim_start_matches("document.")
                ),
                e.code,
                e.detail,
            )
        })?;
    let successor = crate::citizens::digest_of(&services.keys, &document)?;
    let token = crate::support::handover_token(HANDOVER_TOKEN_PREFIX, grid_id.as_uuid());
    let token_hash = crypto::token::token_hash(&token);
    let outcome = services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let by_admin = loaded.fold::<Grid>(&g_stream)?.admin() == Some(by);
            let events = domain::grid::Handover::decide(
                &domain::grid::HandoverCommand::Offer {
                    grid_id,
                    by_admin,
                    successor: successor.clone(),
                    token_hash: token_hash.clone(),
                    at: now,
                },
                &loaded.fold::<domain::grid::Handover>(&h_stream)?,
            )
            .map_err(ServiceError::refused)?;
            Ok::<_, ServiceError>(
                Decision::unchanged(Done {})
                    .append(h_stream.clone(), &events)?
                    .check(g_stream.clone()),
            )
        })
        .await?;
    Ok(HandoverOffered {
        token,
        expires_at: now + domain::grid::HANDOVER_VALIDITY,
        position: outcome.position(),
    })
}

/// The successor, signed in with the document the admin named, accepts the handover: they
/// become the admin, the old admin's claim is released and theirs taken, in one append.
pub async fn accept_handover(
    services: &Services,
    ctx: &CommandContext,
    successor: PersonId,
    token: &str,
) -> Result<Outcome<Done>, ServiceError> {
    let grid_id = GridId::new(crate::support::handover_target(
        HANDOVER_TOKEN_PREFIX,
        token,
    )?);
    let token_hash = crypto::token::token_hash(token);
    let by_digest = crate::citizens::person_digest(services, successor).await?;
    let g_stream = streams::grid(grid_id);
    let h_stream = streams::grid_handover(grid_id);
    let new_claim = streams::grid_admin(successor);
    let loaded = services
        .bus
        .load(&[g_stream.clone(), h_stream.clone(), new_claim.clone()])
        .await?;
    let Some(old_admin) = loaded.fold::<Grid>(&g_stream)?.admin() else {
        return Err(ServiceError::refused(
            domain::grid::HandoverError::InvalidToken,
        ));
    };
    let old_claim = streams::grid_admin(old_admin);
    let loaded = loaded.join(services.bus.load(std::slice::from_ref(&old_claim)).await?);
    let now = services.now();
    Ok(services
        .bus
        .execute_loaded(ctx, loaded, |loaded| {
            let grid = loaded.fold::<Grid>(&g_stream)?;
            grid.require_open().map_err(ServiceError::refused)?;
            let accepted = domain::grid::Handover::decide(
                &domain::grid::HandoverCommand::Accept {
                    token_hash: token_hash.clone(),
                    by: successor,
                    by_digest: by_digest.clone(),
                    at: now,
                },
                &loaded.fold::<domain::grid::Handover>(&h_stream)?,
            )
            .map_err(ServiceError::refused)?;
            let handed = Grid::decide(
                &GridCommand::HandOver {
                    to: successor,
                    at: now,
                },
                &grid,
            )
            .map_err(ServiceError::refused)?;
            let (released, taken) = crate::support::move_admin_claim(
                loaded,
                (&old_claim, &new_claim),
                grid_id.as_uuid(),
                now,
                || {
                    ServiceError::conflict(
                        "grid.successor_has_grid",
                        "the successor already administers a grid; one admin has at most one grid",
                    )
                },
            )?;
            Ok::<_, ServiceError>(
                Decision::unchanged(Done {})
                    .append(h_stream.clone(), &accepted)?
                    .append(g_stream.clone(), &handed)?
                    .append(old_claim.clone(), &released)?
                    .append(new_claim.clone(), &taken)?,
            )
        })
        .await?)
}

/// The grid's state when `viewer` is its admin or an authorised worker of it: `404
/// grid.unknown`, `410 grid.dissolved`, `403` otherwise.
async fn authorize_reader(
    services: &Services,
    grid_id: GridId,
    viewer: PersonId,
) -> Result<domain::grid::GridState, ServiceError> {
    let loaded = services
        .bus
        .load(&[
            streams::grid(grid_id),
            streams::grid_worker(grid_id, viewer),
        ])
        .await?;
    let state = loaded.fold::<Grid>(&streams::grid(grid_id))?;
    let Some(admin) = state.admin() else {
        return Err(ServiceError::not_found(
            "grid.unknown",
            format!("no grid {grid_id}"),
        ));
    };
    state.require_open().map_err(ServiceError::refused)?;
    domain::grid::require_authorised(
        admin == viewer,
        &loaded.fold::<GridWorker>(&streams::grid_worker(grid_id, viewer))?,
    )
    .map_err(ServiceError::refused)?;
    Ok(state)
}

/// All the health declarations (newest first, health facts only) of a person visited in the
/// grid, for the grid's admin and its authorised workers; the look is recorded in the
/// person's access log.
pub async fn person_declarations(
    services: &Services,
    viewer: PersonId,
    grid: &str,
    person: &str,
    page: crate::page::PageRequest,
) -> Result<crate::page::Page<serde_json::Value>, ServiceError> {
    let grid_id = grid_id(grid)?;
    authorize_reader(services, grid_id, viewer).await?;
    let not_visited = || {
        ServiceError::not_found(
            "grid.not_visited",
            "this person was not visited in this grid",
        )
    };
    let person = PersonId::parse(person).ok_or_else(not_visited)?;
    // Visits name the person by the pseudonym of their day: a visit whose link expired
    // (retention) no longer opens the person's declarations to the grid.
    let mut visited = false;
    for name in crate::links::names_of(services, person).await? {
        if projections::grids::visited(&services.db, &grid_id.to_string(), &name)
            .await
            .map_err(ServiceError::internal)?
        {
            visited = true;
            break;
        }
    }
    if !visited {
        return Err(not_visited());
    }
    crate::citizens::record_access(
        services,
        &crate::auth::person_actor(viewer),
        person,
        Accessor::Grid {
            grid_id: grid_id.as_uuid(),
            person_id: viewer,
        },
        AccessedData::Declarations,
    )
    .await?;
    let history = crate::citizens::history(
        services,
        person,
        projections::histories::HistoryKind::Declarations,
        page,
    )
    .await?;
    Ok(crate::page::Page {
        items: history
            .items
            .into_iter()
            .map(|mut d| {
                if let Some(fields) = d.as_object_mut() {
                    fields.remove("org_id");
                    fields.remove("filed_by");
                }
                d
            })
            .collect(),
        next: history.next,
    })
}

/// One worker's visits in a grid's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerVisits {
    pub worker: String,
    pub today: i64,
    pub total: i64,
}

/// One day of a grid's screening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridDay {
    pub date: time::Date,
    pub visits: i64,
    pub fever: i64,
    pub symptoms: i64,
}

/// A grid's statistics for a day (CST), no personal data.
#[derive(Debug, Clone)]
pub struct GridStats {
    pub grid_id: String,
    pub date: time::Date,
    pub workers: i64,
    pub authorised: i64,
    pub visits_today: i64,
    pub visits_total: i64,
    /// Every worker bound now and every worker who visited, by person id.
    pub per_worker: Vec<WorkerVisits>,
    /// The 14 days ending at `date`, oldest first.
    pub series: Vec<GridDay>,
}

/// Days in a grid's screening series.
const SERIES_DAYS: i64 = 14;

/// The grid's visits up to the end of `date` (CST).
async fn visits_until(
    services: &Services,
    grid_id: GridId,
    date: time::Date,
) -> Result<Vec<projections::grids::VisitRow>, ServiceError> {
    let end = (date + time::Duration::days(1))
        .midnight()
        .assume_offset(domain::week::CST)
        .unix_timestamp();
    projections::grids::visits(&services.db, &grid_id.to_string(), end)
        .await
        .map_err(ServiceError::internal)
}

/// The grid's statistics on `date` for its admin (`authorize_admin` first).
pub async fn stats(
    services: &Services,
    admin: &GridAdmin,
    date: time::Date,
) -> Result<GridStats, ServiceError> {
    let visits = visits_until(services, admin.grid_id, date).await?;
    let workers = projections::grids::workers(&services.db, &admin.grid_id.to_string())
        .await
        .map_err(ServiceError::internal)?;
    let mut per_worker: std::collections::BTreeMap<String, WorkerVisits> = workers
        .iter()
        .map(|w| {
            let entry = WorkerVisits {
                worker: w.person_id.clone(),
                today: 0,
                total: 0,
            };
            (w.person_id.clone(), entry)
        })
        .collect();
    let first = date - time::Duration::days(SERIES_DAYS - 1);
    let mut series: Vec<GridDay> = (0..SERIES_DAYS)
        .map(|i| GridDay {
            date: first + time::Duration::days(i),
            visits: 0,
            fever: 0,
            symptoms: 0,
        })
        .collect();
    let mut visits_today = 0;
    for v in &visits {
        let day = domain::week::today(instant(v.at));
        let entry = per_worker
            .entry(v.worker.clone())
            .or_insert_with(|| WorkerVisits {
                worker: v.worker.clone(),
                today: 0,
                total: 0,
            });
        entry.total += 1;
        if day == date {
            entry.today += 1;
            visits_today += 1;
        }
        if let Some(d) = series.iter_mut().find(|d| d.date == day) {
            d.visits += 1;
            d.fever += v.fever;
            d.symptoms += v.symptoms;
        }
    }
    Ok(GridStats {
        grid_id: admin.grid_id.to_string(),
        date,
        workers: workers.len() as i64,
        authorised: workers.iter().filter(|w| w.authorised != 0).count() as i64,
        visits_today,
        visits_total: visits.len() as i64,
        per_worker: per_worker.into_values().collect(),
        series,
    })
}

/// A worker bound to an open grid, found before what they ask is read.
#[derive(Debug, Clone, Copy)]
pub struct BoundWorker {
    pub grid_id: GridId,
    pub worker: PersonId,
}

/// `person` when bound to the grid named by `raw`: `404 grid.unknown`, `410 grid.dissolved`,
/// `403` otherwise.
pub async fn authorize_worker(
    services: &Services,
    raw: &str,
    person: PersonId,
) -> Result<BoundWorker, ServiceError> {
    let grid_id = grid_id(raw)?;
    let loaded = services
        .bus
        .load(&[
            streams::grid(grid_id),
            streams::grid_worker(grid_id, person),
        ])
        .await?;
    let grid = loaded.fold::<Grid>(&streams::grid(grid_id))?;
    if grid.admin().is_none() {
        return Err(ServiceError::not_found(
            "grid.unknown",
            format!("no grid {grid_id}"),
        ));
    }
    grid.require_open().map_err(ServiceError::refused)?;
    match loaded.fold::<GridWorker>(&streams::grid_worker(grid_id, person))? {
        WorkerState::Bound { .. } => Ok(BoundWorker {
            grid_id,
            worker: person,
        }),
        _ => Err(ServiceError::Forbidden(
            "you are not bound to this grid".into(),
        )),
    }
}

/// A bound worker's own visits in the grid on `date` and in all (`authorize_worker` first).
pub async fn my_stats(
    services: &Services,
    worker: BoundWorker,
    date: time::Date,
) -> Result<(i64, i64), ServiceError> {
    let me = worker.worker.to_string();
    let visits = visits_until(services, worker.grid_id, date).await?;
    let mine = visits.iter().filter(|v| v.worker == me);
    let today = mine
        .clone()
        .filter(|v| domain::week::today(instant(v.at)) == date)
        .count() as i64;
    Ok((today, mine.count() as i64))
}
