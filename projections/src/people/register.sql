INSERT INTO {people} (person_id, digest, document_kind, profile, sex, birth_date, registered_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (person_id) DO UPDATE SET
    -- A second document of the same person (one subject) keeps the row of the first and
    -- adds the sex and birth date a resident ID gives, when the first did not.
    sex = COALESCE({people}.sex, excluded.sex),
    birth_date = COALESCE({people}.birth_date, excluded.birth_date)
