//! The runner: plans work units, schedules them under limits, retries, and appends records.
