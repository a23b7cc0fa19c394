//! Box's folder and file endpoints: folder creation, info and listing, file info, move,
//! delete, and downloads through a redirect.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::tree::{DEFAULT_LIMIT, Item, Tree, check_name, order};
use super::{conflicts_as_list, error, error_with, now_text};
use crate::apis::support::random_alnum;
use crate::http::{Request, Response};

/// The largest `limit` of a folder listing.
const MAX_LIMIT: usize = 1000;
/// Keeps `type`, `id`, `etag` and the fields asked for with `fields=a,b` (all when absent).
fn with_fields(req: &Request, value: Value) -> Value {
    let Some(fields) = req.query("fields").filter(|f| !f.trim().is_empty()) else {
        return value;
    };
    let Value::Object(all) = value else {
        return value;
    };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let kept: Map<String, Value> = all
        .into_iter()
        .filter(|(k, _)| {
            matches!(k.as_str(), "type" | "id" | "etag") || wanted.contains(&k.as_str())
        })
        .collect();
    Value::Object(kept)
}

fn not_found(what: &str) -> Response {
    error_with(
        404,
        "not_found",
        "Not Found",
        Some(
            json!({"errors": [{"reason": "invalid_parameter", "name": what,
                                "message": format!("'{what}' not found")}]}),
        ),
    )
}

/// A JSON body as Box reads it; 400 `bad_request` otherwise.
pub(super) fn json_body(req: &Request) -> Result<Value, Response> {
    serde_json::from_slice::<Value>(&req.body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| error(400, "bad_request", "The request body is not a JSON object"))
}

/// An id that may come as a string or a number.
pub(super) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `If-Match` on a file: 412 `precondition_failed` when its etag differs.
pub(super) fn check_if_match(tree: &Tree, req: &Request, id: &str) -> Result<(), Response> {
    match (req.header("if-match"), tree.file_etag(id)) {
        (Some(want), Some(etag)) if want.trim().trim_matches('"') != etag => Err(error(
            412,
            "precondition_failed",
            "The resource has been modified. Please retrieve the resource again and retry",
        )),
        _ => Ok(()),
    }
}

/// The `name` and `parent.id` of a new entry's JSON (else 400 with
/// `message`), checked as Box checks them: a good name, a folder that is
/// there (else the answer of `missing`), no entry of that name in it yet.
pub(super) fn new_entry<'a>(
    tree: &Tree,
    req: &Request,
    value: &'a Value,
    message: &str,
    missing: impl FnOnce() -> Response,
) -> Result<(&'a str, String), Response> {
    let (Some(name), Some(parent)) = (value["name"].as_str(), id_text(&value["parent"]["id"]))
    else {
        return Err(error(400, "bad_request", message));
    };
    check_name(name)?;
    if !tree.has_folder(&parent) {
        return Err(missing());
    }
    tree.check_free(&parent, name, None, conflicts_as_list(req, false))?;
    Ok((name, parent))
}

/// `POST /2.0/folders` `{"name","parent":{"id"}}`.
pub(super) fn create_folder(tree: &mut Tree, req: &Request) -> Response {
    let body = match json_body(req) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let missing = || not_found("parent");
    let (name, parent) =
        match new_entry(tree, req, &body, "name and parent.id are required", missing) {
            Ok(found) => found,
            Err(response) => return response,
        };
    let id = tree.add_folder(&parent, name);
    Response::json(201, &with_fields(req, tree.full_folder_by_id(&id)))
}

pub(super) fn get_folder(tree: &Tree, req: &Request, id: &str) -> Response {
    match tree.folders.get(id) {
        Some(folder) => Response::json(200, &with_fields(req, tree.full_folder(folder))),
        None => not_found("folder"),
    }
}

/// A paging parameter: absent -> `default`; not a number -> 400.
fn paging(req: &Request, name: &str, default: usize) -> Result<usize, Response> {
    match req.query(name) {
        None | Some("") => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            error_with(
                400,
                "bad_request",
                "Bad Request",
                Some(
                    json!({"errors": [{"reason": "invalid_parameter", "name": name,
                                        "message": format!("Invalid value for '{name}'")}]}),
                ),
            )
        }),
    }
}

/// `GET /2.0/folders/{id}/items?limit=&offset=&fields=`.
pub(super) fn list(tree: &Tree, req: &Request, id: &str) -> Response {
    if !tree.has_folder(id) {
        return not_found("folder");
    }
    let (limit, offset) = match (
        paging(req, "limit", DEFAULT_LIMIT),
        paging(req, "offset", 0),
    ) {
        (Ok(limit), Ok(offset)) => (limit.clamp(1, MAX_LIMIT), offset),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    let children = tree.children(id);
    let entries: Vec<Value> = children
        .iter()
        .skip(offset)
        .take(limit)
        .map(|item| {
            if req.query("fields").is_some() {
                let full = match item {
                    Item::Folder(f) => tree.full_folder(f),
                    Item::File(f) => tree.full_file(f),
                };
                with_fields(req, full)
            } else {
                tree.entry(item)
            }
        })
        .collect();
    Response::json(
        200,
        &json!({"total_count": children.len(), "entries": entries, "offset": offset,
                "limit": limit, "order": order()}),
    )
}

pub(super) fn get_file(tree: &Tree, req: &Request, id: &str) -> Response {
    match tree.files.get(id) {
        Some(file) => Response::json(200, &with_fields(req, tree.full_file(file))),
        None => not_found("file"),
    }
}

/// `PUT /2.0/files/{id}` with `{"parent":{"id"}}` and/or `{"name"}`: move or rename.
pub(super) fn update_file(tree: &mut Tree, req: &Request, id: &str) -> Response {
    let Some((parent, name)) = tree.file_parent_and_name(id) else {
        return not_found("file");
    };
    let body = match json_body(req) {
        Ok(body) => body,
        Err(response) => return response,
    };
    if let Err(response) = check_if_match(tree, req, id) {
        return response;
    }
    let target = match &body["parent"] {
        Value::Null => parent,
        p => match id_text(&p["id"]) {
            Some(target) => target,
            None => return error(400, "bad_request", "parent.id is required"),
        },
    };
    let new_name = match &body["name"] {
        Value::Null => name,
        Value::String(n) => n.clone(),
        _ => return error(400, "bad_request", "name must be a string"),
    };
    if let Err(response) = check_name(&new_name) {
        return response;
    }
    if !tree.has_folder(&target) {
        return not_found("parent");
    }
    if let Err(response) =
        tree.check_free(&target, &new_name, Some(id), conflicts_as_list(req, false))
    {
        return response;
    }
    if let Some(file) = tree.files.get_mut(id) {
        file.parent = target;
        file.name = new_name;
        file.modified_at = now_text();
    }
    Response::json(200, &with_fields(req, tree.full_file_by_id(id)))
}

/// `DELETE /2.0/files/{id}`: 204.
pub(super) fn delete_file(tree: &mut Tree, req: &Request, id: &str) -> Response {
    if !tree.has_file(id) {
        return not_found("file");
    }
    if let Err(response) = check_if_match(tree, req, id) {
        return response;
    }
    tree.files.remove(id);
    Response::empty(204)
}

/// `GET /2.0/files/{id}/content`: 302 to `<base>/dl/<key>`, which serves the bytes without auth.
pub(super) fn download(tree: &mut Tree, req: &Request, id: &str) -> Response {
    let Some(file) = tree.files.get(id) else {
        return not_found("file");
    };
    let content = Arc::clone(&file.content);
    let key = random_alnum(40);
    tree.downloads.insert(key.clone(), content);
    Response::empty(302).with_header("location", &format!("{}/dl/{key}", req.base_url))
}
