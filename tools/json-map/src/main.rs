#![forbid(unsafe_code)]

fn main() {
    common::cli::main(json_map::command(), json_map::run)
}
