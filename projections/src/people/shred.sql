UPDATE {people} SET profile = NULL WHERE digest = $1
