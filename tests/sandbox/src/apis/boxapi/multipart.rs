//! multipart/form-data (RFC 7578) as Box's upload endpoints read it: the parts in the order
//! sent, each with its name, file name and content (borrowed from the body, not copied).

/// One part of a form.
#[derive(Debug)]
pub(super) struct Part<'a> {
    pub name: String,
    pub filename: Option<String>,
    pub data: &'a [u8],
}

/// The boundary of a `multipart/form-data; boundary=...` content type.
fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .filter_map(|p| p.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// The first place `needle` occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut start = 0;
    while let Some(i) = hay.get(start..)?.iter().position(|&b| b == first) {
        let at = start + i;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

/// The parameters of a `Content-Disposition` value (`form-data; name="a"; filename="b"`),
/// quoted strings kept whole.
fn disposition_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = value;
    // Skip the disposition type.
    match rest.find(';') {
        Some(i) => rest = &rest[i + 1..],
        None => return out,
    }
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let name = rest[..eq].trim().to_ascii_lowercase();
        rest = &rest[eq + 1..];
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            text.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => text.push(c),
                }
            }
            value = text;
            let after = &quoted[end.min(quoted.len())..];
            rest = after.find(';').map_or("", |i| &after[i + 1..]);
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = rest.get(end + 1..).unwrap_or("");
        }
        out.push((name, value));
    }
    out
}

/// The parts of a multipart/form-data body, in order; a reason when it is not one.
pub(super) fn parse<'a>(content_type: &str, body: &'a [u8]) -> Result<Vec<Part<'a>>, &'static str> {
    let boundary = boundary(content_type)
        .ok_or("the content type must be multipart/form-data with a boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut next_delimiter = b"\r\n".to_vec();
    next_delimiter.extend_from_slice(&delimiter);
    let start = find(body, &delimiter).ok_or("the body has no multipart boundary")?;
    let mut pos = start + delimiter.len();
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding, then the line break after the delimiter.
        let padding = rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if !rest[padding..].starts_with(b"\r\n") {
            return Err("a multipart delimiter is not followed by a line break");
        }
        pos += padding + 2;
        let (head, content_start) = if body[pos..].starts_with(b"\r\n") {
            (&body[pos..pos], pos + 2)
        } else {
            let end = find(&body[pos..], b"\r\n\r\n").ok_or("a part's headers do not end")?;
            (&body[pos..pos + end], pos + end + 4)
        };
        let length = find(&body[content_start..], &next_delimiter)
            .ok_or("the multipart body does not end with its closing boundary")?;
        let data = &body[content_start..content_start + length];
        let mut name = None;
        let mut filename = None;
        for line in String::from_utf8_lossy(head).split("\r\n") {
            let Some((header, value)) = line.split_once(':') else {
                continue;
            };
            if header.trim().eq_ignore_ascii_case("content-disposition") {
                for (param, value) in disposition_params(value) {
                    match param.as_str() {
                        "name" => name = Some(value),
                        "filename" => filename = Some(value),
                        _ => {}
                    }
                }
            }
        }
        parts.push(Part {
            name: name.ok_or("a part has no Content-Disposition name")?,
            filename,
            data,
        });
        pos = content_start + length + next_delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=\"XyZ\"";

    #[test]
    fn parts_in_order_with_names_and_files() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"attributes\"\r\n\r\n{\"name\":\"a.csv\"}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a;b \\\"c\\\".csv\"\r\nContent-Type: text/csv\r\n\r\nx,y\r\n1,2\r\n\r\n--XyZ--\r\n";
        let parts = parse(TYPE, body).expect("a form");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "attributes");
        assert_eq!(parts[0].data, b"{\"name\":\"a.csv\"}");
        assert_eq!(parts[1].name, "file");
        assert_eq!(parts[1].filename.as_deref(), Some("a;b \"c\".csv"));
        assert_eq!(parts[1].data, b"x,y\r\n1,2\r\n");
    }

    #[test]
    fn broken_bodies_are_refused() {
        assert!(parse("application/json", b"{}").is_err());
        assert!(parse(TYPE, b"no boundary here").is_err());
        assert!(
            parse(
                TYPE,
                b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"
            )
            .is_err()
        );
        assert!(parse(TYPE, b"--XyZ\r\nX-Other: 1\r\n\r\nv\r\n--XyZ--").is_err());
        assert_eq!(parse(TYPE, b"--XyZ--").expect("an empty form").len(), 0);
    }
}
