UPDATE {service_accounts} SET revoked = TRUE WHERE account_id = ?1
