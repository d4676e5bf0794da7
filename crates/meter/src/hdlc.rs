//! HDLC framing (ISO/IEC 13239 type 3) with HCS/FCS checks, as DLMS push meters use it.
