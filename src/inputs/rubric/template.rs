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

/// Why a `vars` item cannot be rendered; the caller adds FILE:LINE.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// `vars.template` is not a string.
    #[error("vars.template must be a template name, not {0}")]
    TemplateNotAName(Value),
    /// The item names a template and the rubric has none.
    #[error("unknown template `{name}`: rubric `{rubric}` has no [templates]")]
    NoTemplates {
        /// The template name the item gives.
        name: String,
        /// The rubric's id.
        rubric: String,
    },
    /// The item names a template the rubric does not have; `known` lists the ones it has.
    #[error("unknown template `{name}` (rubric `{rubric}` has: {known})")]
    UnknownTemplate {
        /// The template name the item gives.
        name: String,
        /// The rubric's id.
        rubric: String,
        /// The templates the rubric has.
        known: String,
    },
    /// Every variable problem of the item, missing variables first.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Variables(Vec<VariableError>),
}

/// One variable that does not fill its template.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VariableError {
    /// Placeholders with no variable, in order of first use.
    #[error("template `{template}` needs vars {} (missing)", .vars.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The template being filled.
        template: String,
        /// The variables it lacks.
        vars: Vec<String>,
    },
    /// An object or null.
    #[error("variable `{var}` is {value}; only text, numbers, booleans and lists render")]
    NotRenderable {
        /// The variable.
        var: String,
        /// Its value.
        value: Value,
    },
    /// A list the rubric does not say how to render.
    #[error("variable `{var}` is a list, but the rubric has no [template_lists.{var}] saying how it renders")]
    ListWithoutRendering {
        /// The list variable.
        var: String,
    },
    /// A list element that is not text.
    #[error("variable `{var}`[{index}] is {value}; list elements must be text")]
    ListElement {
        /// The list variable.
        var: String,
        /// 0-based index of the element.
        index: usize,
        /// The offending element.
        value: Value,
    },
}

impl Rubric {
    /// Render a `vars` item through its template into one user message; items without vars are left
    /// alone. `{name}` is replaced by `vars[name]`: strings as they are, numbers and booleans as written,
    /// lists as `[template_lists.name]` says. Text that is not `{identifier}` (e.g. a JSON skeleton's
    /// `{`) stays as it is. The error names the unknown template or every missing variable; the caller
    /// adds FILE:LINE.
    pub fn render(&self, item: &mut Item) -> Result<(), RenderError> {
        let Some(vars) = &item.vars else {
            return Ok(());
        };
        let name = match vars.get("template") {
            None => DEFAULT_TEMPLATE,
            Some(Value::String(s)) => s.as_str(),
            Some(other) => return Err(RenderError::TemplateNotAName(other.clone())),
        };
        let Some(template) = self.templates.get(name) else {
            let known: Vec<&str> = self.templates.keys().map(String::as_str).collect();
            return Err(if known.is_empty() {
                RenderError::NoTemplates {
                    name: name.to_string(),
                    rubric: self.id.clone(),
                }
            } else {
                RenderError::UnknownTemplate {
                    name: name.to_string(),
                    rubric: self.id.clone(),
                    known: known.join(", "),
                }
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
            problems.insert(
                0,
                VariableError::Missing {
                    template: name.to_string(),
                    vars: missing,
                },
            );
        }
        if !problems.is_empty() {
            return Err(RenderError::Variables(problems));
        }
        item.messages = vec![Message {
            role: Role::User,
            content: rendered.into_owned(),
        }];
        Ok(())
    }

    fn render_value(&self, var: &str, v: &Value) -> Result<String, VariableError> {
        if let Some(text) = scalar_text(v) {
            return Ok(text);
        }
        let Value::Array(items) = v else {
            return Err(VariableError::NotRenderable {
                var: var.to_string(),
                value: v.clone(),
            });
        };
        let how =
            self.template_lists
                .get(var)
                .ok_or_else(|| VariableError::ListWithoutRendering {
                    var: var.to_string(),
                })?;
        let mut lines = Vec::with_capacity(items.len());
        for (i, e) in items.iter().enumerate() {
            let text = scalar_text(e).ok_or_else(|| VariableError::ListElement {
                var: var.to_string(),
                index: i,
                value: e.clone(),
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
