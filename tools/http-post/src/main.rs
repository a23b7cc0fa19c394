#![forbid(unsafe_code)]

fn main() {
    common::cli::main(http_post::command(), http_post::run)
}
