//! IEC 62056-21 optical data readout (modes A, C and D).
