//! Bar charts as SVG drawn on the server: no script, readable without colour (each bar is
//! labelled and the figures are repeated in a table for screen readers), and the data carried
//! in `data-values` so a test can compare them with the statistics API.

use maud::{html, Markup};

/// A bar chart titled `title` with one bar per `(label, value)`.
pub fn bars(id: &str, title: &str, bars: &[(String, i64)]) -> Markup {
    let width = 320.0_f64;
    let height = 140.0_f64;
    let top = 14.0;
    let bottom = 18.0;
    let max = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let slot = width / bars.len().max(1) as f64;
    let bar_width = (slot * 0.7).max(1.0);
    let values = bars
        .iter()
        .map(|(_, v)| v.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let summary = bars
        .iter()
        .map(|(l, v)| format!("{l}：{v}"))
        .collect::<Vec<_>>()
        .join("，");
    // Few bars: every label; many (24 hours): every third.
    let every = if bars.len() > 12 { 3 } else { 1 };
    html! {
        figure class="chart card" id=(id) {
            figcaption { strong { (title) } }
            svg viewBox=(format!("0 0 {width} {height}")) role="img"
                aria-label=(format!("{title}：{summary}")) data-values=(values) {
                @for (i, (label, value)) in bars.iter().enumerate() {
                    @let h = (*value as f64 / max) * (height - top - bottom);
                    @let x = i as f64 * slot + (slot - bar_width) / 2.0;
                    @let y = height - bottom - h;
                    rect class={ "bar" @if i % 2 == 1 { " alt" } } x=(format!("{x:.1}")) y=(format!("{y:.1}"))
                        width=(format!("{bar_width:.1}")) height=(format!("{h:.1}")) {
                        title { (label) "：" (value) }
                    }
                    @if *value > 0 {
                        text x=(format!("{:.1}", x + bar_width / 2.0)) y=(format!("{:.1}", y - 2.0)) text-anchor="middle" { (value) }
                    }
                    @if i % every == 0 {
                        text x=(format!("{:.1}", x + bar_width / 2.0)) y=(format!("{:.1}", height - 4.0)) text-anchor="middle" { (label) }
                    }
                }
            }
            table class="visually-hidden" {
                caption { (title) }
                tbody {
                    @for (label, value) in bars {
                        tr { th scope="row" { (label) } td { (value) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_carries_its_figures_and_labels() {
        let chart = bars("sex", "性别", &[("男".into(), 3), ("女".into(), 0)]).into_string();
        assert!(chart.contains(r#"data-values="3,0""#));
        assert!(chart.contains("性别：男：3，女：0"));
        assert!(chart.contains("<th scope=\"row\">女</th><td>0</td>"));
    }
}
