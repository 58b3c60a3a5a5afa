//! Charts as inline SVG, drawn on the server: no script, no image request, nothing for the
//! CSP to allow. A horizontal bar chart is all the overview needs, so it is a few lines
//! here rather than a plotting crate (those draw to files or canvases, with fonts).

use std::fmt::Write as _;

/// Escapes text for SVG (XML) content and attributes.
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

const ROW: u32 = 26;
const LABEL_WIDTH: u32 = 120;
const BAR_WIDTH: u32 = 360;

/// One bar per `(label, value)`, scaled to the largest, with its value written beside
/// it. The SVG has a title and each bar a text, so a screen reader reads the figures.
pub(crate) fn bar_chart(title: &str, bars: &[(String, u64)]) -> String {
    let max = bars.iter().map(|(_, value)| *value).max().unwrap_or(0).max(1);
    let height = ROW * u32::try_from(bars.len()).unwrap_or(0) + 4;
    let width = LABEL_WIDTH + BAR_WIDTH + 80;
    let mut svg = format!(
        r#"<svg role="img" aria-labelledby="chart-title" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{}</title>"#,
        escape(title)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = ROW * u32::try_from(i).unwrap_or(0);
        let length = u32::try_from(u128::from(*value) * u128::from(BAR_WIDTH) / u128::from(max)).unwrap_or(BAR_WIDTH);
        let label = escape(label);
        let _ = write!(
            svg,
            r##"<text x="0" y="{}">{label}</text><rect x="{LABEL_WIDTH}" y="{}" width="{length}" height="{}" fill="#2150d8"></rect><text x="{}" y="{}">{value}</text>"##,
            y + 17,
            y + 4,
            ROW - 8,
            LABEL_WIDTH + length + 6,
            y + 17,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value() {
        let svg = bar_chart("t", &[("A".into(), 10), ("B".into(), 5), ("C".into(), 0)]);
        assert!(svg.contains(r#"width="360""#), "{svg}");
        assert!(svg.contains(r#"width="180""#), "{svg}");
        assert!(svg.contains(r#"width="0""#), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3);
    }

    #[test]
    fn no_value_draws_empty_bars_and_text_is_escaped() {
        let svg = bar_chart("<script>", &[("\"><img onerror=x>".into(), 0)]);
        assert!(!svg.contains("<script>") && !svg.contains("<img"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
    }
}
