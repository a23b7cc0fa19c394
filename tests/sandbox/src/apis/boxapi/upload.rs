//! Simple uploads and new versions (`multipart/form-data`, `attributes` before `file`),
//! and the upload preflight.

use serde_json::{Value, json};

use super::items::{check_if_match, json_body, new_entry};
use super::multipart::{self, Part};
use super::tree::{Tree, check_name};
use super::{conflicts_as_list, error, sha1_hex};
use crate::http::{Request, Response};

/// What an upload form holds: the attributes (if sent) and the file part.
struct Form<'a> {
    attributes: Option<Value>,
    file: &'a [u8],
}

/// Reads the form: `attributes` (JSON) must come before the file part.
fn read_form<'a>(req: &'a Request, attributes_required: bool) -> Result<Form<'a>, Response> {
    let content_type = req.header("content-type").unwrap_or("");
    let parts =
        multipart::parse(content_type, &req.body).map_err(|why| error(400, "bad_request", why))?;
    let is_file = |p: &Part<'_>| p.filename.is_some() || p.name == "file";
    let attributes_at = parts.iter().position(|p| p.name == "attributes");
    let Some(file_at) = parts.iter().position(is_file) else {
        return Err(error(
            400,
            "bad_request",
            "API upload did not contain a file part",
        ));
    };
    let attributes = match attributes_at {
        Some(at) if at > file_at => {
            return Err(error(
                400,
                "metadata_after_file_contents",
                "Metadata after file contents. The attributes part must come before the file part.",
            ));
        }
        Some(at) => Some(
            serde_json::from_slice::<Value>(parts[at].data)
                .ok()
                .filter(Value::is_object)
                .ok_or_else(|| {
                    error(
                        400,
                        "bad_request",
                        "The attributes part is not a JSON object",
                    )
                })?,
        ),
        None if attributes_required => {
            return Err(error(400, "bad_request", "The attributes part is missing"));
        }
        None => None,
    };
    Ok(Form {
        attributes,
        file: parts[file_at].data,
    })
}

/// `Content-MD5: <hex sha1>`: 400 `sha1_mismatch` when the content's sha1 differs.
fn check_content_md5(req: &Request, sha1: &str) -> Result<(), Response> {
    match req.header("content-md5").map(str::trim) {
        Some(want) if !want.eq_ignore_ascii_case(sha1) => Err(error(
            400,
            "sha1_mismatch",
            "The SHA1 of the uploaded content does not match the Content-MD5 header",
        )),
        _ => Ok(()),
    }
}

/// The upload host's answer for a parent folder that is not there.
fn folder_not_found() -> Response {
    error(404, "not_found", "Not Found")
}

/// `POST /upload/api/2.0/files/content`: a new file, 201 with the file list.
pub(super) fn simple(tree: &mut Tree, req: &Request) -> Response {
    let form = match read_form(req, true) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let attributes = form.attributes.unwrap_or_default();
    let (name, parent) = match new_entry(
        tree,
        req,
        &attributes,
        "attributes need name and parent.id",
        folder_not_found,
    ) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let sha1 = sha1_hex(form.file);
    if let Err(response) = check_content_md5(req, &sha1) {
        return response;
    }
    let modified = attributes["content_modified_at"]
        .as_str()
        .map(str::to_string);
    let id = tree.add_file(&parent, name, form.file.to_vec(), &sha1, modified);
    Response::json(201, &tree.file_list(&id))
}

/// `POST /upload/api/2.0/files/{id}/content`: a new version, 200 with the file list.
pub(super) fn version(tree: &mut Tree, req: &Request, id: &str) -> Response {
    let Some((parent, _)) = tree.file_parent_and_name(id) else {
        return error(404, "not_found", "Not Found");
    };
    let form = match read_form(req, false) {
        Ok(form) => form,
        Err(response) => return response,
    };
    if let Err(response) = check_if_match(tree, req, id) {
        return response;
    }
    let new_name = form
        .attributes
        .as_ref()
        .and_then(|a| a["name"].as_str())
        .map(str::to_string);
    if let Some(name) = &new_name {
        if let Err(response) = check_name(name) {
            return response;
        }
        if let Err(response) =
            tree.check_free(&parent, name, Some(id), conflicts_as_list(req, false))
        {
            return response;
        }
    }
    let sha1 = sha1_hex(form.file);
    if let Err(response) = check_content_md5(req, &sha1) {
        return response;
    }
    tree.add_version(id, form.file.to_vec(), &sha1, new_name.as_deref());
    Response::json(200, &tree.file_list(id))
}

/// `OPTIONS /2.0/files/content` `{"name","parent":{"id"},"size"}`: 200 when an upload would be
/// accepted, else the error it would get (409 with the conflict).
pub(super) fn preflight(tree: &Tree, req: &Request) -> Response {
    let body = match json_body(req) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let message = "name and parent.id are required";
    if let Err(response) = new_entry(tree, req, &body, message, folder_not_found) {
        return response;
    }
    let upload_url = format!("{}/upload/api/2.0/files/content", req.base_url);
    Response::json(
        200,
        &json!({"upload_url": upload_url, "upload_token": null}),
    )
}
