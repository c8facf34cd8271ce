//! Rubrics (SPEC §4): what is scored and how, as data.
//!
//! A rubric file names its dimensions (id, display name, scale, the text of every level), its rule
//! checks (optionally only for some categories or templates), the caps by which failed rules bound a
//! dimension, the prompt templates that render `vars` items, and the judge's templates:
//!
//! ```toml
//! id = "oral_english"
//! name = "Spoken-English tutor"
//! judge_mode = "joint"                     # or "per_dimension"
//!
//! [[dimensions]]
//! id = "adherence"
//! name = "Prompt adherence"
//! scale = [1, 3]
//! judged = true                            # default; false = decided by rules alone
//! levels = { "1" = "…", "2" = "…", "3" = "…" }
//!
//! [[rules]]
//! id = "reply_max_30_words"
//! check = "max_words"                      # see `Check` for every check and its keys
//! field = "Reply"
//! max = 30
//! categories = ["normal"]                  # optional: only items of these categories
//! templates = ["turn"]                     # optional: only `vars` items rendered with these templates
//!
//! [[caps]]
//! dimension = "adherence"
//! max = 2
//! if_any_fails = ["reply_max_30_words"]
//! reason = "…"                             # optional, quoted in the justification
//!
//! [templates]                              # `{name}` placeholders filled from an item's vars
//! turn = '''…{topic}…{history}…'''
//! [template_lists.history]                 # how a list variable renders
//! prefixes = ["teacher: ", "student: "]    # cycled over the elements
//! separator = "\n"
//!
//! [target_categories]                      # optional; weights, compared as shares of their sum
//! normal = 0.55
//!
//! [judge]                                  # optional
//! template = '''…'''
//! pairwise_template = '''…'''
//! ```
//!
//! Unknown keys are errors (toml names the line, column and key); so are duplicate ids, caps naming an
//! unknown dimension or rule, regexes that do not compile, `min >= max` scales and missing level texts.
//! Every message starts with the file and, where one is known, the line.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::error::UsageError;
use crate::inputs::evalset::{Item, Message, Role};

/// The template a `vars` item uses when it names none.
pub const DEFAULT_TEMPLATE: &str = "default";

/// Relative tolerance of an approximate length (`300字左右`, a bare `300字`) when a `length_range` rule
/// sets none: ±20 %, what a teacher marking a 300-character essay accepts (240–360).
pub const DEFAULT_LENGTH_TOLERANCE: f64 = 0.2;

/// How the judge module grades the dimensions: one call for all of them, or one call each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeMode {
    #[default]
    Joint,
    PerDimension,
}

/// A validated rubric.
#[derive(Debug, Clone)]
pub struct Rubric {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub judge_mode: JudgeMode,
    pub dimensions: Vec<Dimension>,
    pub rules: Vec<Rule>,
    pub caps: Vec<Cap>,
    /// Prompt templates by name, for `vars` items.
    pub templates: BTreeMap<String, String>,
    /// How each list-valued variable renders, by variable name.
    pub template_lists: BTreeMap<String, ListRendering>,
    /// Target category make-up, as weights (see `target_shares`).
    pub target_categories: Option<BTreeMap<String, f64>>,
    pub judge: Option<JudgeTemplates>,
}

/// One scored dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    pub id: String,
    /// Display name.
    pub name: String,
    pub description: Option<String>,
    /// Lowest and highest score, inclusive.
    pub scale: (i64, i64),
    /// The text of every level of the scale (validated: one per integer in `scale`).
    pub levels: BTreeMap<i64, String>,
    /// Whether the judge grades it; if not, rules alone decide it (scale maximum unless capped).
    pub judged: bool,
}

impl Dimension {
    pub fn min_score(&self) -> f64 {
        self.scale.0 as f64
    }

    pub fn max_score(&self) -> f64 {
        self.scale.1 as f64
    }
}

/// One rule check and the items it applies to.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: Option<String>,
    pub check: Check,
    /// Only items whose `category` is listed; `None` = every item.
    pub categories: Option<Vec<String>>,
    /// Only `vars` items rendered with one of these templates; `None` = every item.
    pub templates: Option<Vec<String>>,
}

impl Rule {
    /// Whether this rule is checked on `item` (its category and template filters).
    pub fn applies_to(&self, item: &Item) -> bool {
        let category_ok = self
            .categories
            .as_ref()
            .is_none_or(|cs| item.category.as_ref().is_some_and(|c| cs.contains(c)));
        let template_ok = self
            .templates
            .as_ref()
            .is_none_or(|ts| template_name(item).is_some_and(|t| ts.iter().any(|x| x == t)));
        category_ok && template_ok
    }
}

/// What a rule checks. `field` names a top-level key of the JSON object recovered from the answer;
/// where it is optional, leaving it out checks the whole output.
#[derive(Debug, Clone)]
pub enum Check {
    /// The whole output, trimmed, is exactly one JSON object. Keys: none.
    JsonStrict,
    /// A JSON object can be recovered (fence, prose around it). Keys: none.
    JsonExtractable,
    /// Keys `keys` are present and non-empty.
    HasKeys { keys: Vec<String> },
    /// `field` is a list of `len` (or `min`..=`max`) elements.
    ArrayLen {
        field: String,
        min: Option<usize>,
        max: Option<usize>,
    },
    /// `field` has at most `max` English words.
    MaxWords { field: String, max: usize },
    /// `field` has no Han, kana, hangul or full-width character.
    EnglishOnly { field: String },
    /// `field` (each element, for a list) contains Han.
    RequiresHan { field: String },
    /// Length in characters; the bound is `min`/`max` if given, else the item's `meta.length`, else
    /// parsed from the prompt; `tolerance` widens approximate bounds (`300字左右`), default 0.2.
    LengthRange {
        field: Option<String>,
        min: Option<usize>,
        max: Option<usize>,
        tolerance: f64,
    },
    /// `pattern` must match (or, with `must_match = false`, must not).
    Regex {
        field: Option<String>,
        regex: Regex,
        must_match: bool,
    },
    /// The literal `text` does not occur.
    NotContains { field: Option<String>, text: String },
}

/// A failed rule bounds a dimension: if any rule of `if_any_fails` failed, the dimension is at most `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cap {
    pub dimension: String,
    pub max: f64,
    pub if_any_fails: Vec<String>,
    /// Why, in the rubric's words; quoted in the dimension's justification.
    pub reason: Option<String>,
}

/// How a list variable renders into a template: element i gets `prefixes[i % len]` (none if empty),
/// and elements are joined by `separator`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRendering {
    #[serde(default)]
    pub prefixes: Vec<String>,
    #[serde(default = "newline")]
    pub separator: String,
}

fn newline() -> String {
    "\n".into()
}

/// The judge's prompts, read by the judge module.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeTemplates {
    /// Single-answer grading prompt.
    pub template: Option<String>,
    /// Pairwise (GSB) prompt.
    pub pairwise_template: Option<String>,
}

/// The template an item is rendered with: `vars.template`, or `default`; `None` for items without vars
/// (or whose `vars.template` is not a string, which `render` reports).
pub fn template_name(item: &Item) -> Option<&str> {
    let vars = item.vars.as_ref()?;
    match vars.get("template") {
        None => Some(DEFAULT_TEMPLATE),
        Some(v) => v.as_str(),
    }
}

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{([A-Za-z_][A-Za-z0-9_]*)\}").expect("placeholder pattern is valid")
});

impl Rubric {
    pub fn dimension(&self, id: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.id == id)
    }

    pub fn caps_for<'a>(&'a self, dimension: &'a str) -> impl Iterator<Item = &'a Cap> + 'a {
        self.caps.iter().filter(move |c| c.dimension == dimension)
    }

    /// Target category shares, normalised to sum to 1 (a source may list 55 % + 40 % + 4 × 5 %).
    pub fn target_shares(&self) -> Option<BTreeMap<String, f64>> {
        let t = self.target_categories.as_ref()?;
        let sum: f64 = t.values().sum();
        Some(t.iter().map(|(k, v)| (k.clone(), v / sum)).collect())
    }

    /// Render a `vars` item through its template into one user message; items without vars are left
    /// alone. `{name}` is replaced by `vars[name]`: strings as they are, numbers and booleans as written,
    /// lists as `[template_lists.name]` says. Text that is not `{identifier}` (e.g. a JSON skeleton's
    /// `{`) stays as it is. The error names the unknown template or every missing variable; the caller
    /// adds FILE:LINE.
    pub fn render(&self, item: &mut Item) -> Result<(), String> {
        let Some(vars) = &item.vars else {
            return Ok(());
        };
        let name = match vars.get("template") {
            None => DEFAULT_TEMPLATE,
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(format!(
                    "vars.template must be a template name, not {other}"
                ))
            }
        };
        let Some(template) = self.templates.get(name) else {
            let known: Vec<&str> = self.templates.keys().map(String::as_str).collect();
            return Err(if known.is_empty() {
                format!(
                    "unknown template `{name}`: rubric `{}` has no [templates]",
                    self.id
                )
            } else {
                format!(
                    "unknown template `{name}` (rubric `{}` has: {})",
                    self.id,
                    known.join(", ")
                )
            });
        };
        let mut missing = Vec::new();
        let mut problems = Vec::new();
        let rendered = PLACEHOLDER.replace_all(template, |caps: &regex::Captures| {
            let var = &caps[1];
            match vars.get(var) {
                None => {
                    if !missing.contains(&var.to_string()) {
                        missing.push(var.to_string());
                    }
                    String::new()
                }
                Some(v) => self.render_value(var, v).unwrap_or_else(|e| {
                    problems.push(e);
                    String::new()
                }),
            }
        });
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
            problems.insert(
                0,
                format!("template `{name}` needs vars {} (missing)", list.join(", ")),
            );
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        item.messages = vec![Message {
            role: Role::User,
            content: rendered.into_owned(),
        }];
        Ok(())
    }

    fn render_value(&self, var: &str, v: &Value) -> Result<String, String> {
        if let Some(text) = scalar_text(v) {
            return Ok(text);
        }
        let Value::Array(items) = v else {
            return Err(format!(
                "variable `{var}` is {v}; only text, numbers, booleans and lists render"
            ));
        };
        let how = self.template_lists.get(var).ok_or_else(|| {
            format!(
                "variable `{var}` is a list, but the rubric has no [template_lists.{var}] \
                 saying how it renders"
            )
        })?;
        let mut lines = Vec::with_capacity(items.len());
        for (i, e) in items.iter().enumerate() {
            let text = scalar_text(e).ok_or_else(|| {
                format!("variable `{var}`[{i}] is {e}; list elements must be text")
            })?;
            let prefix = match how.prefixes.len() {
                0 => "",
                n => how.prefixes[i % n].as_str(),
            };
            lines.push(format!("{prefix}{text}"));
        }
        Ok(lines.join(&how.separator))
    }
}

/// A string as it is, a number or boolean as written; `None` for lists, objects and null.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

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
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CheckKind {
    JsonStrict,
    JsonExtractable,
    HasKeys,
    ArrayLen,
    MaxWords,
    EnglishOnly,
    RequiresHan,
    LengthRange,
    Regex,
    NotContains,
}

impl CheckKind {
    fn name(self) -> &'static str {
        match self {
            CheckKind::JsonStrict => "json_strict",
            CheckKind::JsonExtractable => "json_extractable",
            CheckKind::HasKeys => "has_keys",
            CheckKind::ArrayLen => "array_len",
            CheckKind::MaxWords => "max_words",
            CheckKind::EnglishOnly => "english_only",
            CheckKind::RequiresHan => "requires_han",
            CheckKind::LengthRange => "length_range",
            CheckKind::Regex => "regex",
            CheckKind::NotContains => "not_contains",
        }
    }

    /// (required keys, optional keys) beyond `id`, `check`, `description`, `categories`, `templates`.
    fn keys(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            CheckKind::JsonStrict | CheckKind::JsonExtractable => (&[], &[]),
            CheckKind::HasKeys => (&["keys"], &[]),
            CheckKind::ArrayLen => (&["field"], &["len", "min", "max"]),
            CheckKind::MaxWords => (&["field", "max"], &[]),
            CheckKind::EnglishOnly | CheckKind::RequiresHan => (&["field"], &[]),
            CheckKind::LengthRange => (&[], &["field", "min", "max", "tolerance"]),
            CheckKind::Regex => (&["pattern"], &["field", "must_match"]),
            CheckKind::NotContains => (&["text"], &["field"]),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    check: CheckKind,
    description: Option<String>,
    categories: Option<Vec<String>>,
    templates: Option<Vec<String>>,
    field: Option<String>,
    keys: Option<Vec<String>>,
    len: Option<usize>,
    min: Option<usize>,
    max: Option<usize>,
    tolerance: Option<f64>,
    pattern: Option<String>,
    must_match: Option<bool>,
    text: Option<String>,
}

impl RawRule {
    fn set_keys(&self) -> Vec<&'static str> {
        let set = [
            ("field", self.field.is_some()),
            ("keys", self.keys.is_some()),
            ("len", self.len.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("tolerance", self.tolerance.is_some()),
            ("pattern", self.pattern.is_some()),
            ("must_match", self.must_match.is_some()),
            ("text", self.text.is_some()),
        ];
        set.into_iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| k)
            .collect()
    }
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
            out.push(Dimension {
                id,
                name: d.name,
                description: d.description,
                scale: (lo, hi),
                levels,
                judged: d.judged,
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
            let kind = r.check.name();
            let err = |msg: String| self.at(span.clone(), format!("rule `{id}` ({kind}): {msg}"));
            if id.trim().is_empty() {
                return Err(self.at(span, "rule `id` is empty"));
            }
            if !seen.insert(id.clone()) {
                return Err(err("duplicate rule id".into()));
            }
            let (required, optional) = r.check.keys();
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
            let field = || r.field.clone().unwrap_or_default();
            let check = match r.check {
                CheckKind::JsonStrict => Check::JsonStrict,
                CheckKind::JsonExtractable => Check::JsonExtractable,
                CheckKind::HasKeys => Check::HasKeys {
                    keys: r.keys.clone().unwrap_or_default(),
                },
                CheckKind::ArrayLen => match (r.len, r.min, r.max) {
                    (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                        return Err(err("give `len` or `min`/`max`, not both".into()))
                    }
                    (Some(n), None, None) => Check::ArrayLen {
                        field: field(),
                        min: Some(n),
                        max: Some(n),
                    },
                    (None, None, None) => return Err(err("needs `len`, `min` or `max`".into())),
                    (None, min, max) => Check::ArrayLen {
                        field: field(),
                        min,
                        max,
                    },
                },
                CheckKind::MaxWords => Check::MaxWords {
                    field: field(),
                    max: r.max.unwrap_or_default(),
                },
                CheckKind::EnglishOnly => Check::EnglishOnly { field: field() },
                CheckKind::RequiresHan => Check::RequiresHan { field: field() },
                CheckKind::LengthRange => {
                    let tolerance = r.tolerance.unwrap_or(DEFAULT_LENGTH_TOLERANCE);
                    if !(0.0..1.0).contains(&tolerance) {
                        return Err(err(format!(
                            "tolerance {tolerance} must be at least 0 and below 1"
                        )));
                    }
                    Check::LengthRange {
                        field: r.field.clone(),
                        min: r.min,
                        max: r.max,
                        tolerance,
                    }
                }
                CheckKind::Regex => {
                    let pattern = r.pattern.as_deref().unwrap_or_default();
                    let regex = Regex::new(pattern)
                        .map_err(|e| err(format!("pattern does not compile: {e}")))?;
                    Check::Regex {
                        field: r.field.clone(),
                        regex,
                        must_match: r.must_match.unwrap_or(true),
                    }
                }
                CheckKind::NotContains => {
                    let text = r.text.clone().unwrap_or_default();
                    if text.is_empty() {
                        return Err(err("`text` is empty".into()));
                    }
                    Check::NotContains {
                        field: r.field.clone(),
                        text,
                    }
                }
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "t"
name = "Test"

[[dimensions]]
id = "quality"
name = "Quality"
scale = [1, 3]
levels = { "1" = "bad", "2" = "ok", "3" = "good" }

[[rules]]
id = "short"
check = "max_words"
field = "Reply"
max = 30

[[caps]]
dimension = "quality"
max = 2
if_any_fails = ["short"]

[templates]
default = "Topic: {topic}\n{history}\n{ {not a placeholder} }"

[template_lists.history]
prefixes = ["teacher: ", "student: "]
"#;

    fn parse_ok(text: &str) -> Rubric {
        parse(Path::new("r.toml"), text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> String {
        parse(Path::new("r.toml"), text).unwrap_err().to_string()
    }

    fn item(vars: serde_json::Value) -> Item {
        Item {
            id: "x".into(),
            line: 1,
            system: None,
            messages: vec![],
            vars: vars.as_object().cloned(),
            category: None,
            reference: None,
            meta: None,
        }
    }

    #[test]
    fn minimal_rubric_loads() {
        let r = parse_ok(MINIMAL);
        assert_eq!(r.judge_mode, JudgeMode::Joint);
        assert_eq!(r.dimensions[0].scale, (1, 3));
        assert_eq!(r.dimensions[0].levels[&2], "ok");
        assert!(r.dimensions[0].judged);
        assert!(matches!(r.rules[0].check, Check::MaxWords { max: 30, .. }));
        assert_eq!(r.caps_for("quality").count(), 1);
        assert_eq!(r.template_lists["history"].separator, "\n");
    }

    #[test]
    fn unknown_key_keeps_tomls_line_and_key() {
        let e = parse_err(&MINIMAL.replace("max = 30", "max = 30\nmaxx = 2"));
        assert!(e.starts_with("r.toml: TOML parse error at line"), "{e}");
        assert!(e.contains("unknown field `maxx`"), "{e}");
        let e = parse_err(&MINIMAL.replace("check = \"max_words\"", "check = \"max_word\""));
        assert!(e.contains("unknown variant `max_word`"), "{e}");
    }

    #[test]
    fn validation_names_file_line_and_id() {
        let text = format!("{MINIMAL}\n[[rules]]\nid = \"short\"\ncheck = \"json_strict\"\n");
        let e = parse_err(&text);
        let dup_line = text[..text.rfind("id = \"short\"").unwrap()]
            .matches('\n')
            .count()
            + 1;
        assert_eq!(
            e,
            format!("r.toml:{dup_line}: rule `short` (json_strict): duplicate rule id")
        );

        let e =
            parse_err(&MINIMAL.replace("if_any_fails = [\"short\"]", "if_any_fails = [\"long\"]"));
        assert!(
            e.ends_with("cap on `quality`: if_any_fails: no rule `long`"),
            "{e}"
        );
        let e = parse_err(&MINIMAL.replace("dimension = \"quality\"", "dimension = \"qualty\""));
        assert!(
            e.ends_with("cap on `qualty`: no such dimension (dimensions: quality)"),
            "{e}"
        );
        let e = parse_err(&MINIMAL.replace("max = 2\n", "max = 5\n"));
        assert!(e.ends_with("max 5 is outside the scale [1, 3]"), "{e}");
    }

    #[test]
    fn scales_and_levels_are_checked() {
        let e = parse_err(&MINIMAL.replace("scale = [1, 3]", "scale = [3, 1]"));
        assert!(
            e.ends_with("dimension `quality`: scale [3, 1] must have min < max"),
            "{e}"
        );
        let e = parse_err(&MINIMAL.replace(", \"3\" = \"good\"", ""));
        assert!(
            e.ends_with("no text for level 3 (every level of the scale needs one)"),
            "{e}"
        );
        let e = parse_err(&MINIMAL.replace("\"3\" = \"good\"", "\"4\" = \"good\""));
        assert!(e.ends_with("level 4 is outside the scale [1, 3]"), "{e}");
        let e = parse_err(&MINIMAL.replace("\"3\" = \"good\"", "\"three\" = \"good\""));
        assert!(e.ends_with("levels key \"three\" is not an integer"), "{e}");
        let dup = MINIMAL.replace("[[rules]]", "[[dimensions]]\nid = \"quality\"\nname = \"Q\"\nscale = [0, 1]\nlevels = { \"0\" = \"no\", \"1\" = \"yes\" }\n\n[[rules]]");
        assert!(parse_err(&dup).ends_with("dimension `quality`: duplicate dimension id"));
    }

    #[test]
    fn rule_keys_must_fit_the_check() {
        let e = parse_err(&MINIMAL.replace("max = 30", "max = 30\npattern = \"x\""));
        assert!(e.ends_with("rule `short` (max_words): key `pattern` does not apply to this check (it takes: field, max)"), "{e}");
        let e = parse_err(&MINIMAL.replace("max = 30\n", ""));
        assert!(e.ends_with("rule `short` (max_words): needs `max`"), "{e}");
        let bad_re = "[[rules]]\nid = \"r\"\ncheck = \"regex\"\npattern = \"(unclosed\"\n";
        let e = parse_err(&format!("{MINIMAL}\n{bad_re}"));
        assert!(
            e.contains("rule `r` (regex): pattern does not compile"),
            "{e}"
        );
        let bad_tpl = "[[rules]]\nid = \"r\"\ncheck = \"json_strict\"\ntemplates = [\"turn\"]\n";
        let e = parse_err(&format!("{MINIMAL}\n{bad_tpl}"));
        assert!(
            e.ends_with("templates: no template `turn` in [templates]"),
            "{e}"
        );
        let both =
            "[[rules]]\nid = \"n\"\ncheck = \"array_len\"\nfield = \"S\"\nlen = 3\nmax = 4\n";
        assert!(parse_err(&format!("{MINIMAL}\n{both}"))
            .ends_with("give `len` or `min`/`max`, not both"));
    }

    #[test]
    fn render_fills_placeholders_and_alternates_list_prefixes() {
        let r = parse_ok(MINIMAL);
        let mut it =
            item(serde_json::json!({"topic": "篮球", "history": ["Hi!", "Hello.", "Ready?"]}));
        r.render(&mut it).unwrap();
        assert_eq!(it.messages.len(), 1);
        assert_eq!(it.messages[0].role, Role::User);
        assert_eq!(
            it.messages[0].content,
            "Topic: 篮球\nteacher: Hi!\nstudent: Hello.\nteacher: Ready?\n{ {not a placeholder} }"
        );
    }

    #[test]
    fn render_errors_name_template_and_variables() {
        let r = parse_ok(MINIMAL);
        let mut it = item(serde_json::json!({"template": "turn"}));
        assert_eq!(
            r.render(&mut it).unwrap_err(),
            "unknown template `turn` (rubric `t` has: default)"
        );
        let mut it = item(serde_json::json!({}));
        assert_eq!(
            r.render(&mut it).unwrap_err(),
            "template `default` needs vars `topic`, `history` (missing)"
        );
        let mut it = item(serde_json::json!({"topic": {"a": 1}, "history": []}));
        let e = r.render(&mut it).unwrap_err();
        assert!(e.contains("variable `topic` is {\"a\":1}"), "{e}");
        assert!(it.messages.is_empty());
    }

    #[test]
    fn list_without_rendering_rule_is_an_error_and_plain_items_are_untouched() {
        let r = parse_ok(&MINIMAL.replace(
            "[template_lists.history]\nprefixes = [\"teacher: \", \"student: \"]\n",
            "",
        ));
        let mut it = item(serde_json::json!({"topic": "t", "history": ["a"]}));
        let e = r.render(&mut it).unwrap_err();
        assert!(e.contains("no [template_lists.history]"), "{e}");
        let mut plain = item(serde_json::Value::Null);
        plain.messages = vec![Message {
            role: Role::User,
            content: "hi".into(),
        }];
        r.render(&mut plain).unwrap();
        assert_eq!(plain.messages[0].content, "hi");
    }

    #[test]
    fn rule_filters_by_category_and_template() {
        let text = format!("{MINIMAL}\n[[rules]]\nid = \"c\"\ncheck = \"json_strict\"\ncategories = [\"chinese\"]\ntemplates = [\"default\"]\n");
        let r = parse_ok(&text);
        let rule = &r.rules[1];
        let mut it = item(serde_json::json!({"topic": "t"}));
        assert!(!rule.applies_to(&it));
        it.category = Some("chinese".into());
        assert!(rule.applies_to(&it));
        it.vars = Some(
            serde_json::json!({"template": "other"})
                .as_object()
                .cloned()
                .unwrap(),
        );
        assert!(!rule.applies_to(&it));
        it.vars = None;
        assert!(!rule.applies_to(&it));
        assert!(r.rules[0].applies_to(&it));
    }

    #[test]
    fn target_shares_are_normalised() {
        let r = parse_ok(&format!("{MINIMAL}\n[target_categories]\nnormal = 0.55\nterse = 0.40\nchinese = 0.05\noff_topic = 0.05\nmisspelled = 0.05\nungrammatical = 0.05\n"));
        let s = r.target_shares().unwrap();
        assert!((s.values().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((s["normal"] - 0.55 / 1.15).abs() < 1e-12);
        let e = parse_err(&format!("{MINIMAL}\n[target_categories]\nnormal = -1\n"));
        assert!(e.contains("weights must be 0 or more"), "{e}");
    }
}
