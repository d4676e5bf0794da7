//! DLMS general-glo-ciphering: AES-128-GCM frames (Luxembourg Smarty, encrypted HAN ports).
