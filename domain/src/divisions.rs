//! Guangdong's administrative divisions down to town level, shipped with the code
//! (`data/regions/guangdong.csv`, NBS 2023 codes): what makes a region code real.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    pub code: &'static str,
    pub name: &'static str,
    /// The enclosing division (`None` for the province).
    pub parent: Option<&'static str>,
}

/// The level of a division, by its place in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Province,
    City,
    County,
    Town,
}

/// Every division of Guangdong, by code.
#[derive(Debug)]
pub struct Divisions {
    by_code: HashMap<&'static str, Division>,
}

const DATA: &str = include_str!("../../data/regions/guangdong.csv");

impl Divisions {
    fn parse() -> Self {
        let by_code = DATA
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut fields = line.splitn(3, ',');
                let code = fields.next()?;
                let name = fields.next()?.trim_matches('"');
                let parent = fields.next().filter(|p| !p.is_empty());
                Some((code, Division { code, name, parent }))
            })
            .collect();
        Self { by_code }
    }

    pub fn get(&self, code: &str) -> Option<&Division> {
        self.by_code.get(code)
    }

    /// The division's level: the province, a city (4 digits), a county-level unit (6 digits,
    /// including Dongguan's and Zhongshan's own codes, under which their towns sit) or a
    /// town-level unit (9 digits).
    pub fn level(&self, code: &str) -> Option<Level> {
        self.get(code).map(|d| match d.code.len() {
            2 => Level::Province,
            4 => Level::City,
            6 => Level::County,
            _ => Level::Town,
        })
    }

    /// Whether `code` is a real town-level division of Guangdong.
    pub fn is_town(&self, code: &str) -> bool {
        self.level(code) == Some(Level::Town)
    }

    /// Whether `inner` lies inside `outer` (or is it), following parents.
    pub fn contains(&self, outer: &str, inner: &str) -> bool {
        let mut at = Some(inner);
        while let Some(code) = at {
            if code == outer {
                return true;
            }
            at = self.get(code).and_then(|d| d.parent);
        }
        false
    }

    /// The division whose admin appoints the admin of `code`: its parent, except that the
    /// towns of Dongguan and Zhongshan sit under a county-level code that is the city itself
    /// (`441900` is 东莞市 like `4419`), so their city appoints them. `None` for the province,
    /// for such a city-itself code (nobody administers it apart from the city), and for codes
    /// that are no division of Guangdong.
    pub fn enclosing_admin_region(&self, code: &str) -> Option<&'static str> {
        let division = self.get(code)?;
        if self.is_the_city_itself(division) {
            return None;
        }
        let parent = self.get(division.parent?)?;
        if self.is_the_city_itself(parent) {
            parent.parent
        } else {
            Some(parent.code)
        }
    }

    /// Whether `division` is a county-level code standing for its own city (same name).
    fn is_the_city_itself(&self, division: &Division) -> bool {
        division.code.len() == 6
            && division
                .parent
                .and_then(|p| self.get(p))
                .is_some_and(|city| city.name == division.name)
    }

    /// How many divisions of `level` there are.
    pub fn count(&self, level: Level) -> usize {
        self.by_code
            .keys()
            .filter(|c| self.level(c) == Some(level))
            .count()
    }
}

/// Guangdong's divisions, parsed once.
pub fn guangdong() -> &'static Divisions {
    static DIVISIONS: OnceLock<Divisions> = OnceLock::new();
    DIVISIONS.get_or_init(Divisions::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_region_is_appointed_from_the_one_enclosing_it() {
        let d = guangdong();
        assert_eq!(d.enclosing_admin_region("4403"), Some("44"));
        assert_eq!(d.enclosing_admin_region("440305"), Some("4403"));
        assert_eq!(d.enclosing_admin_region("440305001"), Some("440305"));
        // Dongguan's and Zhongshan's towns sit directly under the city.
        assert_eq!(d.enclosing_admin_region("441900003"), Some("4419"));
        let zhongshan_town = d
            .by_code
            .keys()
            .copied()
            .find(|c| c.len() == 9 && c.starts_with("442000"))
            .expect("a Zhongshan town");
        assert_eq!(d.enclosing_admin_region(zhongshan_town), Some("4420"));
        assert_eq!(d.enclosing_admin_region("4419"), Some("44"));
        assert_eq!(d.enclosing_admin_region("441900"), None);
        assert_eq!(d.enclosing_admin_region("44"), None);
        assert_eq!(d.enclosing_admin_region("110101"), None);
    }

    #[test]
    fn the_shipped_data_is_the_nbs_2023_release() {
        let gd = guangdong();
        assert_eq!(gd.count(Level::Province), 1);
        assert_eq!(gd.count(Level::City), 21);
        assert_eq!(gd.count(Level::County), 124);
        assert_eq!(gd.count(Level::Town), 1757);
        assert_eq!(gd.get("440106").map(|d| d.name), Some("天河区"));
    }

    #[test]
    fn towns_of_dongguan_and_zhongshan_sit_directly_under_the_city() {
        let gd = guangdong();
        assert!(gd.is_town("441900003"));
        assert_eq!(gd.get("441900003").and_then(|d| d.parent), Some("441900"));
        assert!(gd.contains("4419", "441900003"));
        assert!(gd.contains("44", "442000001") || gd.get("442000001").is_none());
        assert!(gd.contains("44", "441900003"));
        assert!(!gd.contains("4401", "441900003"));
        assert!(!gd.is_town("440106"), "a district is not a town");
        assert!(!gd.is_town("440106999"), "an unknown code is not a town");
    }
}
