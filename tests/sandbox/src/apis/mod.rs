//! The stand-in APIs. To add one: a module with a type that implements `Api`, listed in `all`.

pub mod reqcheck;

use crate::http::Api;

/// Every API the sandbox serves, each under "/{name}".
pub fn all() -> Vec<Box<dyn Api>> {
    vec![Box::new(reqcheck::ReqCheck::new())]
}
