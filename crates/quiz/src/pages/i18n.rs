//! Interface text of the public pages in Spanish, English, Portuguese and Catalan.
//!
//! Plain static tables: about sixty short strings in four languages whose only plural is
//! "1 question / N questions", so a message-format crate (fluent) would add a build-time
//! dependency and a runtime loader for nothing. Placeholders are `{name}`, filled by
//! [`fill`]. Spanish avoids the tú/vos choice (infinitives, impersonal forms) so it reads
//! naturally next to tests written in any variety; Portuguese is Brazilian. Language
//! negotiation (`Lang`) is the shared web shell's.

pub use faro_web::i18n::{Lang, fill, language_name};

/// The quiz's interface text in `lang`.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Es => &ES,
        Lang::En => &EN,
        Lang::Pt => &PT,
        Lang::Ca => &CA,
    }
}

pub struct Texts {
    pub skip_to_content: &'static str,
    pub powered_by: &'static str,
    pub home: &'static str,

    pub catalog_title: &'static str,
    pub catalog_lead: &'static str,
    pub catalog_empty: &'static str,
    pub other_languages: &'static str,
    pub minutes: &'static str,
    pub question_one: &'static str,
    pub questions_many: &'static str,
    pub take_test: &'static str,

    pub start: &'static str,
    pub you_will_learn: &'static str,
    pub anonymous: &'static str,
    pub all_tests: &'static str,

    pub progress: &'static str,
    pub next: &'static str,
    pub see_result: &'static str,
    pub skip: &'static str,
    pub optional: &'static str,
    pub sending: &'static str,
    pub hint_multi_any: &'static str,
    pub hint_multi_max: &'static str,
    pub hint_multi_range: &'static str,
    pub scale_value_label: &'static str,
    pub err_choose_one: &'static str,
    pub err_choose_range: &'static str,
    pub err_choose_exactly: &'static str,
    pub err_choose_max: &'static str,
    pub err_value: &'static str,
    pub moved_on: &'static str,
    pub rate_limited: &'static str,
    pub retry: &'static str,

    pub ready_title: &'static str,
    pub ready_body: &'static str,

    pub result_kicker: &'static str,
    pub score: &'static str,
    pub out_of: &'static str,
    pub profiles: &'static str,
    pub by_dimension: &'static str,
    pub recommendations: &'static str,
    pub share_title: &'static str,
    pub share_link_label: &'static str,
    pub copy_link: &'static str,
    pub copied: &'static str,
    pub share_native: &'static str,
    pub share_text: &'static str,
    pub share_on: &'static str,
    pub cta_title: &'static str,
    pub card_alt: &'static str,

    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub result_not_found: &'static str,
    pub test_not_found: &'static str,
    pub expired_title: &'static str,
    pub expired_body: &'static str,
    pub start_again: &'static str,
    pub error_title: &'static str,
    pub error_body: &'static str,
}

impl Texts {
    pub fn question_count(&self, n: usize) -> String {
        let template = if n == 1 {
            self.question_one
        } else {
            self.questions_many
        };
        fill(template, &[("n", &n)])
    }

    pub fn minutes(&self, n: i64) -> String {
        fill(self.minutes, &[("n", &n)])
    }

    pub fn progress(&self, n: usize, total: usize) -> String {
        fill(self.progress, &[("n", &n), ("total", &total)])
    }
}

static ES: Texts = Texts {
    skip_to_content: "Ir al contenido",
    powered_by: "Funciona con Faro",
    home: "Inicio",

    catalog_title: "Tests",
    catalog_lead: "Cuestionarios breves con un resultado al instante, listo para compartir.",
    catalog_empty: "No hay tests disponibles por ahora.",
    other_languages: "En otros idiomas",
    minutes: "{n} min",
    question_one: "1 pregunta",
    questions_many: "{n} preguntas",
    take_test: "Hacer el test",

    start: "Empezar",
    you_will_learn: "El resultado incluye",
    anonymous: "Anónimo: sin registro y sin datos personales.",
    all_tests: "Todos los tests",

    progress: "Pregunta {n} de {total}",
    next: "Siguiente",
    see_result: "Ver el resultado",
    skip: "Omitir",
    optional: "opcional",
    sending: "Enviando…",
    hint_multi_any: "Se pueden marcar varias opciones.",
    hint_multi_max: "Hasta {max} opciones.",
    hint_multi_range: "Entre {min} y {max} opciones.",
    scale_value_label: "Respuesta, de {min} a {max}",
    err_choose_one: "Falta elegir una respuesta.",
    err_choose_range: "Hay que elegir entre {min} y {max} opciones.",
    err_choose_exactly: "Hay que elegir {n} opciones.",
    err_choose_max: "Se pueden elegir hasta {max} opciones.",
    err_value: "Falta elegir un valor entre {min} y {max}.",
    moved_on: "Este test avanzó en otra pestaña: esta es la pregunta actual.",
    rate_limited: "Demasiados intentos seguidos. Se puede volver a probar en {n} segundos.",
    retry: "Reintentar",

    ready_title: "El resultado está listo",
    ready_body: "Ya respondiste todas las preguntas.",

    result_kicker: "Resultado",
    score: "Puntuación",
    out_of: "{score} de 100",
    profiles: "Perfiles",
    by_dimension: "Por dimensión",
    recommendations: "Recomendaciones",
    share_title: "Compartir este resultado",
    share_link_label: "Enlace a este resultado",
    copy_link: "Copiar enlace",
    copied: "Enlace copiado",
    share_native: "Compartir…",
    share_text: "Mi resultado en «{test}»: {profile}",
    share_on: "Compartir en {network}",
    cta_title: "¿Cuál es tu perfil?",
    card_alt: "Resultado: {profile} ({score} de 100) en «{test}»",

    not_found_title: "Página no encontrada",
    not_found_body: "La dirección no existe o ya no está disponible.",
    result_not_found: "Este resultado no existe o ya expiró.",
    test_not_found: "Este test no está disponible.",
    expired_title: "La sesión expiró",
    expired_body: "Pasó demasiado tiempo desde que empezó este test.",
    start_again: "Empezar de nuevo",
    error_title: "Algo salió mal",
    error_body: "Se produjo un error inesperado. Volver a intentarlo en unos segundos.",
};

static EN: Texts = Texts {
    skip_to_content: "Skip to content",
    powered_by: "Powered by Faro",
    home: "Home",

    catalog_title: "Tests",
    catalog_lead: "Short quizzes with an instant result you can share.",
    catalog_empty: "No tests are available right now.",
    other_languages: "In other languages",
    minutes: "{n} min",
    question_one: "1 question",
    questions_many: "{n} questions",
    take_test: "Take the test",

    start: "Start",
    you_will_learn: "Your result covers",
    anonymous: "Anonymous: no sign-up, no personal data.",
    all_tests: "All tests",

    progress: "Question {n} of {total}",
    next: "Next",
    see_result: "See my result",
    skip: "Skip",
    optional: "optional",
    sending: "Sending…",
    hint_multi_any: "Select all that apply.",
    hint_multi_max: "Select up to {max}.",
    hint_multi_range: "Select {min} to {max}.",
    scale_value_label: "Your answer, from {min} to {max}",
    err_choose_one: "Please choose an answer.",
    err_choose_range: "Please choose between {min} and {max} options.",
    err_choose_exactly: "Please choose {n} options.",
    err_choose_max: "You can choose up to {max} options.",
    err_value: "Please choose a value between {min} and {max}.",
    moved_on: "This test moved on in another tab: here is the current question.",
    rate_limited: "Too many attempts in a row. You can try again in {n} seconds.",
    retry: "Try again",

    ready_title: "Your result is ready",
    ready_body: "You answered every question.",

    result_kicker: "Result",
    score: "Score",
    out_of: "{score} out of 100",
    profiles: "Profiles",
    by_dimension: "By dimension",
    recommendations: "Recommendations",
    share_title: "Share this result",
    share_link_label: "Link to this result",
    copy_link: "Copy link",
    copied: "Link copied",
    share_native: "Share…",
    share_text: "My result in “{test}”: {profile}",
    share_on: "Share on {network}",
    cta_title: "What's your profile?",
    card_alt: "Result: {profile} ({score} out of 100) in “{test}”",

    not_found_title: "Page not found",
    not_found_body: "This address does not exist or is no longer available.",
    result_not_found: "This result does not exist or has expired.",
    test_not_found: "This test is not available.",
    expired_title: "This session has expired",
    expired_body: "Too much time has passed since this test was started.",
    start_again: "Start again",
    error_title: "Something went wrong",
    error_body: "An unexpected error occurred. Please try again in a few seconds.",
};

static PT: Texts = Texts {
    skip_to_content: "Pular para o conteúdo",
    powered_by: "Feito com Faro",
    home: "Início",

    catalog_title: "Testes",
    catalog_lead: "Questionários curtos com resultado na hora, pronto para compartilhar.",
    catalog_empty: "Nenhum teste disponível no momento.",
    other_languages: "Em outros idiomas",
    minutes: "{n} min",
    question_one: "1 pergunta",
    questions_many: "{n} perguntas",
    take_test: "Fazer o teste",

    start: "Começar",
    you_will_learn: "O resultado inclui",
    anonymous: "Anônimo: sem cadastro e sem dados pessoais.",
    all_tests: "Todos os testes",

    progress: "Pergunta {n} de {total}",
    next: "Próxima",
    see_result: "Ver o resultado",
    skip: "Pular",
    optional: "opcional",
    sending: "Enviando…",
    hint_multi_any: "Você pode marcar várias opções.",
    hint_multi_max: "Até {max} opções.",
    hint_multi_range: "Entre {min} e {max} opções.",
    scale_value_label: "Resposta, de {min} a {max}",
    err_choose_one: "Escolha uma resposta para continuar.",
    err_choose_range: "Escolha entre {min} e {max} opções.",
    err_choose_exactly: "Escolha {n} opções.",
    err_choose_max: "Você pode escolher até {max} opções.",
    err_value: "Escolha um valor entre {min} e {max}.",
    moved_on: "Este teste avançou em outra aba: esta é a pergunta atual.",
    rate_limited: "Muitas tentativas seguidas. Tente de novo em {n} segundos.",
    retry: "Tentar de novo",

    ready_title: "Seu resultado está pronto",
    ready_body: "Você respondeu a todas as perguntas.",

    result_kicker: "Resultado",
    score: "Pontuação",
    out_of: "{score} de 100",
    profiles: "Perfis",
    by_dimension: "Por dimensão",
    recommendations: "Recomendações",
    share_title: "Compartilhar este resultado",
    share_link_label: "Link deste resultado",
    copy_link: "Copiar link",
    copied: "Link copiado",
    share_native: "Compartilhar…",
    share_text: "Meu resultado em “{test}”: {profile}",
    share_on: "Compartilhar no {network}",
    cta_title: "Qual é o seu perfil?",
    card_alt: "Resultado: {profile} ({score} de 100) em “{test}”",

    not_found_title: "Página não encontrada",
    not_found_body: "Este endereço não existe ou não está mais disponível.",
    result_not_found: "Este resultado não existe ou expirou.",
    test_not_found: "Este teste não está disponível.",
    expired_title: "Esta sessão expirou",
    expired_body: "Passou tempo demais desde o início deste teste.",
    start_again: "Começar de novo",
    error_title: "Algo deu errado",
    error_body: "Ocorreu um erro inesperado. Tente de novo em alguns segundos.",
};

static CA: Texts = Texts {
    skip_to_content: "Ves al contingut",
    powered_by: "Funciona amb Faro",
    home: "Inici",

    catalog_title: "Tests",
    catalog_lead: "Qüestionaris breus amb un resultat a l'instant, a punt per compartir.",
    catalog_empty: "Ara mateix no hi ha cap test disponible.",
    other_languages: "En altres idiomes",
    minutes: "{n} min",
    question_one: "1 pregunta",
    questions_many: "{n} preguntes",
    take_test: "Fer el test",

    start: "Començar",
    you_will_learn: "El resultat inclou",
    anonymous: "Anònim: sense registre i sense dades personals.",
    all_tests: "Tots els tests",

    progress: "Pregunta {n} de {total}",
    next: "Següent",
    see_result: "Veure el resultat",
    skip: "Omet",
    optional: "opcional",
    sending: "S'està enviant…",
    hint_multi_any: "Se'n poden marcar diverses.",
    hint_multi_max: "Fins a {max} opcions.",
    hint_multi_range: "Entre {min} i {max} opcions.",
    scale_value_label: "Resposta, de {min} a {max}",
    err_choose_one: "Cal triar una resposta.",
    err_choose_range: "Cal triar entre {min} i {max} opcions.",
    err_choose_exactly: "Cal triar {n} opcions.",
    err_choose_max: "Es poden triar fins a {max} opcions.",
    err_value: "Cal triar un valor entre {min} i {max}.",
    moved_on: "Aquest test ha avançat en una altra pestanya: aquesta és la pregunta actual.",
    rate_limited: "Massa intents seguits. Es pot tornar a provar d'aquí a {n} segons.",
    retry: "Torna-ho a provar",

    ready_title: "El resultat és a punt",
    ready_body: "Has respost totes les preguntes.",

    result_kicker: "Resultat",
    score: "Puntuació",
    out_of: "{score} de 100",
    profiles: "Perfils",
    by_dimension: "Per dimensió",
    recommendations: "Recomanacions",
    share_title: "Compartir aquest resultat",
    share_link_label: "Enllaç a aquest resultat",
    copy_link: "Copia l'enllaç",
    copied: "Enllaç copiat",
    share_native: "Comparteix…",
    share_text: "El meu resultat a «{test}»: {profile}",
    share_on: "Compartir a {network}",
    cta_title: "Quin és el teu perfil?",
    card_alt: "Resultat: {profile} ({score} de 100) a «{test}»",

    not_found_title: "No s'ha trobat la pàgina",
    not_found_body: "Aquesta adreça no existeix o ja no està disponible.",
    result_not_found: "Aquest resultat no existeix o ha caducat.",
    test_not_found: "Aquest test no està disponible.",
    expired_title: "La sessió ha caducat",
    expired_body: "Ha passat massa temps des que es va començar aquest test.",
    start_again: "Torna a començar",
    error_title: "Alguna cosa ha fallat",
    error_body: "S'ha produït un error inesperat. Torna-ho a provar d'aquí a uns segons.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_fills_its_placeholders() {
        for lang in Lang::ALL {
            let t = texts(lang);
            assert!(t.progress(2, 7).contains('2') && t.progress(2, 7).contains('7'));
            assert!(t.question_count(1).starts_with('1'));
            assert!(t.question_count(5).contains('5'));
            for s in [t.out_of, t.share_text, t.card_alt, t.rate_limited] {
                assert!(
                    s.contains('{'),
                    "{s} in {} has its placeholders",
                    lang.code()
                );
            }
        }
    }
}
