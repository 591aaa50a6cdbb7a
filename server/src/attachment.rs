//! The file name of a download (CONTRACT §11): what it holds, the structure or structures by
//! name, and the period, so that a director's downloads folder says which is which. Given as
//! `Content-Disposition: attachment` with an ASCII name for old clients and the French one as
//! `filename*=UTF-8''…` (RFC 6266, RFC 5987).

use parcours_core::store::blind_keys::normalise;
use parcours_core::vocabulary::Date;

/// Structures named one by one up to this many; beyond, counted (« 12 structures »).
const NAMED_STRUCTURES_MAX: usize = 3;

/// A download's name in French: `Rapport d'activité - Les Jardins du Gravier - 2024-01-01 au 2024-12-31.xlsx`.
pub fn file_name(what: &str, structures: &[String], from: Date, to: Date, extension: &str) -> String {
    let structures = match structures.len() {
        0 => "toutes les structures".to_owned(),
        n if n > NAMED_STRUCTURES_MAX => format!("{n} structures"),
        _ => structures.join(", "),
    };
    format!("{what} - {structures} - {from} au {to}.{extension}")
}

/// The `Content-Disposition` value of a download named `name`.
pub fn content_disposition(name: &str) -> String {
    format!("attachment; filename=\"{}\"; filename*=UTF-8''{}", ascii(name), percent_encoded(name))
}

/// The name in lower-case ASCII words joined by `-`, the extension kept:
/// `rapport-d-activite-les-jardins-du-gravier-2024-01-01-au-2024-12-31.xlsx`.
fn ascii(name: &str) -> String {
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    let words: String = normalise(stem).chars().filter(char::is_ascii).collect();
    let stem = words.split_whitespace().collect::<Vec<_>>().join("-");
    let stem = if stem.is_empty() { "parcours".to_owned() } else { stem };
    if extension.is_empty() {
        stem
    } else {
        format!("{stem}.{extension}")
    }
}

/// RFC 5987's `value-chars`: attribute characters as they are, every other byte as `%XX`.
fn percent_encoded(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len() * 2);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_is_named_by_structure_and_period_in_both_forms() {
        let (from, to) = (Date::from_ymd(2024, 1, 1).unwrap(), Date::from_ymd(2024, 12, 31).unwrap());
        let name = file_name("Rapport d'activité", &["Les Jardins du Gravier".into()], from, to, "xlsx");
        assert_eq!(name, "Rapport d'activité - Les Jardins du Gravier - 2024-01-01 au 2024-12-31.xlsx");
        assert_eq!(
            content_disposition(&name),
            "attachment; filename=\"rapport-d-activite-les-jardins-du-gravier-2024-01-01-au-2024-12-31.xlsx\"; \
             filename*=UTF-8''Rapport%20d%27activit%C3%A9%20-%20Les%20Jardins%20du%20Gravier%20-%202024-01-01%20au%202024-12-31.xlsx"
        );
        let many: Vec<String> = (1..=5).map(|n| format!("S{n}")).collect();
        assert!(file_name("Sorties", &many, from, to, "csv").contains("- 5 structures -"));
        assert!(file_name("Sorties", &[], from, to, "csv").contains("- toutes les structures -"));
        assert_eq!(ascii("« » .csv"), "parcours.csv");
    }
}
