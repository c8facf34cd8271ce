//! The runs must measure the same thing: eval set, rubric and (when both have one) judge, by the
//! manifest's hashes (SPEC §7). Otherwise the gate exits 2 naming what changed, unless
//! `--allow-changed`, which the verdict then states.

use anyhow::Result;

use crate::error::UsageError;
use crate::manifest::Manifest;

/// The inputs of the two runs: refuse (exit 2) when eval set, rubric or judge changed, unless
/// `allow_changed`; otherwise lines for the verdict saying what is the same and what changed.
pub fn input_notes(base: &Manifest, cand: &Manifest, allow_changed: bool) -> Result<Vec<String>> {
    let mut changes = base.input_changes(cand);
    let both_judged = base.judge.is_some() && cand.judge.is_some();
    if both_judged {
        changes.extend(base.judge_changes(cand, false));
    }
    let mut notes = Vec::new();
    if !changes.is_empty() && !allow_changed {
        return Err(UsageError::new(format!(
            "the runs differ in what they measure, so a difference would not be a regression:\n  {}\n\
             compare runs of the same eval set, rubric and judge, or pass --allow-changed to compare the \
             items and checks they share anyway",
            changes.join("\n  ")
        ))
        .into());
    }
    if changes.is_empty() {
        notes.push(format!(
            "inputs: same eval set (sha256 {}…), same rubric (sha256 {}…), judge {}",
            &base.evalset.sha256[..base.evalset.sha256.len().min(12)],
            &base.rubric.sha256[..base.rubric.sha256.len().min(12)],
            base.judge.as_deref().unwrap_or("none")
        ));
    } else {
        notes.push(format!(
            "**compared despite changed inputs (--allow-changed)**: {}",
            changes.join("; ")
        ));
    }
    if !both_judged && base.judge != cand.judge {
        notes.push(format!(
            "judge: {} in the baseline, {} in the candidate — judged dimensions are compared only where \
             both runs scored them",
            base.judge.as_deref().unwrap_or("none"),
            cand.judge.as_deref().unwrap_or("none")
        ));
    }
    Ok(notes)
}

/// The model names of a manifest, for messages.
pub fn names(m: &Manifest) -> String {
    m.models
        .iter()
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{DimensionEntry, FileRef, ModelEntry};

    fn manifest(judge: Option<&str>) -> Manifest {
        let model = |name: &str| ModelEntry {
            name: name.into(),
            provider: crate::inputs::config::ProviderKind::Openai,
            api: crate::inputs::config::Api::Chat,
            endpoint: format!("http://127.0.0.1:1/v1/chat/completions (model {name})"),
            rps: None,
            tpm: None,
            concurrency: 4,
            timeout_s: 10.0,
            retries: 1,
            price_input_per_1k: None,
            price_output_per_1k: None,
            currency: None,
            params: Default::default(),
            extra_header_names: Vec::new(),
            structured_replies: false,
            family: None,
        };
        Manifest {
            tool: "evalrun".into(),
            version: "0".into(),
            run_id: "r".into(),
            command_line: String::new(),
            started_utc: "2026-01-01T00:00:00Z".into(),
            finished_utc: None,
            config: FileRef::of_bytes("c", b"c"),
            evalset: FileRef::of_bytes("e", b"e"),
            rubric: FileRef::of_bytes("r", b"r"),
            items: 0,
            models: vec![model("m"), model("j")],
            baseline: None,
            judge: judge.map(str::to_string),
            judge_model: None,
            judge_panel: Vec::new(),
            samples: 1,
            judge_samples: 1,
            limit: None,
            shard: None,
            margin: Some(0.1),
            flagship: None,
            cluster: None,
            max_error_rate: 0.02,
            max_cost: None,
            max_cost_reached_utc: None,
            cache: false,
            dimensions: vec![DimensionEntry {
                id: "reply".into(),
                name: "Reply".into(),
                scale: (1, 3),
                margin: None,
            }],
            simulated: None,
            resumed_utc: Vec::new(),
            interrupted_utc: None,
            rescored: None,
        }
    }

    #[test]
    fn changed_inputs_are_refused_but_a_judge_added_to_a_judgeless_run_is_only_noted() {
        let base = manifest(None);
        let mut cand = manifest(Some("j"));
        let notes = input_notes(&base, &cand, false).unwrap();
        assert!(
            notes[1].contains("judge: none in the baseline, j in the candidate"),
            "{notes:?}"
        );

        let judged = manifest(Some("j"));
        cand.models[1]
            .params
            .insert("temperature".into(), serde_json::json!(0.7));
        let err = input_notes(&judged, &cand, false).unwrap_err().to_string();
        assert!(
            err.contains("judge j: params.temperature (unset) → 0.7"),
            "{err}"
        );
        // The judge served from another address is the same judge.
        let mut moved = manifest(Some("j"));
        moved.models[1].endpoint = "http://10.0.0.2:9/v1/chat/completions (model j)".into();
        assert!(input_notes(&judged, &moved, false).is_ok());

        cand.rubric = FileRef::of_bytes("r2", b"r2");
        let notes = input_notes(&judged, &cand, true).unwrap();
        assert!(
            notes[0].starts_with("**compared despite changed inputs"),
            "{notes:?}"
        );
        assert!(notes[0].contains("rubric: sha256"), "{notes:?}");
    }
}
