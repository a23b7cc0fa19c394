#![forbid(unsafe_code)]

fn main() {
    // The filter runs in a child process of this one (see supervise.rs).
    if let Some(code) = json_map::run_in_child() {
        std::process::exit(code);
    }
    common::cli::main(json_map::command(), json_map::run)
}
