//! Insight: tariffs, costs and savings tips as pure functions of readings, contracts and `now`.
#![forbid(unsafe_code)]
