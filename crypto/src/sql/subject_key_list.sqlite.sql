-- The subjects whose names start with a prefix (per-day link keys, say), oldest name first.
SELECT subject FROM subject_keys WHERE substr(subject, 1, length(?1)) = ?1 ORDER BY subject
