//! What a person sees of themself: their profile and roles, and their health code.
