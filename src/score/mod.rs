//! Scoring: rule checks on each answer, and the dimension scores they decide or bound.
