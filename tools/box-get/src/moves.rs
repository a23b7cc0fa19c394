//! --move-to and --delete: act on files by id, one receipt each. A file
//! whose input line gave its etag is moved or deleted only while it still
//! has that etag (If-Match), so that a version uploaded after the flow read
//! the file is never filed away or deleted unread.

use crate::args::{Destination, OnConflict, Options};
use crate::ids::{self, FileRef};
use crate::{TOOL, count};
use common::boxapi::{BoxClient, box_error_code};
use common::http::url::encode_path_segment;
use common::http::{Method, Request};
use common::receipt::Receipt;
use common::time::now_rfc3339;
use common::{Error, Result};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::io::{IsTerminal, Write};

/// The most "NAME (N).EXT" names tried for one move.
const MAX_NUMBER: u32 = 99;

/// The fields asked for in a file's info and a move's answer.
const FILE_FIELDS: &str = "type,id,name,size,sha1,etag,modified_at,parent";

/// The files of --id, or of the NDJSON on standard input.
pub fn files_to_act_on(options: &Options) -> Result<Vec<FileRef>> {
    if !options.args.id.is_empty() {
        return ids::from_flags(&options.args.id);
    }
    if std::io::stdin().is_terminal() {
        return Err(Error::usage(
            "--move-to and --delete act on the files of --id ID, or of the receipts or entries piped to standard input",
        ));
    }
    ids::from_ndjson(common::io::open_input(None)?)
}

/// Move each file into the destination folder.
pub fn move_files(
    client: &BoxClient,
    options: &Options,
    destination: &Destination,
    files: &[FileRef],
) -> Result<()> {
    let dry = options.args.dry_run;
    let (target, folder) = match destination {
        Destination::Folder(id) => (format!("folder {id}"), Some(id.clone())),
        Destination::Path(path) => (path.clone(), target_folder(client, options, path)?),
    };
    // In a dry run: the names in the target folder, to tell what each move
    // would be called.
    let mut taken: Option<HashSet<String>> = match (&folder, dry) {
        (Some(id), true) => Some(names_in(client, id, options.args.page_size)?),
        (None, true) => Some(HashSet::new()),
        (_, false) => None,
    };
    let mut out = std::io::stdout().lock();
    let mut moved = 0u64;
    for file in files {
        let info = file_info(client, file)?;
        let from = parent_id(&info);
        let name = text(&info, "name");
        // Already there (a rerun): nothing to do but say so, whatever its
        // etag is now.
        let already_there = folder.is_some() && from == folder;
        if !already_there {
            check_unchanged(file, &info)?;
        }
        let result = if already_there {
            info.clone()
        } else if let Some(taken) = taken.as_mut() {
            let free = free_name(options, &name, |candidate| !taken.contains(candidate))
                .map_err(|e| at(file, e))?;
            taken.insert(free.clone());
            let mut info = info.clone();
            info["name"] = json!(free);
            info
        } else {
            let Some(folder) = &folder else {
                return Err(Error::software("no target folder for a move"));
            };
            move_one(client, options, file, &name, folder)?
        };
        let folders = [("folder_id", &folder), ("from_folder_id", &from)];
        let fields = action_fields("move", &folders, &result);
        write_receipt(&mut out, receipt(&target, &result, file, dry, fields))?;
        moved += 1;
    }
    summarize(options, moved, &format!("moved to {target}"));
    Ok(())
}

/// Delete each file (to Box's trash).
pub fn delete_files(client: &BoxClient, options: &Options, files: &[FileRef]) -> Result<()> {
    let dry = options.args.dry_run;
    let mut out = std::io::stdout().lock();
    let mut deleted = 0u64;
    for file in files {
        let info = file_info(client, file)?;
        check_unchanged(file, &info)?;
        if !dry {
            let url = client.api(&format!("/files/{}", encode_path_segment(&file.id)));
            let request = if_match(Request::new(Method::Delete, url), file);
            let response = client.send(&request).map_err(|e| at(file, e))?;
            client
                .check(refused_if_changed(response, file)?)
                .map_err(|e| at(file, e.context("deleting")))?;
        }
        let folder = parent_id(&info);
        let target = format!("folder {}", folder.as_deref().unwrap_or("?"));
        let fields = action_fields("delete", &[("folder_id", &folder)], &info);
        write_receipt(&mut out, receipt(&target, &info, file, dry, fields))?;
        deleted += 1;
    }
    summarize(options, deleted, "deleted");
    Ok(())
}

/// The receipt fields of a move or a delete, in this order: the action,
/// the folders it names, then Box's sha1 and etag of the file.
fn action_fields(
    action: &str,
    folders: &[(&str, &Option<String>)],
    info: &Value,
) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("action".into(), json!(action));
    for (name, id) in folders {
        fields.insert((*name).into(), json!(id));
    }
    copy_field(info, "sha1", &mut fields);
    copy_field(info, "etag", &mut fields);
    fields
}

/// The summary line of a move or a delete on stderr (none with --quiet).
fn summarize(options: &Options, files: u64, done: &str) {
    if !options.args.quiet {
        let would = if options.args.dry_run {
            "would be "
        } else {
            ""
        };
        common::cli::info(
            TOOL,
            format!("{} {would}{done}", count(files, "file", "files")),
        );
    }
}

/// The id of the --move-to folder. A dry run creates nothing: a missing
/// folder is named on stderr with --mkdir (None), else exit 69.
fn target_folder(client: &BoxClient, options: &Options, path: &str) -> Result<Option<String>> {
    let root = &options.args.root;
    if !options.args.dry_run {
        return client
            .resolve_path(root, path, options.args.mkdir)
            .map(Some)
            .map_err(|e| e.context("--move-to"));
    }
    let plan = client
        .plan_path(root, path)
        .map_err(|e| e.context("--move-to"))?;
    if plan.id.is_none() {
        if !options.args.mkdir {
            return Err(Error::unavailable(format!(
                "--move-to: folder {:?} not found under folder {root} (--mkdir creates it)",
                plan.missing.first().map_or(path, String::as_str)
            )));
        }
        common::cli::info(
            TOOL,
            format!(
                "dry run: --mkdir would create the folder{} {}",
                common::text::plural_s(plan.missing.len()),
                plan.missing
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    Ok(plan.id)
}

/// The file's info (exit 69 when it is missing or not a file).
fn file_info(client: &BoxClient, file: &FileRef) -> Result<Value> {
    let url = client.api(&format!(
        "/files/{}?fields={FILE_FIELDS}",
        encode_path_segment(&file.id)
    ));
    let response = client
        .send_checked(&Request::get(url).header("accept", "application/json"))
        .map_err(|e| at(file, e))?;
    let info = response.json().map_err(|e| at(file, e))?;
    if info.get("type").and_then(Value::as_str) != Some("file") {
        return Err(at(
            file,
            Error::unavailable("Box does not describe it as a file"),
        ));
    }
    Ok(info)
}

/// Exit 75 when the input line gave an etag and the file has another one
/// now: it changed after the flow read it.
fn check_unchanged(file: &FileRef, info: &Value) -> Result<()> {
    match (&file.etag, info.get("etag").and_then(Value::as_str)) {
        (Some(want), Some(now)) if want != now => Err(changed(file)),
        _ => Ok(()),
    }
}

/// Move one file with PUT /files/ID, renaming it when the name is taken
/// and --on-conflict rename.
fn move_one(
    client: &BoxClient,
    options: &Options,
    file: &FileRef,
    name: &str,
    folder: &str,
) -> Result<Value> {
    let url = client.api(&format!(
        "/files/{}?fields={FILE_FIELDS}",
        encode_path_segment(&file.id)
    ));
    let mut number = 1;
    loop {
        let mut body = json!({"parent": {"id": folder}});
        if number > 1 {
            body["name"] = json!(numbered(name, number));
        }
        let request = Request::with_body(
            Method::Put,
            url.clone(),
            "application/json",
            body.to_string().into_bytes(),
        )
        .header("accept", "application/json");
        let response = client
            .send(&if_match(request, file))
            .map_err(|e| at(file, e))?;
        let response = refused_if_changed(response, file)?;
        let name_taken = response.status == 409
            && box_error_code(&response).is_none_or(|code| code == "item_name_in_use");
        if !name_taken {
            let response = client
                .check(response)
                .map_err(|e| at(file, e.context(format!("moving it to folder {folder}"))))?;
            return response.json().map_err(|e| at(file, e));
        }
        if options.args.on_conflict == OnConflict::Fail {
            return Err(at(
                file,
                Error::unavailable(
                    "the target folder already has a file of that name; left where it is (--on-conflict fail)",
                ),
            ));
        }
        number += 1;
        if number > MAX_NUMBER {
            return Err(at(
                file,
                Error::unavailable(format!(
                    "the target folder already has that name, numbered up to ({MAX_NUMBER}) too; left where it is"
                )),
            ));
        }
    }
}

/// Send If-Match when the input line gave the file's etag.
fn if_match(request: Request, file: &FileRef) -> Request {
    match &file.etag {
        Some(etag) => request.header("if-match", etag.clone()),
        None => request,
    }
}

/// A 412 (If-Match failed) is exit 75: the file changed after it was read.
fn refused_if_changed(
    response: common::http::Response,
    file: &FileRef,
) -> Result<common::http::Response> {
    if response.status == 412 {
        return Err(changed(file));
    }
    Ok(response)
}

fn changed(file: &FileRef) -> Error {
    at(
        file,
        Error::temp_fail(
            "it has changed on Box since the input line was written (another etag): left as it is, for the next run to read again",
        ),
    )
}

/// The name a move would give: the file's own when `free`, else the
/// first free numbered variant.
fn free_name(options: &Options, name: &str, free: impl Fn(&str) -> bool) -> Result<String> {
    if free(name) {
        return Ok(name.to_string());
    }
    if options.args.on_conflict == OnConflict::Fail {
        return Err(Error::unavailable(
            "the target folder already has a file of that name (--on-conflict fail)",
        ));
    }
    (2..=MAX_NUMBER)
        .map(|n| numbered(name, n))
        .find(|candidate| free(candidate))
        .ok_or_else(|| {
            Error::unavailable(format!(
                "the target folder already has that name, numbered up to ({MAX_NUMBER}) too"
            ))
        })
}

/// "NAME (N).EXT": the number goes before the extension, as Box's web app
/// and most desktops do.
fn numbered(name: &str, n: u32) -> String {
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{} ({n}){}", &name[..dot], &name[dot..]),
        _ => format!("{name} ({n})"),
    }
}

/// The names of a folder's entries.
fn names_in(client: &BoxClient, folder: &str, page_size: u64) -> Result<HashSet<String>> {
    let mut names = HashSet::new();
    let mut pages = client.folder_items(folder, page_size);
    while let Some(page) = pages.next_page()? {
        names.extend(page.iter().map(|e| text(e, "name")));
    }
    Ok(names)
}

fn receipt(
    target: &str,
    info: &Value,
    file: &FileRef,
    dry_run: bool,
    fields: Map<String, Value>,
) -> Receipt {
    Receipt {
        tool: TOOL.into(),
        target: target.into(),
        name: text(info, "name"),
        bytes: info.get("size").and_then(Value::as_u64).unwrap_or(0),
        sha256: file.sha256.clone().unwrap_or_default(),
        remote_id: Some(file.id.clone()),
        time: now_rfc3339(),
        dry_run,
        fields: Some(fields),
        ..Receipt::default()
    }
}

/// Write a receipt, without its sha256 when none is known.
fn write_receipt(out: &mut impl Write, receipt: Receipt) -> Result<()> {
    let mut value = serde_json::to_value(&receipt)
        .map_err(|_| Error::software("a receipt did not serialise"))?;
    if receipt.sha256.is_empty()
        && let Some(object) = value.as_object_mut()
    {
        object.remove("sha256");
    }
    serde_json::to_writer(&mut *out, &value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| Error::write("writing the receipt to <stdout>", e))
}

fn copy_field(from: &Value, field: &str, to: &mut Map<String, Value>) {
    if let Some(value) = from.get(field).filter(|v| !v.is_null()) {
        to.insert(field.into(), value.clone());
    }
}

fn text(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn parent_id(info: &Value) -> Option<String> {
    match info.get("parent")?.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An error about one file: "file ID (<stdin>: line N): ...".
fn at(file: &FileRef, error: Error) -> Error {
    match &file.source {
        Some(source) => error.context(format!("file {} ({source})", file.id)),
        None => error.context(format!("file {}", file.id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_keep_the_extension() {
        assert_eq!(numbered("a.csv", 2), "a (2).csv");
        assert_eq!(numbered("a.tar.gz", 3), "a.tar (3).gz");
        assert_eq!(numbered(".hidden", 2), ".hidden (2)");
        assert_eq!(numbered("README", 2), "README (2)");
    }
}
