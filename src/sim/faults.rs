//! Fault injection: the `--faults SPEC` language and its per-model resolution (`limiter.rs`
//! enforces `rate` and `tpm`). The syntax is documented in the module doc of `sim` (`mod.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::profiles;
use super::script::Script;

/// One set of fault settings; `None` = not set here (inherit, or off).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSet {
    /// `rate=R`: requests per second per model (token bucket, burst `max(1, R)`).
    pub rate: Option<f64>,
    /// `tpm=N`: tokens (prompt + completion) per rolling minute per model.
    pub tpm: Option<u64>,
    /// `rate_code=18|336501`: the Qianfan v1 error code for a request-rate rejection.
    pub rate_code: Option<i64>,
    /// `retry_after=S`: the `Retry-After` seconds on a 429 (default: until the limit admits).
    pub retry_after: Option<u64>,
    /// `expire_every=N` (global only): an access token serves N chat calls, then answers 111.
    pub expire_every: Option<u64>,
    /// `error500=P`: HTTP 500.
    pub error500: Option<f64>,
    /// `overload=P`: Qianfan 336100 (HTTP 200 JSON) / OpenAI HTTP 503.
    pub overload: Option<f64>,
    /// `tear=P`: the body breaks off mid-event (the connection is aborted).
    pub tear: Option<f64>,
    /// `cut=P`: a stream ends cleanly after a whole event but before `is_end` / `[DONE]`.
    pub cut: Option<f64>,
    /// `stall=P`: a long pause in the middle of the answer.
    pub stall: Option<f64>,
    /// `stall_ms=MS`: its length (default 30000; scaled by `time_scale` like every delay).
    pub stall_ms: Option<u64>,
    /// `garbage=P`: the judge profile replies unusably, on every call, for this share of the answers it
    /// is asked to grade or compare (chosen by a hash of the answers, so retries do not help).
    pub garbage: Option<f64>,
    // Real servers' quirks (issue 14; `quirks.rs`).
    /// `no_finish=P`: an OpenAI stream ends with `[DONE]` but no `finish_reason` (llama.cpp's server).
    pub no_finish: Option<f64>,
    /// `no_usage=P`: an OpenAI stream sends no usage, even when asked for it.
    pub no_usage: Option<f64>,
    /// `bad_utf8=P`: a byte that is not UTF-8 inside an OpenAI stream's first content.
    pub bad_utf8: Option<f64>,
    /// `huge=BYTES`: every OpenAI stream carries this many more bytes of answer text.
    pub huge: Option<u64>,
    /// `echo_auth=P`: an OpenAI route answers HTTP 500 whose body echoes the `Authorization` headers.
    pub echo_auth: Option<f64>,
    /// `degrade=DIM:AMOUNT`: the judge scores this model's answers lower on DIM (see [`Degrade`]).
    pub degrade: Option<Degrade>,
    /// `drift=AMOUNT` or `drift=DIM:AMOUNT` (the judge profile): the judge grades every answer lower
    /// on every dimension (or on DIM) by AMOUNT in expectation, as [`Degrade`] does for one model.
    pub drift: Option<Degrade>,
    /// `family=NAME`: the family the simulator takes this model (answering or judging) to be
    /// (default ERNIE, `judge_lean.rs`).
    pub family: Option<String>,
    /// `bias=AMOUNT` (a judge profile): grades of answers from the judge's own family are raised by
    /// AMOUNT levels in expectation, never above the top.
    pub bias: Option<f64>,
    /// `noise=P` (a judge profile): each grade moves one level, up or down alike, with probability P.
    pub noise: Option<f64>,
}

// ---- degrade fault (gate power): a controlled drop of one judged dimension --------------------

/// `MODEL:degrade=DIM:AMOUNT`: when the judge grades an answer this model gave, it lowers its score on
/// DIM by ⌊AMOUNT⌋ levels plus one more with probability frac(AMOUNT) (never below the scale's
/// bottom), so the expected score falls by AMOUNT wherever the answers score above the bottom.
/// The same shift serves `judge:drift=[DIM:]AMOUNT`, applied to every answer the judge grades.
#[derive(Debug, Clone, PartialEq)]
pub struct Degrade {
    /// Dimension whose scores are shifted.
    pub dim: String,
    /// Shift applied to the scores.
    pub amount: f64,
}

impl Degrade {
    fn parse(item: &str, v: &str) -> Result<Degrade, FaultSpecError> {
        let bad = || {
            FaultSpecError(format!(
                "`{item}`: expected degrade=DIMENSION:AMOUNT (AMOUNT ≥ 0)"
            ))
        };
        let (dim, amount) = v.rsplit_once(':').ok_or_else(bad)?;
        match amount.trim().parse::<f64>() {
            Ok(a) if a >= 0.0 && a.is_finite() && !dim.trim().is_empty() => Ok(Degrade {
                dim: dim.trim().to_string(),
                amount: a,
            }),
            _ => Err(bad()),
        }
    }

    /// `drift=AMOUNT` (every dimension: [`Degrade::ALL`]) or `drift=DIM:AMOUNT`.
    fn parse_drift(item: &str, v: &str) -> Result<Degrade, FaultSpecError> {
        if v.contains(':') {
            return Degrade::parse(item, v);
        }
        match v.trim().parse::<f64>() {
            Ok(a) if a >= 0.0 && a.is_finite() => Ok(Degrade {
                dim: Degrade::ALL.to_string(),
                amount: a,
            }),
            _ => Err(FaultSpecError(format!(
                "`{item}`: expected drift=AMOUNT or drift=DIMENSION:AMOUNT (AMOUNT ≥ 0)"
            ))),
        }
    }

    /// The `dim` of a shift that applies to every dimension.
    pub const ALL: &'static str = "*";

    /// Whether this shift applies to dimension `dim`.
    pub fn applies_to(&self, dim: &str) -> bool {
        self.dim == Degrade::ALL || self.dim == dim
    }

    /// The drift fault's value as `--faults` spells it.
    fn drift_spec(&self) -> String {
        if self.dim == Degrade::ALL {
            self.amount.to_string()
        } else {
            format!("{}:{}", self.dim, self.amount)
        }
    }
}

// ---- end of the degrade fault -----------------------------------------------------------------

/// Global fault settings plus per-model overrides (keys: canonical profile names).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Faults applied to every model.
    pub all: FaultSet,
    /// Faults applied to one model, by name.
    pub per_model: BTreeMap<String, FaultSet>,
    /// Scripted faults (`@MARKER:KEY=VALUE`), in the order first named.
    pub scripts: Vec<Script>,
}

/// A `--faults` string that does not parse; the message names the item at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--faults: {0}")]
pub struct FaultSpecError(String);

pub(crate) const DEFAULT_STALL_MS: u64 = 30_000;
pub(crate) const DEFAULT_RATE_CODE: i64 = 336501;

const KEYS: &[&str] = &[
    "rate",
    "tpm",
    "rate_code",
    "retry_after",
    "expire_every",
    "error500",
    "overload",
    "tear",
    "cut",
    "stall",
    "stall_ms",
    "garbage",
    "no_finish",
    "no_usage",
    "bad_utf8",
    "huge",
    "echo_auth",
    "degrade",
    "drift",
    "family",
    "bias",
    "noise",
];

fn prob(item: &str, v: &str) -> Result<f64, FaultSpecError> {
    match v.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(FaultSpecError(format!(
            "`{item}`: expected a probability between 0 and 1"
        ))),
    }
}

fn count(item: &str, v: &str) -> Result<u64, FaultSpecError> {
    v.parse::<u64>()
        .map_err(|_| FaultSpecError(format!("`{item}`: expected a whole number")))
}

impl FaultSet {
    fn set(&mut self, item: &str, key: &str, v: &str) -> Result<(), FaultSpecError> {
        match key {
            "rate" => match v.parse::<f64>() {
                Ok(r) if r > 0.0 && r.is_finite() => self.rate = Some(r),
                _ => {
                    return Err(FaultSpecError(format!(
                        "`{item}`: expected requests per second > 0"
                    )))
                }
            },
            "tpm" => self.tpm = Some(count(item, v)?.max(1)),
            "rate_code" => match v {
                "18" | "336501" => self.rate_code = Some(count(item, v)? as i64),
                _ => {
                    return Err(FaultSpecError(format!(
                        "`{item}`: rate_code is 18 or 336501"
                    )))
                }
            },
            "retry_after" => self.retry_after = Some(count(item, v)?),
            "expire_every" => self.expire_every = Some(count(item, v)?.max(1)),
            "error500" => self.error500 = Some(prob(item, v)?),
            "overload" => self.overload = Some(prob(item, v)?),
            "tear" => self.tear = Some(prob(item, v)?),
            "cut" => self.cut = Some(prob(item, v)?),
            "stall" => self.stall = Some(prob(item, v)?),
            "stall_ms" => self.stall_ms = Some(count(item, v)?),
            "garbage" => self.garbage = Some(prob(item, v)?),
            "no_finish" => self.no_finish = Some(prob(item, v)?),
            "no_usage" => self.no_usage = Some(prob(item, v)?),
            "bad_utf8" => self.bad_utf8 = Some(prob(item, v)?),
            "huge" => self.huge = Some(count(item, v)?),
            "echo_auth" => self.echo_auth = Some(prob(item, v)?),
            "degrade" => self.degrade = Some(Degrade::parse(item, v)?),
            "drift" => self.drift = Some(Degrade::parse_drift(item, v)?),
            "family" => match v {
                f if !f.is_empty()
                    && f.chars().all(|c| c.is_alphanumeric() || "-_/.".contains(c)) =>
                {
                    self.family = Some(f.to_string())
                }
                _ => return Err(FaultSpecError(format!("`{item}`: expected family=NAME"))),
            },
            "bias" => match v.parse::<f64>() {
                Ok(b) if b >= 0.0 && b.is_finite() => self.bias = Some(b),
                _ => {
                    return Err(FaultSpecError(format!(
                        "`{item}`: expected bias=AMOUNT (AMOUNT ≥ 0)"
                    )))
                }
            },
            "noise" => self.noise = Some(prob(item, v)?),
            _ => {
                return Err(FaultSpecError(format!(
                    "unknown key in `{item}` (known: {})",
                    KEYS.join(", ")
                )))
            }
        }
        Ok(())
    }

    /// Fields set here win over `base`.
    fn over(&self, base: &FaultSet) -> FaultSet {
        FaultSet {
            rate: self.rate.or(base.rate),
            tpm: self.tpm.or(base.tpm),
            rate_code: self.rate_code.or(base.rate_code),
            retry_after: self.retry_after.or(base.retry_after),
            expire_every: self.expire_every.or(base.expire_every),
            error500: self.error500.or(base.error500),
            overload: self.overload.or(base.overload),
            tear: self.tear.or(base.tear),
            cut: self.cut.or(base.cut),
            stall: self.stall.or(base.stall),
            stall_ms: self.stall_ms.or(base.stall_ms),
            garbage: self.garbage.or(base.garbage),
            no_finish: self.no_finish.or(base.no_finish),
            no_usage: self.no_usage.or(base.no_usage),
            bad_utf8: self.bad_utf8.or(base.bad_utf8),
            huge: self.huge.or(base.huge),
            echo_auth: self.echo_auth.or(base.echo_auth),
            degrade: self.degrade.clone().or_else(|| base.degrade.clone()),
            drift: self.drift.clone().or_else(|| base.drift.clone()),
            family: self.family.clone().or_else(|| base.family.clone()),
            bias: self.bias.or(base.bias),
            noise: self.noise.or(base.noise),
        }
    }

    fn items(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push(format!("{k}={v}"));
            }
        };
        push("rate", self.rate.map(|v| v.to_string()));
        push("tpm", self.tpm.map(|v| v.to_string()));
        push("rate_code", self.rate_code.map(|v| v.to_string()));
        push("retry_after", self.retry_after.map(|v| v.to_string()));
        push("expire_every", self.expire_every.map(|v| v.to_string()));
        push("error500", self.error500.map(|v| v.to_string()));
        push("overload", self.overload.map(|v| v.to_string()));
        push("tear", self.tear.map(|v| v.to_string()));
        push("cut", self.cut.map(|v| v.to_string()));
        push("stall", self.stall.map(|v| v.to_string()));
        push("stall_ms", self.stall_ms.map(|v| v.to_string()));
        push("garbage", self.garbage.map(|v| v.to_string()));
        push("no_finish", self.no_finish.map(|v| v.to_string()));
        push("no_usage", self.no_usage.map(|v| v.to_string()));
        push("bad_utf8", self.bad_utf8.map(|v| v.to_string()));
        push("huge", self.huge.map(|v| v.to_string()));
        push("echo_auth", self.echo_auth.map(|v| v.to_string()));
        push(
            "degrade",
            self.degrade
                .as_ref()
                .map(|d| format!("{}:{}", d.dim, d.amount)),
        );
        push("drift", self.drift.as_ref().map(Degrade::drift_spec));
        push("family", self.family.clone());
        push("bias", self.bias.map(|v| v.to_string()));
        push("noise", self.noise.map(|v| v.to_string()));
        out
    }
}

impl Faults {
    /// No faults at all.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Whether some judge leans toward its own family (`bias`): the server then remembers which
    /// family gave each answer.
    pub fn any_bias(&self) -> bool {
        self.all.bias.is_some() || self.per_model.values().any(|f| f.bias.is_some())
    }

    /// The settings in force for one profile: its overrides over the global ones.
    pub fn for_model(&self, profile: &str) -> FaultSet {
        match self.per_model.get(profile) {
            Some(m) => m.over(&self.all),
            None => self.all.clone(),
        }
    }
}

impl FromStr for Faults {
    type Err = FaultSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut f = Faults::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(rest) = item.strip_prefix('@') {
                f.set_scripted(item, rest)?;
                continue;
            }
            let (target, kv) = match item.split_once(':') {
                Some((m, kv)) => (Some(m.trim()), kv),
                None => (None, item),
            };
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| FaultSpecError(format!("`{item}`: expected KEY=VALUE")))?;
            let (k, v) = (k.trim(), v.trim());
            match target {
                None => f.all.set(item, k, v)?,
                Some(m) => {
                    if k == "expire_every" {
                        return Err(FaultSpecError(format!(
                            "`{item}`: expire_every applies to access tokens, not to one model"
                        )));
                    }
                    let p = profiles::by_any_name(m)
                        .ok_or_else(|| FaultSpecError(format!("`{item}`: unknown model `{m}`")))?;
                    f.per_model
                        .entry(p.name.to_string())
                        .or_default()
                        .set(item, k, v)?;
                }
            }
        }
        Ok(f)
    }
}

impl fmt::Display for Faults {
    /// The canonical SPEC string (parses back to the same value).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = self.all.items();
        for (m, set) in &self.per_model {
            items.extend(set.items().into_iter().map(|i| format!("{m}:{i}")));
        }
        items.extend(self.scripts.iter().flat_map(Script::items));
        if items.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&items.join(","))
        }
    }
}

// ---- Scripted faults (`@MARKER:KEY=VALUE`, see `script.rs`) ----

impl FaultSpecError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        FaultSpecError(msg.into())
    }
}

impl Faults {
    /// `rest` is an item after its `@`: `MARKER:KEY=VALUE`.
    fn set_scripted(&mut self, item: &str, rest: &str) -> Result<(), FaultSpecError> {
        let (marker, kv) = rest
            .split_once(':')
            .ok_or_else(|| FaultSpecError(format!("`{item}`: expected @MARKER:KEY=VALUE")))?;
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| FaultSpecError(format!("`{item}`: expected @MARKER:KEY=VALUE")))?;
        if marker.is_empty() {
            return Err(FaultSpecError(format!("`{item}`: empty marker")));
        }
        let i = match self.scripts.iter().position(|s| s.marker == marker) {
            Some(i) => i,
            None => {
                self.scripts.push(Script::new(marker));
                self.scripts.len() - 1
            }
        };
        self.scripts[i].set(item, k.trim(), v)
    }

    /// Adds a scripted fault (the in-process form of `@MARKER:…` items).
    pub fn script(mut self, s: Script) -> Self {
        self.scripts.push(s);
        self
    }
}

// ---- end of scripted faults ----
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let f: Faults =
            "rate=5,rate_code=336501,expire_every=20,tear=0.05,error500=0.02,stall=0.01"
                .parse()
                .unwrap();
        assert_eq!(f.all.rate, Some(5.0));
        assert_eq!(f.all.rate_code, Some(336501));
        assert_eq!(f.all.expire_every, Some(20));
        assert_eq!(f.all.tear, Some(0.05));
        assert_eq!(f.all.error500, Some(0.02));
        assert_eq!(f.all.stall, Some(0.01));
        assert!(f.per_model.is_empty());
    }

    #[test]
    fn per_model_overrides_resolve_any_name() {
        let f: Faults = "tear=0.1, ernie_speed:tear=0.5, ERNIE-4.0-8K:rate=1"
            .parse()
            .unwrap();
        assert_eq!(f.for_model("ernie-speed").tear, Some(0.5));
        assert_eq!(f.for_model("ernie-4.0").rate, Some(1.0));
        assert_eq!(f.for_model("ernie-4.0").tear, Some(0.1));
        assert_eq!(f.for_model("sft-full-e6-lr3e-5").tear, Some(0.1));
        let again: Faults = f.to_string().parse().unwrap();
        assert_eq!(again, f);
    }

    #[test]
    fn rejects_bad_items_with_the_item_named() {
        for (spec, needle) in [
            ("tear=2", "`tear=2`"),
            ("bogus=1", "unknown key"),
            ("rate", "KEY=VALUE"),
            ("nosuch:tear=0.1", "unknown model"),
            ("ernie-speed:expire_every=3", "access tokens"),
            ("rate_code=17", "18 or 336501"),
            ("rate=0", "> 0"),
        ] {
            let e = spec.parse::<Faults>().unwrap_err().to_string();
            assert!(e.contains(needle), "{spec}: {e}");
        }
        assert_eq!("".parse::<Faults>().unwrap(), Faults::none());
        assert_eq!(Faults::none().to_string(), "none");
    }
}
