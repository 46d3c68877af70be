//! The converter's reward design (seed 002, "Sistema de Recompensas") as data: what the demo
//! tenant ships, and a tenant's starting point. Events follow Faro's `module.action` kinds:
//! a conversion is `conversion.completed`, a payment `payment.succeeded` with `amount_eur`.

use serde_json::json;

use crate::badges::Badge;
use crate::challenges::Template;
use crate::levels::{Level, Levels};
use crate::rules::Rule;

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    // The data below is ours and fixed: a failure is a bug caught by the tests.
    serde_json::from_value(v).unwrap_or_else(|e| panic!("demo data: {e}"))
}

/// What the demo lets a signed-in end user report about themselves: a daily visit, an
/// opinion, a share (each capped per day by its rule: 5, 45 and 60 points, so reporting them
/// over and over earns nothing more); payments and conversions come from servers.
pub const USER_EVENTS: [&str; 3] = ["user.daily_login", "feedback.given", "content.shared"];

/// The point table: conversion 10, daily login 5 (once a day), first conversion 50 once,
/// payment 10 per EUR, feedback 15, share 20, plus the quiz's own events. Streak milestones
/// (25 every 7 days), challenges and badges give their points themselves.
pub fn rules() -> Vec<Rule> {
    parse(json!([
        {"key": "conversion", "name": "Conversión completada", "event": "conversion.completed",
         "award": {"type": "points", "points": 10}},
        {"key": "first_conversion", "name": "Primera conversión", "event": "conversion.completed",
         "once_per_user": true, "award": {"type": "points", "points": 50}},
        {"key": "daily_login", "name": "Inicio de sesión diario", "event": "user.daily_login",
         "cap": {"points": 5, "period": "day"}, "award": {"type": "points", "points": 5}},
        {"key": "payment", "name": "Pago", "event": "payment.succeeded",
         "award": {"type": "points_per", "prop": "amount_eur", "per_unit": 10}},
        {"key": "feedback", "name": "Opinión enviada", "event": "feedback.given",
         "cap": {"points": 45, "period": "day"}, "award": {"type": "points", "points": 15}},
        {"key": "share", "name": "Compartido en redes", "event": "content.shared",
         "cap": {"points": 60, "period": "day"}, "award": {"type": "points", "points": 20}},
        {"key": "quiz_finished", "name": "Test completado", "event": "quiz.finished",
         "award": {"type": "points", "points": 10}},
        {"key": "quiz_shared", "name": "Resultado compartido", "event": "quiz.result_shared",
         "cap": {"points": 60, "period": "day"}, "award": {"type": "points", "points": 20}}
    ]))
}

/// The ten levels, "Novato Converter" at 0 to "Emperador de Conversiones" at 10,000.
pub fn levels() -> Levels {
    let table = [
        ("Novato Converter", 0),
        ("Explorador Digital", 100),
        ("Convertidor Hábil", 300),
        ("Maestro de Formatos", 600),
        ("Experto en Conversión", 1_000),
        ("Gurú de Archivos", 1_500),
        ("Leyenda Digital", 2_500),
        ("Campeón Converter", 4_000),
        ("Maestro Supremo", 6_000),
        ("Emperador de Conversiones", 10_000),
    ];
    Levels::new(
        table
            .iter()
            .map(|(title, min_points)| Level {
                title: (*title).to_owned(),
                min_points: *min_points,
            })
            .collect(),
    )
    .unwrap_or_else(|p| panic!("demo levels: {p:?}"))
}

/// The twelve badges: five milestones, two streaks, two levels, three specials.
pub fn badges() -> Vec<Badge> {
    let conv = "conversion.completed";
    parse(json!([
        {"key": "primer_paso", "name": "Primer Paso", "description": "Completa tu primera conversión",
         "icon": "🎯", "rarity": "common", "points": 50,
         "criterion": {"type": "milestone", "event": conv, "count": 1}},
        {"key": "veterano_converter", "name": "Veterano Converter", "description": "10 conversiones",
         "icon": "⭐", "rarity": "common", "points": 100,
         "criterion": {"type": "milestone", "event": conv, "count": 10}},
        {"key": "experto_en_conversion", "name": "Experto en Conversión", "description": "50 conversiones",
         "icon": "🏆", "rarity": "uncommon", "points": 250,
         "criterion": {"type": "milestone", "event": conv, "count": 50}},
        {"key": "maestro_de_conversiones", "name": "Maestro de Conversiones", "description": "100 conversiones",
         "icon": "👑", "rarity": "rare", "points": 500,
         "criterion": {"type": "milestone", "event": conv, "count": 100}},
        {"key": "leyenda_digital", "name": "Leyenda Digital", "description": "500 conversiones",
         "icon": "💎", "rarity": "legendary", "points": 1000,
         "criterion": {"type": "milestone", "event": conv, "count": 500}},
        {"key": "semana_perfecta", "name": "Semana Perfecta", "description": "7 días seguidos",
         "icon": "🔥", "rarity": "uncommon", "points": 150,
         "criterion": {"type": "streak", "days": 7}},
        {"key": "mes_imparable", "name": "Mes Imparable", "description": "30 días seguidos",
         "icon": "🚀", "rarity": "epic", "points": 750,
         "criterion": {"type": "streak", "days": 30}},
        {"key": "maestro_de_formatos", "name": "Maestro de Formatos", "description": "Alcanza el nivel 5",
         "icon": "🎖️", "rarity": "rare", "points": 200,
         "criterion": {"type": "level", "level": 5}},
        {"key": "emperador_de_conversiones", "name": "Emperador de Conversiones", "description": "Alcanza el nivel 10",
         "icon": "👑", "rarity": "legendary", "points": 1000,
         "criterion": {"type": "level", "level": 10}},
        {"key": "domador_de_gigantes", "name": "Domador de Gigantes", "description": "Convierte un archivo de más de 100 MB",
         "icon": "🐘", "rarity": "rare", "points": 100,
         "criterion": {"type": "property_over", "event": conv, "prop": "size_mb", "threshold": 100}},
        {"key": "demonio_de_la_velocidad", "name": "Demonio de la Velocidad", "description": "5 conversiones en una hora",
         "icon": "⚡", "rarity": "epic", "points": 150,
         "criterion": {"type": "burst", "event": conv, "count": 5, "within_secs": 3600}},
        {"key": "adoptador_temprano", "name": "Adoptador Temprano", "description": "Entre los primeros 100 usuarios",
         "icon": "🌟", "rarity": "legendary", "points": 500,
         "criterion": {"type": "first_users", "users": 100}}
    ]))
}

/// The four weekly challenge templates.
pub fn templates() -> Vec<Template> {
    let conv = "conversion.completed";
    parse(json!([
        {"key": "convertidor_activo", "name": "Convertidor Activo", "description": "10 conversiones esta semana",
         "points": 150, "goal": {"type": "count", "event": conv, "count": 10}},
        {"key": "explorador_de_formatos", "name": "Explorador de Formatos", "description": "5 formatos diferentes",
         "points": 200, "goal": {"type": "distinct", "event": conv, "prop": "target_format", "count": 5}},
        {"key": "racha_semanal", "name": "Racha Semanal", "description": "7 días seguidos",
         "points": 250, "goal": {"type": "streak", "days": 7}},
        {"key": "archivos_grandes", "name": "Archivos Grandes", "description": "3 archivos de más de 50 MB",
         "points": 180, "goal": {"type": "count_over", "event": conv, "prop": "size_mb", "threshold": 50, "count": 3}}
    ]))
}

/// Points for every 7th day in a row.
pub const STREAK_MILESTONE_POINTS: i64 = 25;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_design_is_valid() {
        assert!(crate::rules::check_rules(&rules()).is_empty());
        assert_eq!(levels().all().len(), 10);
        assert_eq!(badges().len(), 12);
        assert_eq!(templates().len(), 4);
    }
}
