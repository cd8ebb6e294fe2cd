INSERT INTO {service_accounts} (account_id, role, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
