//! Pulse LED counting: impulses from an optical sensor into an energy register and power.
