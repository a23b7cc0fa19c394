#![forbid(unsafe_code)]

fn main() {
    common::cli::main(db_load::command(), db_load::run)
}
