//! Forms as data: each field says its name, French label and kind of input; this module renders
//! fields with their labels and errors, and reads what was submitted back into the JSON `data` of
//! a step, so that the web records steps through the very parser the API uses.
//!
//! Checks here are those a form can make alone (a missing required field, a number that is not one,
//! an unknown choice), each with a French sentence shown next to its field. The pathway's rules
//! are the store's: their [`Violation`]s are French already, and [`violation_field`] says next to
//! which field a violation belongs.

use std::collections::BTreeMap;

use maud::{html, Markup};
use parcours_core::rules::Violation;
use parcours_core::store::AppendError;
use parcours_core::vocabulary::{Date, Month, Slug};
use serde_json::{Map, Value};

use super::PageError;
use crate::app::AppError;
use crate::labels::Labelled;

/// The longest text of a one-line field, and of a paragraph.
const LINE_CHARS_MAX: usize = 200;
const PARAGRAPH_CHARS_MAX: usize = 2000;
/// Items of a list written one per line (skills).
const LINES_MAX: usize = 30;

pub struct Field {
    /// Where the value goes in the step's `data` (`prescriber.kind`), or a form's own name.
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub required: bool,
    pub hint: Option<&'static str>,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, input: Input) -> Field {
        Field { name, label, input, required: false, hint: None }
    }

    pub fn required(self) -> Field {
        Field { required: true, ..self }
    }

    pub fn hint(self, hint: &'static str) -> Field {
        Field { hint: Some(hint), ..self }
    }
}

pub enum Input {
    /// One line of text; `kind` is the HTML input type (`text`, `email`, `tel`); `suggestions`
    /// are offered in a list while typing.
    Text {
        kind: &'static str,
        suggestions: Vec<String>,
    },
    /// A structure's slug, with the known ones suggested while typing.
    Structure(Vec<String>),
    Paragraph,
    /// A list of short texts, one per line.
    Lines,
    Date,
    Month,
    Whole {
        min: u32,
        max: u32,
    },
    /// A number of hours with at most two decimals, written with a comma or a point.
    Hours,
    Choice(Vec<Choice>),
    /// Any number of the choices (check boxes), sent as a list.
    Several(Vec<Choice>),
    YesNo,
    /// An ESF+ question (CONTRACT §11): yes, no, or the person declines to answer (`refused`).
    Answer,
}

impl Input {
    pub fn text() -> Input {
        Input::Text { kind: "text", suggestions: Vec::new() }
    }

    pub fn suggested(suggestions: Vec<String>) -> Input {
        Input::Text { kind: "text", suggestions }
    }

    pub fn choice<T: Labelled>() -> Input {
        Input::Choice(choices::<T>())
    }

    pub fn several<T: Labelled>() -> Input {
        Input::Several(choices::<T>())
    }
}

#[derive(Clone, Copy)]
pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
    /// The heading the choice is listed under, if the list is grouped.
    pub group: Option<&'static str>,
}

pub fn choices<T: Labelled>() -> Vec<Choice> {
    T::all().iter().map(|value| Choice { code: value.code(), label: value.label(), group: None }).collect()
}

/// What a form holds: submitted values, or those it starts with. A name may come several times
/// (check boxes).
#[derive(Clone, Debug, Default)]
pub struct Values(Vec<(String, String)>);

impl Values {
    pub fn parse(body: &[u8]) -> Values {
        Values(form_urlencoded::parse(body).map(|(name, value)| (name.into_owned(), value.into_owned())).collect())
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(key, _)| key == name).map_or("", |(_, value)| value.trim())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(key, _)| key == name).map(|(_, value)| value.trim())
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.retain(|(key, _)| key != name);
        self.0.push((name.to_owned(), value.into()));
    }

    pub fn add(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_owned(), value.into()));
    }

    /// The values of a step's recorded `data`, under the names of its form's fields.
    pub fn from_data(data: &Value) -> Values {
        let mut values = Values::default();
        flatten("", data, &mut values);
        values
    }
}

fn flatten(prefix: &str, value: &Value, values: &mut Values) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&name, value, values);
            }
        }
        // Lists of codes are check boxes (one value each); lists of texts are lines.
        Value::Array(items) if items.iter().all(Value::is_string) => {
            for item in items.iter().filter_map(Value::as_str) {
                values.add(prefix, item);
            }
        }
        Value::Bool(yes) => values.add(prefix, if *yes { "oui" } else { "non" }),
        Value::String(text) => values.add(prefix, text.as_str()),
        Value::Number(number) => values.add(prefix, number.to_string()),
        Value::Null | Value::Array(_) => {}
    }
}

/// Errors to show: one per field, and those about the form as a whole.
#[derive(Clone, Debug, Default)]
pub struct Errors {
    fields: BTreeMap<String, String>,
    general: Vec<String>,
}

impl Errors {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// Sets the error of a field (the first one found stays: it is the one to fix first).
    pub fn field(&mut self, name: &str, message: impl Into<String>) {
        self.fields.entry(name.to_owned()).or_insert_with(|| message.into());
    }

    pub fn general(&mut self, message: impl Into<String>) {
        self.general.push(message.into());
    }

    /// Places an error next to `field` when the form has it, else above the form.
    pub fn at(&mut self, field: Option<&str>, fields: &[&str], message: String) {
        match field.filter(|field| fields.contains(field)) {
            Some(field) => self.field(field, message),
            None => self.general(message),
        }
    }

    pub fn of(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Turns a refused append into errors on the form, when they are the person's to fix; anything
/// else (the store failing, the server stopping) is the page's error.
pub fn refusal(error: AppError, fields: &[&str], errors: &mut Errors) -> Result<(), PageError> {
    match error {
        AppError::Append(AppendError::Rule { violation, .. }) => {
            errors.at(violation_field(&violation), fields, sentence(&violation));
        }
        AppError::Append(AppendError::IdentityErased { .. }) => errors.general(
            "Les données personnelles de cette personne ont été effacées : elles ne peuvent plus être enregistrées.",
        ),
        AppError::Append(AppendError::Forbidden) | AppError::Forbidden => errors.general(
            "Votre accès ne permet pas d'enregistrer cela : la personne est suivie par une autre structure que la vôtre.",
        ),
        AppError::Append(AppendError::VersionConflict { .. }) => errors.general(
            "Une autre étape a été enregistrée pour cette personne au même moment : vérifiez l'historique, puis \
             recommencez.",
        ),
        AppError::Append(AppendError::DuplicateId(_)) => errors.general(
            "Ce formulaire a déjà été envoyé avec d'autres valeurs : rechargez la page pour en remplir un nouveau.",
        ),
        AppError::Append(AppendError::TooManyEvents { .. } | AppendError::EventTooLarge { .. })
        | AppError::PayloadTooLarge(_) => errors.general("Les textes saisis sont trop longs : raccourcissez-les."),
        AppError::Append(AppendError::NoEvents) | AppError::InvalidRequest(_) => {
            errors.general("Le formulaire contient une valeur que le serveur ne reconnaît pas : vérifiez la saisie.")
        }
        error @ (AppError::Append(AppendError::Store(_))
        | AppError::Store(_)
        | AppError::Unavailable(_)
        | AppError::NotFound(_)
        | AppError::NotReproducible(_)
        | AppError::Unauthorized) => return Err(error.into()),
    }
    Ok(())
}

/// Reads a date field; records the error and gives `None` when it is missing or not a date.
pub fn read_date(values: &Values, name: &str, errors: &mut Errors) -> Option<Date> {
    let text = values.get(name);
    if text.is_empty() {
        errors.field(name, "Indiquez la date.");
        return None;
    }
    let date = text.parse().ok();
    if date.is_none() {
        errors.field(name, "Cette date n'est pas valide : indiquez le jour, le mois et l'année (AAAA-MM-JJ).");
    }
    date
}

/// Reads the fields of a form into a JSON object whose nesting follows the dotted names; empty
/// optional fields are left out. Errors are recorded next to their fields.
pub fn read(fields: &[Field], values: &Values, errors: &mut Errors) -> Value {
    let mut data = Map::new();
    for field in fields {
        if let Some(value) = read_field(field, values, errors) {
            insert(&mut data, field.name, value);
        }
    }
    Value::Object(data)
}

fn insert(object: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let inner = object.entry(head.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                insert(inner, rest, value);
            }
        }
    }
}

fn read_field(field: &Field, values: &Values, errors: &mut Errors) -> Option<Value> {
    let name = field.name;
    if let Input::Several(choices) = &field.input {
        let mut codes = Vec::new();
        for code in values.all(name).filter(|code| !code.is_empty()) {
            if !choices.iter().any(|choice| choice.code == code) {
                errors.field(name, "Cochez des cases de la liste.");
                return None;
            }
            codes.push(Value::from(code));
        }
        if codes.is_empty() {
            if field.required {
                errors.field(name, "Cochez au moins une case.");
            }
            return None;
        }
        return Some(Value::Array(codes));
    }
    let text = values.get(name);
    if text.is_empty() {
        if field.required {
            errors.field(name, "Ce champ est obligatoire.");
        }
        return None;
    }
    let read = match &field.input {
        Input::Text { .. } => within(text, LINE_CHARS_MAX).map(Value::from),
        Input::Structure(_) => Slug::new(text).map(|_| Value::from(text)).map_err(|_| {
            "Indiquez l'identifiant d'une structure : lettres minuscules, chiffres et tirets, par exemple \
             jardins-du-gravier."
                .to_owned()
        }),
        Input::Paragraph => within(text, PARAGRAPH_CHARS_MAX).map(Value::from),
        Input::Lines => lines(text),
        Input::Date => text
            .parse::<Date>()
            .map(|_| Value::from(text))
            .map_err(|_| "Cette date n'est pas valide : indiquez le jour, le mois et l'année (AAAA-MM-JJ).".to_owned()),
        Input::Month => text
            .parse::<Month>()
            .map(|month| Value::from(month.to_string()))
            .map_err(|_| "Ce mois n'est pas valide : indiquez l'année et le mois (AAAA-MM).".to_owned()),
        Input::Whole { min, max } => text
            .parse::<u32>()
            .ok()
            .filter(|number| (min..=max).contains(&number))
            .map(Value::from)
            .ok_or_else(|| format!("Indiquez un nombre entier de {min} à {max}.")),
        Input::Hours => hours(text),
        Input::Choice(choices) => choices
            .iter()
            .find(|choice| choice.code == text)
            .map(|choice| Value::from(choice.code))
            .ok_or_else(|| "Choisissez une valeur de la liste.".to_owned()),
        Input::YesNo => match text {
            "oui" => Ok(Value::Bool(true)),
            "non" => Ok(Value::Bool(false)),
            _ => Err("Répondez par oui ou par non.".to_owned()),
        },
        Input::Answer => match text {
            "oui" => Ok(Value::Bool(true)),
            "non" => Ok(Value::Bool(false)),
            "refused" => Ok(Value::from("refused")),
            _ => Err("Répondez par oui, par non, ou indiquez que la personne ne souhaite pas répondre.".to_owned()),
        },
        Input::Several(_) => return None,
    };
    read.map_err(|message| errors.field(name, message)).ok()
}

fn within(text: &str, max: usize) -> Result<&str, String> {
    if text.chars().count() > max {
        return Err(format!("Ce texte est trop long : {max} caractères au plus."));
    }
    Ok(text)
}

fn lines(text: &str) -> Result<Value, String> {
    let items: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    if items.len() > LINES_MAX {
        return Err(format!("{LINES_MAX} lignes au plus."));
    }
    let items = items.into_iter().map(|item| within(item, LINE_CHARS_MAX).map(Value::from));
    Ok(Value::Array(items.collect::<Result<_, _>>()?))
}

/// Hours as the API reads them: a number with at most two decimals. Read here as integer
/// hundredths so that "151,67" is exactly 151.67, never 151.669999.
fn hours(text: &str) -> Result<Value, String> {
    const MESSAGE: &str = "Indiquez un nombre d'heures, par exemple 26 ou 151,67 (deux décimales au plus).";
    let text = text.replace(',', ".");
    let (whole, decimals) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || whole.len() > 7 || decimals.len() > 2 || !digits(whole) || !digits(decimals) {
        return Err(MESSAGE.to_owned());
    }
    let whole: u64 = whole.parse().map_err(|_| MESSAGE.to_owned())?;
    let cents: u64 = format!("{decimals:0<2}").parse().map_err(|_| MESSAGE.to_owned())?;
    let hundredths = whole * 100 + cents;
    if hundredths == 0 {
        return Err("Le nombre d'heures doit être supérieur à zéro.".to_owned());
    }
    // A number of hundredths below 2^53 divided by 100 is the double nearest to the decimal,
    // which the API's reader turns back into the same hundredths.
    serde_json::Number::from_f64(hundredths as f64 / 100.0).map(Value::Number).ok_or_else(|| MESSAGE.to_owned())
}

/// The field of a step's form that a broken rule is about, when there is one; the others concern
/// the pathway as a whole and are shown above the form.
pub fn violation_field(violation: &Violation) -> Option<&'static str> {
    use Violation::*;
    match violation {
        DateInFuture { .. }
        | DateBeforeReferral { .. }
        | DateBeforeRegistration { .. }
        | DateBeforeExit { .. }
        | DateBeforeContractStart { .. } => Some("occurred_on"),
        MonthInFuture { .. } | HoursBeforeContract { .. } => Some("month"),
        ZeroHours => Some("hours"),
        ContractAlreadyStarted(_) | UnknownContract(_) | ContractAlreadyEnded(_) => Some("contract_id"),
        TrainingAlreadyStarted(_) | UnknownTraining(_) | TrainingAlreadyCompleted(_) => Some("training_id"),
        UnknownCorrectedEvent(_) | CorrectedEventRetracted(_) | CannotBeCorrected(_) => Some("corrects"),
        FirstEventMustBeRegistration(_)
        | AlreadyRegistered
        | NotAStructureStep(_)
        | StructureStepInPathway
        | StructureSlugMismatch { .. }
        | NotAReportStep(_)
        | ReportStepInPathway
        | EpisodeAlreadyOpen { .. }
        | NoOpenEpisode(_)
        | NoEarlierExit
        | ReplacementTypeMismatch { .. }
        | CorrectionBreaksPathway(_)
        | AlreadyErased
        | ReservedStream
        | Merged { .. }
        | AlreadyMerged
        | NotMerged
        | MergeIntoItself
        | HoldsMergedRecords
        | ReferralPending { .. }
        | NoPendingReferral(_) => None,
    }
}

/// A rule's sentence as a page shows it: capitalised, with a full stop.
pub fn sentence(violation: &Violation) -> String {
    let text = violation.to_string();
    let mut chars = text.chars();
    let first = chars.next().map(|first| first.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str())
}

/// The errors about the whole form, above it, announced to screen readers.
pub fn general_errors(errors: &Errors) -> Markup {
    html! {
        @if !errors.general.is_empty() {
            div.alerte role="alert" {
                @for message in &errors.general { p { (message) } }
            }
        }
    }
}

/// The hidden field that proves a form came from one of our pages (see `access::sessions`).
pub fn csrf(token: Option<&str>) -> Markup {
    html! { input type="hidden" name="csrf" value=(token.unwrap_or_default()); }
}

/// The fields of a form, the cursor in the first one in error.
pub fn fields(form: &str, fields: &[Field], values: &Values, errors: &Errors) -> Markup {
    let first_error = fields.iter().position(|field| errors.fields.contains_key(field.name));
    html! {
        @for (index, one) in fields.iter().enumerate() {
            (field(form, one, values, errors, first_error == Some(index)))
        }
    }
}

/// One field with its label, hint and error. `form` makes ids unique on pages with several forms;
/// `focus` puts the cursor in it (the first field in error).
fn field(form: &str, field: &Field, values: &Values, errors: &Errors, focus: bool) -> Markup {
    let id = format!("{form}-{}", field.name.replace('.', "-"));
    let error = errors.of(field.name);
    let hint_id = field.hint.map(|_| format!("{id}-aide"));
    let error_id = error.map(|_| format!("{id}-erreur"));
    let described: Vec<&str> = [hint_id.as_deref(), error_id.as_deref()].into_iter().flatten().collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    let invalid = error.map(|_| "true");
    let value = values.get(field.name);
    let label = html! {
        (field.label)
        @if field.required { span.obligatoire { " (obligatoire)" } }
    };
    let after = html! {
        @if let (Some(hint), Some(hint_id)) = (field.hint, &hint_id) { p.aide id=(hint_id) { (hint) } }
        @if let (Some(error), Some(error_id)) = (error, &error_id) { p.message-erreur id=(error_id) { (error) } }
    };
    match &field.input {
        Input::Several(choices) => html! {
            fieldset.champ.en-erreur[error.is_some()] aria-describedby=[described] {
                legend { (label) }
                (after)
                @for (index, choice) in choices.iter().enumerate() {
                    @let choice_id = format!("{id}-{index}");
                    div.case {
                        input type="checkbox" id=(choice_id) name=(field.name) value=(choice.code)
                            checked[values.all(field.name).any(|code| code == choice.code)]
                            autofocus[focus && index == 0];
                        label for=(choice_id) { (choice.label) }
                    }
                }
            }
        },
        Input::YesNo | Input::Answer => html! {
            fieldset.champ.en-erreur[error.is_some()] aria-describedby=[described] {
                legend { (label) }
                (after)
                @for &(answer, text) in answers(&field.input) {
                    @let choice_id = format!("{id}-{answer}");
                    div.case {
                        input type="radio" id=(choice_id) name=(field.name) value=(answer)
                            checked[value == answer] required[field.required] autofocus[focus && answer == "oui"];
                        label for=(choice_id) { (text) }
                    }
                }
            }
        },
        other => html! {
            div.champ.en-erreur[error.is_some()] {
                label for=(id) { (label) }
                @match other {
                    Input::Paragraph | Input::Lines => {
                        textarea id=(id) name=(field.name) rows="3" required[field.required]
                            aria-invalid=[invalid] aria-describedby=[described] autofocus[focus] { (value) }
                    }
                    Input::Choice(choices) => {
                        select id=(id) name=(field.name) required[field.required]
                            aria-invalid=[invalid] aria-describedby=[described] autofocus[focus] {
                            option value="" { "— choisir —" }
                            (options(choices, value))
                        }
                    }
                    _ => {
                        @let (kind, list, mode) = attributes(other);
                        @let list_id = list.map(|_| format!("{id}-liste"));
                        input id=(id) name=(field.name) type=(kind) value=(value) required[field.required]
                            inputmode=[mode] list=[list_id.as_deref()] placeholder=[placeholder(other)]
                            aria-invalid=[invalid] aria-describedby=[described] autofocus[focus];
                        @if let (Some(list), Some(list_id)) = (list, &list_id) {
                            datalist id=(list_id) { @for suggestion in list { option value=(suggestion) {} } }
                        }
                    }
                }
                (after)
            }
        },
    }
}

/// Options, under headings where the choices are grouped.
fn options(choices: &[Choice], selected: &str) -> Markup {
    let mut groups: Vec<(Option<&str>, Vec<&Choice>)> = Vec::new();
    for choice in choices {
        match groups.last_mut() {
            Some((group, members)) if *group == choice.group => members.push(choice),
            _ => groups.push((choice.group, vec![choice])),
        }
    }
    let option =
        |choice: &Choice| html! { option value=(choice.code) selected[choice.code == selected] { (choice.label) } };
    html! {
        @for (group, members) in &groups {
            @if let Some(group) = group {
                optgroup label=(group) { @for choice in members { (option(choice)) } }
            } @else {
                @for choice in members { (option(choice)) }
            }
        }
    }
}

/// The HTML type, suggestions and keyboard of a one-line input.
/// The radio buttons of a yes-or-no question: the code sent and the words shown.
fn answers(input: &Input) -> &'static [(&'static str, &'static str)] {
    match input {
        Input::Answer => &[("oui", "Oui"), ("non", "Non"), ("refused", "Ne souhaite pas répondre")],
        _ => &[("oui", "Oui"), ("non", "Non")],
    }
}

fn attributes(input: &Input) -> (&'static str, Option<&Vec<String>>, Option<&'static str>) {
    match input {
        Input::Text { kind, suggestions } => (kind, (!suggestions.is_empty()).then_some(suggestions), None),
        Input::Structure(suggestions) => ("text", (!suggestions.is_empty()).then_some(suggestions), None),
        Input::Date => ("date", None, None),
        Input::Month => ("month", None, None),
        Input::Whole { .. } => ("text", None, Some("numeric")),
        Input::Hours => ("text", None, Some("decimal")),
        Input::Paragraph | Input::Lines | Input::Choice(_) | Input::Several(_) | Input::YesNo | Input::Answer => {
            ("text", None, None)
        }
    }
}

/// Browsers without a month picker show a text box: say what to type.
fn placeholder(input: &Input) -> Option<&'static str> {
    match input {
        Input::Month => Some("AAAA-MM"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Values {
        Values(pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect())
    }

    #[test]
    fn fields_become_nested_data_and_empty_optional_fields_are_left_out() {
        let fields = [
            Field::new("prescriber.kind", "Prescripteur", Input::choice::<parcours_core::vocabulary::PrescriberKind>())
                .required(),
            Field::new("prescriber.name", "Nom", Input::text()),
            Field::new("benefits", "Minima", Input::several::<parcours_core::vocabulary::Benefit>()),
            Field::new("weekly_hours", "Heures", Input::Hours).required(),
            Field::new("qualifying", "Qualifiante", Input::YesNo),
            Field::new("job", "Poste", Input::text()),
        ];
        let values = form(&[
            ("prescriber.kind", "france_travail"),
            ("prescriber.name", " France Travail Agen "),
            ("benefits", "rsa"),
            ("benefits", "aah"),
            ("weekly_hours", "151,67"),
            ("qualifying", "non"),
            ("job", "  "),
        ]);
        let mut errors = Errors::default();
        let data = read(&fields, &values, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            data,
            serde_json::json!({"prescriber": {"kind": "france_travail", "name": "France Travail Agen"},
                "benefits": ["rsa", "aah"], "weekly_hours": 151.67, "qualifying": false})
        );
        let back = Values::from_data(&data);
        assert_eq!(back.get("prescriber.name"), "France Travail Agen");
        assert_eq!(back.all("benefits").collect::<Vec<_>>(), ["rsa", "aah"]);
        assert_eq!(back.get("qualifying"), "non");
    }

    #[test]
    fn each_mistake_gets_a_french_sentence_next_to_its_field() {
        let fields = [
            Field::new("kind", "Type", Input::choice::<parcours_core::vocabulary::ContractKind>()).required(),
            Field::new("weekly_hours", "Heures", Input::Hours).required(),
            Field::new("month", "Mois", Input::Month),
            Field::new("birth_year", "Année", Input::Whole { min: 1900, max: 2100 }),
            Field::new("planned_end", "Fin", Input::Date),
        ];
        let cases = [
            (("kind", ""), "Ce champ est obligatoire."),
            (("kind", "cdx"), "Choisissez une valeur de la liste."),
            (("weekly_hours", "1,234"), "Indiquez un nombre d'heures"),
            (("weekly_hours", "0"), "supérieur à zéro"),
            (("weekly_hours", "-3"), "Indiquez un nombre d'heures"),
            (("month", "2024-13"), "Ce mois n'est pas valide"),
            (("birth_year", "1850"), "Indiquez un nombre entier de 1900 à 2100."),
            (("planned_end", "31/02/2024"), "Cette date n'est pas valide"),
        ];
        for ((name, value), expected) in cases {
            let mut values = form(&[("kind", "cdi"), ("weekly_hours", "26")]);
            values.set(name, value);
            let mut errors = Errors::default();
            read(&fields, &values, &mut errors);
            let message = errors.of(name).unwrap_or_default();
            assert!(message.contains(expected), "{name}={value}: {message:?}");
        }
    }

    #[test]
    fn hours_are_exact_hundredths() {
        for (text, expected) in [("26", "26.0"), ("24,5", "24.5"), ("151.67", "151.67"), ("0,01", "0.01")] {
            assert_eq!(hours(text).map(|value| value.to_string()), Ok(expected.to_owned()), "{text}");
            let read: parcours_core::vocabulary::Hours = serde_json::from_value(hours(text).unwrap()).unwrap();
            assert_eq!(read.to_string(), expected.trim_end_matches(".0"), "{text}");
        }
    }

    #[test]
    fn rule_sentences_are_shown_as_sentences() {
        let today = Date::from_ymd(2024, 3, 4).unwrap();
        let violation = Violation::DateInFuture { occurred_on: Date::from_ymd(2024, 3, 5).unwrap(), today };
        assert_eq!(sentence(&violation), "La date 2024-03-05 est dans le futur (nous sommes le 2024-03-04).");
        assert_eq!(violation_field(&violation), Some("occurred_on"));
    }
}
