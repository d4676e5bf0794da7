//! DSMR P1 telegrams (NL 2.2-5.0.2, Belgian eMUCS, Luxembourg Smarty, Nordic variants).
