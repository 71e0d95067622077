//! mantis's workflows: several library steps that must happen together and
//! in order, with what to do when one fails. Each reports what it does as
//! events; a caller (the CLI) renders them and keeps the log.

pub mod demo;
pub mod deploy;
pub mod lint;
pub mod restore;

pub use deploy::{deploy, DeployError, DeployEvent, DeployOptions, DeployStep, Deployed, Outcome};
