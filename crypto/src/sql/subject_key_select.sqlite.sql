-- The wrapped data key of one subject, if it has not been shredded.
SELECT wrapped FROM subject_keys WHERE subject = ?1
