#![forbid(unsafe_code)]

fn main() {
    common::cli::main(smtp_send::command(), smtp_send::run)
}
