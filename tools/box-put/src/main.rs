#![forbid(unsafe_code)]

fn main() {
    common::cli::main(box_put::command(), box_put::run)
}
