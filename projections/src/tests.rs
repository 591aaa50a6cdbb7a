//! Tests as data: hand-built histories (checked against the rules as they are built) in, figures
//! counted by hand out; and a property test that live and rebuilt projections agree.

mod audit;
mod changes;
mod corrections;
mod dashboard;
mod disclosure;
mod entries;
mod esf;
mod funders;
mod live_and_rebuilt;
pub(crate) mod log;
mod merges;
mod outcomes;
mod people;
mod proposals;
mod report;
mod report_inputs;
