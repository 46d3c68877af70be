//! The words of the end users' mail and of the pages its links open, in es, ca, pt and en.
//! Pure.

use faro_web::i18n::{Lang, fill};

/// What a mailed link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        match s {
            "verify_email" => Some(Purpose::VerifyEmail),
            "reset_password" => Some(Purpose::ResetPassword),
            _ => None,
        }
    }

    /// How long its link works.
    pub fn ttl_secs(self) -> i64 {
        match self {
            Purpose::VerifyEmail => 48 * 3600,
            Purpose::ResetPassword => 3600,
        }
    }

    /// The page the link opens.
    pub fn path(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "/account/verify",
            Purpose::ResetPassword => "/account/reset",
        }
    }
}

/// The subject and the plain text of the mail for `purpose` from the site `site`.
pub fn mail(purpose: Purpose, lang: Lang, site: &str, link: &str) -> (String, String) {
    let (subject, body) = match (purpose, lang) {
        (Purpose::VerifyEmail, Lang::Es) => (
            "Confirma tu correo en {site}",
            "Hola:\n\nPara confirmar que este correo es tuyo, abre este enlace:\n\n{link}\n\nEl enlace sirve una vez y caduca en 48 horas. Si no te has registrado en {site}, ignora este mensaje.\n",
        ),
        (Purpose::VerifyEmail, Lang::Ca) => (
            "Confirma el teu correu a {site}",
            "Hola:\n\nPer confirmar que aquest correu és teu, obre aquest enllaç:\n\n{link}\n\nL'enllaç serveix una vegada i caduca d'aquí a 48 hores. Si no t'has registrat a {site}, ignora aquest missatge.\n",
        ),
        (Purpose::VerifyEmail, Lang::Pt) => (
            "Confirma o teu e-mail em {site}",
            "Olá:\n\nPara confirmar que este e-mail é teu, abre esta ligação:\n\n{link}\n\nA ligação serve uma vez e expira em 48 horas. Se não te registaste em {site}, ignora esta mensagem.\n",
        ),
        (Purpose::VerifyEmail, Lang::En) => (
            "Confirm your email for {site}",
            "Hello,\n\nTo confirm this email address is yours, open this link:\n\n{link}\n\nThe link works once and expires in 48 hours. If you did not sign up for {site}, ignore this message.\n",
        ),
        (Purpose::ResetPassword, Lang::Es) => (
            "Cambia tu contraseña de {site}",
            "Hola:\n\nAlguien (esperamos que tú) ha pedido cambiar la contraseña de tu cuenta en {site}. Para elegir una nueva, abre este enlace:\n\n{link}\n\nEl enlace sirve una vez y caduca en 1 hora. Si no lo has pedido tú, ignora este mensaje: tu contraseña no cambia.\n",
        ),
        (Purpose::ResetPassword, Lang::Ca) => (
            "Canvia la teva contrasenya de {site}",
            "Hola:\n\nAlgú (esperem que tu) ha demanat canviar la contrasenya del teu compte a {site}. Per triar-ne una de nova, obre aquest enllaç:\n\n{link}\n\nL'enllaç serveix una vegada i caduca d'aquí a 1 hora. Si no ho has demanat tu, ignora aquest missatge: la contrasenya no canvia.\n",
        ),
        (Purpose::ResetPassword, Lang::Pt) => (
            "Muda a tua palavra-passe de {site}",
            "Olá:\n\nAlguém (esperamos que tu) pediu para mudar a palavra-passe da tua conta em {site}. Para escolher uma nova, abre esta ligação:\n\n{link}\n\nA ligação serve uma vez e expira em 1 hora. Se não foste tu, ignora esta mensagem: a palavra-passe não muda.\n",
        ),
        (Purpose::ResetPassword, Lang::En) => (
            "Reset your {site} password",
            "Hello,\n\nSomeone (we hope you) asked to change the password of your {site} account. To choose a new one, open this link:\n\n{link}\n\nThe link works once and expires in 1 hour. If it was not you, ignore this message: your password stays as it is.\n",
        ),
    };
    let pairs: [(&str, &dyn std::fmt::Display); 2] = [("site", &site), ("link", &link)];
    (fill(subject, &pairs), fill(body, &pairs))
}

/// The words of the pages a link opens.
pub struct PageTexts {
    pub verify_title: &'static str,
    pub verify_lead: &'static str,
    pub verify_button: &'static str,
    pub verified: &'static str,
    pub reset_title: &'static str,
    pub reset_lead: &'static str,
    pub new_password: &'static str,
    pub password_hint: &'static str,
    pub reset_button: &'static str,
    pub reset_done: &'static str,
    pub bad_link_title: &'static str,
    pub bad_link: &'static str,
}

const ES: PageTexts = PageTexts {
    verify_title: "Confirma tu correo",
    verify_lead: "Pulsa el botón para confirmar que este correo es tuyo.",
    verify_button: "Confirmar mi correo",
    verified: "Listo: tu correo está confirmado. Ya puedes cerrar esta página.",
    reset_title: "Elige una contraseña nueva",
    reset_lead: "Al cambiarla se cierran tus sesiones abiertas en otros dispositivos.",
    new_password: "Contraseña nueva",
    password_hint: "8 caracteres o más de tres tipos (minúsculas, mayúsculas, números, símbolos), o una frase de 15 o más.",
    reset_button: "Cambiar la contraseña",
    reset_done: "Listo: tu contraseña ha cambiado. Ya puedes entrar con ella.",
    bad_link_title: "Este enlace ya no sirve",
    bad_link: "El enlace ya se usó, caducó o está incompleto. Pide uno nuevo desde la página de acceso.",
};

const CA: PageTexts = PageTexts {
    verify_title: "Confirma el teu correu",
    verify_lead: "Prem el botó per confirmar que aquest correu és teu.",
    verify_button: "Confirmar el meu correu",
    verified: "Fet: el teu correu està confirmat. Ja pots tancar aquesta pàgina.",
    reset_title: "Tria una contrasenya nova",
    reset_lead: "En canviar-la es tanquen les teves sessions obertes en altres dispositius.",
    new_password: "Contrasenya nova",
    password_hint: "8 caràcters o més de tres tipus (minúscules, majúscules, números, símbols), o una frase de 15 o més.",
    reset_button: "Canviar la contrasenya",
    reset_done: "Fet: la contrasenya ha canviat. Ja hi pots entrar.",
    bad_link_title: "Aquest enllaç ja no serveix",
    bad_link: "L'enllaç ja s'ha fet servir, ha caducat o està incomplet. Demana'n un de nou des de la pàgina d'accés.",
};

const PT: PageTexts = PageTexts {
    verify_title: "Confirma o teu e-mail",
    verify_lead: "Carrega no botão para confirmar que este e-mail é teu.",
    verify_button: "Confirmar o meu e-mail",
    verified: "Pronto: o teu e-mail está confirmado. Já podes fechar esta página.",
    reset_title: "Escolhe uma palavra-passe nova",
    reset_lead: "Ao mudá-la, as tuas sessões abertas noutros dispositivos terminam.",
    new_password: "Palavra-passe nova",
    password_hint: "8 caracteres ou mais de três tipos (minúsculas, maiúsculas, números, símbolos), ou uma frase de 15 ou mais.",
    reset_button: "Mudar a palavra-passe",
    reset_done: "Pronto: a tua palavra-passe mudou. Já podes entrar com ela.",
    bad_link_title: "Esta ligação já não serve",
    bad_link: "A ligação já foi usada, expirou ou está incompleta. Pede uma nova na página de acesso.",
};

const EN: PageTexts = PageTexts {
    verify_title: "Confirm your email",
    verify_lead: "Press the button to confirm this email address is yours.",
    verify_button: "Confirm my email",
    verified: "Done: your email is confirmed. You can close this page.",
    reset_title: "Choose a new password",
    reset_lead: "Changing it signs you out on your other devices.",
    new_password: "New password",
    password_hint: "8 or more characters of three kinds (lower case, upper case, digits, symbols), or a phrase of 15 or more.",
    reset_button: "Change the password",
    reset_done: "Done: your password is changed. You can sign in with it now.",
    bad_link_title: "This link no longer works",
    bad_link: "The link was used already, has expired or is incomplete. Ask for a new one from the sign-in page.",
};

pub fn page_texts(lang: Lang) -> &'static PageTexts {
    match lang {
        Lang::Es => &ES,
        Lang::Ca => &CA,
        Lang::Pt => &PT,
        Lang::En => &EN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mail_names_the_site_and_carries_the_link_in_every_language() {
        for purpose in [Purpose::VerifyEmail, Purpose::ResetPassword] {
            for lang in Lang::ALL {
                let (subject, text) = mail(purpose, lang, "Cocinas López", "https://x/t?token=T");
                assert!(subject.contains("Cocinas López"), "{purpose:?} {lang:?}");
                assert!(
                    text.contains("https://x/t?token=T\n"),
                    "{purpose:?} {lang:?}"
                );
                assert!(
                    !text.contains('{'),
                    "{purpose:?} {lang:?}: a placeholder left"
                );
            }
        }
    }

    #[test]
    fn purposes_round_trip() {
        for p in [Purpose::VerifyEmail, Purpose::ResetPassword] {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("login"), None);
        assert!(Purpose::ResetPassword.ttl_secs() <= 3600);
    }
}
