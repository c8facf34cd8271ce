//! Which character an item asks the model to play, read from the item itself: `meta.persona`, the
//! `'姓名': 'X'` of a persona profile dict (seed 002's style) in the system text or first user turn, or
//! the name a setup text asks to play ("请你…扮演孙悟空进行对话"). Used by the loader (to tag Qianfan
//! multi-turn lines, which have no `category` of their own) and by `evalrun check`.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::inputs::evalset::{Item, Role};

static PROFILE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"['"]姓名['"]\s*[:：]\s*['"]([^'"]+)['"]"#).expect("valid regex")
});
static PLAYS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"扮演(\p{Han}{1,6}?)(?:进行对话|进行|和我|与我|[，,。.!！]|$)")
        .expect("valid regex")
});
static YOU_ARE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*你是(\p{Han}{1,6}?)[，,。.!！]").expect("valid regex"));

/// The `'姓名': 'X'` of a persona profile dict (seed 002's style), if the text holds one.
pub(crate) fn profile_name(text: &str) -> Option<String> {
    PROFILE_NAME
        .captures(text)
        .map(|c| c[1].trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The role a setup text asks for: the last "扮演X进行对话" (the first is often "扮演一个角色扮演专家"),
/// else a leading "你是X，".
fn played_name(text: &str) -> Option<String> {
    PLAYS
        .captures_iter(text)
        .last()
        .or_else(|| YOU_ARE.captures(text))
        .map(|c| c[1].to_string())
}

/// The persona an item asks the model to play: `meta.persona`, else the profile dict in the system text
/// or the first user turn (Qianfan's form puts it there), else the name the system text asks to play.
pub fn persona(item: &Item) -> Option<String> {
    if let Some(Value::String(name)) = item.meta.as_ref().and_then(|m| m.get("persona")) {
        if !name.trim().is_empty() {
            return Some(name.trim().to_string());
        }
    }
    let first_user = item
        .messages
        .first()
        .filter(|m| m.role == Role::User)
        .map(|m| m.content.as_str());
    item.system
        .as_deref()
        .and_then(profile_name)
        .or_else(|| first_user.and_then(profile_name))
        .or_else(|| item.system.as_deref().and_then(played_name))
}
