//! `yuekang feed import FILE`: feed records from NDJSON (one record a line, as in
//! `POST /v1/feed/batches`) or CSV (header `record_id,doc_type,doc_number,name,reason,action,
//! effective_at,region`), applied in batches through the same use case as the HTTP route.

use super::{DocumentInput, FeedRecordInput, RefusedRecord};

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 8] = [
    "record_id",
    "doc_type",
    "doc_number",
    "name",
    "reason",
    "action",
    "effective_at",
    "region",
];

/// A line of the file: a record, or why the line is not one.
pub type Line = Result<FeedRecordInput, RefusedRecord>;

fn unreadable(line: usize, detail: impl Into<String>) -> RefusedRecord {
    RefusedRecord {
        record_id: format!("line {line}"),
        code: "record.malformed".into(),
        detail: detail.into(),
    }
}

/// Splits one CSV line into fields (RFC 4180 quoting: `"a,b"`, `""` for a quote).
fn csv_fields(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => {
                quoted = true;
                at_start = false;
            }
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
            }
            (_, c) => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err("an opened quote is not closed");
    }
    fields.push(field);
    Ok(fields)
}

/// Parses the file's text: CSV when `csv` (or when the first line is the CSV header),
/// NDJSON otherwise. Blank lines are skipped.
pub fn parse(text: &str, csv: bool) -> Vec<Line> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();
    let header = lines
        .peek()
        .is_some_and(|(_, l)| l.trim().starts_with("record_id,"));
    if !(csv || header) {
        return lines
            .map(|(n, l)| serde_json::from_str(l).map_err(|e| unreadable(n, e.to_string())))
            .collect();
    }
    if header {
        lines.next();
    }
    lines
        .map(|(n, l)| {
            let f = csv_fields(l).map_err(|why| unreadable(n, why))?;
            if f.len() != CSV_HEADER.len() {
                return Err(unreadable(
                    n,
                    format!(
                        "a CSV record has {} fields ({}), this line has {}",
                        CSV_HEADER.len(),
                        CSV_HEADER.join(","),
                        f.len()
                    ),
                ));
            }
            let mut f = f.into_iter();
            let mut next = || f.next().unwrap_or_default();
            Ok(FeedRecordInput {
                record_id: next(),
                document: DocumentInput {
                    kind: next(),
                    number: next(),
                },
                name: next(),
                reason: next(),
                action: next(),
                effective_at: next(),
                region: Some(next()).filter(|r| !r.is_empty()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_header_and_quotes() {
        let text = "record_id,doc_type,doc_number,name,reason,action,effective_at,region\n\
                    r1,resident_id,44010619900307001X,\"Zhang, San\",confirmed,hit,2026-03-01T10:00:00+08:00,440106\n\
                    \n\
                    r2,passport,E12345678,\"a \"\"q\"\"\",suspected,release,2026-03-01T10:00:00+08:00,\n\
                    r3,too,few\n";
        let lines = parse(text, false);
        assert_eq!(lines.len(), 3);
        let r1 = lines[0].as_ref().expect("r1");
        assert_eq!(r1.name, "Zhang, San");
        assert_eq!(r1.document.number, "44010619900307001X");
        assert_eq!(r1.region.as_deref(), Some("440106"));
        let r2 = lines[1].as_ref().expect("r2");
        assert_eq!(r2.name, "a \"q\"");
        assert_eq!(r2.region, None);
        let r3 = lines[2].as_ref().expect_err("r3");
        assert_eq!(r3.record_id, "line 5");
        assert_eq!(r3.code, "record.malformed");
    }

    #[test]
    fn ndjson_lines_and_malformed_ones() {
        let text = r#"{"record_id":"r1","document":{"type":"resident_id","number":"x"},"name":"n","reason":"confirmed","action":"hit","effective_at":"2026-03-01T10:00:00+08:00","region":"44"}
{"record_id":
"#;
        let lines = parse(text, false);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].as_ref().expect("r1").record_id, "r1");
        assert_eq!(lines[1].as_ref().expect_err("bad").record_id, "line 2");
    }
}
