//! The layering of the workspace, read from the code's own paths (rust-analyzer's `tidy` tests
//! are the model): a test, so that it stays true after the refactoring that made it true.
//!
//! - in `server`, neither `api/` nor `access/` uses `web/`: the router (`router.rs`) composes
//!   them and hands `access` the web's way of refusing a page;
//! - in `server`, nothing outside `api/` uses `api/` but the router (and the crate root, which
//!   declares it): the web pages, the command line, publication, the feed, the state and access
//!   call the application (`app/`) or lower modules;
//! - `core` uses no crate above it (`parcours_projections`, `parcours_server`) nor any HTTP or
//!   page crate; `projections` uses neither `parcours_server` nor those crates.
//!
//! Paths are read from the source with comments removed: `crate::web::…`, `super::…` resolved
//! against the file's module, `crate::{api, web}` groups, and crate names at the start of a path.

use std::path::{Path, PathBuf};

/// Crates that belong to the server's edge: never in `core` or `projections`.
const EDGE_CRATES: &[&str] =
    &["axum", "tower", "tower_http", "hyper", "hyper_util", "maud", "utoipa", "clap", "reqwest"];

/// One source file: its path from the crate's `src/`, and its text.
struct Source {
    path: String,
    text: String,
}

fn sources(src: &Path) -> Vec<Source> {
    let mut found = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()));
        for entry in entries {
            let path: PathBuf = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let text = std::fs::read_to_string(&path).expect("a readable source file");
                let relative = path.strip_prefix(src).expect("under src").to_string_lossy().replace('\\', "/");
                found.push(Source { path: relative, text });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// The text without `//` comments (doc comments included), so that prose naming a module is not
/// an import. A `//` inside a string literal cuts the rest of its line, which only hides paths.
fn without_comments(text: &str) -> String {
    text.lines().map(|line| line.split_once("//").map_or(line, |(code, _)| code)).collect::<Vec<_>>().join("\n")
}

/// The module path of a server file: `api/log.rs` is `["api", "log"]`, `api/mod.rs` `["api"]`.
fn module_of(path: &str) -> Vec<String> {
    let mut segments: Vec<String> = path.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if matches!(segments.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        segments.pop();
    }
    segments
}

fn identifier_at(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    &text[..end]
}

/// The first segment after `prefix::` (or each one of a `prefix::{a, b::c}` group).
fn first_segments(rest: &str) -> Vec<String> {
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut names = Vec::new();
        let mut start = 0;
        for (index, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    names.push(identifier_at(group[start..index].trim()).to_owned());
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    names.push(identifier_at(group[start..index].trim()).to_owned());
                    start = index + 1;
                }
                _ => {}
            }
        }
        names.into_iter().filter(|name| !name.is_empty()).collect()
    } else {
        vec![identifier_at(rest).to_owned()]
    }
}

/// The top-level server modules a file's paths reach (`crate::x`, `super::x` resolved).
fn server_modules_used(path: &str, text: &str) -> Vec<String> {
    let code = without_comments(text);
    let module = module_of(path);
    let mut used = Vec::new();
    let is_boundary = |index: usize| index == 0 || !code[..index].ends_with(|c: char| c.is_alphanumeric() || c == '_');
    for (index, _) in code.match_indices("crate::") {
        if is_boundary(index) {
            used.extend(first_segments(&code[index + "crate::".len()..]));
        }
    }
    for (index, _) in code.match_indices("super::") {
        if !is_boundary(index) || code[..index].ends_with("super::") {
            continue;
        }
        let mut rest = &code[index..];
        let mut ups = 0;
        while let Some(after) = rest.strip_prefix("super::") {
            ups += 1;
            rest = after;
        }
        let parent = &module[..module.len().saturating_sub(ups)];
        match parent.first() {
            Some(top) => used.push(top.clone()),
            None => used.extend(first_segments(rest)),
        }
    }
    used.retain(|name| !name.is_empty());
    used
}

/// The layering rules of the server's modules; each broken rule is one line naming the file.
fn server_violations(sources: &[Source]) -> Vec<String> {
    let mut violations = Vec::new();
    for source in sources {
        let module = module_of(&source.path);
        let top = module.first().map_or("", String::as_str);
        for used in server_modules_used(&source.path, &source.text) {
            if used == "web" && matches!(top, "api" | "access") {
                violations.push(format!("server/src/{}: `{top}` uses `web`", source.path));
            }
            let may_use_api = matches!(top, "api" | "router") || module.is_empty();
            if used == "api" && !may_use_api {
                violations.push(format!("server/src/{}: only the router uses `api`", source.path));
            }
        }
    }
    violations.sort();
    violations.dedup();
    violations
}

/// Crates a lower crate must not name at the start of a path.
fn crate_violations(krate: &str, sources: &[Source], forbidden: &[&str]) -> Vec<String> {
    let mut violations = Vec::new();
    for source in sources {
        let code = without_comments(&source.text);
        for name in forbidden {
            let pattern = format!("{name}::");
            let named = code.match_indices(&pattern).any(|(index, _)| {
                index == 0 || !code[..index].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if named {
                violations.push(format!("{krate}/src/{}: uses `{name}`", source.path));
            }
        }
    }
    violations
}

/// A crate's manifest names none of the forbidden crates as a dependency.
fn manifest_violations(krate: &str, manifest: &str, forbidden: &[&str]) -> Vec<String> {
    let mut violations = Vec::new();
    for line in manifest.lines().map(str::trim) {
        let name = identifier_at(&line.replace('-', "_")).to_owned();
        if forbidden.contains(&name.as_str()) {
            violations.push(format!("{krate}/Cargo.toml: depends on `{name}`"));
        }
    }
    violations
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

fn forbidden_in(krate: &str) -> Vec<&'static str> {
    let above: &[&str] = match krate {
        "core" => &["parcours_projections", "parcours_server"],
        _ => &["parcours_server"],
    };
    above.iter().chain(EDGE_CRATES).copied().collect()
}

#[test]
fn server_modules_keep_their_layers() {
    let violations = server_violations(&sources(&workspace().join("server/src")));
    assert!(violations.is_empty(), "the server's layering is broken:\n{}", violations.join("\n"));
}

#[test]
fn core_and_projections_use_no_crate_above_them() {
    let mut violations = Vec::new();
    for krate in ["core", "projections"] {
        let dir = workspace().join(krate);
        let forbidden = forbidden_in(krate);
        violations.extend(crate_violations(krate, &sources(&dir.join("src")), &forbidden));
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("the crate's manifest");
        violations.extend(manifest_violations(krate, &manifest, &forbidden));
    }
    assert!(violations.is_empty(), "a lower crate uses one above it:\n{}", violations.join("\n"));
}

/// The checks find what they are meant to find: forbidden paths in every form they are written.
#[test]
fn the_checks_catch_forbidden_paths() {
    let source = |path: &str, text: &str| Source { path: path.into(), text: text.into() };
    let planted = [
        source("api/reports.rs", "use crate::web::layout;"),
        source("access/mod.rs", "fn f() { crate::web::refused(e, &uri) }"),
        source("api/mod.rs", "use super::web::router;"),
        source("access/policy.rs", "use super::super::web;"),
        source("web/people.rs", "use crate::api::people::people_for;"),
        source("commands.rs", "use crate::{api, cli};"),
        source("publication.rs", "use crate::{json, api::reports::render};"),
    ];
    let found = server_violations(&planted);
    assert_eq!(found.len(), planted.len(), "each planted import is found once: {found:#?}");
    let allowed = [
        source("router.rs", "use crate::{api, web};"),
        source("api/people.rs", "use super::log::beneficiary_id; use crate::app::people;"),
        source("web/mod.rs", "use crate::access::Gate; // crate::api::ApiError in a comment"),
        source("lib.rs", "pub mod api;"),
    ];
    assert_eq!(server_violations(&allowed), Vec::<String>::new());

    let forbidden = forbidden_in("core");
    let core = [source("store/mod.rs", "use parcours_projections::Live;"), source("x.rs", "fn f() -> axum::Router {}")];
    assert_eq!(crate_violations("core", &core, &forbidden).len(), 2);
    let fine = [source("y.rs", "use parcours_core::vocabulary; // axum:: in prose")];
    assert!(crate_violations("projections", &fine, &forbidden_in("projections")).is_empty());
    let manifest = "[dependencies]\nparcours-server.workspace = true\nsled = \"=0.34.7\"\n";
    assert_eq!(manifest_violations("core", manifest, &forbidden).len(), 1);
}
