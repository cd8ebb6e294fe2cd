-- Crypto-shredding: without its key a subject's sealed data can never be opened again.
DELETE FROM subject_keys WHERE subject = $1
