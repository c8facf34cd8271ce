//! `--judge` (or `[run].judge`): one judge model, `none`, or a judge panel — several names separated by
//! commas (`--judge a,b,c`), every one a model of `evalrun.toml`.

use crate::error::UsageError;

/// The judges a `--judge` value names, in order; empty for `none`. Names are trimmed; an empty name,
/// a repeated one or `none` inside a list is an error that names the value.
pub fn judge_names(spec: &str) -> Result<Vec<String>, UsageError> {
    let spec = spec.trim();
    if spec == "none" {
        return Ok(Vec::new());
    }
    let names: Vec<String> = spec.split(',').map(|s| s.trim().to_string()).collect();
    let bad = |why: &str| {
        UsageError::new(format!(
            "--judge `{spec}`: {why}; expected a model name, `none`, or a panel such as a,b,c"
        ))
    };
    if names.iter().any(String::is_empty) {
        return Err(bad("an empty judge name"));
    }
    if names.len() > 1 && names.iter().any(|n| n == "none") {
        return Err(bad("`none` inside a panel"));
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(bad(&format!("judge `{n}` named twice")));
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_judge_none_or_a_panel() {
        assert_eq!(judge_names("ernie-4.0").unwrap(), vec!["ernie-4.0"]);
        assert!(judge_names("none").unwrap().is_empty());
        assert_eq!(judge_names("a, b,c").unwrap(), vec!["a", "b", "c"]);
        for bad in ["a,,b", "a,none", "a,b,a", ""] {
            assert!(judge_names(bad).is_err(), "{bad}");
        }
        let e = judge_names("a,b,a").unwrap_err().to_string();
        assert!(e.contains("`a` named twice"), "{e}");
    }
}
