//! `summary.json`: the summary itself, pretty-printed. Keys come from structs and `BTreeMap`s and floats
//! print in their shortest round-trip form, so the same summary always gives the same bytes.

use anyhow::Result;

use crate::stats::summary::Summary;

use super::{Exporter, ReportContext};

pub(crate) struct JsonExporter;

impl JsonExporter {
    pub(crate) fn serialize_summary(&self, summary: &Summary) -> Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(summary)?;
        out.push(b'\n');
        Ok(out)
    }
}

impl Exporter for JsonExporter {
    fn serialize(&self, summary: &Summary, _ctx: &ReportContext) -> Result<Vec<u8>> {
        self.serialize_summary(summary)
    }
}
