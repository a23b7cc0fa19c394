//! Writes `man/<tool>.1` for every tool from its clap command and its
//! documentation, and `man/man7/phtools-flows.7` from `flows.rs`.
//! `mangen --check DIR` fails when a page in DIR is stale.
#![forbid(unsafe_code)]

mod flows;

use clap::Command;
use common::doc::{ToolDoc, paragraph, paragraphs};
use common::error::Exit;
use roff::{Roff, bold, roman};
use std::io::Write;
use std::path::{Path, PathBuf};

fn tools() -> Vec<(Command, ToolDoc)> {
    vec![
        (csv_shape::command(), csv_shape::DOC),
        (json_map::command(), json_map::DOC),
        (batch_split::command(), batch_split::DOC),
        (db_extract::command(), db_extract::DOC),
        (index_diff::command(), index_diff::DOC),
        (smtp_send::command(), smtp_send::DOC),
        (sftp_put::command(), sftp_put::DOC),
        (db_load::command(), db_load::DOC),
        (http_get::command(), http_get::DOC),
        (http_post::command(), http_post::DOC),
        (box_put::command(), box_put::DOC),
        (box_get::command(), box_get::DOC),
    ]
}

fn main() {
    let mut check = false;
    let mut dir = PathBuf::from("man");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                let _ = writeln!(
                    std::io::stdout(),
                    "usage: mangen [--check] [DIR]   (default DIR: man)"
                );
                return;
            }
            other => dir = PathBuf::from(other),
        }
    }
    match generate(&dir, check) {
        Ok(stale) if stale.is_empty() => {}
        Ok(stale) => {
            eprintln!(
                "mangen: error: stale man pages in {}: {} (run `make man`)",
                dir.display(),
                stale.join(", ")
            );
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("mangen: error: {e}");
            std::process::exit(Exit::Io.code());
        }
    }
}

/// Render every page; write it, or with `check` list the ones that differ.
fn generate(dir: &Path, check: bool) -> std::io::Result<Vec<String>> {
    if !check {
        std::fs::create_dir_all(dir)?;
    }
    let mut pages = Vec::new();
    for (command, doc) in tools() {
        let mut page = Vec::new();
        render_man(&command, &doc, &mut page)?;
        pages.push((dir.join(format!("{}.1", doc.name)), page));
    }
    let mut page = Vec::new();
    flows::render(env!("CARGO_PKG_VERSION"), &mut page)?;
    pages.push((dir.join("man7").join("phtools-flows.7"), page));
    if !check {
        std::fs::create_dir_all(dir.join("man7"))?;
    }
    let mut stale = Vec::new();
    for (path, page) in pages {
        if check {
            if std::fs::read(&path).ok().as_deref() != Some(&page[..]) {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::write(&path, page)?;
        }
    }
    Ok(stale)
}

/// NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXAMPLES, ENVIRONMENT, SECURITY (when
/// the tool has one), EXIT STATUS, SEE ALSO.
fn render_man(command: &Command, doc: &ToolDoc, out: &mut dyn Write) -> std::io::Result<()> {
    // The examples get their own section; keep them out of the option list.
    let command = command.clone().after_help("").after_long_help("");
    let man = clap_mangen::Man::new(command)
        .title(doc.name.to_uppercase())
        .section("1")
        .source(format!("{} {}", doc.name, env!("CARGO_PKG_VERSION")))
        .manual("Public-health data tools");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    let mut roff = Roff::new();
    for text in doc.description.iter().flat_map(|entry| paragraphs(entry)) {
        roff.control("PP", []).text([roman(text)]);
    }
    out.write_all(roff.to_roff().as_bytes())?;
    man.render_options_section(out)?;

    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    for example in doc.examples {
        roff.control("PP", []).text([roman(example.what)]);
        roff.control("RS", ["4"]).control("nf", []);
        roff.text([roman(example.command)]);
        roff.control("fi", []).control("RE", []);
    }
    if !doc.auth.is_empty() {
        roff.control("SH", ["AUTH"]);
        for (scheme, how) in doc.auth {
            roff.control("TP", []).text([bold(*scheme)]);
            roff.text([roman(paragraph(how))]);
        }
    }
    roff.control("SH", ["ENVIRONMENT"]);
    if doc.environment.is_empty() {
        roff.text([roman("This tool reads no environment variables.")]);
    }
    for (name, meaning) in doc.environment {
        roff.control("TP", []).text([bold(*name)]);
        roff.text([roman(paragraph(meaning))]);
    }
    if !doc.security.is_empty() {
        roff.control("SH", ["SECURITY"]);
        for text in doc.security.iter().flat_map(|entry| paragraphs(entry)) {
            roff.control("PP", []).text([roman(text)]);
        }
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (exit, meaning) in Exit::TABLE {
        if *exit == Exit::Ok || doc.exit_codes.contains(exit) {
            roff.control("TP", []).text([bold(exit.code().to_string())]);
            roff.text([roman(*meaning)]);
        }
    }
    for (status, meaning) in doc.other_exit_status {
        roff.control("TP", []).text([bold(*status)]);
        roff.text([roman(*meaning)]);
    }
    roff.control("PP", []).text([roman(doc.broken_pipe.unwrap_or(
        "A broken pipe on standard output (for example when piped into head) ends the tool quietly with 0.",
    ))]);
    if !doc.see_also.is_empty() {
        roff.control("SH", ["SEE ALSO"]);
        roff.text([roman(doc.see_also.join(", "))]);
    }
    out.write_all(roff.to_roff().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes a `--help` exit summary names, as numbers.
    fn codes_in_help(mut command: Command) -> Vec<i32> {
        let help = command.render_long_help().to_string().replace('\n', " ");
        let summary = help
            .split_once("Exit status: ")
            .map(|(_, rest)| {
                rest.split(". See man")
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .unwrap_or_default();
        summary
            .split(", ")
            .filter_map(|part| part.split(' ').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn every_help_names_exactly_the_exit_codes_of_its_man_page() {
        for (command, doc) in tools() {
            let mut expected = vec![0];
            expected.extend(
                Exit::TABLE
                    .iter()
                    .filter(|(exit, _)| doc.exit_codes.contains(exit) && *exit != Exit::Ok)
                    .map(|(exit, _)| exit.code()),
            );
            expected.extend(
                doc.other_exit_status
                    .iter()
                    .filter_map(|(status, _)| status.split(' ').next()?.parse::<i32>().ok()),
            );
            assert_eq!(codes_in_help(command), expected, "{}", doc.name);
        }
    }

    #[test]
    fn help_states_no_code_the_tool_cannot_give() {
        let cases = [
            (csv_shape::command(), 75),
            (sftp_put::command(), 65),
            (json_map::command(), 75),
        ];
        for (command, code) in cases {
            let name = command.get_name().to_string();
            assert!(
                !codes_in_help(command).contains(&code),
                "{name} lists {code}"
            );
        }
    }
}
