//! Rubrics (SPEC §4): what is scored and how, as data.
//!
//! A rubric file names its dimensions (id, display name, scale, the text of every level), its rule
//! checks (optionally only for some categories or templates), the caps by which failed rules bound a
//! dimension, the prompt templates that render `vars` items, and the judge's templates:
//!
//! ```toml
//! id = "oral_english"
//! name = "Spoken-English tutor"
//! judge_mode = "joint"                     # or "per_dimension"
//!
//! [[dimensions]]
//! id = "adherence"
//! name = "Prompt adherence"
//! scale = [1, 3]
//! judged = true                            # default; false = decided by rules alone
//! primary = true                           # optional (default false): the gate decides on primary dimensions
//! margin = 0.2                             # optional: non-inferiority margin on this scale (> 0)
//! levels = { "1" = "…", "2" = "…", "3" = "…" }
//!
//! [[rules]]
//! id = "reply_max_30_words"
//! check = "max_words"                      # see `Check` for every check and its keys
//! field = "Reply"
//! max = 30
//! categories = ["normal"]                  # optional: only items of these categories
//! templates = ["turn"]                     # optional: only `vars` items rendered with these templates
//!
//! [[caps]]
//! dimension = "adherence"
//! max = 2
//! if_any_fails = ["reply_max_30_words"]
//! reason = "…"                             # optional, quoted in the justification
//!
//! [templates]                              # `{name}` placeholders filled from an item's vars
//! turn = '''…{topic}…{history}…'''
//! [template_lists.history]                 # how a list variable renders
//! prefixes = ["teacher: ", "student: "]    # cycled over the elements
//! separator = "\n"
//!
//! [target_categories]                      # optional; weights, compared as shares of their sum
//! normal = 0.55
//!
//! [judge]                                  # optional
//! template = '''…'''
//! pairwise_template = '''…'''
//! ```
//!
//! Unknown keys are errors (toml names the line, column and key); so are duplicate ids, caps naming an
//! unknown dimension or rule, regexes that do not compile, `min >= max` scales and missing level texts.
//! Every message starts with the file and, where one is known, the line.

pub mod checks;
mod load;
mod template;
mod types;

pub use load::{load, parse};
pub use template::{template_name, RenderError, VariableError};
pub use types::*;

#[cfg(test)]
mod tests;
