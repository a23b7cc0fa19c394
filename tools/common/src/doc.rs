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
    /// Paragraphs for DESCRIPTION, after clap's long about.
    pub description: &'static [&'static str],
    pub examples: &'static [Example],
    /// Environment variables the tool reads, with their meaning.
    pub environment: &'static [(&'static str, &'static str)],
    /// Entries for AUTH, before ENVIRONMENT: each authentication scheme the
    /// tool speaks (its `--auth` value) and how it works (empty for tools
    /// without schemes).
    pub auth: &'static [(&'static str, &'static str)],
    /// Paragraphs for SECURITY, after ENVIRONMENT: what the tool trusts,
    /// verifies and refuses (empty for tools that need no such section).
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
