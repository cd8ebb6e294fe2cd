//! Printable documents: the release-from-medical-observation notice as one self-contained A4
//! HTML page (no script, no font or style from elsewhere; every value escaped).

use services::medical::NoticeView;

/// `text` with the HTML special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A CST date (`2026年3月1日`) of an instant.
fn cst_day(at: time::OffsetDateTime) -> String {
    let day = domain::week::today(at);
    format!("{}年{}月{}日", day.year(), u8::from(day.month()), day.day())
}

/// `2026-02-14` as `2026年2月14日` (as given when it does not parse).
fn day(raw: &str) -> String {
    let parts: Vec<&str> = raw.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => match (m.parse::<u8>(), d.parse::<u8>()) {
            (Ok(m), Ok(d)) => format!("{y}年{m}月{d}日"),
            _ => raw.to_owned(),
        },
        _ => raw.to_owned(),
    }
}

/// The notice as a printable page.
pub fn notice(view: &NoticeView) -> String {
    let reasons = view
        .reasons
        .iter()
        .map(|r| format!("<li>{}</li>", escape(r.label)))
        .collect::<String>();
    let withdrawn = view.withdrawal.as_ref().map_or_else(String::new, |w| {
        format!(
            "<p class=\"withdrawn\" role=\"alert\"><strong>已撤销（withdrawn）</strong> {}：{}</p>",
            escape(&cst_day(w.at)),
            escape(&w.detail)
        )
    });
    format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>解除隔离医学观察电子告知书 {number}</title>
<style>
@page {{ size: A4; margin: 20mm; }}
body {{ font-family: serif; max-width: 170mm; margin: 0 auto; padding: 1em; line-height: 1.8; color: #000; }}
h1 {{ text-align: center; font-size: 1.5em; letter-spacing: 0.1em; }}
.number {{ text-align: right; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0.3em 1em; }}
dt {{ font-weight: bold; }}
.sign {{ margin-top: 3em; text-align: right; }}
.withdrawn {{ border: 3px solid #000; padding: 0.5em; }}
</style>
</head>
<body>
<h1>解除隔离医学观察电子告知书</h1>
<p class="number">编号：{number}</p>
{withdrawn}
<dl>
<dt>姓名</dt><dd>{name}</dd>
<dt>医学观察期</dt><dd>{from} 至 {to}</dd>
<dt>解除原因</dt><dd><ul>{reasons}</ul></dd>
</dl>
<p>经评估，上述人员已完成医学观察，现予解除，特此告知。</p>
<div class="sign">
<p>出具单位：{unit}</p>
<p>出具人：{staff}（{position}）</p>
<p>出具日期：{date}</p>
</div>
</body>
</html>
"#,
        number = escape(&view.number),
        withdrawn = withdrawn,
        name = escape(&view.name_masked),
        from = escape(&day(&view.observation_from)),
        to = escape(&day(&view.observation_to)),
        reasons = reasons,
        unit = escape(&view.unit),
        staff = escape(&view.staff_masked),
        position = escape(&view.position),
        date = escape(&cst_day(view.issued_at)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::identity::RedReason;
    use services::medical::{NoticeReason, Withdrawal};

    fn view() -> NoticeView {
        NoticeView {
            notice_id: "n".into(),
            number: "YK2026-000123".into(),
            person_id: "p".into(),
            name_masked: "张*三".into(),
            unit: "<script>alert(1)</script>医院".into(),
            position: "主治医师".into(),
            staff_masked: "李*".into(),
            observation_from: "2026-02-14".into(),
            observation_to: "2026-02-28".into(),
            reasons: vec![NoticeReason {
                reason: RedReason::HomeQuarantine,
                label: RedReason::HomeQuarantine.label(),
            }],
            issued_at: time::macros::datetime!(2026-02-28 17:00 UTC),
            withdrawal: None,
        }
    }

    #[test]
    fn the_page_names_what_the_notice_says_and_escapes_it() {
        let page = notice(&view());
        for expected in [
            "YK2026-000123",
            "张*三",
            "2026年2月14日 至 2026年2月28日",
            "居家隔离人员",
            "主治医师",
            "李*",
            "2026年3月1日",
            "&lt;script&gt;alert(1)&lt;/script&gt;医院",
        ] {
            assert!(page.contains(expected), "{expected} missing");
        }
        assert!(!page.contains("<script>"));
        assert!(!page.contains("已撤销"));
    }

    #[test]
    fn a_withdrawn_notice_says_so_in_words() {
        let mut v = view();
        v.withdrawal = Some(Withdrawal {
            at: time::macros::datetime!(2026-03-01 02:00 UTC),
            by_role: "issuer".into(),
            detail: "wrong person".into(),
        });
        let page = notice(&v);
        assert!(page.contains("已撤销（withdrawn）"));
        assert!(page.contains("wrong person"));
    }
}
