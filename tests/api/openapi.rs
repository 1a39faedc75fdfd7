//! The OpenAPI document and the interactive documentation.

use reqwest::StatusCode;
use serde_json::Value;

use support::spawn_app;

const OPERATIONS: &[(&str, &str)] = &[
    ("/api/users/signup", "post"),
    ("/api/users/signin", "post"),
    ("/api/users/token", "post"),
    ("/api/users/signout", "post"),
    ("/api/users/currentuser", "get"),
    ("/api/tickets", "get"),
    ("/api/tickets", "post"),
    ("/api/tickets/{id}", "get"),
    ("/api/tickets/{id}", "put"),
];

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

async fn openapi_document() -> Value {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    response.json().await.unwrap()
}

/// Follows a `#/components/...` reference (or returns the value when it is not one).
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            let target = document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{reference} resolves"));
            resolve(document, target)
        }
        None => value,
    }
}

/// The `(path, method, operation)` of every API operation in the document.
fn api_operations(document: &Value) -> Vec<(String, String, &Value)> {
    let paths = document["paths"].as_object().expect("`paths`");
    paths
        .iter()
        .filter(|(path, _)| path.starts_with("/api/"))
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .iter()
                .filter(|(method, _)| HTTP_METHODS.contains(&method.as_str()))
                .map(move |(method, operation)| (path.clone(), method.clone(), operation))
        })
        .collect()
}

/// Whether `schema` is (a reference to) `{"errors":[{"message":...}]}`.
fn is_error_body(document: &Value, schema: &Value) -> bool {
    let schema = resolve(document, schema);
    let errors = resolve(document, &schema["properties"]["errors"]);
    let entry = resolve(document, &errors["items"]);
    errors["type"] == "array" && entry["properties"]["message"].is_object()
}

#[tokio::test]
async fn the_document_is_openapi_3_and_lists_every_endpoint() {
    let document = openapi_document().await;

    let version = document["openapi"].as_str().expect("`openapi`");
    assert!(version.starts_with('3'), "openapi {version}");
    for (path, method) in OPERATIONS {
        assert!(
            document["paths"][path][method].is_object(),
            "{} {path} is documented",
            method.to_uppercase()
        );
    }
}

#[tokio::test]
async fn the_document_has_the_bearer_and_cookie_security_schemes() {
    let document = openapi_document().await;

    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .expect("`components.securitySchemes`");
    let bearer = schemes.values().filter(|s| {
        s["type"] == "http"
            && s["scheme"]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case("bearer"))
    });
    assert_eq!(bearer.count(), 1, "one bearer scheme: {schemes:?}");
    let cookie = schemes
        .values()
        .filter(|s| s["type"] == "apiKey" && s["in"] == "cookie" && s["name"] == "session");
    assert_eq!(cookie.count(), 1, "one session cookie scheme: {schemes:?}");
}

#[tokio::test]
async fn every_operation_documents_its_error_responses_with_the_error_body() {
    let document = openapi_document().await;

    let operations = api_operations(&document);
    assert!(operations.len() >= OPERATIONS.len());
    let mut problems = Vec::new();
    for (path, method, operation) in operations {
        let responses = operation["responses"].as_object().expect("`responses`");
        // Anything can fail unexpectedly; anything that takes a body or a query can be refused.
        let takes_input = operation["requestBody"].is_object()
            || operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
        let expected: &[&str] = if takes_input {
            &["400", "500"]
        } else {
            &["500"]
        };
        for &status in expected {
            if !responses.contains_key(status) {
                problems.push(format!("{method} {path} does not document {status}"));
            }
        }
        for (status, response) in responses
            .iter()
            .filter(|(s, _)| s.parse::<u16>().is_ok_and(|s| s >= 400))
        {
            let response = resolve(&document, response);
            let content = response["content"].as_object();
            let json =
                content.and_then(|c| c.iter().find(|(t, _)| t.starts_with("application/json")));
            let schema = json.map_or(&Value::Null, |(_, media)| &media["schema"]);
            if !(schema["$ref"].is_string() && is_error_body(&document, schema)) {
                problems.push(format!(
                    "{method} {path} {status} lacks the error body schema"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn ticket_operations_document_their_specific_errors() {
    let document = openapi_document().await;
    let expected: &[(&str, &str, &[&str])] = &[
        ("/api/tickets", "post", &["401"]),
        ("/api/tickets/{id}", "get", &["404"]),
        ("/api/tickets/{id}", "put", &["401", "404", "409"]),
    ];
    for (path, method, statuses) in expected {
        let responses = &document["paths"][path][method]["responses"];
        for status in *statuses {
            assert!(
                responses[status].is_object(),
                "{method} {path} documents {status}"
            );
        }
    }
}

#[tokio::test]
async fn the_interactive_documentation_is_served() {
    let app = spawn_app().await;
    let response = app.get("/api/docs", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(!response.text().await.unwrap().is_empty());
}

#[test]
fn the_committed_document_is_the_one_the_binary_prints() {
    let committed = include_str!("../../openapi.json");
    let printed = format!("{}\n", api::openapi::document());
    assert!(
        committed == printed,
        "openapi.json is out of date: run `cargo run --bin ticketing -- openapi > openapi.json`"
    );
}

#[test]
fn every_operation_has_a_stable_readable_operation_id() {
    let document: Value = serde_json::from_str(&api::openapi::document()).unwrap();
    let mut ids = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                id.chars().next().unwrap().is_ascii_lowercase()
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{method} {path}: {id} is not camelCase"
            );
            ids.push(id.to_owned());
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique");
    for id in [
        "signUp",
        "createTicket",
        "createOrder",
        "payOrder",
        "cancelOrder",
    ] {
        assert!(ids.iter().any(|i| i == id), "no {id}");
    }
}
