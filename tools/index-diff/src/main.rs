#![forbid(unsafe_code)]

fn main() {
    common::cli::main(index_diff::command(), index_diff::run)
}
