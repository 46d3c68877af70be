//! The password policy for every account Faro creates (staff, tenant owners, end users):
//! at least 8 characters from three of the four classes (lowercase, uppercase, digits,
//! symbols), or a passphrase of at least 15 characters; never a commonly used password.
//! Length counts characters, not bytes, so "contraseña" is ten long.

use crate::password::MAX_PASSWORD_LEN;

/// The shortest password that needs three character classes.
pub const MIN_LEN: usize = 8;
/// From this length on, any characters will do: length beats composition rules.
pub const PASSPHRASE_LEN: usize = 15;

/// Passwords that lists of breached accounts put at the top, lower-cased. A candidate is
/// refused when its lower-cased form, with trailing digits and symbols stripped, is here or
/// is one of these followed by digits (`Password2024!`).
const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "contraseña",
    "contrasena",
    "contrasenya",
    "senha",
    "qwerty",
    "qwertyuiop",
    "asdfghjkl",
    "azerty",
    "letmein",
    "welcome",
    "bienvenido",
    "benvingut",
    "admin",
    "administrator",
    "administrador",
    "iloveyou",
    "teamo",
    "tequiero",
    "monkey",
    "dragon",
    "football",
    "futbol",
    "baseball",
    "superman",
    "batman",
    "princess",
    "sunshine",
    "master",
    "shadow",
    "starwars",
    "pokemon",
    "charlie",
    "michael",
    "barcelona",
    "madrid",
    "realmadrid",
    "benfica",
    "flamengo",
    "changeme",
    "default",
    "secret",
    "faro",
    "abc",
    "abcdef",
    "abcd",
    "qazwsx",
    "zaq1",
    "trustno1",
    "hello",
    "hola",
    "ola",
    "login",
    "user",
    "usuario",
    "guest",
    "test",
    "prueba",
    "temporal",
    "summer",
    "winter",
    "verano",
    "invierno",
    "spring",
    "autumn",
    "123456",
    "12345678",
    "123456789",
    "1234567890",
    "987654321",
    "111111",
    "000000",
    "121212",
    "654321",
    "666666",
    "112233",
    "1q2w3e4r",
    "1qaz2wsx",
    "q1w2e3r4",
    "qwerty123",
    "aa123456",
    "abc123",
    "password1",
    "google",
    "facebook",
    "instagram",
    "whatever",
    "freedom",
    "computer",
    "internet",
    "samsung",
    "iphone",
    "jesus",
    "cristiano",
    "messi",
    "maria",
    "mariposa",
    "tesoro",
    "corazon",
    "amor",
    "familia",
];

/// Why a password is refused, in words a person can act on; `None` when it is acceptable.
pub fn check(password: &str) -> Result<(), String> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(format!("at most {MAX_PASSWORD_LEN} bytes"));
    }
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(format!(
            "at least {MIN_LEN} characters with three of: lowercase, uppercase, digits, symbols \
             (or a passphrase of {PASSPHRASE_LEN} or more)"
        ));
    }
    if is_common(password) {
        return Err("this password is one of the most used ones: choose another".into());
    }
    if len >= PASSPHRASE_LEN {
        return Ok(());
    }
    let classes = [
        password.chars().any(char::is_lowercase),
        password.chars().any(char::is_uppercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() >= 3 {
        Ok(())
    } else {
        Err(format!(
            "use three of: lowercase, uppercase, digits, symbols; or a passphrase of \
             {PASSPHRASE_LEN} characters or more"
        ))
    }
}

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || !c.is_alphanumeric());
    // All digits or symbols ("12345678!"): the stem is empty, and so is its strength.
    if stem.is_empty() {
        return true;
    }
    COMMON.contains(&stem) || COMMON.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn three_classes_or_a_passphrase() {
        for ok in [
            "Tr4vesia",
            "kitchen-Blue7",
            "correct horse battery",
            "una casa junto al mar",
            "ÁrbolVerde9",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "Ab1!",
            "abcdefgh",
            "abcdefg1",
            "ABCDEFG1",
            "ab cd ef",
            "short phrase",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn common_passwords_are_refused_whatever_the_decoration() {
        for bad in [
            "Password1!",
            "Password2024!",
            "P@ssw0rd",
            "Qwerty123",
            "Barcelona1899",
            "12345678",
            "123456789012345",
            "Contraseña1",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlong_passwords_are_refused() {
        assert!(check(&"a".repeat(MAX_PASSWORD_LEN + 1)).is_err());
        assert!(check(&format!("Xx1{}", "a".repeat(MAX_PASSWORD_LEN - 3))).is_ok());
    }

    #[test]
    fn length_counts_characters() {
        // Seven characters, eleven bytes: too short whatever the classes.
        assert!(check("Ñáé1!ñó").is_err());
        assert!(check("Ñáé1!ñóx").is_ok());
    }

    proptest! {
        /// Anything shorter than eight characters is refused, and any refusal says why.
        #[test]
        fn short_is_never_enough(p in "\\PC{0,7}") {
            prop_assert!(check(&p).is_err());
        }

        /// Long random passphrases pass unless they are made of digits and symbols only.
        #[test]
        fn long_letters_pass(p in "[a-z]{15,40}") {
            prop_assert!(check(&p).is_ok() || is_common(&p));
        }
    }
}
