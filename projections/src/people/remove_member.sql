DELETE FROM {family} WHERE guardian = $1 AND member = $2
