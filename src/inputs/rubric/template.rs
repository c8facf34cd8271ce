//! Rendering a `vars` item through the rubric's prompt template.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::types::{Rubric, DEFAULT_TEMPLATE};
use crate::inputs::item::{Item, Message, Role};

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
