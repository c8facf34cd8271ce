//! A run's items on disk, read back one at a time by position: memory holds each item's id and where
//! its line is, never the items (100,000 rendered items are hundreds of MB; their ids a few MB).
//!
//! The lines are `items.jsonl`'s ([`ItemRecord`]). A plan spools the eval set's rendered items into an
//! anonymous temporary file ([`ItemSpool`]); the run copies it to its directory's `items.jsonl` and
//! reads from there ([`ItemFile::save_as`]); `rescore` indexes a finished run's `items.jsonl`
//! ([`ItemFile::open`]).

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::inputs::evalset::Item;
use crate::records::{files, read_exact_at, stream_jsonl, ItemRecord};

/// Where one item is: its id, and its line's first byte and length (without the line end).
struct Entry {
    id: Box<str>,
    offset: u64,
    len: u32,
}

/// The items of a run, in run order, read from their file by position.
pub struct ItemFile {
    /// The file read from; `None` while it is the plan's anonymous spool.
    path: Option<PathBuf>,
    /// Read by position (`records::read_exact_at`); the lock keeps readers one at a time where that
    /// is a seek and a read.
    file: Mutex<File>,
    index: Vec<Entry>,
}

/// Writes items as `items.jsonl` lines into an anonymous temporary file, keeping their index.
pub struct ItemSpool {
    out: BufWriter<File>,
    index: Vec<Entry>,
    pos: u64,
    line: Vec<u8>,
}

impl ItemSpool {
    /// An empty spool in the system's temporary directory (removed when it is dropped).
    pub fn new() -> Result<ItemSpool> {
        let file =
            tempfile::tempfile().context("could not create a temporary file for the items")?;
        Ok(ItemSpool {
            out: BufWriter::new(file),
            index: Vec::new(),
            pos: 0,
            line: Vec::new(),
        })
    }

    /// Append `item`.
    pub fn push(&mut self, item: &Item) -> Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, &ItemRecord::from(item))?;
        self.index.push(Entry {
            id: item.id.as_str().into(),
            offset: self.pos,
            len: u32::try_from(self.line.len()).context("an item of 4 GB or more")?,
        });
        self.line.push(b'\n');
        self.out
            .write_all(&self.line)
            .context("could not write the items to a temporary file")?;
        self.pos += self.line.len() as u64;
        Ok(())
    }

    /// The items pushed so far.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The spooled items, to read.
    pub fn finish(self) -> Result<ItemFile> {
        let file = self
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .context("could not write the items to a temporary file")?;
        Ok(ItemFile {
            path: None,
            file: Mutex::new(file),
            index: self.index,
        })
    }
}

impl ItemFile {
    /// Index the items of an `items.jsonl` (every line checked once, as `records::read_jsonl` does).
    pub fn open(path: &Path) -> Result<ItemFile> {
        let mut index = Vec::new();
        for line in stream_jsonl::<ItemRecord>(path)? {
            let line = line?;
            index.push(Entry {
                id: line.record.id.into(),
                offset: line.at.offset,
                len: u32::try_from(line.at.len).context("an item of 4 GB or more")?,
            });
        }
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(ItemFile {
            path: Some(path.to_path_buf()),
            file: Mutex::new(file),
            index,
        })
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The id of item `i` (0-based, run order).
    pub fn id(&self, i: usize) -> &str {
        &self.index[i].id
    }

    /// Every id, in run order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> {
        self.index.iter().map(|e| &*e.id)
    }

    /// Item `i` (0-based, run order), read from the file.
    ///
    /// # Panics
    /// When the line can no longer be read or parsed: the file was written by this process and is held
    /// open (the run directory is locked), so only a failing disk or someone rewriting `items.jsonl`
    /// mid-run gets here, and the message says which file.
    pub fn get(&self, i: usize) -> Item {
        let e = &self.index[i];
        let mut buf = vec![0; e.len as usize];
        let read = {
            let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
            read_exact_at(&file, &mut buf, e.offset)
        };
        let record = read
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(serde_json::from_slice::<ItemRecord>(&buf)?));
        match record {
            Ok(r) if *r.id == *e.id => Item::from(r),
            other => panic!(
                "{}: item {} (`{}`) cannot be read back ({}): the file changed during the run",
                self.shown_path(),
                i + 1,
                e.id,
                other.map_or_else(|e| e.to_string(), |r| format!("found `{}`", r.id))
            ),
        }
    }

    /// Every item, in run order, read one at a time.
    pub fn iter(&self) -> impl Iterator<Item = Item> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Copy the items to `path` (`items.jsonl` of the run directory, replaced) and read them from there
    /// from now on.
    pub fn save_as(&mut self, path: &Path) -> Result<()> {
        if self.path.as_deref() == Some(path) {
            return Ok(()); // already read from there (creating it would empty it)
        }
        let file = self.file.get_mut().unwrap_or_else(|p| p.into_inner());
        let copy = |file: &mut File| -> std::io::Result<()> {
            let mut out = File::create(path)?;
            file.seek(SeekFrom::Start(0))?;
            std::io::copy(file, &mut out)?;
            out.flush()
        };
        copy(file).with_context(|| format!("could not write {}", path.display()))?;
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        self.file = Mutex::new(file);
        self.path = Some(path.to_path_buf());
        Ok(())
    }

    fn shown_path(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => format!("the items spooled for {}", files::ITEMS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::evalset::parse;

    fn items() -> Vec<Item> {
        let text = concat!(
            r#"{"id": "a", "system": "s", "prompt": "你好", "meta": {"z": 1, "a": [1.5, null]}}"#,
            "\n",
            r#"{"id": "b", "vars": {"word": "cat", "n": 3}, "category": "c", "reference": "r"}"#,
            "\n",
            r#"{"id": "c", "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}, {"role": "user", "content": "z"}]}"#,
        );
        parse(Path::new("set.jsonl"), text).unwrap()
    }

    #[test]
    fn items_read_back_equal_and_saved_lines_are_items_jsonl() {
        let items = items();
        let mut spool = ItemSpool::new().unwrap();
        for it in &items {
            spool.push(it).unwrap();
        }
        let mut file = spool.finish().unwrap();
        assert_eq!(file.ids().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(file.iter().collect::<Vec<_>>(), items);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(files::ITEMS);
        file.save_as(&path).unwrap();
        assert_eq!(file.get(2), items[2]);
        let expected: String = items
            .iter()
            .map(|i| serde_json::to_string(&ItemRecord::from(i)).unwrap() + "\n")
            .collect();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
        let mut reopened = ItemFile::open(&path).unwrap();
        assert_eq!(reopened.len(), 3);
        assert_eq!(reopened.get(1), items[1]);
        reopened.save_as(&path).unwrap();
        assert_eq!(reopened.get(2), items[2]);
    }
}
