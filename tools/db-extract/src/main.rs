#![forbid(unsafe_code)]

fn main() {
    common::cli::main(db_extract::command(), db_extract::run)
}
