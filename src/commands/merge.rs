//! `evalrun merge DIR… --out DIR`: shard run directories (`--shard K/N`) → one run directory with the
//! content of an unsharded run (`runner::merge`); summary and reports are re-derived from the merged
//! records, as `evalrun report` does.

use anyhow::Result;

use crate::cli::MergeArgs;
use crate::error::exit;
use crate::records::files;
use crate::report::derive;
use crate::runner::lock::RunLock;
use crate::runner::merge;

/// `evalrun merge`: joins shard run directories into one run and derives its reports.
pub fn run(args: &MergeArgs, command_line: String) -> Result<u8> {
    let out = &args.out;
    let _lock = RunLock::create(out, "--out")?;
    let merged = merge::merge(&args.dirs, out, command_line)?;
    let (summary, ctx) = derive::write_reports(out, &merged.manifest, None)?;
    print!("{}", crate::report::terminal_table(&summary, &ctx));
    println!(
        "\nmerged {} shard directories ({} items) into {}\nreport: {}",
        merged.shards,
        merged.items,
        out.display(),
        out.join(files::REPORT_MD).display()
    );
    Ok(exit::SUCCESS)
}
