//! Files: info, move, delete, and downloads (the 302 followed without the
//! token, 202 waited for).

use super::{BoxClient, PENDING_WAIT, error_of};
use crate::error::{Error, Result};
use crate::http::url::{encode_path_segment, resolve};
use crate::http::{Method, Request, Response, StreamedResponse};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The fields asked for a file's info.
pub const FILE_FIELDS: &str = "type,id,name,size,sha1,etag,modified_at,parent";

/// Error answers read whole up to this size (their Box error code).
const ERROR_BODY_BYTES: u64 = 64 << 10;

impl BoxClient {
    /// A file's info: type, id, name, size, sha1, etag, modified_at and
    /// parent (a 404 is exit 69).
    pub fn file_info(&self, id: &str) -> Result<Value> {
        let url = self.api(&format!(
            "/files/{}?fields={FILE_FIELDS}",
            encode_path_segment(id)
        ));
        let response = self
            .send_checked(&Request::get(url).header("accept", "application/json"))
            .map_err(|e| e.context(format!("file {id}")))?;
        response.json()
    }

    /// Move file `id` into folder `folder`, renamed to `new_name` when
    /// given. Some(info) when moved; None when the name is taken there (409).
    pub fn move_file(
        &self,
        id: &str,
        folder: &str,
        new_name: Option<&str>,
    ) -> Result<Option<Value>> {
        let mut body = json!({"parent": {"id": folder}});
        if let Some(name) = new_name {
            body["name"] = json!(name);
        }
        let url = self.api(&format!(
            "/files/{}?fields={FILE_FIELDS}",
            encode_path_segment(id)
        ));
        let request = Request::with_body(
            Method::Put,
            url,
            "application/json",
            body.to_string().into_bytes(),
        )
        .header("accept", "application/json");
        let response = self.send(&request)?;
        if response.status == 409 {
            return Ok(None);
        }
        let response = self
            .check(response)
            .map_err(|e| e.context(format!("moving file {id} to folder {folder}")))?;
        response.json().map(Some)
    }

    /// Delete file `id` (to Box's trash): 204.
    pub fn delete_file(&self, id: &str) -> Result<()> {
        let url = self.api(&format!("/files/{}", encode_path_segment(id)));
        self.send_checked(&Request::new(Method::Delete, url))
            .map_err(|e| e.context(format!("deleting file {id}")))?;
        Ok(())
    }

    /// The content of file `id`, as a stream. Box answers 302 to a
    /// download URL, which is fetched without the token (it carries its
    /// own permission); a 202 (not ready) is asked again after its
    /// Retry-After, for --max-time or [`PENDING_WAIT`] in all. A download
    /// cut on the way is a read error of the stream: retrying is the
    /// caller's.
    pub fn download(&self, id: &str) -> Result<StreamedResponse> {
        let url = self.api(&format!("/files/{}/content", encode_path_segment(id)));
        let request = Request::get(url);
        let started = Instant::now();
        let limit = self.policy().max_time.unwrap_or(PENDING_WAIT);
        loop {
            let answer = self.http().send_streaming(&request, true)?;
            match answer.status {
                200 => return Ok(answer),
                202 => {
                    let wait = answer.retry_after().unwrap_or(Duration::from_secs(1));
                    if started.elapsed() + wait > limit {
                        return Err(Error::temp_fail(format!(
                            "{}: HTTP 202: file {id} still not ready to download after {} s",
                            answer.at(),
                            started.elapsed().as_secs()
                        )));
                    }
                    drop(answer);
                    std::thread::sleep(wait);
                }
                301 | 302 | 303 | 307 | 308 => {
                    let Some(location) = answer.header("location").map(str::to_string) else {
                        return Err(Error::unavailable(format!(
                            "{}: HTTP {} without a Location",
                            answer.at(),
                            answer.status
                        )));
                    };
                    let target = resolve(&answer.url, &location);
                    let content = self.http().send_streaming(&Request::get(target), false)?;
                    if content.status == 200 {
                        return Ok(content);
                    }
                    return Err(not_the_content(
                        &content.into_response(ERROR_BODY_BYTES),
                        id,
                    ));
                }
                _ => {
                    return Err(not_the_content(&answer.into_response(ERROR_BODY_BYTES), id));
                }
            }
        }
    }
}

/// The error for an answer to a download that is not the file's content:
/// Box's own error when the body holds one.
fn not_the_content(response: &Response, id: &str) -> Error {
    error_of(response)
        .unwrap_or_else(|| {
            Error::unavailable(format!(
                "{}: HTTP {}: not the file's content",
                response.at(),
                response.status
            ))
        })
        .context(format!("downloading file {id}"))
}
