//! DLMS/COSEM push (data-notification APDUs) as Nordic and Austrian HAN ports send it.
