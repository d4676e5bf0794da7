//! Supplier half-hourly downloads (consumption CSV, Green Button XML) into register readings.
