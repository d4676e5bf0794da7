//! Compressed columnar coding of a chunk of readings (format in the module docs).
