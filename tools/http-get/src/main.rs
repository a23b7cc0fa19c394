#![forbid(unsafe_code)]

fn main() {
    common::cli::main(http_get::command(), http_get::run)
}
