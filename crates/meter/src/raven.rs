//! Rainforest RAVEn / EMU-2 XML fragments.
