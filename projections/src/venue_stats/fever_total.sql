SELECT COUNT(DISTINCT c.person_id) AS n FROM venue_checks c
WHERE c.venue_id = $1 AND c.day <= $2 AND c.band = 'fever'
  AND c.position = (SELECT MAX(l.position) FROM venue_checks l
                    WHERE l.venue_id = c.venue_id AND l.day = c.day AND l.person_id = c.person_id)
