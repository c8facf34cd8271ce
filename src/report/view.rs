//! What several formats derive from the summary in the same way: model and dimension order, roles,
//! overall quality, significance, best models. One place, so the markdown, the CSV, the charts and the
//! terminal never disagree.

use crate::stats::summary::{DimensionStats, GsbStats, ModelStats, PairedStats, Summary};

use super::ReportContext;

/// A dimension as the reports show it.
#[derive(Debug, Clone)]
pub(crate) struct Dim {
    pub id: String,
    pub name: String,
    /// From the rubric; `None` when the context does not describe the dimension.
    pub scale: Option<(f64, f64)>,
    /// At least one model has a mean for it.
    pub scored: bool,
}

/// Direction of a paired comparison that passed the Holm-adjusted test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sig {
    Better,
    Worse,
    NotSignificant,
}

pub(crate) struct View<'a> {
    pub summary: &'a Summary,
    pub ctx: &'a ReportContext,
    /// `--models` order, then any model only the summary knows, by name.
    pub models: Vec<String>,
    /// Rubric order, then any dimension only the summary knows, by id.
    pub dims: Vec<Dim>,
    pub baseline: Option<String>,
    /// The most expensive model (cost fractions are relative to it).
    pub flagship: Option<String>,
    /// The overall score rescales each dimension to 0–1 because the rubric's scales differ.
    pub overall_rescaled: bool,
}

impl<'a> View<'a> {
    pub(crate) fn new(summary: &'a Summary, ctx: &'a ReportContext) -> View<'a> {
        let mut models: Vec<String> = ctx
            .models
            .iter()
            .map(|m| m.name.clone())
            .filter(|m| summary.models.contains_key(m))
            .collect();
        for m in summary.models.keys() {
            if !models.contains(m) {
                models.push(m.clone());
            }
        }

        let mut dims: Vec<Dim> = ctx
            .dimensions
            .iter()
            .map(|d| Dim {
                id: d.id.clone(),
                name: d.name.clone(),
                scale: Some(d.scale),
                scored: false,
            })
            .collect();
        let mut extra: Vec<&String> = summary
            .models
            .values()
            .flat_map(|m| m.dimensions.keys())
            .filter(|id| !dims.iter().any(|d| &d.id == *id))
            .collect();
        extra.sort();
        extra.dedup();
        dims.extend(extra.into_iter().map(|id| Dim {
            id: id.clone(),
            name: id.clone(),
            scale: None,
            scored: false,
        }));
        for d in &mut dims {
            d.scored = summary
                .models
                .values()
                .any(|m| m.dimensions.get(&d.id).and_then(|s| s.mean).is_some());
        }

        let baseline = ctx
            .baseline
            .clone()
            .or_else(|| summary.params.references.baseline.clone())
            .filter(|b| summary.models.contains_key(b));
        let flagship = ctx
            .flagship
            .clone()
            .or_else(|| summary.params.references.flagship.clone())
            .filter(|f| summary.models.contains_key(f))
            .or_else(|| {
                // Without list prices, a model is the flagship only when it clearly costs more per
                // item (≥ 1.5× the next): small differences are token counts, not a price class.
                let mut costs: Vec<(&String, f64)> = models
                    .iter()
                    .filter_map(|m| Some((m, summary.models[m].cost.per_item?)))
                    .collect();
                costs.sort_by(|a, b| b.1.total_cmp(&a.1));
                match costs.as_slice() {
                    [(top, c), (_, next), ..] if *c >= 1.5 * next && *c > 0.0 => {
                        Some((*top).clone())
                    }
                    _ => None,
                }
            })
            // "Most expensive" only means something next to another model.
            .filter(|_| models.len() > 1);

        let scales: Vec<Option<(f64, f64)>> =
            dims.iter().filter(|d| d.scored).map(|d| d.scale).collect();
        let overall_rescaled =
            scales.iter().all(Option::is_some) && scales.windows(2).any(|w| w[0] != w[1]);

        View {
            summary,
            ctx,
            models,
            dims,
            baseline,
            flagship,
            overall_rescaled,
        }
    }

    pub(crate) fn stats(&self, model: &str) -> &'a ModelStats {
        &self.summary.models[model]
    }

    pub(crate) fn dim(&self, model: &str, dim: &str) -> Option<&'a DimensionStats> {
        self.summary.models.get(model)?.dimensions.get(dim)
    }

    pub(crate) fn mean(&self, model: &str, dim: &str) -> Option<f64> {
        self.dim(model, dim)?.mean
    }

    /// The paired comparison of `model` against the baseline on `dim`.
    pub(crate) fn paired(&self, model: &str, dim: &str) -> Option<&'a PairedStats> {
        self.paired_vs(self.baseline.as_deref()?, model, dim)
    }

    /// The paired comparison of `model` against `reference` on `dim` (`paired.<ref>.<cand>.<dim>`).
    pub(crate) fn paired_vs(
        &self,
        reference: &str,
        model: &str,
        dim: &str,
    ) -> Option<&'a PairedStats> {
        self.summary.paired.get(reference)?.get(model)?.get(dim)
    }

    /// GSB of `model` against the baseline.
    pub(crate) fn gsb(&self, model: &str) -> Option<&'a GsbStats> {
        self.summary.gsb.get(self.baseline.as_deref()?)?.get(model)
    }

    /// Whether any GSB against the baseline exists.
    pub(crate) fn has_gsb(&self) -> bool {
        self.baseline
            .as_deref()
            .and_then(|b| self.summary.gsb.get(b))
            .is_some_and(|g| !g.is_empty())
    }

    /// The margin shared by the scored dimensions (the largest when they differ), for sentences about
    /// several dimensions at once.
    pub(crate) fn common_margin(&self) -> f64 {
        self.scored_dims()
            .map(|d| self.margin(&d.id))
            .fold(None, |acc: Option<f64>, m| {
                Some(acc.map_or(m, |a| a.max(m)))
            })
            .unwrap_or(0.1)
    }

    /// The non-inferiority margin of a dimension (`params.margins`).
    pub(crate) fn margin(&self, dim: &str) -> f64 {
        self.summary.params.margins.get(dim).copied().unwrap_or(0.1)
    }

    pub(crate) fn scored_dims(&self) -> impl Iterator<Item = &Dim> {
        self.dims.iter().filter(|d| d.scored)
    }

    pub(crate) fn is_baseline(&self, model: &str) -> bool {
        self.baseline.as_deref() == Some(model)
    }

    pub(crate) fn is_flagship(&self, model: &str) -> bool {
        self.flagship.as_deref() == Some(model)
    }

    /// "baseline", "flagship", "baseline, flagship" or empty.
    pub(crate) fn roles(&self, model: &str) -> Vec<&'static str> {
        let mut r = Vec::new();
        if self.is_baseline(model) {
            r.push("baseline");
        }
        if self.is_flagship(model) {
            r.push("flagship");
        }
        r
    }

    /// Holm-adjusted verdict of a paired comparison (STATS.md §1.5).
    pub(crate) fn sig(&self, p: &PairedStats) -> Sig {
        match (p.p_holm, p.mean_diff) {
            (Some(ph), Some(d)) if ph < self.summary.params.alpha && d > 0.0 => Sig::Better,
            (Some(ph), Some(d)) if ph < self.summary.params.alpha && d < 0.0 => Sig::Worse,
            _ => Sig::NotSignificant,
        }
    }

    /// Mean of the model's dimension means over the scored dimensions (rescaled to 0–1 when the scales
    /// differ); `None` unless the model has a mean on every scored dimension, so that overall scores
    /// always average the same dimensions.
    pub(crate) fn overall(&self, model: &str) -> Option<f64> {
        let mut sum = 0.0;
        let mut n = 0usize;
        for d in self.scored_dims() {
            let m = self.mean(model, &d.id)?;
            sum += match (self.overall_rescaled, d.scale) {
                (true, Some((lo, hi))) if hi > lo => (m - lo) / (hi - lo),
                _ => m,
            };
            n += 1;
        }
        (n > 0).then(|| sum / n as f64)
    }

    /// The model with the highest overall score; ties go to the earlier model.
    /// Answers of `model` the judge left unscored on some dimension after its retries (not those a
    /// dimension does not apply to).
    pub(crate) fn unjudged(&self, model: &str) -> usize {
        self.summary
            .judge
            .as_ref()
            .and_then(|j| j.per_model.get(model))
            .map_or(0, |m| m.n_unjudged_answers)
    }

    /// Failed answers of `model` — request errors plus answers the judge could not score — and the
    /// answers the run planned for it (else the ones it recorded).
    pub(crate) fn failed_answers(&self, model: &str) -> (usize, usize) {
        let e = &self.stats(model).errors;
        let planned = self.ctx.run.planned_per_model.unwrap_or(e.n_responses);
        (
            e.n_errors + self.unjudged(model),
            planned.max(e.n_responses),
        )
    }

    pub(crate) fn best_overall(&self) -> Option<String> {
        argmax(self.models.iter().map(|m| (m, self.overall(m))))
    }

    /// The model with the highest mean on `dim`.
    pub(crate) fn best_in(&self, dim: &str) -> Option<String> {
        argmax(self.models.iter().map(|m| (m, self.mean(m, dim))))
    }

    /// The scale shared by every scored dimension, if there is one.
    pub(crate) fn common_scale(&self) -> Option<(f64, f64)> {
        let mut scales = self.scored_dims().map(|d| d.scale);
        let first = scales.next()??;
        scales.all(|s| s == Some(first)).then_some(first)
    }

    pub(crate) fn currency(&self) -> Option<String> {
        self.models
            .iter()
            .find_map(|m| self.stats(m).cost.currency.clone())
            .or_else(|| self.ctx.models.iter().find_map(|m| m.currency.clone()))
    }
}

fn argmax<'m>(it: impl Iterator<Item = (&'m String, Option<f64>)>) -> Option<String> {
    let mut best: Option<(&String, f64)> = None;
    for (m, v) in it {
        if let Some(v) = v {
            if best.is_none_or(|(_, b)| v > b) {
                best = Some((m, v));
            }
        }
    }
    best.map(|(m, _)| m.clone())
}

/// A scale as a reader writes it: `1–3`, `0–4`, `0.5–1.5`.
pub(crate) fn scale_label((lo, hi): (f64, f64)) -> String {
    let f = |x: f64| {
        if x.fract() == 0.0 {
            format!("{x:.0}")
        } else {
            format!("{x}")
        }
    };
    format!("{}–{}", f(lo), f(hi))
}
