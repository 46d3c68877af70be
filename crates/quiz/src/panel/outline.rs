//! Places validation problems where an author looks for them.
//!
//! The validator reports problems by path (`questions[2].options[1].next`). This module turns
//! a document (even one that failed validation, as long as it is syntactically JSON or YAML)
//! into an outline of cards (document, dimensions, questions with their options, rules,
//! profiles), and files every problem under the card and option it names, so the editor can
//! list them grouped per question, highlight the cards and link to them.

use std::collections::BTreeMap;

use faro_quiz_domain::{Format, Problem};
use serde_json::Value;

use crate::service::{doc_questions, key_of, rule_names};

/// One step of a problem path.
#[derive(Debug, PartialEq, Eq)]
pub enum Seg<'a> {
    Field(&'a str),
    Index(usize),
}

/// Splits `questions[2].options[1].next` into its steps. Dimension keys inside score maps
/// (`scores.horizon`) come out as fields too.
pub fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            out.push(Seg::Field(name));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(n) = rest[1..close].parse() {
                out.push(Seg::Index(n));
            }
            rest = &rest[close + 1..];
        }
    }
    out
}

/// A problem as shown: where (in words) and what.
#[derive(Clone, Debug)]
pub struct Item {
    pub path: String,
    /// "option 2 (`b`) · next", "text", "" for the card itself.
    pub place: String,
    pub message: String,
}

/// Problems filed under one card, for the grouped list next to the editor.
pub struct Group {
    /// The card's element id (`question-3`), for links.
    pub anchor: String,
    pub heading: String,
    /// The per-question editor, for a saved draft's question.
    pub edit_url: Option<String>,
    pub items: Vec<Item>,
}

pub struct OptionCard {
    pub key: String,
    pub text: String,
    /// "horizon 5 · tolerance 2", or "" without scores.
    pub scores: String,
    /// Where the option jumps (`q5`, `end`), if anywhere.
    pub next: String,
    pub problems: Vec<Item>,
}

pub struct QuestionCard {
    pub number: usize,
    pub anchor: String,
    pub key: String,
    pub kind: String,
    pub text: String,
    pub help: String,
    pub required: bool,
    /// "1 to 3 choices" (multi) or "1 – 5 (Never – Always)" (scale), else "".
    pub constraint: String,
    pub scale_scores: String,
    /// The points a visitor can pick on a scale (empty for wide scales and other types).
    pub scale_points: Vec<i64>,
    pub options: Vec<OptionCard>,
    /// Rules whose condition names this question, in words.
    pub rules: Vec<String>,
    /// Problems of the question itself (not of one of its options).
    pub problems: Vec<Item>,
    pub has_problems: bool,
    pub edit_url: Option<String>,
}

/// A small card (dimension, rule, profile).
pub struct Card {
    pub anchor: String,
    pub title: String,
    pub detail: String,
    pub problems: Vec<Item>,
}

/// A whole document laid out for the editor and the preview.
pub struct Outline {
    pub title: String,
    pub slug: String,
    pub description: String,
    pub document_problems: Vec<Item>,
    pub dimensions: Vec<Card>,
    pub questions: Vec<QuestionCard>,
    pub rules: Vec<Card>,
    pub profiles: Vec<Card>,
    pub groups: Vec<Group>,
    pub problem_count: usize,
}

/// Reads a document into a JSON value for the outline; `None` when it is not even
/// syntactically JSON/YAML (the problem list then holds the parser's message).
pub fn document_value(text: &str, format: Format) -> Option<Value> {
    match format {
        Format::Json => serde_json::from_str(text).ok(),
        Format::Yaml => yaml_serde::from_str(text).ok(),
    }
}

fn str_at<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn scores_text(v: Option<&Value>) -> String {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(" · ")
        })
        .unwrap_or_default()
}

fn scalar(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A rule's condition and effect in words: "if q3 = crypto → add tolerance 2".
fn rule_text(rule: &Value) -> String {
    let cond = rule.get("if").cloned().unwrap_or(Value::Null);
    let q = str_at(&cond, "question");
    let when = if let Some(o) = cond.get("option") {
        format!("{q} = {}", scalar(Some(o)))
    } else if let Some(list) = cond.get("any_of").and_then(Value::as_array) {
        let keys: Vec<String> = list.iter().map(|v| scalar(Some(v))).collect();
        format!("{q} any of {}", keys.join(", "))
    } else if let Some(n) = cond.get("value_gte") {
        format!("{q} ≥ {}", scalar(Some(n)))
    } else if let Some(n) = cond.get("value_lte") {
        format!("{q} ≤ {}", scalar(Some(n)))
    } else {
        format!("{q} ?")
    };
    let then = rule.get("then").cloned().unwrap_or(Value::Null);
    let mut effects = Vec::new();
    let add = scores_text(then.get("add"));
    if !add.is_empty() {
        effects.push(format!("add {add}"));
    }
    if let Some(to) = then.get("skip_to") {
        effects.push(format!("skip to {}", scalar(Some(to))));
    }
    format!("if {when} → {}", effects.join(", "))
}

/// Which card a problem belongs to.
enum Owner {
    Document,
    Dimension(usize),
    Question(usize, Option<usize>),
    Rule(usize),
    Profile(usize),
}

fn owner_and_place(path: &str, doc: &Value) -> (Owner, String) {
    let segs = segments(path);
    let rest = |from: usize| -> String {
        segs.iter()
            .skip(from)
            .map(|s| match s {
                Seg::Field(f) => (*f).to_string(),
                Seg::Index(n) => format!("[{n}]"),
            })
            .collect::<Vec<_>>()
            .join(".")
            .replace(".[", "[")
    };
    match segs.as_slice() {
        [
            Seg::Field("questions"),
            Seg::Index(i),
            Seg::Field("options"),
            Seg::Index(j),
            ..,
        ] => {
            let key = doc_questions(doc)
                .get(*i)
                .and_then(|q| q.get("options"))
                .and_then(|o| o.get(*j))
                .and_then(key_of)
                .map(|k| format!(" (`{k}`)"))
                .unwrap_or_default();
            let field = rest(4);
            let place = if field.is_empty() {
                format!("option {}{key}", j + 1)
            } else {
                format!("option {}{key} · {field}", j + 1)
            };
            (Owner::Question(*i, Some(*j)), place)
        }
        [Seg::Field("questions"), Seg::Index(i), ..] => (Owner::Question(*i, None), rest(2)),
        [Seg::Field("question"), ..] => (Owner::Document, path.to_string()),
        [Seg::Field("dimensions"), Seg::Index(i), ..] => (Owner::Dimension(*i), rest(2)),
        [Seg::Field("rules"), Seg::Index(i), ..] => (Owner::Rule(*i), rest(2)),
        [Seg::Field("profiles"), Seg::Index(i), ..] => (Owner::Profile(*i), rest(2)),
        _ => (Owner::Document, path.to_string()),
    }
}

/// Builds the outline of `doc` (if it could be read at all) with `problems` filed under their
/// cards. `edit_base` (`/admin/tests/ID/versions/N`) adds links to the per-question editor.
pub fn outline(doc: Option<&Value>, problems: &[Problem], edit_base: Option<&str>) -> Outline {
    let empty = Value::Null;
    let doc = doc.unwrap_or(&empty);
    let edit_url = |key: &str| {
        edit_base
            .filter(|_| !key.is_empty())
            .map(|b| format!("{b}/questions/{key}"))
    };
    let mut questions: Vec<QuestionCard> = doc_questions(doc)
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let key = str_at(q, "key").to_string();
            let kind = str_at(q, "type").to_string();
            let options = q
                .get("options")
                .and_then(Value::as_array)
                .map(|os| {
                    os.iter()
                        .map(|o| OptionCard {
                            key: str_at(o, "key").to_string(),
                            text: str_at(o, "text").to_string(),
                            scores: scores_text(o.get("scores")),
                            next: scalar(o.get("next")),
                            problems: Vec::new(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let scale = q.get("scale").cloned().unwrap_or(Value::Null);
            let constraint = match kind.as_str() {
                "multi" => {
                    let min = scalar(q.get("min_select"));
                    let max = scalar(q.get("max_select"));
                    format!(
                        "choose {} to {}",
                        if min.is_empty() { "1".into() } else { min },
                        if max.is_empty() { "all".into() } else { max }
                    )
                }
                "scale" => {
                    let labels = match (
                        scalar(scale.get("min_label")),
                        scalar(scale.get("max_label")),
                    ) {
                        (a, b) if a.is_empty() && b.is_empty() => String::new(),
                        (a, b) => format!(" ({a} – {b})"),
                    };
                    format!(
                        "from {} to {}{labels}",
                        scalar(scale.get("min")),
                        scalar(scale.get("max"))
                    )
                }
                _ => String::new(),
            };
            let rules = doc
                .get("rules")
                .and_then(Value::as_array)
                .map(|rs| {
                    rs.iter()
                        .filter(|r| rule_names(r, &key))
                        .map(rule_text)
                        .collect()
                })
                .unwrap_or_default();
            let scale_points = match (
                scale.get("min").and_then(Value::as_i64),
                scale.get("max").and_then(Value::as_i64),
            ) {
                (Some(lo), Some(hi)) if kind == "scale" && lo <= hi && hi - lo <= 20 => {
                    (lo..=hi).collect()
                }
                _ => Vec::new(),
            };
            QuestionCard {
                number: i + 1,
                anchor: format!("question-{i}"),
                edit_url: edit_url(&key),
                key,
                kind,
                text: str_at(q, "text").to_string(),
                help: str_at(q, "help").to_string(),
                required: q.get("required").and_then(Value::as_bool).unwrap_or(true),
                constraint,
                scale_scores: scores_text(scale.get("scores_per_point")),
                scale_points,
                options,
                rules,
                problems: Vec::new(),
                has_problems: false,
            }
        })
        .collect();
    let list = |field: &str| -> Vec<Value> {
        doc.get(field)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut dimensions: Vec<Card> = list("dimensions")
        .iter()
        .enumerate()
        .map(|(i, d)| Card {
            anchor: format!("dimension-{i}"),
            title: format!("{} ({})", str_at(d, "label"), str_at(d, "key")),
            detail: format!("weight {}", {
                let w = scalar(d.get("weight"));
                if w.is_empty() { "1".into() } else { w }
            }),
            problems: Vec::new(),
        })
        .collect();
    let mut rules: Vec<Card> = list("rules")
        .iter()
        .enumerate()
        .map(|(i, r)| Card {
            anchor: format!("rule-{i}"),
            title: format!("Rule {}", i + 1),
            detail: rule_text(r),
            problems: Vec::new(),
        })
        .collect();
    let mut profiles: Vec<Card> = list("profiles")
        .iter()
        .enumerate()
        .map(|(i, p)| Card {
            anchor: format!("profile-{i}"),
            title: format!("{} ({})", str_at(p, "title"), str_at(p, "code")),
            detail: format!("score {} to {}", scalar(p.get("min")), scalar(p.get("max"))),
            problems: Vec::new(),
        })
        .collect();

    // File each problem under its card, and build the grouped list in document order.
    let mut document_problems = Vec::new();
    let mut grouped: BTreeMap<(u8, usize), Vec<Item>> = BTreeMap::new();
    for p in problems {
        let (owner, place) = owner_and_place(&p.path, doc);
        let item = Item {
            path: if p.path.is_empty() {
                "(document)".into()
            } else {
                p.path.clone()
            },
            place,
            message: p.message.clone(),
        };
        let group_key = match owner {
            Owner::Document => (0, 0),
            Owner::Dimension(i) => (1, i),
            Owner::Question(i, _) => (2, i),
            Owner::Rule(i) => (3, i),
            Owner::Profile(i) => (4, i),
        };
        grouped.entry(group_key).or_default().push(item.clone());
        match owner {
            Owner::Document => document_problems.push(item),
            Owner::Question(i, option) => match questions.get_mut(i) {
                Some(q) => {
                    q.has_problems = true;
                    match option.and_then(|j| q.options.get_mut(j)) {
                        Some(o) => o.problems.push(item),
                        None => q.problems.push(item),
                    }
                }
                None => document_problems.push(item),
            },
            Owner::Dimension(i) => push_card(&mut dimensions, i, item, &mut document_problems),
            Owner::Rule(i) => push_card(&mut rules, i, item, &mut document_problems),
            Owner::Profile(i) => push_card(&mut profiles, i, item, &mut document_problems),
        }
    }
    let groups = grouped
        .into_iter()
        .map(|((kind, i), items)| {
            let (anchor, heading, edit_url) = match kind {
                0 => ("document".to_string(), "Document".to_string(), None),
                1 => (
                    format!("dimension-{i}"),
                    dimensions
                        .get(i)
                        .map(|d| format!("Dimension {} · {}", i + 1, d.title))
                        .unwrap_or_else(|| format!("Dimension {}", i + 1)),
                    None,
                ),
                2 => match questions.get(i) {
                    Some(q) => (
                        q.anchor.clone(),
                        format!("Question {} · {} · {}", q.number, q.key, q.text),
                        q.edit_url.clone(),
                    ),
                    None => (format!("question-{i}"), format!("Question {}", i + 1), None),
                },
                3 => (format!("rule-{i}"), format!("Rule {}", i + 1), None),
                _ => (
                    format!("profile-{i}"),
                    profiles
                        .get(i)
                        .map(|p| format!("Profile {} · {}", i + 1, p.title))
                        .unwrap_or_else(|| format!("Profile {}", i + 1)),
                    None,
                ),
            };
            Group {
                anchor,
                heading,
                edit_url,
                items,
            }
        })
        .collect();
    Outline {
        title: str_at(doc, "title").to_string(),
        slug: str_at(doc, "slug").to_string(),
        description: str_at(doc, "description").to_string(),
        document_problems,
        dimensions,
        questions,
        rules,
        profiles,
        groups,
        problem_count: problems.len(),
    }
}

fn push_card(cards: &mut [Card], i: usize, item: Item, fallback: &mut Vec<Item>) {
    match cards.get_mut(i) {
        Some(c) => c.problems.push(item),
        None => fallback.push(item),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_split_into_steps() {
        assert_eq!(
            segments("questions[2].options[1].next"),
            vec![
                Seg::Field("questions"),
                Seg::Index(2),
                Seg::Field("options"),
                Seg::Index(1),
                Seg::Field("next")
            ]
        );
        assert_eq!(segments(""), vec![]);
        assert_eq!(segments("slug"), vec![Seg::Field("slug")]);
    }

    #[test]
    fn problems_land_on_their_question_and_option() {
        let doc = json!({
            "title": "T",
            "questions": [
                {"key": "q1", "type": "single", "text": "One?", "options": [
                    {"key": "a", "text": "A"}, {"key": "b", "text": "B", "next": "zz"}]},
                {"key": "q2", "type": "scale", "text": "Two?", "scale": {"min": 1, "max": 5}}
            ],
            "profiles": [{"code": "LOW", "title": "Low", "min": 0, "max": 40}]
        });
        let problems = vec![
            Problem::new("questions[0].options[1].next", "unknown question `zz`"),
            Problem::new("questions[1].text", "must not be empty"),
            Problem::new("profiles", "scores 41 to 100 have no profile"),
            Problem::new("profiles[0].min", "bad"),
            Problem::new("slug", "is required"),
        ];
        let o = outline(Some(&doc), &problems, Some("/admin/tests/t/versions/1"));
        assert_eq!(o.problem_count, 5);
        assert!(o.questions[0].has_problems);
        assert!(o.questions[0].problems.is_empty());
        assert_eq!(o.questions[0].options[1].problems.len(), 1);
        assert_eq!(
            o.questions[0].options[1].problems[0].place,
            "option 2 (`b`) · next"
        );
        assert_eq!(o.questions[1].problems[0].place, "text");
        assert_eq!(o.profiles[0].problems.len(), 1);
        assert_eq!(o.document_problems.len(), 2);
        let headings: Vec<&str> = o.groups.iter().map(|g| g.heading.as_str()).collect();
        assert_eq!(
            headings,
            vec![
                "Document",
                "Question 1 · q1 · One?",
                "Question 2 · q2 · Two?",
                "Profile 1 · Low (LOW)"
            ]
        );
        assert_eq!(o.groups[1].anchor, "question-0");
        assert_eq!(
            o.groups[1].edit_url.as_deref(),
            Some("/admin/tests/t/versions/1/questions/q1")
        );
    }

    #[test]
    fn an_unreadable_document_keeps_every_problem() {
        let o = outline(None, &[Problem::new("", "not valid JSON")], None);
        assert_eq!(o.document_problems.len(), 1);
        assert_eq!(o.document_problems[0].path, "(document)");
        assert!(o.questions.is_empty());
    }

    #[test]
    fn rules_read_as_sentences() {
        let r = json!({"if": {"question": "q3", "option": "crypto"}, "then": {"add": {"tolerance": 2}}});
        assert_eq!(rule_text(&r), "if q3 = crypto → add tolerance 2");
        let r = json!({"if": {"question": "q4", "value_lte": 2}, "then": {"skip_to": "end"}});
        assert_eq!(rule_text(&r), "if q4 ≤ 2 → skip to end");
    }
}
