//! SML 1.04 (German meters): transport escapes, TL fields, CRC16/X-25, GetList responses.
