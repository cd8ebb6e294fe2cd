DELETE FROM {red_reasons} WHERE digest = $1 AND reason = $2
