SELECT digest, reason, since FROM red_regions WHERE region LIKE $1 ORDER BY since, digest, reason
