//! Reading what a judge model actually writes.
//!
//! Real judges fence their JSON, put prose around it, write full-width digits or punctuation (`３`,
//! `：`), give the score as a string (`"3"`, `"3分"`), wrap the object (`{"scores": {…}}`) or leave a
//! dimension out. All of that is read. What is not guessed: a score outside the dimension's scale or
//! not a whole number is rejected (never clamped or rounded), and a dimension the reply does not score
//! stays unscored — the caller retries (bounded) and otherwise records a judge error, never a made-up
//! score. An explicit `"score": null` is the judge saying the dimension does not apply to this answer.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::inputs::rubric::Dimension;
use crate::score::json::extract_object;

/// What a reply says about one dimension, when it says something usable.
#[derive(Debug, Clone, PartialEq)]
pub enum DimReply {
    /// A whole score on the dimension's scale.
    Score {
        /// The score given.
        score: f64,
        /// The judge's justification, if given.
        justification: Option<String>,
    },
    /// `"score": null`: the judge says the dimension does not apply to this answer.
    NotApplicable {
        /// The judge's justification, if given.
        justification: Option<String>,
    },
}

/// A grading reply: the usable dimensions, and what was wrong with the rest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GradeReply {
    /// Reply of each dimension, by id.
    pub dims: BTreeMap<String, DimReply>,
    /// One line per requested dimension that is missing or rejected (or one for a reply without JSON).
    pub problems: Vec<String>,
}

impl GradeReply {
    /// The usable part, as recorded in `judgements.jsonl` (`parsed`); `None` when nothing was usable.
    pub fn parsed_json(&self) -> Option<Value> {
        if self.dims.is_empty() {
            return None;
        }
        let m: Map<String, Value> = self
            .dims
            .iter()
            .map(|(id, d)| {
                let v = match d {
                    DimReply::Score {
                        score,
                        justification,
                    } => json!({"score": score, "justification": justification}),
                    DimReply::NotApplicable { justification } => {
                        json!({"score": null, "justification": justification})
                    }
                };
                (id.clone(), v)
            })
            .collect();
        Some(Value::Object(m))
    }

    /// Why the reply could not be used, if it could not.
    pub fn parse_error(&self) -> Option<String> {
        (!self.problems.is_empty()).then(|| self.problems.join("; "))
    }
}

/// The winner of a pairwise comparison, by blind label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    /// Answer A is better.
    A,
    /// Answer B is better.
    B,
    /// Neither is better.
    Tie,
}

impl Winner {
    /// The verdict's name as the judge writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Winner::A => "A",
            Winner::B => "B",
            Winner::Tie => "tie",
        }
    }
}

/// Full-width ASCII variants (U+FF01–FF5E) and the ideographic space to ASCII; other text unchanged.
pub fn fold_full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            0x3000 => ' ',
            _ => c,
        })
        .collect()
}

/// The object of a reply: as written, else after folding full-width characters (`｛"a"：３｝`). Of the
/// candidates found, the first that `looks_right` wins, else the first found.
fn reply_object(
    raw: &str,
    looks_right: &dyn Fn(&Map<String, Value>) -> bool,
) -> Option<Map<String, Value>> {
    let folded = fold_full_width(raw);
    let candidates: Vec<Map<String, Value>> = [raw, folded.as_str()]
        .iter()
        .filter_map(|t| extract_object(t).map(|x| x.object))
        .collect();
    candidates
        .iter()
        .find(|o| looks_right(o))
        .or(candidates.first())
        .cloned()
}

/// A key of `obj` equal to `id`, else equal ignoring ASCII case.
fn lookup<'a>(obj: &'a Map<String, Value>, id: &str) -> Option<&'a Value> {
    obj.get(id).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(id))
            .map(|(_, v)| v)
    })
}

fn first_key<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| lookup(obj, k))
}

const SCORE_KEYS: [&str; 4] = ["score", "分数", "得分", "评分"];
const REASON_KEYS: [&str; 5] = [
    "justification",
    "reason",
    "理由",
    "reasoning",
    "explanation",
];

/// Read a grading reply for `dims`.
pub fn parse_grade(raw: &str, dims: &[&Dimension]) -> GradeReply {
    let has_dim = |o: &Map<String, Value>| dims.iter().any(|d| lookup(o, &d.id).is_some());
    let looks_right = |o: &Map<String, Value>| {
        has_dim(o) || (dims.len() == 1 && first_key(o, &SCORE_KEYS).is_some())
    };
    let Some(mut obj) = reply_object(raw, &looks_right) else {
        return GradeReply {
            dims: BTreeMap::new(),
            problems: vec!["no JSON object in the reply".into()],
        };
    };
    // A wrapper such as {"scores": {...}} or {"评分": {...}} around the dimensions.
    if !has_dim(&obj) {
        let inner: Vec<&Map<String, Value>> = obj.values().filter_map(Value::as_object).collect();
        if let [only] = inner.as_slice() {
            if has_dim(only) {
                obj = (*only).clone();
            }
        }
    }
    let mut out = GradeReply::default();
    for d in dims {
        let (score_v, reason) = match lookup(&obj, &d.id) {
            Some(Value::Object(o)) => (first_key(o, &SCORE_KEYS), first_key(o, &REASON_KEYS)),
            // A bare value: {"adherence": 3}.
            Some(other) => (Some(other), None),
            // One dimension asked for, answered flat: {"score": 2, "justification": "…"}.
            None if dims.len() == 1 && first_key(&obj, &SCORE_KEYS).is_some() => {
                (first_key(&obj, &SCORE_KEYS), first_key(&obj, &REASON_KEYS))
            }
            None => {
                out.problems.push(format!("{}: not in the reply", d.id));
                continue;
            }
        };
        let justification = reason.and_then(text);
        let Some(score_v) = score_v else {
            out.problems.push(format!("{}: no score", d.id));
            continue;
        };
        match read_score(score_v, d) {
            Ok(Some(score)) => {
                out.dims.insert(
                    d.id.clone(),
                    DimReply::Score {
                        score,
                        justification,
                    },
                );
            }
            Ok(None) => {
                out.dims
                    .insert(d.id.clone(), DimReply::NotApplicable { justification });
            }
            Err(e) => out.problems.push(format!("{}: {e}", d.id)),
        }
    }
    out
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A score: a number, or a string holding one (full-width digits and a trailing 分 allowed); `null` is
/// "not applicable". Rejected, never adjusted: non-numbers, non-integers, values off the scale.
pub fn read_score(v: &Value, d: &Dimension) -> Result<Option<f64>, String> {
    let x = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("score {n} is not a number"))?,
        Value::String(s) => {
            let folded = fold_full_width(s);
            let t = folded.trim();
            let t = t.strip_suffix('分').unwrap_or(t).trim();
            if t.is_empty()
                || t.eq_ignore_ascii_case("null")
                || t == "不适用"
                || t.eq_ignore_ascii_case("n/a")
            {
                return Ok(None);
            }
            t.parse::<f64>()
                .map_err(|_| format!("score {s:?} is not a number"))?
        }
        other => return Err(format!("score {other} is not a number")),
    };
    if !x.is_finite() || x.fract() != 0.0 {
        return Err(format!(
            "score {x} is not a whole number (rejected, not rounded)"
        ));
    }
    let (lo, hi) = d.scale;
    if x < lo as f64 || x > hi as f64 {
        return Err(format!(
            "score {x} is outside the scale {lo}–{hi} (rejected, not clamped)"
        ));
    }
    Ok(Some(x))
}

const WINNER_KEYS: [&str; 5] = ["winner", "better", "胜者", "更好", "result"];

/// Read a pairwise reply: the winner by label and the justification.
pub fn parse_pair(raw: &str) -> Result<(Winner, Option<String>), String> {
    let looks_right = |o: &Map<String, Value>| first_key(o, &WINNER_KEYS).is_some();
    let obj = reply_object(raw, &looks_right).ok_or("no JSON object in the reply")?;
    let v = first_key(&obj, &WINNER_KEYS).ok_or("no \"winner\" in the reply")?;
    let justification = first_key(&obj, &REASON_KEYS).and_then(text);
    let s = match v {
        Value::String(s) => s.clone(),
        other => return Err(format!("winner {other} is not \"A\", \"B\" or \"tie\"")),
    };
    let folded = fold_full_width(&s);
    let mut t = folded
        .trim()
        .trim_matches(['"', '\'', '“', '”'])
        .to_string();
    for prefix in ["回答", "answer", "模型", "model"] {
        let has = t
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix));
        if has && t.len() > prefix.len() {
            t = t[prefix.len()..].trim().to_string();
        }
    }
    let winner = match t.to_lowercase().as_str() {
        "a" => Winner::A,
        "b" => Winner::B,
        "tie" | "same" | "equal" | "draw" | "平局" | "平" | "相同" | "持平" | "一样好"
        | "两者相当" => Winner::Tie,
        _ => return Err(format!("winner {s:?} is not \"A\", \"B\" or \"tie\"")),
    };
    Ok((winner, justification))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(id: &str, lo: i64, hi: i64) -> Dimension {
        Dimension {
            id: id.into(),
            name: id.into(),
            description: None,
            scale: (lo, hi),
            levels: (lo..=hi).map(|l| (l, format!("level {l}"))).collect(),
            judged: true,
            primary: false,
            margin: None,
        }
    }

    fn scores(r: &GradeReply) -> Vec<(String, Option<f64>)> {
        r.dims
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    match v {
                        DimReply::Score { score, .. } => Some(*score),
                        DimReply::NotApplicable { .. } => None,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn fenced_json_with_prose_and_string_scores() {
        let (a, r) = (dim("adherence", 1, 3), dim("reply", 1, 3));
        let raw = "好的，以下是我的评分：\n```json\n{\"adherence\": {\"justification\": \"严格JSON\", \"score\": \"3\"},\n \"reply\": {\"score\": 2, \"justification\": \"不够自然\"}}\n```\n希望有帮助。";
        let g = parse_grade(raw, &[&a, &r]);
        assert_eq!(g.problems, Vec::<String>::new());
        assert_eq!(
            scores(&g),
            vec![("adherence".into(), Some(3.0)), ("reply".into(), Some(2.0))]
        );
        match &g.dims["adherence"] {
            DimReply::Score { justification, .. } => {
                assert_eq!(justification.as_deref(), Some("严格JSON"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn full_width_digits_and_punctuation() {
        let a = dim("adherence", 1, 3);
        // Full-width digit as a bare number: not JSON until folded.
        let g = parse_grade(
            "｛\"adherence\"：｛\"score\"：３，\"justification\"：\"好\"｝｝",
            &[&a],
        );
        assert_eq!(scores(&g), vec![("adherence".into(), Some(3.0))]);
        // Full-width digit inside a string, with 分.
        let g = parse_grade("{\"adherence\": {\"score\": \"２分\"}}", &[&a]);
        assert_eq!(scores(&g), vec![("adherence".into(), Some(2.0))]);
    }

    #[test]
    fn a_missing_dimension_is_unjudged_not_invented() {
        let (a, r) = (dim("adherence", 1, 3), dim("reply", 1, 3));
        let g = parse_grade("{\"adherence\": {\"score\": 3}}", &[&a, &r]);
        assert_eq!(scores(&g), vec![("adherence".into(), Some(3.0))]);
        assert_eq!(g.parse_error().as_deref(), Some("reply: not in the reply"));
    }

    #[test]
    fn off_scale_and_fractional_scores_are_rejected_not_clamped() {
        let (a, r, s) = (
            dim("adherence", 1, 3),
            dim("reply", 1, 3),
            dim("suggestion", 1, 3),
        );
        let g = parse_grade(
            "{\"adherence\": {\"score\": 4}, \"reply\": {\"score\": 2.5}, \"suggestion\": {\"score\": \"0\"}}",
            &[&a, &r, &s],
        );
        assert!(g.dims.is_empty(), "{g:?}");
        let e = g.parse_error().unwrap();
        assert!(
            e.contains("adherence: score 4 is outside the scale 1–3"),
            "{e}"
        );
        assert!(e.contains("reply: score 2.5 is not a whole number"), "{e}");
        assert!(e.contains("suggestion: score 0 is outside"), "{e}");
        // 0 is fine on a 0–4 scale; 3.0 is a whole number.
        let z = dim("immersion", 0, 4);
        let g = parse_grade("{\"immersion\": {\"score\": 0}}", &[&z]);
        assert_eq!(scores(&g), vec![("immersion".into(), Some(0.0))]);
        let g = parse_grade("{\"immersion\": {\"score\": 3.0}}", &[&z]);
        assert_eq!(scores(&g), vec![("immersion".into(), Some(3.0))]);
    }

    #[test]
    fn garbage_null_wrappers_and_flat_single_dimension() {
        let (a, r) = (dim("adherence", 1, 3), dim("analysis", 1, 3));
        let g = parse_grade("我认为这个回答不错，给3分。", &[&a, &r]);
        assert_eq!(
            g.parse_error().as_deref(),
            Some("no JSON object in the reply")
        );
        assert!(g.parsed_json().is_none());
        let g = parse_grade(
            "{\"scores\": {\"Adherence\": {\"score\": 1}, \"analysis\": {\"score\": null, \"justification\": \"开场白没有Analysis\"}}}",
            &[&a, &r],
        );
        assert_eq!(
            scores(&g),
            vec![("adherence".into(), Some(1.0)), ("analysis".into(), None)]
        );
        assert!(g.problems.is_empty());
        assert_eq!(
            g.parsed_json().unwrap()["analysis"],
            json!({"score": null, "justification": "开场白没有Analysis"})
        );
        let g = parse_grade("{\"score\": 2, \"justification\": \"ok\"}", &[&a]);
        assert_eq!(scores(&g), vec![("adherence".into(), Some(2.0))]);
        let g = parse_grade("{\"adherence\": 3, \"analysis\": \"三\"}", &[&a, &r]);
        assert_eq!(scores(&g), vec![("adherence".into(), Some(3.0))]);
        assert!(g
            .parse_error()
            .unwrap()
            .contains("analysis: score \"三\" is not a number"));
        // A truncated reply.
        let g = parse_grade("{\"adherence\": {\"score\": 3, \"justifica", &[&a]);
        assert_eq!(
            g.parse_error().as_deref(),
            Some("no JSON object in the reply")
        );
    }

    #[test]
    fn pair_replies() {
        assert_eq!(
            parse_pair("{\"winner\": \"A\", \"justification\": \"x\"}").unwrap(),
            (Winner::A, Some("x".into()))
        );
        assert_eq!(
            parse_pair("```json\n{\"winner\": \"回答B\"}\n```")
                .unwrap()
                .0,
            Winner::B
        );
        assert_eq!(parse_pair("{\"winner\": \"Ｂ\"}").unwrap().0, Winner::B);
        assert_eq!(
            parse_pair("结论：{\"winner\": \"Tie\"}").unwrap().0,
            Winner::Tie
        );
        assert_eq!(parse_pair("{\"winner\": \"平局\"}").unwrap().0, Winner::Tie);
        assert!(parse_pair("{\"winner\": \"both\"}")
            .unwrap_err()
            .contains("not \"A\""));
        assert!(parse_pair("A is better").is_err());
        assert!(parse_pair("{\"winner\": 1}").is_err());
    }
}
