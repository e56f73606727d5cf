//! The API's error codes are one enum, and the OpenAPI document says which.

use web::ApiErrorCode;

use crate::helpers::*;

#[tokio::test]
async fn the_openapi_document_lists_every_error_code_as_an_enum() {
    let app = spawn_app().await;
    let document = app.openapi_document().await;
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["ApiErrorBody"]["properties"]["error"]["$ref"],
        "#/components/schemas/ApiErrorCode"
    );
    let listed: Vec<&str> = schemas["ApiErrorCode"]["enum"]
        .as_array()
        .expect("an enum schema")
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect();
    let every: Vec<String> = ApiErrorCode::ALL
        .iter()
        .map(|code| {
            serde_json::to_value(code)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(listed, every);
    for code in [
        "invalid_request",
        "unknown_app",
        "invalid_credentials",
        "too_many_attempts",
        "two_step_unsupported",
        "challenge_expired",
        "method_not_available",
        "resend_too_soon",
        "sms_not_sent",
        "code_malformed",
        "code_not_requested",
        "code_expired",
        "code_already_used",
        "code_wrong",
        "unauthorized",
        "internal",
    ] {
        assert!(listed.contains(&code), "{code} missing from {listed:?}");
    }
}
