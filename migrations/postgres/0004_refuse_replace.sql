-- PostgreSQL has no REPLACE: `INSERT … ON CONFLICT DO UPDATE` is an UPDATE, which
-- events_refuse_update_delete already refuses. Nothing to add; kept so both backends share
-- their migration numbering.
SELECT 1;
