//! Reading a rubric file and validating it into a [`Rubric`].

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::checks::RawRule;
use super::types::*;
use crate::error::UsageError;

/// Load and validate a rubric file.
pub fn load(path: &Path) -> Result<Rubric, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError::in_file(path, format!("cannot read rubric: {e}")))?;
    parse(path, &text)
}

/// Parse and validate rubric text; `path` is used in messages only.
pub fn parse(path: &Path, text: &str) -> Result<Rubric, UsageError> {
    let raw: RawRubric =
        toml::from_str(text).map_err(|e| UsageError::in_file(path, e.to_string().trim_end()))?;
    Validator { path, text }.rubric(raw)
}

// ---- the file as written; `Validator` turns it into a `Rubric` ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    id: String,
    name: String,
    description: Option<String>,
    #[serde(default)]
    judge_mode: JudgeMode,
    #[serde(default)]
    dimensions: Vec<RawDimension>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    caps: Vec<RawCap>,
    #[serde(default)]
    templates: BTreeMap<String, String>,
    #[serde(default)]
    template_lists: BTreeMap<String, ListRendering>,
    target_categories: Option<BTreeMap<String, f64>>,
    judge: Option<JudgeTemplates>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDimension {
    id: Spanned<String>,
    name: String,
    description: Option<String>,
    scale: [i64; 2],
    levels: BTreeMap<String, String>,
    #[serde(default = "yes")]
    judged: bool,
    #[serde(default)]
    primary: bool,
    margin: Option<f64>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCap {
    dimension: Spanned<String>,
    max: f64,
    if_any_fails: Vec<String>,
    reason: Option<String>,
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Validator<'_> {
    fn at(&self, span: Range<usize>, msg: impl std::fmt::Display) -> UsageError {
        let line = self.text[..span.start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1;
        UsageError::at(self.path, line, msg)
    }

    fn whole(&self, msg: impl std::fmt::Display) -> UsageError {
        UsageError::in_file(self.path, msg)
    }

    fn rubric(&self, raw: RawRubric) -> Result<Rubric, UsageError> {
        if raw.id.trim().is_empty() {
            return Err(self.whole("`id` is empty"));
        }
        for (name, t) in &raw.templates {
            if t.trim().is_empty() {
                return Err(self.whole(format!("template `{name}` is empty")));
            }
        }
        let dimensions = self.dimensions(raw.dimensions)?;
        let rules = self.rules(raw.rules, &raw.templates)?;
        let caps = self.caps(raw.caps, &dimensions, &rules)?;
        if let Some(t) = &raw.target_categories {
            if let Some((k, v)) = t.iter().find(|(_, v)| !v.is_finite() || **v < 0.0) {
                return Err(self.whole(format!(
                    "target_categories.{k} = {v}: weights must be 0 or more"
                )));
            }
            if t.values().sum::<f64>() <= 0.0 {
                return Err(self.whole("target_categories: the weights sum to 0"));
            }
        }
        Ok(Rubric {
            id: raw.id,
            name: raw.name,
            description: raw.description,
            judge_mode: raw.judge_mode,
            dimensions,
            rules,
            caps,
            templates: raw.templates,
            template_lists: raw.template_lists,
            target_categories: raw.target_categories,
            judge: raw.judge,
        })
    }

    fn dimensions(&self, raw: Vec<RawDimension>) -> Result<Vec<Dimension>, UsageError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for d in raw {
            let span = d.id.span();
            let id = d.id.into_inner();
            let err = |msg: String| self.at(span.clone(), format!("dimension `{id}`: {msg}"));
            if id.trim().is_empty() {
                return Err(self.at(span, "dimension `id` is empty"));
            }
            if !seen.insert(id.clone()) {
                return Err(err("duplicate dimension id".into()));
            }
            let [lo, hi] = d.scale;
            if lo >= hi {
                return Err(err(format!("scale [{lo}, {hi}] must have min < max")));
            }
            if hi - lo > 100 {
                return Err(err(format!("scale [{lo}, {hi}] has more than 101 levels")));
            }
            let mut levels = BTreeMap::new();
            for (key, text) in d.levels {
                let level: i64 = key
                    .trim()
                    .parse()
                    .map_err(|_| err(format!("levels key \"{key}\" is not an integer")))?;
                if !(lo..=hi).contains(&level) {
                    return Err(err(format!(
                        "level {level} is outside the scale [{lo}, {hi}]"
                    )));
                }
                if text.trim().is_empty() {
                    return Err(err(format!("level {level} has no text")));
                }
                levels.insert(level, text);
            }
            let missing: Vec<String> = (lo..=hi)
                .filter(|l| !levels.contains_key(l))
                .map(|l| l.to_string())
                .collect();
            if !missing.is_empty() {
                return Err(err(format!(
                    "no text for level {} (every level of the scale needs one)",
                    missing.join(", ")
                )));
            }
            if let Some(m) = d.margin {
                if !(m.is_finite() && m > 0.0 && m <= (hi - lo) as f64) {
                    return Err(err(format!(
                        "margin {m} must be above 0 and at most the scale's width {} (it is on the scale [{lo}, {hi}])",
                        hi - lo
                    )));
                }
            }
            out.push(Dimension {
                id,
                name: d.name,
                description: d.description,
                scale: (lo, hi),
                levels,
                judged: d.judged,
                primary: d.primary,
                margin: d.margin,
            });
        }
        Ok(out)
    }

    fn rules(
        &self,
        raw: Vec<RawRule>,
        templates: &BTreeMap<String, String>,
    ) -> Result<Vec<Rule>, UsageError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for r in raw {
            let span = r.id.span();
            let id = r.id.get_ref().clone();
            let spec = r.check.0;
            let kind = spec.name;
            let err = |msg: String| self.at(span.clone(), format!("rule `{id}` ({kind}): {msg}"));
            if id.trim().is_empty() {
                return Err(self.at(span, "rule `id` is empty"));
            }
            if !seen.insert(id.clone()) {
                return Err(err("duplicate rule id".into()));
            }
            let (required, optional) = (spec.required, spec.optional);
            let set = r.set_keys();
            if let Some(k) = set
                .iter()
                .find(|k| !required.contains(k) && !optional.contains(k))
            {
                let takes: Vec<&str> = required.iter().chain(optional).copied().collect();
                let takes = if takes.is_empty() {
                    "no keys".to_string()
                } else {
                    takes.join(", ")
                };
                return Err(err(format!(
                    "key `{k}` does not apply to this check (it takes: {takes})"
                )));
            }
            if let Some(k) = required.iter().find(|k| !set.contains(k)) {
                return Err(err(format!("needs `{k}`")));
            }
            for (key, list) in [
                ("categories", &r.categories),
                ("templates", &r.templates),
                ("keys", &r.keys),
            ] {
                if list
                    .as_ref()
                    .is_some_and(|l| l.is_empty() || l.iter().any(|s| s.trim().is_empty()))
                {
                    return Err(err(format!(
                        "`{key}` must list at least one non-empty name"
                    )));
                }
            }
            if let Some(t) = r
                .templates
                .iter()
                .flatten()
                .find(|t| !templates.contains_key(*t))
            {
                return Err(err(format!("templates: no template `{t}` in [templates]")));
            }
            if r.field.as_ref().is_some_and(|f| f.is_empty()) {
                return Err(err("`field` is empty".into()));
            }
            if let (Some(a), Some(b)) = (r.min, r.max) {
                if a > b {
                    return Err(err(format!("min {a} is above max {b}")));
                }
            }
            let check = (spec.build)(&r).map_err(err)?;
            out.push(Rule {
                id,
                description: r.description,
                check,
                categories: r.categories,
                templates: r.templates,
            });
        }
        Ok(out)
    }

    fn caps(
        &self,
        raw: Vec<RawCap>,
        dimensions: &[Dimension],
        rules: &[Rule],
    ) -> Result<Vec<Cap>, UsageError> {
        let mut out = Vec::new();
        for c in raw {
            let span = c.dimension.span();
            let dim_id = c.dimension.into_inner();
            let err = |msg: String| self.at(span.clone(), format!("cap on `{dim_id}`: {msg}"));
            let Some(dim) = dimensions.iter().find(|d| d.id == dim_id) else {
                let known: Vec<&str> = dimensions.iter().map(|d| d.id.as_str()).collect();
                return Err(err(format!(
                    "no such dimension (dimensions: {})",
                    known.join(", ")
                )));
            };
            if c.if_any_fails.is_empty() {
                return Err(err("`if_any_fails` lists no rule".into()));
            }
            if let Some(r) = c
                .if_any_fails
                .iter()
                .find(|r| !rules.iter().any(|x| &x.id == *r))
            {
                return Err(err(format!("if_any_fails: no rule `{r}`")));
            }
            if !(c.max.is_finite() && dim.min_score() <= c.max && c.max <= dim.max_score()) {
                let (lo, hi) = dim.scale;
                return Err(err(format!(
                    "max {} is outside the scale [{lo}, {hi}]",
                    c.max
                )));
            }
            out.push(Cap {
                dimension: dim_id,
                max: c.max,
                if_any_fails: c.if_any_fails,
                reason: c.reason,
            });
        }
        Ok(out)
    }
}
