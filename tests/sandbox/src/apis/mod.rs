//! The stand-in APIs. To add one: a module with a type that implements `Api`, listed in `all`.

pub mod boxapi;
pub mod dhis2;
pub mod oscar;
pub mod primero;
pub mod reportstream;
pub mod reqcheck;
mod support;

use crate::http::Api;

/// Every API the sandbox serves, each under "/{name}".
pub fn all() -> Vec<Box<dyn Api>> {
    vec![
        Box::new(reqcheck::ReqCheck::new()),
        Box::new(reportstream::ReportStream::new()),
        Box::new(dhis2::Dhis2::new()),
        Box::new(primero::Primero::new()),
        Box::new(oscar::Oscar::new()),
        Box::new(boxapi::BoxCom::new()),
    ]
}
