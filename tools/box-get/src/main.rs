#![forbid(unsafe_code)]

fn main() {
    common::cli::main(box_get::command(), box_get::run)
}
