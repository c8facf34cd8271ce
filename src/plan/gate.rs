//! The gate's settings: `evalrun gate`'s flags resolved into [`Params`], every value checked before
//! either run is read.

use crate::cli::GateArgs;
use crate::error::UsageError;
use crate::gate::Params;

/// The gate's settings from the flags; exit 2 on a value out of range.
pub fn gate_params(args: &GateArgs) -> Result<Params, UsageError> {
    let mut p = Params {
        alpha: args.alpha,
        models: args.models.clone(),
        primary: args.primary.clone(),
        max_latency_increase: args.max_latency_increase,
        max_error_rate: args.max_error_rate,
        allow_cached: args.allow_cached,
        cluster: args.cluster.clone(),
        exact: args.exact,
        ..Params::default()
    };
    let number = |flag: &str, v: &str| -> Result<f64, UsageError> {
        match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
            _ => Err(UsageError::new(format!(
                "{flag} {v}: expected a number ≥ 0"
            ))),
        }
    };
    if let Some(x) = args.max_drop {
        eprintln!("warning: --max-drop is deprecated; use --tolerance {x}");
        p.tolerance = Some(number("--max-drop", &x.to_string())?);
    }
    for t in &args.tolerance {
        match t.split_once('=') {
            Some((d, x)) => {
                p.tolerance_by_dim
                    .insert(d.trim().to_string(), number("--tolerance", x)?);
            }
            None => p.tolerance = Some(number("--tolerance", t)?),
        }
    }
    for (flag, v, ok) in [
        ("--alpha", p.alpha, p.alpha > 0.0 && p.alpha <= 1.0),
        (
            "--max-latency-increase",
            p.max_latency_increase,
            p.max_latency_increase >= 0.0,
        ),
        (
            "--max-error-rate",
            p.max_error_rate,
            (0.0..=1.0).contains(&p.max_error_rate),
        ),
    ] {
        if !(v.is_finite() && ok) {
            return Err(UsageError::new(format!("{flag} {v}: out of range")));
        }
    }
    Ok(p)
}
