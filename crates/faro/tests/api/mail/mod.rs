//! End users' mail over real SMTP (an aiosmtpd server, `smtp_sink.py`): registering mails a
//! link that confirms the email; a forgotten password gets a one-hour link that sets a new
//! one and ends every sign-in; links work once, on their own site, in the asker's language;
//! the answer to a reset request never tells whether the address has an account; mail that
//! could not be sent is sent later by the job.

mod instances;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, HOST};
use serde_json::{Value, json};

use crate::both;
use crate::common::{Resp, TestApp};
use crate::tenants::create_tenant;

const PASSWORD: &str = "Sol-y-Sombra-2026";

/// The SMTP server, its port and the file its messages go to (one JSON line each).
struct Sink {
    child: Child,
    port: u16,
    file: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Sink {
    fn start() -> Sink {
        let dir = std::env::temp_dir().join(format!("faro-smtp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("mail.jsonl");
        let mut child = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/api/mail/smtp_sink.py"
            ))
            .arg(&file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 smtp_sink.py");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("sink stdout");
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let Some(port) = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            panic!(
                "the SMTP sink did not start ({line:?}); pip install -r scripts/test-requirements.txt"
            );
        };
        Sink {
            child,
            port,
            file,
            dir,
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// Waits up to 10 s for message number `n` (from 1).
    async fn nth(&self, n: usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let all = self.messages();
            if all.len() >= n {
                return all[n - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "mail {n} did not arrive: {all:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The link in a mail's text: the line that starts with http.
fn link_in(mail: &Value) -> String {
    mail["text"]
        .as_str()
        .and_then(|t| t.lines().find(|l| l.starts_with("http")))
        .unwrap_or_else(|| panic!("no link in {mail}"))
        .trim()
        .to_owned()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).expect("a token").to_owned()
}

async fn post(app: &TestApp, host: Option<&str>, path: &str, body: &Value, lang: &str) -> Resp {
    let mut req = app
        .request(Method::POST, path)
        .header(ACCEPT_LANGUAGE, lang)
        .json(body);
    if let Some(h) = host {
        req = req.header(HOST, h);
    }
    app.send(req).await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Resp {
    post(
        app,
        None,
        "/api/v1/auth/login",
        &json!({"email": email, "password": password}),
        "en",
    )
    .await
}

async fn registering_mails_a_link_that_confirms_the_email(first: TestApp) {
    let sink = Sink::start();
    let app = first.sibling(&[("MAIL_URL", &sink.url())]).await;
    let r = post(
        &app,
        None,
        "/api/v1/auth/register",
        &json!({"email": "Ana@Example.com", "password": PASSWORD}),
        "es-ES,es;q=0.9",
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    let access = r.json()["access_token"].as_str().expect("token").to_owned();
    let mail = sink.nth(1).await;
    assert_eq!(mail["to"], json!(["ana@example.com"]));
    assert_eq!(mail["content_type"], "text/plain");
    assert!(
        mail["subject"]
            .as_str()
            .is_some_and(|s| s.starts_with("Confirma tu correo")),
        "in the asker's language: {mail}"
    );
    let link = link_in(&mail);
    assert!(
        link.starts_with(&format!("{}/account/verify?token=", app.base)),
        "{link}"
    );

    // Opening the link changes nothing; the button does.
    let page = app.get(&link.replacen(&app.base, "", 1)).await;
    assert_eq!(page.status, 200, "{page}");
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let me = app
        .send(app.request(Method::GET, "/api/v1/me").bearer_auth(&access))
        .await;
    assert_eq!(me.json()["email_verified"], false, "{me}");
    let token = token_of(&link);
    let done = app
        .send(
            app.request(Method::POST, "/account/verify")
                .header(ACCEPT_LANGUAGE, "ca")
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(format!("token={token}")),
        )
        .await;
    assert_eq!(done.status, 200, "{done}");
    assert!(done.text.contains("lang=\"ca\""), "{done}");
    assert!(done.text.contains("id=\"done\""), "{done}");
    let me = app
        .send(app.request(Method::GET, "/api/v1/me").bearer_auth(&access))
        .await;
    assert_eq!(me.json()["email_verified"], true, "{me}");

    // Spent: the API and the page refuse it again.
    let again = post(
        &app,
        None,
        "/api/v1/auth/verify-email",
        &json!({"token": token}),
        "en",
    )
    .await;
    again.assert_error(400, "invalid_link");
    let resend = app
        .send(
            app.request(Method::POST, "/api/v1/me/verify-email")
                .bearer_auth(&access),
        )
        .await;
    resend.assert_error(409, "email_verified");
    let events = first
        .scalar("SELECT COUNT(*) FROM events WHERE kind = 'user.email_verified'")
        .await;
    assert_eq!(events, 1);

    // Erasing the account erases its mail and links too.
    let gone = app
        .send(
            app.request(Method::DELETE, "/api/v1/me")
                .bearer_auth(&access)
                .json(&json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(gone.status, 204, "{gone}");
    assert_eq!(first.scalar("SELECT COUNT(*) FROM mail_queue").await, 0);
    assert_eq!(first.scalar("SELECT COUNT(*) FROM user_links").await, 0);
}
both!(registering_mails_a_link_that_confirms_the_email);

async fn a_reset_link_sets_a_new_password_once_and_ends_every_sign_in(first: TestApp) {
    let sink = Sink::start();
    let app = first.sibling(&[("MAIL_URL", &sink.url())]).await;
    let r = post(
        &app,
        None,
        "/api/v1/auth/register",
        &json!({"email": "bea@example.com", "password": PASSWORD}),
        "en",
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    let refresh_token = r.json()["refresh_token"].as_str().expect("rt").to_owned();
    let old_access = r.json()["access_token"].as_str().expect("at").to_owned();
    sink.nth(1).await; // the confirmation mail

    // The same answer for an address with no account, and no mail for it.
    let unknown = post(
        &app,
        None,
        "/api/v1/auth/password-reset",
        &json!({"email": "nobody@example.com"}),
        "pt",
    )
    .await;
    let known = post(
        &app,
        None,
        "/api/v1/auth/password-reset",
        &json!({"email": " BEA@example.com"}),
        "pt-PT",
    )
    .await;
    assert_eq!(unknown.status, 202, "{unknown}");
    assert_eq!(known.status, 202, "{known}");
    assert_eq!(unknown.json(), known.json());
    let bad = post(
        &app,
        None,
        "/api/v1/auth/password-reset",
        &json!({"email": "not an address"}),
        "en",
    )
    .await;
    bad.assert_error(422, "validation_failed");
    let mail = sink.nth(2).await;
    assert_eq!(mail["to"], json!(["bea@example.com"]));
    assert!(
        mail["subject"]
            .as_str()
            .is_some_and(|s| s.contains("palavra-passe")),
        "{mail}"
    );
    let link = link_in(&mail);
    assert!(link.contains("/account/reset?token="), "{link}");
    let token = token_of(&link);

    // A weak password keeps the link usable; a good one spends it.
    let weak = post(
        &app,
        None,
        "/api/v1/auth/password-reset/confirm",
        &json!({"token": token, "password": "short"}),
        "en",
    )
    .await;
    weak.assert_error(422, "validation_failed");
    let page = app
        .send(
            app.request(Method::POST, "/account/reset")
                .header(ACCEPT_LANGUAGE, "es")
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(format!("token={token}&password=Nueva-Clave-Segura-7")),
        )
        .await;
    assert_eq!(page.status, 200, "{page}");
    assert!(page.text.contains("tu contraseña ha cambiado"), "{page}");
    let again = post(
        &app,
        None,
        "/api/v1/auth/password-reset/confirm",
        &json!({"token": token, "password": "Otra-Clave-Segura-8"}),
        "en",
    )
    .await;
    again.assert_error(400, "invalid_link");
    login(&app, "bea@example.com", PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(
        login(&app, "bea@example.com", "Nueva-Clave-Segura-7")
            .await
            .status,
        200
    );
    let old = post(
        &app,
        None,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh_token}),
        "en",
    )
    .await;
    old.assert_error(401, "invalid_refresh_token");
    // The access token given before the reset is refused at once, on this instance and on
    // the other one.
    for instance in [&app, &first] {
        let r = instance
            .send(
                instance
                    .request(Method::GET, "/api/v1/me")
                    .bearer_auth(&old_access),
            )
            .await;
        r.assert_error(401, "unauthorized");
        assert!(r.text.contains("revoked"), "{r}");
    }
    let me = login(&app, "bea@example.com", "Nueva-Clave-Segura-7").await;
    let access = me.json()["access_token"].as_str().expect("at").to_owned();
    let profile = app
        .send(app.request(Method::GET, "/api/v1/me").bearer_auth(&access))
        .await;
    assert_eq!(
        profile.json()["email_verified"],
        true,
        "the link reached the mailbox"
    );
    // The reset page without a token, or a made-up one, says the link does not work.
    assert_eq!(app.get("/account/reset").await.status, 400);
    let made_up = app
        .send(
            app.request(Method::POST, "/account/verify")
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("token=made-up"),
        )
        .await;
    assert_eq!(made_up.status, 400, "{made_up}");
    assert!(made_up.text.contains("id=\"error\""));
}
both!(a_reset_link_sets_a_new_password_once_and_ends_every_sign_in);

async fn links_belong_to_their_own_site(first: TestApp) {
    let sink = Sink::start();
    let app = first.sibling(&[("MAIL_URL", &sink.url())]).await;
    create_tenant(&app, "lopez", "cocinas.test").await;
    let r = post(
        &app,
        Some("cocinas.test"),
        "/api/v1/auth/register",
        &json!({"email": "carla@example.com", "password": PASSWORD}),
        "en",
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    let mail = sink.nth(1).await;
    let link = link_in(&mail);
    assert!(
        link.starts_with("http://cocinas.test/account/verify?token="),
        "on the tenant's host: {link}"
    );
    assert!(
        mail["from_header"]
            .as_str()
            .is_some_and(|f| f.contains("no-reply@localhost")),
        "{mail}"
    );
    // The default site does not accept the other site's link.
    let token = token_of(&link);
    post(
        &app,
        None,
        "/api/v1/auth/verify-email",
        &json!({"token": token}),
        "en",
    )
    .await
    .assert_error(400, "invalid_link");
    let ok = post(
        &app,
        Some("cocinas.test"),
        "/api/v1/auth/verify-email",
        &json!({"token": token}),
        "en",
    )
    .await;
    assert_eq!(ok.status, 204, "{ok}");
}
both!(links_belong_to_their_own_site);

async fn mail_that_could_not_be_sent_is_sent_by_the_job(first: TestApp) {
    // No server on this port yet: the first try fails and the row waits.
    let sink = Sink::start();
    let port = sink.port;
    drop(sink);
    let app = first
        .sibling(&[("MAIL_URL", &format!("smtp://127.0.0.1:{port}"))])
        .await;
    let r = post(
        &app,
        None,
        "/api/v1/auth/register",
        &json!({"email": "dani@example.com", "password": PASSWORD}),
        "en",
    )
    .await;
    assert_eq!(r.status, 201, "the answer does not wait for the mail: {r}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempts = first
            .scalar("SELECT COALESCE(MAX(attempts), 0) FROM mail_queue WHERE status = 'queued'")
            .await;
        if attempts >= 1
            && first
                .scalar("SELECT COUNT(*) FROM mail_queue WHERE last_error IS NOT NULL")
                .await
                == 1
        {
            break;
        }
        assert!(Instant::now() < deadline, "the first try did not happen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A working server now; the job sends the row once it is due.
    let sink = Sink::start();
    let second = first.sibling(&[("MAIL_URL", &sink.url())]).await;
    first
        .exec(
            "UPDATE mail_queue SET next_at = 0 WHERE status = 'queued' AND kind = $1",
            "verify_email",
        )
        .await;
    let postbox =
        faro_mail::Postbox::new(&sink.url(), "Faro <no-reply@localhost>").expect("postbox");
    let job = faro_platform::users::links::mail_job(second.core.clone(), postbox);
    (job.run)(second.core.db.clone())
        .await
        .expect("the job runs");
    let mail = sink.nth(1).await;
    assert_eq!(mail["to"], json!(["dani@example.com"]));
    assert_eq!(
        first
            .scalar("SELECT COUNT(*) FROM mail_queue WHERE status = 'sent'")
            .await,
        1
    );
}
both!(mail_that_could_not_be_sent_is_sent_by_the_job);
