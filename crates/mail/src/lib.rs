//! Sending mail, for every module: one [`Mailer`] chosen by `MAIL_URL`.
//!
//! - `smtp://user:pass@host:587?tls=required`: SMTP with STARTTLS (lettre's URL format;
//!   `smtps://…:465` for implicit TLS, `smtp://host:port` without TLS for a local relay);
//! - `file://path/to/dir`: each message written to `dir` as an `.eml` file, for development
//!   and for a first run with nothing to configure (the default: `file://data/mail`).
//!
//! A message is plain text: links in mail clients work from text, and nothing in it can be
//! mistaken for markup. Delivery with retries is the caller's (the platform's mail queue).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("MAIL_URL: {0}")]
    Config(String),
    #[error("not an email address: {0}")]
    Address(String),
    #[error("building the message: {0}")]
    Message(String),
    #[error("the SMTP server refused or failed: {0}")]
    Smtp(String),
    #[error("writing the message file: {0}")]
    File(#[from] std::io::Error),
}

/// One message to send.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Dir(PathBuf),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Never the URL: it may hold the SMTP password.
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
            Mailer::Dir(d) => write!(f, "Mailer::Dir({})", d.display()),
        }
    }
}

impl Mailer {
    /// The mailer `MAIL_URL` names (see the crate's documentation).
    pub fn from_url(url: &str) -> Result<Mailer, MailError> {
        let url = url.trim();
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err(MailError::Config(
                    "file:// needs a directory, like file://data/mail".into(),
                ));
            }
            return Ok(Mailer::Dir(PathBuf::from(dir)));
        }
        if url.starts_with("smtp://") || url.starts_with("smtps://") {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| MailError::Config(e.to_string()))?
                .timeout(Some(SMTP_TIMEOUT))
                .build();
            return Ok(Mailer::Smtp(transport));
        }
        Err(MailError::Config(
            "expected smtp://, smtps:// or file:// (like smtp://user:pass@mail.example.com:587?tls=required)"
                .into(),
        ))
    }

    /// Sends `mail` from `from` (`Name <address>`).
    pub async fn send(&self, from: &Mailbox, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Address(mail.to.clone()))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| MailError::Message(e.to_string()))?;
        match self {
            Mailer::Smtp(t) => {
                t.send(message)
                    .await
                    .map_err(|e| MailError::Smtp(e.to_string()))?;
            }
            Mailer::Dir(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default();
                let path = dir.join(format!("{nanos}-{}.eml", std::process::id()));
                tokio::fs::write(&path, message.formatted()).await?;
                tracing::info!(path = %path.display(), "mail written to a file (MAIL_URL=file://)");
            }
        }
        Ok(())
    }
}

/// A mailer and the address mail comes from: what `MAIL_URL` and `MAIL_FROM` configure.
#[derive(Clone, Debug)]
pub struct Postbox {
    pub mailer: Mailer,
    pub from: Mailbox,
}

impl Postbox {
    pub fn new(url: &str, from: &str) -> Result<Postbox, MailError> {
        Ok(Postbox {
            mailer: Mailer::from_url(url)?,
            from: parse_from(from)?,
        })
    }

    /// Sends `mail` from the configured address under the display name `sender` (a site's
    /// name).
    pub async fn send_as(&self, sender: &str, mail: &Mail) -> Result<(), MailError> {
        self.mailer.send(&named(&self.from, sender), mail).await
    }
}

/// `Name <address>` or a bare address, for `MAIL_FROM`.
pub fn parse_from(s: &str) -> Result<Mailbox, MailError> {
    s.trim()
        .parse()
        .map_err(|_| MailError::Address(format!("MAIL_FROM: {s}")))
}

/// `from` with another display name (a tenant's), the same address.
pub fn named(from: &Mailbox, name: &str) -> Mailbox {
    let name = name.trim();
    Mailbox::new(
        (!name.is_empty()).then(|| name.to_owned()),
        from.email.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_transport() {
        assert!(matches!(
            Mailer::from_url("smtp://127.0.0.1:2525"),
            Ok(Mailer::Smtp(_))
        ));
        assert!(matches!(
            Mailer::from_url("smtps://u:p@mail.example.com:465"),
            Ok(Mailer::Smtp(_))
        ));
        assert!(matches!(
            Mailer::from_url("smtp://u:p@mail.example.com:587?tls=required"),
            Ok(Mailer::Smtp(_))
        ));
        match Mailer::from_url("file://data/mail") {
            Ok(Mailer::Dir(d)) => assert_eq!(d, PathBuf::from("data/mail")),
            other => panic!("{other:?}"),
        }
        for bad in ["file://", "http://mail", "mail.example.com", ""] {
            assert!(
                matches!(Mailer::from_url(bad), Err(MailError::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_debug_form_never_shows_the_password() {
        let m = Mailer::from_url("smtp://user:hunter2@mail.example.com:587").expect("url");
        assert!(!format!("{m:?}").contains("hunter2"));
    }

    #[test]
    fn from_takes_a_name_and_tenants_rename_it() {
        let from = parse_from("Faro <no-reply@example.com>").expect("mailbox");
        assert_eq!(from.email.to_string(), "no-reply@example.com");
        let cocinas = named(&from, "Cocinas López");
        assert_eq!(cocinas.name.as_deref(), Some("Cocinas López"));
        assert_eq!(named(&from, " ").name, None);
        assert!(parse_from("not an address").is_err());
    }

    #[tokio::test]
    async fn a_file_mailer_writes_one_message_per_mail() {
        let dir = std::env::temp_dir().join(format!("faro-mail-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let m = Mailer::Dir(dir.clone());
        let from = parse_from("Faro <no-reply@example.com>").expect("mailbox");
        let mail = Mail {
            to: "ana@example.com".into(),
            subject: "Confirma tu correo".into(),
            text: "Hola: https://example.com/account/verify?token=abc".into(),
        };
        m.send(&from, &mail).await.expect("written");
        let files: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
        assert_eq!(files.len(), 1);
        let path = files[0].as_ref().expect("entry").path();
        let text = std::fs::read_to_string(path).expect("read");
        assert!(text.contains("To: ana@example.com"), "{text}");
        assert!(text.contains("token=abc"), "{text}");
        let bad = Mail {
            to: "nobody".into(),
            ..mail
        };
        assert!(matches!(
            m.send(&from, &bad).await,
            Err(MailError::Address(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
