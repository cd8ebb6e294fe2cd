INSERT INTO {people} (person_id, digest, document_kind, profile, sex, birth_date, registered_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
