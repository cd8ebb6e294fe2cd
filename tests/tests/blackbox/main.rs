//! The black-box suites as one test binary (one link instead of four): each module runs the
//! real server on port 0 against SQLite and, when `YUEKANG_TEST_POSTGRES_URL` is set,
//! PostgreSQL.

mod api;
mod citizens;
mod documents;
mod grids;
mod limits;
mod medical;
mod orgs;
mod pages;
mod postgres;
mod privacy;
mod regions;
mod retention;
mod sessions;
mod venues;
