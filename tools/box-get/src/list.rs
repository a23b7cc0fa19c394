//! --list: the folder's entries as NDJSON, page by page.

use crate::args::{Options, Source};
use crate::entry::{self, FileEntry};
use crate::glob;
use crate::{TOOL, count};
use common::boxapi::BoxClient;
use common::{Error, Result};
use serde_json::Value;
use std::io::Write;

/// Write the entries that --glob and --type keep, one line each, flushed
/// page by page.
pub fn run(client: &BoxClient, options: &Options) -> Result<()> {
    let folder = source_folder(client, options)?;
    let mut out = std::io::stdout().lock();
    let (mut written, mut fetched) = (0u64, 0u64);
    let mut line = Vec::new();
    let mut pages = client.folder_items(&folder, options.args.page_size);
    while let Some(page) = pages.next_page()? {
        fetched += 1;
        line.clear();
        for item in &page {
            if keeps(options, item) {
                serde_json::to_writer(&mut line, &entry::line(item))
                    .map_err(|_| Error::software("an entry did not serialise"))?;
                line.push(b'\n');
                written += 1;
            }
        }
        out.write_all(&line)
            .and_then(|()| out.flush())
            .map_err(|e| Error::write("writing <stdout>", e))?;
    }
    if !options.args.quiet {
        common::cli::info(
            TOOL,
            format!(
                "{} in {}",
                count(written, "entry", "entries"),
                count(fetched.max(1), "page", "pages")
            ),
        );
    }
    Ok(())
}

/// The files of the folder that --glob keeps, read to the end of the
/// listing, with the folder's id.
pub fn matching_files(client: &BoxClient, options: &Options) -> Result<(String, Vec<FileEntry>)> {
    let folder = source_folder(client, options)?;
    let mut files = Vec::new();
    let mut pages = client.folder_items(&folder, options.args.page_size);
    while let Some(page) = pages.next_page()? {
        for item in &page {
            if keeps(options, item)
                && let Some(file) = FileEntry::of(item)?
            {
                files.push(file);
            }
        }
    }
    Ok((folder, files))
}

/// Whether --type and --glob keep an entry.
fn keeps(options: &Options, item: &Value) -> bool {
    let type_ok = options
        .args
        .entry_type
        .is_none_or(|t| entry::entry_type(item) == t.as_str());
    type_ok && glob::any_matches(&options.globs, entry::entry_name(item))
}

/// The id of the folder of --folder or --path.
pub fn source_folder(client: &BoxClient, options: &Options) -> Result<String> {
    match &options.source {
        Some(Source::Folder(id)) => Ok(id.clone()),
        Some(Source::Path(path)) => client.resolve_path(&options.args.root, path, false),
        None => Err(Error::software("no folder to read")),
    }
}

/// The receipts' target: the path as given, or "folder ID".
pub fn source_name(options: &Options) -> String {
    match &options.source {
        Some(Source::Path(path)) => path.clone(),
        Some(Source::Folder(id)) => format!("folder {id}"),
        None => String::new(),
    }
}
