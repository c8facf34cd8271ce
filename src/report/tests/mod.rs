//! Every format pinned on one realistic run (seed 000's line-up: a cheap base model as the baseline, the
//! flagship, and a fine-tuned cheap model), plus the decision's wording in each situation.

mod builders;
mod decision;
mod files;
mod fixture;
mod markdown;

pub(crate) use fixture::{context, summary};
