//! The run's inputs: the eval set and rubric loaded and rendered, the items `--limit` and `--shard`
//! select, and the input paths and shard syntax `check`, `merge` and `rescore` share.

use std::path::{Path, PathBuf};

use crate::error::{BadInput, PlanError, UsageError};
use crate::inputs::config::Config;
use crate::inputs::evalset;
use crate::inputs::rubric::{self, Rubric};
use crate::runner::items::{ItemFile, ItemSpool};

/// Eval set and rubric, loaded, validated and rendered.
pub struct Inputs {
    /// Path of the evalset file.
    pub evalset_path: PathBuf,
    /// Path of the rubric file.
    pub rubric_path: PathBuf,
    /// The evalset items the run covers (after `--limit` and `--shard`), validated and rendered, on
    /// disk.
    pub items: ItemFile,
    /// The rubric, loaded and validated.
    pub rubric: Rubric,
}

/// Load the rubric, then read the eval set line by line, rendering every `vars` item through the
/// rubric's templates and spooling the items `--limit` and `--shard` keep ([`Selection`]) to disk.
/// Every line is checked, kept or not; the first bad line is the error, and only then the first item
/// that does not render.
pub fn load_inputs(
    evalset_path: &Path,
    rubric_path: &Path,
    selection: Selection,
) -> Result<Inputs, PlanError> {
    let rubric = rubric::load(rubric_path)?;
    let mut spool = ItemSpool::new().map_err(BadInput)?;
    let (mut bad_line, mut unrendered) = (None, None);
    let mut n = 0;
    for item in evalset::stream(evalset_path)? {
        let mut item = match item {
            Ok(item) => item,
            Err(e) => {
                bad_line.get_or_insert(e);
                continue;
            }
        };
        if bad_line.is_some() {
            continue;
        }
        if let Err(e) = rubric.render(&mut item) {
            unrendered.get_or_insert_with(|| UsageError::at(evalset_path, item.line, e));
        } else if unrendered.is_none() && selection.keeps(n) {
            spool.push(&item).map_err(BadInput)?;
        }
        n += 1;
    }
    if let Some(e) = bad_line.or(unrendered) {
        return Err(e.into());
    }
    if n == 0 {
        return Err(UsageError::in_file(evalset_path, "the eval set has no items").into());
    }
    Ok(Inputs {
        evalset_path: evalset_path.to_path_buf(),
        rubric_path: rubric_path.to_path_buf(),
        items: spool.finish().map_err(BadInput)?,
        rubric,
    })
}

/// Which of the eval set's items a run covers: `--limit` first, then `--shard` (the shards of a
/// limited run are the limited run, split).
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection {
    /// `--limit`: the first this many items.
    pub limit: Option<usize>,
    /// `--shard k/n` as `(k, n)`.
    pub shard: Option<(usize, usize)>,
}

impl Selection {
    /// Whether the item at index `i` (0-based, in eval-set order) is run.
    pub fn keeps(&self, i: usize) -> bool {
        self.limit.is_none_or(|l| i < l) && self.shard.is_none_or(|(k, n)| i % n == k - 1)
    }
}

/// `--evalset` / `--rubric`, else the configuration's `[run]` entry (relative to the config's folder).
pub fn input_path(
    flag: Option<&PathBuf>,
    from_config: Option<&PathBuf>,
    config: &Config,
    what: &str,
) -> Result<PathBuf, UsageError> {
    match (flag, from_config) {
        (Some(p), _) => Ok(p.clone()),
        (None, Some(p)) if p.is_absolute() => Ok(p.clone()),
        (None, Some(p)) => Ok(config.base_dir().join(p)),
        (None, None) => Err(UsageError::new(format!(
            "no {what}: pass --{what} FILE or set [run].{what} in {}",
            config.path.display()
        ))),
    }
}

/// Parse `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(s: &str) -> Result<(usize, usize), UsageError> {
    let bad = || {
        UsageError::new(format!(
            "--shard {s}: expected K/N with 1 ≤ K ≤ N, e.g. 1/4"
        ))
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("1/2").unwrap(), (1, 2));
        assert!(parse_shard("0/2").is_err());
        assert!(parse_shard("3/2").is_err());
        assert!(parse_shard("x").is_err());
    }
}
