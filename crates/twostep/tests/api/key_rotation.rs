//! `twostep rotate-key`: every sealed value (phone numbers, authenticator
//! secrets, enrolments, the numbers codes went to) is re-sealed under the new
//! server key while the portal serves, and the old key is then refused.
//!
//! The portal runs as an instance does during a rotation: the new key as
//! `server_key`, the old one in `previous_server_keys`. The accounts were made
//! under the old key, half of them before sealed values carried a key id.
//! Recovery codes made under the old key keep working through the rotation.

use domain::authenticator::{AuthenticatorSecret, code_at};
use domain::digests::{CodeBinding, SessionDigest};
use domain::one_time_code::{CodePolicy, CodePurpose};
use domain::recovery_codes::{RecoveryCode, RecoveryCodePolicy};
use domain::{AccountId, IssuedCode, Method, ServerKey};
use serde_json::{Value, json};
use storage::{SealedColumn, Store};
use twostep::app::{self, StartError};
use twostep::rotate::{self, RotateError};

use crate::helpers::{PASSWORD, TestApp, assert_api_error, post_json};

const ACCOUNTS: usize = 24;

struct Keys {
    old_hex: String,
    new_hex: String,
    old: ServerKey,
    new: ServerKey,
}

fn keys() -> Keys {
    let (old_hex, new_hex) = (ServerKey::generate_hex(), ServerKey::generate_hex());
    Keys {
        old: ServerKey::from_hex(&old_hex).unwrap(),
        new: ServerKey::from_hex(&new_hex).unwrap(),
        old_hex,
        new_hex,
    }
}

/// The portal mid-rotation: `new` seals, `old` still opens.
async fn spawn_rotating(keys: &Keys) -> TestApp {
    TestApp::builder()
        .setting("TWOSTEP_SERVER_KEY", &keys.new_hex)
        .setting(
            "TWOSTEP_PREVIOUS_SERVER_KEYS",
            &format!("[\"{}\"]", keys.old_hex),
        )
        .spawn()
        .await
}

fn email(i: usize) -> String {
    format!("person{i}@example.com")
}

fn phone(i: usize) -> String {
    format!("+1650253{:04}", 1000 + i)
}

/// Sealed under `key`, as before key ids (no header) when `legacy`.
fn sealed(key: &ServerKey, plaintext: &[u8], context: &str, legacy: bool) -> Vec<u8> {
    let value = key.seal(plaintext, context);
    if legacy {
        value[domain::server_key::SEALED_HEADER_LEN..].to_vec()
    } else {
        value
    }
}

/// What each account holds in the clear, to compare after the rotation.
struct Seeded {
    id: AccountId,
    phone: String,
    secret: AuthenticatorSecret,
}

/// `ACCOUNTS` accounts with SMS and the authenticator on, an enrolment under way
/// and a code sent to a new number, every value sealed under `key`.
async fn seed(app: &TestApp, key: &ServerKey) -> Vec<Seeded> {
    let (store, now) = (&app.state.store, app.state.now());
    let hash = app.state.passwords.hash(PASSWORD.to_owned()).await.unwrap();
    let mut seeded = Vec::new();
    for i in 0..ACCOUNTS {
        let legacy = i % 2 == 0;
        let id = store.create_account(&email(i), &hash, now).await.unwrap();
        let (phone_context, secret_context) =
            (web::phone_context(id), web::authenticator_context(id));
        let phone = phone(i);
        store
            .turn_on_sms(
                id,
                sealed(key, phone.as_bytes(), &phone_context, legacy),
                now,
            )
            .await
            .unwrap();
        let secret = AuthenticatorSecret::generate();
        store
            .add_authenticator(
                id,
                sealed(key, secret.as_bytes(), &secret_context, legacy),
                now,
            )
            .await
            .unwrap();
        store
            .save_authenticator_enrolment(
                id,
                &SessionDigest::of("a session"),
                sealed(key, b"an enrolment's secret", &secret_context, legacy),
                now,
            )
            .await
            .unwrap();
        let code = IssuedCode::new(
            CodePurpose::ChangeNumber,
            key.code_digest("unused", "123456"),
            CodeBinding::from_bytes(vec![7; 32]),
            now,
            CodePolicy::default(),
        );
        let new_number = sealed(key, b"+16502539999", &phone_context, legacy);
        assert!(
            store
                .replace_code_sent_by(id, &code, Some(new_number), now)
                .await
                .unwrap()
        );
        seeded.push(Seeded { id, phone, secret });
    }
    seeded
}

/// How many values of each column are not under `key`.
async fn not_under(store: &Store, key: &ServerKey) -> Vec<(&'static str, usize)> {
    let mut counts = Vec::new();
    for column in SealedColumn::ALL {
        let values = store
            .sealed_values_not_under(column, &key.sealed_header(), 10_000)
            .await
            .unwrap();
        counts.push((column.name(), values.len()));
    }
    counts
}

fn connect_body(i: usize) -> Value {
    json!({"email": email(i), "password": PASSWORD, "app_id": "photon-desktop",
           "app_version": "3.2.0", "device_name": "Office PC"})
}

async fn challenge(app: &TestApp, i: usize) -> String {
    let (status, body) = post_json(app, "/api/v1/apps/connect", connect_body(i)).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("two_step_required")),
        "{body}"
    );
    body["challenge"].as_str().unwrap().to_owned()
}

/// Connects account `i` with an SMS code: reads the sealed number to send it.
async fn connect_by_sms(app: &TestApp, i: usize) -> (u16, Value) {
    let challenge = challenge(app, i).await;
    let (status, body) = post_json(
        app,
        "/api/v1/apps/connect/sms",
        json!({"challenge": challenge}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let code = app.last_sms_code(&phone(i));
    let verify = json!({"challenge": challenge, "method": Method::Sms.as_str(), "code": code});
    post_json(app, "/api/v1/apps/connect/verify", verify).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_key_reseals_every_value_while_the_portal_serves_and_retires_the_old_key() {
    let keys = keys();
    let app = spawn_rotating(&keys).await;
    let seeded = seed(&app, &keys.old).await;
    let store = &app.state.store;
    assert!(
        not_under(store, &keys.new)
            .await
            .iter()
            .all(|(_, n)| *n == ACCOUNTS),
        "every value starts under the old key"
    );

    // The portal sends SMS codes (reading numbers sealed under the old key and
    // sealing new code destinations) while the rotation runs.
    let now = app.state.now();
    let (rotating_store, ring) = (store.clone(), app.state.key.clone());
    let rotation = tokio::spawn(async move { rotate::rotate(&rotating_store, &ring, now).await });
    for i in 0..ACCOUNTS / 2 {
        let (status, body) = connect_by_sms(&app, i).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("connected")),
            "{body}"
        );
    }
    let rotation = rotation.await.unwrap().expect("the rotation finishes");
    assert_eq!(rotation.retired, vec![keys.old.id()]);
    let resealed: u64 = rotation.resealed.iter().map(|(_, n)| n).sum();
    assert!(resealed >= 3 * ACCOUNTS as u64, "{:?}", rotation.resealed);
    assert!(
        not_under(store, &keys.new)
            .await
            .iter()
            .all(|(_, n)| *n == 0),
        "{:?}",
        not_under(store, &keys.new).await
    );

    // The new key alone opens every value, and each holds what it held.
    for person in &seeded {
        let account = store.account_by_id(person.id).await.unwrap().unwrap();
        let phone = keys
            .new
            .open(&account.phone_enc.unwrap(), &web::phone_context(person.id))
            .unwrap();
        assert_eq!(phone, person.phone.as_bytes());
        let secret = store.authenticator(person.id).await.unwrap().unwrap();
        let secret = keys
            .new
            .open(&secret.secret_enc, &web::authenticator_context(person.id))
            .unwrap();
        assert_eq!(secret, person.secret.as_bytes());
        assert!(
            keys.old
                .open(
                    &account_phone(store, person.id).await,
                    &web::phone_context(person.id)
                )
                .is_err(),
            "the old key opens nothing any more"
        );
    }

    // The portal still works on the re-sealed values: an authenticator code
    // (the re-sealed secret) and an SMS code (the re-sealed number).
    let last = ACCOUNTS - 1;
    let challenge = challenge(&app, last).await;
    let code = code_at(&seeded[last].secret, app.clock.now());
    let (status, body) = post_json(
        &app,
        "/api/v1/apps/connect/verify",
        json!({"challenge": challenge, "method": "authenticator", "code": code.as_str()}),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("connected")),
        "{body}"
    );
    let (status, body) = connect_by_sms(&app, last - 1).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("connected")),
        "{body}"
    );

    // The old key is refused: as the current key, and in the ring.
    let mut config = app.config.clone();
    config.server_key = Some(keys.old.clone());
    config.previous_server_keys = Vec::new();
    let refused = app::key_ring(&config, store).await.unwrap_err();
    assert!(
        matches!(refused, StartError::RetiredServerKey { id } if id == keys.old.id()),
        "{refused}"
    );
    assert!(refused.to_string().contains("server_key"), "{refused}");
    let ring = app::key_ring(&app.config, store).await.unwrap();
    assert_eq!(ring.id(), keys.new.id());
    assert!(
        ring.previous_ids().is_empty(),
        "the retired key left the ring"
    );

    // A second run finds nothing to do.
    let again = rotate::rotate(store, &ring, now).await.unwrap();
    assert!(again.resealed.iter().all(|(_, n)| *n == 0), "{again:?}");
    assert!(again.retired.is_empty());
}

async fn account_phone(store: &Store, id: AccountId) -> Vec<u8> {
    store
        .account_by_id(id)
        .await
        .unwrap()
        .unwrap()
        .phone_enc
        .unwrap()
}

#[tokio::test]
async fn a_value_that_no_key_of_the_ring_opens_stops_the_rotation_before_anything_is_retired() {
    let keys = keys();
    let app = spawn_rotating(&keys).await;
    seed(&app, &keys.old).await;
    let stranger = ServerKey::from_hex(&ServerKey::generate_hex()).unwrap();
    let store = &app.state.store;
    let hash = app.state.passwords.hash(PASSWORD.to_owned()).await.unwrap();
    let id = store
        .create_account("lost@example.com", &hash, app.state.now())
        .await
        .unwrap();
    store
        .turn_on_sms(
            id,
            stranger.seal(b"+16502530001", &web::phone_context(id)),
            app.state.now(),
        )
        .await
        .unwrap();

    let error = rotate::rotate(store, &app.state.key, app.state.now())
        .await
        .unwrap_err();
    assert!(
        matches!(error, RotateError::Unopenable { column: "accounts.phone_enc", count: 1, account } if account == id),
        "{error}"
    );
    assert!(
        error.to_string().contains("previous_server_keys"),
        "{error}"
    );
    assert!(store.retired_server_keys().await.unwrap().is_empty());
    let ring = app::key_ring(&app.config, store).await.unwrap();
    assert_eq!(
        ring.previous_ids(),
        vec![keys.old.id()],
        "the old key still opens"
    );
}

/// A value the portal changed between the rotation's read and its write is the
/// portal's: the compare-and-set leaves it.
#[tokio::test]
async fn a_value_changed_meanwhile_is_not_overwritten_by_the_rotation() {
    let keys = keys();
    let app = spawn_rotating(&keys).await;
    let seeded = seed(&app, &keys.old).await;
    let store = &app.state.store;
    let read = store
        .sealed_values_not_under(SealedColumn::AccountPhone, &keys.new.sealed_header(), 1)
        .await
        .unwrap()
        .remove(0);
    let id = read.account_id;
    let changed = keys.new.seal(b"+16502538888", &web::phone_context(id));
    store
        .turn_on_sms(id, changed.clone(), app.state.now())
        .await
        .unwrap();
    let resealed = app
        .state
        .key
        .reseal(&read.sealed, &web::phone_context(id))
        .unwrap();
    assert!(!store.replace_sealed(&read, &resealed).await.unwrap());
    assert_eq!(account_phone(store, id).await, changed);
    assert!(seeded.iter().any(|person| person.id == id));
}

/// `twostep rotate-key` as an operator runs it, with the key in the data
/// directory: its first line seals, further lines only open.
#[test]
fn the_rotate_key_command_retires_the_previous_key_which_is_then_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys();
    let key_file = dir.path().join("server.key");
    let rotate_key = |key_lines: &str| {
        std::fs::write(&key_file, key_lines).unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_twostep"))
            .arg("--data-dir")
            .arg(dir.path())
            .arg("rotate-key")
            .env_remove("TWOSTEP_DATABASE_URL")
            .output()
            .expect("the twostep binary runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    };

    let (ok, text) = rotate_key(&format!("{}\n", keys.old_hex));
    assert!(ok && text.contains("No previous key to retire."), "{text}");
    let (ok, text) = rotate_key(&format!("{}\n{}\n", keys.new_hex, keys.old_hex));
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("Retired the key {}", keys.old.id())),
        "{text}"
    );
    assert!(text.contains(&keys.new.id().to_string()), "{text}");
    for secret in [&keys.old_hex, &keys.new_hex] {
        assert!(!text.contains(secret.as_str()), "a key was printed: {text}");
    }
    let (ok, text) = rotate_key(&format!("{}\n", keys.old_hex));
    assert!(!ok, "{text}");
    assert!(
        text.contains("server_key") && text.contains("retired"),
        "{text}"
    );
}

/// An account with SMS on and a set of recovery codes made under `key`, as
/// `Get new codes` made them while `key` was `server_key`; answers the codes.
async fn with_recovery_codes(app: &TestApp, i: usize, key: &ServerKey) -> Vec<RecoveryCode> {
    let (store, now) = (&app.state.store, app.state.now());
    let id = match store.account_by_email(&email(i)).await.unwrap() {
        Some(account) => account.id,
        None => {
            let hash = app.state.passwords.hash(PASSWORD.to_owned()).await.unwrap();
            let id = store.create_account(&email(i), &hash, now).await.unwrap();
            let phone = key.seal(phone(i).as_bytes(), &web::phone_context(id));
            store.turn_on_sms(id, phone, now).await.unwrap();
            id
        }
    };
    let codes = RecoveryCodePolicy::default().generate_set();
    let digests: Vec<_> = codes
        .iter()
        .map(|code| key.code_digest(&web::recovery_code_context(id), code.as_str()))
        .collect();
    store
        .replace_recovery_codes(id, key.id(), &digests, now)
        .await
        .unwrap();
    codes
}

async fn connect_with_recovery_code(app: &TestApp, i: usize, code: &RecoveryCode) -> (u16, Value) {
    let challenge = challenge(app, i).await;
    let verify = json!({"challenge": challenge, "method": "recovery_code", "code": code.grouped()});
    post_json(app, "/api/v1/apps/connect/verify", verify).await
}

/// Recovery codes are digests that cannot be made again without the codes, so
/// the rotation keeps the key that made unused ones (nobody is locked out of
/// the way back in) and retires it once they are used or replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_codes_made_before_a_rotation_still_sign_in_after_it_and_keep_their_key() {
    let keys = keys();
    let app = spawn_rotating(&keys).await;
    seed(&app, &keys.old).await;
    let store = &app.state.store;
    let (old_set, other_old_set) = (
        with_recovery_codes(&app, 0, &keys.old).await,
        with_recovery_codes(&app, 1, &keys.old).await,
    );
    let new_set = with_recovery_codes(&app, 2, &keys.new).await;

    let rotation = rotate::rotate(store, &app.state.key, app.state.now())
        .await
        .unwrap();
    assert_eq!(rotation.kept, vec![(keys.old.id(), 2)], "{rotation:?}");
    assert!(rotation.retired.is_empty(), "{rotation:?}");
    assert!(
        not_under(store, &keys.new)
            .await
            .iter()
            .all(|(_, n)| *n == 0),
        "everything sealed is re-sealed all the same"
    );
    let ring = app::key_ring(&app.config, store).await.unwrap();
    assert_eq!(ring.previous_ids(), vec![keys.old.id()], "the key stays");

    // A code made under the old key signs in after the rotation, once; one made
    // under the new key as well.
    for (i, code) in [(0, &old_set[0]), (2, &new_set[0])] {
        let (status, body) = connect_with_recovery_code(&app, i, code).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("connected")),
            "{body}"
        );
        let again = connect_with_recovery_code(&app, i, code).await;
        assert_api_error(&again, 401, "code_wrong");
    }

    // Once the old sets are replaced (or used), a later rotation retires the key
    // and the new sets work on the new key alone.
    let replaced = with_recovery_codes(&app, 0, &keys.new).await;
    let again = rotate::rotate(store, &app.state.key, app.state.now())
        .await
        .unwrap();
    assert_eq!(again.kept, vec![(keys.old.id(), 1)], "one old set is left");
    for code in &other_old_set {
        let (status, body) = connect_with_recovery_code(&app, 1, code).await;
        assert_eq!(status, 200, "{body}");
    }
    let last = rotate::rotate(store, &app.state.key, app.state.now())
        .await
        .unwrap();
    assert_eq!(last.retired, vec![keys.old.id()], "{last:?}");
    assert!(last.kept.is_empty());
    let ring = app::key_ring(&app.config, store).await.unwrap();
    assert!(ring.previous_ids().is_empty());
    // An instance on the new key alone, as after the old one is removed.
    let restarted = TestApp::builder()
        .database(app.config.database_url.expose())
        .setting("TWOSTEP_SERVER_KEY", &keys.new_hex)
        .spawn()
        .await;
    let (status, body) = connect_with_recovery_code(&restarted, 0, &replaced[0]).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("connected")),
        "{body}"
    );
    let (status, body) = connect_with_recovery_code(&restarted, 0, &old_set[1]).await;
    assert_eq!(status, 401, "the replaced set is void: {body}");
}
