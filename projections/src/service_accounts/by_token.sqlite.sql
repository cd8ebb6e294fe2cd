SELECT account_id, role FROM service_accounts WHERE token_hash = ?1 AND NOT revoked
