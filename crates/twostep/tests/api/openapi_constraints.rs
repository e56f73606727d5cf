//! The OpenAPI document states every rule the API applies to a request field,
//! and the server applies exactly those: at a rule's edge, the value the
//! document allows is not refused as `invalid_request` and the one it forbids
//! is. (`scripts/schemathesis` searches the rest of the space in `.ci/run`.)

use serde_json::{Value, json};

use crate::helpers::*;

fn request_schema(document: &Value, name: &str) -> Value {
    document["components"]["schemas"][name].clone()
}

fn connect_body(app_version: &str, device_name: &str) -> Value {
    json!({"email": "nobody@example.com", "password": "not the password",
           "app_id": "photon-desktop", "app_version": app_version, "device_name": device_name})
}

#[tokio::test]
async fn every_request_field_is_required_and_its_rules_are_stated() {
    let app = spawn_app().await;
    let document = app.openapi_document().await;
    for (schema, fields) in [
        (
            "ConnectRequest",
            &["email", "password", "app_id", "app_version", "device_name"][..],
        ),
        ("ChallengeRequest", &["challenge"][..]),
        ("VerifyRequest", &["challenge", "method", "code"][..]),
    ] {
        let schema = request_schema(&document, schema);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}"))
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(required, fields, "{schema}");
        assert_eq!(schema["additionalProperties"], false, "{schema}");
    }
    let connect = request_schema(&document, "ConnectRequest");
    let field = |name: &str| connect["properties"][name].clone();
    for name in ["email", "password", "app_id", "device_name"] {
        assert_eq!(field(name)["minLength"], 1, "{name}");
    }
    assert_eq!(field("device_name")["maxLength"], 100);
    assert!(field("device_name")["pattern"].is_string());
    assert!(field("app_version")["pattern"].is_string());
    let catalogue: Vec<String> = app
        .state
        .settings
        .apps
        .apps()
        .iter()
        .map(|app| app.id.clone())
        .collect();
    assert_eq!(field("app_id")["enum"], json!(catalogue));

    let verify = request_schema(&document, "VerifyRequest");
    assert!(verify["properties"]["code"]["pattern"].is_string());
    let method = &verify["properties"]["method"];
    let method = match method["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            request_schema(&document, name)
        }
        None => method.clone(),
    };
    let mut methods: Vec<&str> = method["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{method}"))
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    methods.sort();
    assert_eq!(methods, ["authenticator", "recovery_code", "sms"]);
    for stated in &methods {
        assert!(domain::Method::parse(stated).is_some(), "{stated}");
    }
}

/// Refused as malformed (400 `invalid_request`) or not: a wrong password makes
/// every request that gets past the fields a 401 (a 429 once the address has
/// had its ten wrong passwords: the fields are read before the password).
async fn malformed(app: &TestApp, body: Value) -> bool {
    let (status, answer) = post_json(app, "/api/v1/apps/connect", body).await;
    assert!(
        [401, 429].contains(&status)
            || (status, answer["error"].as_str()) == (400, Some("invalid_request")),
        "{status} {answer}"
    );
    status == 400
}

#[tokio::test]
async fn the_server_refuses_a_field_exactly_where_the_document_does() {
    let app = spawn_app().await;
    let hundred = "x".repeat(100);
    for allowed in [
        "A",
        hundred.as_str(),
        "  Ann's laptop  ",
        "Büro-PC ☕",
        "a b",
    ] {
        assert!(
            !malformed(&app, connect_body("1.0.0", allowed)).await,
            "{allowed:?}"
        );
    }
    let over = format!(" {hundred}");
    for forbidden in [
        "",
        "   ",
        "\t",
        "tab\there",
        "bell\u{7}",
        "c1\u{85}",
        over.as_str(),
    ] {
        assert!(
            malformed(&app, connect_body("1.0.0", forbidden)).await,
            "{forbidden:?}"
        );
    }
    for allowed in [
        "1",
        "2.4",
        "2.4.1",
        " 2.4.1 ",
        "2.4.1-beta.2",
        "2.4.1+build 7",
        "2.4.1-rc-1+x",
    ] {
        assert!(
            !malformed(&app, connect_body(allowed, "PC")).await,
            "{allowed:?}"
        );
    }
    for forbidden in [
        "",
        "v2",
        "2.4.1.0",
        "2..4",
        "2.4-",
        "2.4-a..b",
        "2.4-ß",
        "1234567890123456789",
    ] {
        assert!(
            malformed(&app, connect_body(forbidden, "PC")).await,
            "{forbidden:?}"
        );
    }
}
