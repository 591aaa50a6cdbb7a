//! The OpenAPI document as an outside tool reads it: `openapi-spec-validator` (PyPI) accepts the
//! served document, and every operation has an id of its own (code generators name functions
//! after them).

use std::collections::BTreeMap;

use parcours_tests::Server;

use crate::bin;

#[tokio::test(flavor = "multi_thread")]
async fn the_served_document_validates_and_every_operation_has_a_unique_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(bin(), &dir.path().join("data"), &[]);
    let document = server.anonymous().get("/api/openapi.json").await;
    assert_eq!(document.status, 200);

    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, item) in document.body["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            ids.entry(id.to_owned()).or_default().push(format!("{} {path}", method.to_uppercase()));
        }
    }
    let shared: Vec<String> =
        ids.iter().filter(|(_, uses)| uses.len() > 1).map(|(id, uses)| format!("{id}: {}", uses.join(", "))).collect();
    assert!(shared.is_empty(), "operation ids used more than once:\n{}", shared.join("\n"));

    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &document.text).unwrap();
    let ran = std::process::Command::new("python3").args(["-m", "openapi_spec_validator"]).arg(&file).output();
    let missing = match &ran {
        Err(error) => Some(format!("python3 cannot run: {error}")),
        Ok(output) if String::from_utf8_lossy(&output.stderr).contains("No module named") => Some(
            "the Python module openapi_spec_validator is not installed (pip install openapi-spec-validator)".into(),
        ),
        Ok(_) => None,
    };
    if let Some(missing) = missing {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{missing}: CI must run the validator");
        }
        eprintln!("SKIPPED: the OpenAPI validator did not run: {missing}");
        return;
    }
    let output = ran.unwrap();
    assert!(
        output.status.success(),
        "openapi-spec-validator rejects the served document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
