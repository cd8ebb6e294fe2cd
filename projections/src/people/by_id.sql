SELECT person_id, digest, document_kind, profile, sex, birth_date, registered_at FROM people WHERE person_id = $1
