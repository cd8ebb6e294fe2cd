//! Medical staff: the roster the province admin keeps, their scans of citizens' codes, and
//! the release-from-medical-observation notices they issue (SPEC §8).

pub mod notice;
pub mod scan;
pub mod staff;

pub use notice::*;
pub use scan::*;
pub use staff::*;
