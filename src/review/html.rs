//! The HTML review sheet: the CSV sheet's rows on one offline page (no network: a Content-Security-Policy
//! forbids any fetch), with a select per score cell and a button that downloads the filled sheet as CSV.
//!
//! Rendered by minijinja with HTML autoescaping (the template's name ends in `.html`), so prompts and
//! answers are always text, never markup; the page's metadata goes through `tojson`.

use anyhow::{Context, Result};
use minijinja::value::Serde;
use minijinja::{context, Environment, UndefinedBehavior};

use super::export::SheetRow;
use super::sheet::{
    score_column, SheetKey, SheetKind, COL_ITEM, COL_LABEL, COL_ROW, COL_SHEET, COL_VERDICT,
};

const TEMPLATE: &str = include_str!("templates/sheet.html");
const SCRIPT: &str = include_str!("templates/sheet.js");

/// The page's bytes.
pub(crate) fn render(key: &SheetKey, rows: &[SheetRow]) -> Result<Vec<u8>> {
    let pair = key.kind == SheetKind::Pair;
    let mut columns: Vec<String> = vec![COL_SHEET.into(), COL_ROW.into(), COL_ITEM.into()];
    if pair {
        columns.push(COL_VERDICT.into());
    } else {
        columns.push(COL_LABEL.into());
        columns.extend(key.dimensions.iter().map(|d| score_column(&d.id)));
    }
    let meta = serde_json::json!({ "sheet": key.sheet, "pair": pair, "columns": columns });
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template("sheet.html", TEMPLATE)
        .context("sheet.html template")?;
    let html = env
        .get_template("sheet.html")
        .and_then(|t| {
            t.render(context! {
                sheet => &key.sheet,
                pair => pair,
                dimensions => Serde(&key.dimensions),
                rows => Serde(rows),
                meta => Serde(&meta),
                script => SCRIPT,
            })
        })
        .context("could not render the HTML review sheet")?;
    Ok(html.into_bytes())
}
