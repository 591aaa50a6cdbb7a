//! Bar charts as SVG drawn on the server: no script, no library, and the figures exact as the API
//! gives them. Bars are horizontal with their label above, so that a chart reads on a phone as
//! well as on a desktop; colours come from the stylesheet (classes), never from inline styles.

use maud::{html, Markup};

/// One bar: its label, its length on the chart's scale (`None` when the figure is withheld or has
/// no value), the figure as written beside it, and its stylesheet class.
pub struct Bar {
    pub label: String,
    pub length: Option<u64>,
    pub text: String,
    pub class: &'static str,
}

const WIDTH: u64 = 400;
const ROW: u64 = 44;
const BAR_HEIGHT: u64 = 16;
/// Room kept right of the longest bar for its figure.
const TEXT_ROOM: u64 = 90;

/// A chart whose longest possible bar is `scale` (the largest count, or 100 % in tenths).
pub fn bars(id: &str, title: &str, bars: &[Bar], scale: u64) -> Markup {
    let height = ROW * bars.len() as u64 + 8;
    let span = WIDTH - TEXT_ROOM;
    let description: Vec<String> = bars.iter().map(|bar| format!("{} : {}", bar.label, bar.text)).collect();
    html! {
        figure.graphique {
            figcaption #(format!("{id}-titre")) { (title) }
            svg viewBox=(format!("0 0 {WIDTH} {height}")) role="img"
                aria-labelledby=(format!("{id}-titre {id}-desc")) xmlns="http://www.w3.org/2000/svg" {
                desc #(format!("{id}-desc")) { (description.join(" ; ")) }
                @for (index, bar) in bars.iter().enumerate() {
                    @let top = ROW * index as u64;
                    @let length = bar.length.map_or(0, |length| (length * span).checked_div(scale).unwrap_or(0));
                    text.libelle x="0" y=(top + 16) { (bar.label) }
                    rect.fond x="0" y=(top + 22) width=(span) height=(BAR_HEIGHT) {}
                    @if length > 0 {
                        rect class=(format!("barre {}", bar.class)) x="0" y=(top + 22) width=(length) height=(BAR_HEIGHT) {}
                    }
                    text.valeur x=(span + 6) y=(top + 35) { (bar.text) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_long_as_their_share_of_the_scale_and_withheld_ones_are_empty() {
        let bar = |label: &str, length: Option<u64>| Bar {
            label: label.into(),
            length,
            text: length.map_or("masqué".into(), |length| length.to_string()),
            class: "b",
        };
        let svg =
            bars("g", "Titre", &[bar("Un", Some(10)), bar("Deux", Some(5)), bar("Trois", None)], 10).into_string();
        let full = format!("width=\"{}\"", WIDTH - TEXT_ROOM);
        let half = format!("width=\"{}\"", (WIDTH - TEXT_ROOM) / 2);
        assert_eq!(svg.matches("class=\"barre b\"").count(), 2, "{svg}");
        assert!(svg.contains(&format!("class=\"barre b\" x=\"0\" y=\"22\" {full}")), "{svg}");
        assert!(svg.contains(&format!("class=\"barre b\" x=\"0\" y=\"66\" {half}")), "{svg}");
        assert!(svg.contains("Trois : masqué"), "{svg}");
        assert!(!svg.contains("style"), "{svg}");
    }
}
