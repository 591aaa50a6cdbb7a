//! Statistiques: outcomes and entries for a period and a structure, as `GET /api/stats/outcomes`
//! and `GET /api/stats/entries` give them to the caller (`app::figures`: exact, or with small
//! cells withheld for evaluators), drawn as SVG bars and tables, with the API's CSV for each.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use maud::{html, Markup};
use parcours_core::vocabulary::{Date, ExitCategory, Gender, Situation, Slug};
use parcours_projections::{AgeBand, Cell, Disclosed, Entries, GroupBy, GroupKey, OutcomeField, Outcomes, Period};
use serde::Deserialize;

use super::charts::{self, Bar};
use super::forms::{self, Errors, Values};
use super::layout::{document, Html, Section};
use super::people::known_structures;
use super::PageError;
use crate::access::Caller;
use crate::app::disclosure;
use crate::app::figures::{self, period, StatisticsQuestion};
use crate::app::structures::all_names;
use crate::app::AppError;
use crate::french;
use crate::labels::Labelled;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct StatisticsQuery {
    du: Option<String>,
    au: Option<String>,
    structure: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<StatisticsQuery>,
) -> Result<Html, PageError> {
    let mut errors = Errors::default();
    let mut values = Values::default();
    let default = period(state.today(), None, None)?;
    let mut day = |name: &str, text: Option<&str>, default: Date| match text.filter(|text| !text.is_empty()) {
        None => default,
        Some(text) => {
            values.set(name, text);
            forms::read_date(&values, name, &mut errors).unwrap_or(default)
        }
    };
    let from = day("du", query.du.as_deref(), default.from);
    let to = day("au", query.au.as_deref(), default.to);
    let period = Period::new(from, to).unwrap_or_else(|_| {
        errors.field("au", "La fin de la période doit suivre son début.");
        default
    });
    values.set("du", period.from.to_string());
    values.set("au", period.to.to_string());
    // Coordinators see their structures only, one at a time; the others every structure or one.
    let own = disclosure::own_structures(&caller);
    let choices: Vec<String> = match own {
        Some(own) => own.iter().map(ToString::to_string).collect(),
        None => known_structures(&state, &caller),
    };
    let names = all_names(&state.projections.read());
    let asked = query.structure.filter(|text| !text.is_empty());
    let structure = match asked {
        Some(asked) => Some(Slug::new(&asked).map_err(|message| AppError::InvalidRequest(message.into()))?),
        None => own.and_then(|own| own.first().cloned()),
    };
    let question = |by| StatisticsQuestion { period, structure: structure.clone(), by };
    let outcomes = figures::outcomes(&state, &caller, question(None)).await?;
    let by_gender = figures::outcomes(&state, &caller, question(Some(GroupBy::Gender))).await?;
    let by_age = figures::outcomes(&state, &caller, question(Some(GroupBy::AgeBand))).await?;
    let entries = figures::entries(&state, &caller, question(None)).await?;

    let csv = |route: &str, by: Option<&str>| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("from", &period.from.to_string()).append_pair("to", &period.to.to_string());
        if let Some(structure) = &structure {
            query.append_pair("structure", structure.as_str());
        }
        if let Some(by) = by {
            query.append_pair("by", by);
        }
        query.append_pair("format", "csv");
        format!("/api/stats/{route}?{}", query.finish())
    };
    let name = |what: &str| format!("{what}-{}-{}.csv", period.from, period.to);
    let withheld = disclosure::withholds_small_cells(&caller);
    let main = html! {
        form.filtres method="get" action="/statistiques" novalidate {
            (forms::general_errors(&errors))
            (forms::fields("periode", &[
                forms::Field::new("du", "Du", forms::Input::Date),
                forms::Field::new("au", "Au", forms::Input::Date),
            ], &values, &errors))
            div.champ {
                label for="structure" { "Structure" }
                select #structure name="structure" {
                    @if own.is_none() { option value="" { "Toutes les structures" } }
                    @for slug in &choices {
                        option value=(slug) selected[structure.as_ref().is_some_and(|chosen| chosen.as_str() == slug)] { (names.get(slug)) }
                    }
                }
            }
            button type="submit" { "Afficher" }
        }
        p.discret {
            "Du " (french::date(period.from)) " au " (french::date(period.to)) ", "
            @match &structure { Some(slug) => { "structure « " (names.get(slug.as_str())) " »" }, None => "toutes structures" } "."
            @if withheld {
                " Les effectifs de 1 à " (state.settings.small_cells.saturating_sub(1))
                " personnes sont masqués, ainsi que ceux qui permettraient de les retrouver."
            }
        }
        (exits(&outcomes, &csv("outcomes", None), &name("sorties")))
        (rates("par-genre", "Taux de sortie dynamique par genre", &by_gender, &csv("outcomes", Some("gender")), &name("sorties-par-genre")))
        (rates("par-age", "Taux de sortie dynamique par tranche d'âge", &by_age, &csv("outcomes", Some("age_band")), &name("sorties-par-age")))
        (entries_tables(&entries, &csv("entries", None), &name("entrees")))
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(Html(status, document(Some(&caller), Section::Statistics, "Statistiques", main)))
}

/// A published figure as a page shows it.
fn shown(value: Disclosed) -> String {
    match value {
        Disclosed::Count(count) => count.to_string(),
        Disclosed::Rate(Some(rate)) => french::percent(rate),
        Disclosed::Rate(None) => "—".into(),
        Disclosed::Withheld => "masqué".into(),
    }
}

fn download(href: &str, file: &str, what: &str) -> Markup {
    html! { p { a.telechargement href=(href) download=(file) { "Télécharger " (what) " (CSV)" } } }
}

const CATEGORIES: [(OutcomeField, ExitCategory, &str); 5] = [
    (OutcomeField::DurableEmployment, ExitCategory::DurableEmployment, "durable"),
    (OutcomeField::TransitionEmployment, ExitCategory::TransitionEmployment, "transition"),
    (OutcomeField::PositiveExits, ExitCategory::PositiveExit, "positive"),
    (OutcomeField::OtherExits, ExitCategory::OtherExit, "autre"),
    (OutcomeField::NeutralExits, ExitCategory::NeutralExit, "neutre"),
];

fn exits(outcomes: &Outcomes, csv: &str, file: &str) -> Markup {
    let counts = &outcomes.counts;
    let count = |field: OutcomeField| match counts.get(field) {
        Disclosed::Count(count) => Some(count),
        _ => None,
    };
    let bars: Vec<Bar> = CATEGORIES
        .iter()
        .map(|&(field, category, class)| Bar {
            label: category.label().into(),
            length: count(field),
            text: shown(counts.get(field)),
            class,
        })
        .collect();
    let scale = CATEGORIES.iter().filter_map(|&(field, ..)| count(field)).max().unwrap_or(0);
    let key_figures = [
        (OutcomeField::Exits, "Sorties"),
        (OutcomeField::DynamicExits, "Sorties dynamiques"),
        (OutcomeField::DynamicExitRate, "Taux de sortie dynamique"),
        (OutcomeField::Reenrolled, "Revenues en parcours ensuite"),
        (OutcomeField::EmployedAtSixMonthsShare, "En emploi six mois après"),
    ];
    html! {
        section #sorties aria-labelledby="titre-sorties" {
            h2 #titre-sorties { "Sorties de la période" }
            dl.chiffres {
                @for (field, label) in key_figures {
                    div.chiffre { dt { (label) } dd data-chiffre=(field.code()) { (shown(counts.get(field))) } }
                }
            }
            (charts::bars("graphique-sorties", "Sorties par catégorie", &bars, scale))
            p.discret {
                "Taux de sortie dynamique = (emploi durable + emploi de transition + sorties positives) ÷ "
                "(sorties − sorties neutres)."
            }
            (download(csv, file, "les sorties"))
        }
    }
}

fn rates(id: &str, title: &str, outcomes: &Outcomes, csv: &str, file: &str) -> Markup {
    let groups = outcomes.groups.as_deref().unwrap_or_default();
    let bars: Vec<Bar> = groups
        .iter()
        .map(|group| {
            let rate = group.counts.get(OutcomeField::DynamicExitRate);
            let label = match &group.key {
                GroupKey::Gender(gender) => gender.label().to_owned(),
                GroupKey::AgeBand(band) => band.label().to_owned(),
                other => other.value().to_owned(),
            };
            let exits = match group.counts.get(OutcomeField::Exits) {
                Disclosed::Count(1) => "1 sortie".to_owned(),
                Disclosed::Count(count) => format!("{count} sorties"),
                _ => "effectif masqué".to_owned(),
            };
            Bar {
                label: format!("{label} ({exits})"),
                length: match rate {
                    Disclosed::Rate(Some(rate)) => Some(rate.tenths()),
                    _ => None,
                },
                text: shown(rate),
                class: "taux",
            }
        })
        .collect();
    html! {
        section #(id) aria-labelledby=(format!("titre-{id}")) {
            h2 #(format!("titre-{id}")) { (title) }
            @if bars.is_empty() {
                p { "Aucune sortie sur la période." }
            } @else {
                (charts::bars(&format!("graphique-{id}"), "Sorties dynamiques, en pourcentage des sorties non neutres", &bars, 1000))
            }
            (download(csv, file, "ces taux"))
        }
    }
}

fn entries_tables(entries: &Entries, csv: &str, file: &str) -> Markup {
    let situations = Situation::ALL.iter().map(|situation| {
        let cells: Vec<Option<&Cell>> = Gender::ALL
            .iter()
            .map(|gender| {
                let row = entries
                    .by_situation_and_gender
                    .iter()
                    .find(|row| row.situation == *situation && row.gender == *gender);
                row.map(|row| &row.cell)
            })
            .collect();
        (situation.label(), cells)
    });
    let bands = AgeBand::ALL.iter().map(|band| {
        let cells: Vec<Option<&Cell>> = Gender::ALL
            .iter()
            .map(|gender| {
                let row =
                    entries.by_age_band_and_gender.iter().find(|row| row.age_band == *band && row.gender == *gender);
                row.map(|row| &row.cell)
            })
            .collect();
        (band.label(), cells)
    });
    let totals: Vec<Option<&Cell>> = Gender::ALL
        .iter()
        .map(|gender| entries.by_gender.iter().find(|row| row.gender == *gender).map(|row| &row.cell))
        .collect();
    html! {
        section #entrees aria-labelledby="titre-entrees" {
            h2 #titre-entrees { "Entrées de la période" }
            dl.chiffres {
                div.chiffre { dt { "Personnes entrées" } dd data-chiffre="participants" { (shown(entries.participants)) } }
            }
            p.discret { "Part de l'ensemble des entrées, en pourcentage (effectif entre parenthèses)." }
            (table("Situation à l'entrée", "Situation à l'entrée par genre", situations, &totals))
            (table("Âge à l'entrée", "Âge à l'entrée par genre", bands, &totals))
            (download(csv, file, "les entrées"))
        }
    }
}

fn table<'a>(
    heading: &str,
    caption: &str,
    rows: impl Iterator<Item = (&'static str, Vec<Option<&'a Cell>>)>,
    totals: &[Option<&Cell>],
) -> Markup {
    let cell = |cell: Option<&Cell>| match cell {
        None => "0 %".to_owned(),
        Some(cell) if cell.suppressed => "masqué".to_owned(),
        Some(cell) => format!("{} ({})", shown(cell.share), shown(cell.count)),
    };
    html! {
        div.tableau {
            table {
                caption { (caption) }
                thead {
                    tr {
                        th scope="col" { (heading) }
                        @for gender in Gender::ALL { th scope="col" { (gender.label()) } }
                    }
                }
                tbody {
                    @for (label, cells) in rows {
                        tr { th scope="row" { (label) } @for one in cells { td { (cell(one)) } } }
                    }
                }
                tfoot {
                    tr { th scope="row" { "Ensemble" } @for one in totals { td { (cell(*one)) } } }
                }
            }
        }
    }
}
