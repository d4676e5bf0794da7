//! Protocol auto-detection: recognise which protocol a byte stream speaks and decode it.
