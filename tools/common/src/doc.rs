//! What a tool's man page says beyond its flags: examples, environment,
//! exit status. One source feeds `--help` and the generated man page.

use crate::error::Exit;

/// A worked example: what it does, and the command line.
#[derive(Clone, Copy, Debug)]
pub struct Example {
    pub what: &'static str,
    pub command: &'static str,
}

/// The documentation of one tool, beyond its clap `Command`.
#[derive(Clone, Copy, Debug)]
pub struct ToolDoc {
    pub name: &'static str,
    /// Text for DESCRIPTION, after clap's long about: each entry holds
    /// paragraphs as [`paragraphs`] reads them (in practice the
    /// `include_str!` of a text file beside the code, or a shared paragraph).
    pub description: &'static [&'static str],
    pub examples: &'static [Example],
    /// Environment variables the tool reads, with their meaning (one
    /// paragraph, as [`paragraph`] reads it).
    pub environment: &'static [(&'static str, &'static str)],
    /// Entries for AUTH, before ENVIRONMENT: each authentication scheme the
    /// tool speaks (its `--auth` value) and how it works (empty for tools
    /// without schemes); each meaning one paragraph, as [`paragraph`] reads it.
    pub auth: &'static [(&'static str, &'static str)],
    /// Paragraphs for SECURITY, after ENVIRONMENT: what the tool trusts,
    /// verifies and refuses (empty for tools that need no such section), as
    /// [`paragraphs`] reads them.
    pub security: &'static [&'static str],
    /// The exit codes that apply to this tool (0 is always listed).
    pub exit_codes: &'static [Exit],
    /// Exit statuses of this tool alone, outside the shared table: the
    /// status as written in the man page (e.g. "5", "other") and its meaning.
    pub other_exit_status: &'static [(&'static str, &'static str)],
    /// What a broken pipe on standard output does, when it is not the usual
    /// quiet exit 0 (None keeps the usual sentence).
    pub broken_pipe: Option<&'static str>,
    pub see_also: &'static [&'static str],
}

/// The paragraphs of a documentation text: blocks of lines separated by a
/// blank line, each block one paragraph. The text files beside the code
/// wrap their lines for the reader; the man page gets each paragraph on one
/// line and leaves the filling to man.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !lines.is_empty() {
                paragraphs.push(lines.join(" "));
                lines.clear();
            }
        } else {
            lines.push(line);
        }
    }
    if !lines.is_empty() {
        paragraphs.push(lines.join(" "));
    }
    paragraphs
}

/// A text that is one paragraph (an ENVIRONMENT or AUTH entry), its lines
/// joined by one space.
pub fn paragraph(text: &str) -> String {
    paragraphs(text).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_blocks_of_lines_between_blank_lines() {
        let cases: &[(&str, &[&str])] = &[
            ("One line.", &["One line."]),
            ("One line.\n", &["One line."]),
            ("Wrapped\nover lines.\n", &["Wrapped over lines."]),
            ("First.\n\nSecond\none.\n", &["First.", "Second one."]),
            ("\nFirst.\n\n\n\nSecond.\n\n", &["First.", "Second."]),
            (
                "Windows\r\nlines.\r\n\r\nToo.\r\n",
                &["Windows lines.", "Too."],
            ),
            ("", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(paragraphs(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn a_paragraph_joins_its_lines() {
        assert_eq!(
            paragraph("An HTTP proxy,\nas a URL.\n"),
            "An HTTP proxy, as a URL."
        );
        assert_eq!(paragraph("One line."), "One line.");
    }
}
