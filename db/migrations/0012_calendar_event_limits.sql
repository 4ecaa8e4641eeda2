-- Issue 21 item 2: calendar events are user data too. Their text is bounded, a calendar holds a bounded number of them,
-- and their stored bytes count in the user's bound (content_planning.max_user_source_bytes, Database__MaxUserSourceBytes)
-- together with gap analyses, recommendations and analytics. Enforced here, so every writer obeys (API, jobs, psql).

-- Existing rows are not re-checked (NOT VALID); every new or changed row is.
ALTER TABLE calendar_events ADD CONSTRAINT ck_calendar_events_description_length
    CHECK (char_length(description) <= 10000) NOT VALID;

-- An event's text counts with its full length in bytes (octet_length, not the compressed size): reading, answering and
-- exporting it costs that much, however well it compresses.
CREATE FUNCTION calendar_event_bytes(e calendar_events) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT octet_length(e.title)::bigint + coalesce(octet_length(e.description), 0) + coalesce(octet_length(e.content_type), 0)
         + coalesce(octet_length(e.platform), 0) + coalesce(octet_length(e.pillar), 0) + coalesce(pg_column_size(e.details), 0)
$$;

-- A user's stored bytes in every bounded table (source tables: pg_column_size, what PostgreSQL keeps, compressed when
-- TOASTed, as migration 0008 counts them).
-- Calendar events belong to the user through their strategy.
CREATE FUNCTION user_stored_bytes(uid text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT
        coalesce((SELECT sum(coalesce(pg_column_size(g.website_url), 0) + coalesce(pg_column_size(g.competitor_urls), 0)
                             + coalesce(pg_column_size(g.target_keywords), 0) + coalesce(pg_column_size(g.analysis_results), 0)
                             + coalesce(pg_column_size(g.recommendations), 0) + coalesce(pg_column_size(g.opportunities), 0))
                  FROM content_gap_analyses g WHERE g.user_id = uid), 0)
      + coalesce((SELECT sum(coalesce(pg_column_size(r.title), 0) + coalesce(pg_column_size(r.description), 0)
                             + coalesce(pg_column_size(r.target_keywords), 0) + coalesce(pg_column_size(r.platforms), 0))
                  FROM content_recommendations r WHERE r.user_id = uid), 0)
      + coalesce((SELECT sum(pg_column_size(a.metrics)) FROM content_analytics a WHERE a.user_id = uid), 0)
      + coalesce((SELECT sum(calendar_event_bytes(e))
                  FROM calendar_events e JOIN content_strategies s ON s.id = e.strategy_id WHERE s.user_id = uid), 0)
$$;

-- Writers of one user count one after the other: the source tables' writers already queue on the user's version row
-- (migration 0008); every writer, those and the calendar events' (which bump no version), also takes this
-- transaction-level lock before it counts, so a concurrent event write and source write cannot both pass the bound.
CREATE FUNCTION lock_user_stored_bytes(uid text) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('user-stored-bytes:' || uid, 0))
$$;

CREATE OR REPLACE FUNCTION enforce_user_source_bytes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    max_bytes bigint := coalesce(nullif(current_setting('content_planning.max_user_source_bytes', true), '')::bigint, 16777216);
    total     bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND pg_column_size(NEW) <= pg_column_size(OLD) AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id THEN
        RETURN NULL;
    END IF;

    PERFORM lock_user_stored_bytes(NEW.user_id);
    total := user_stored_bytes(NEW.user_id);
    IF total > max_bytes THEN
        RAISE EXCEPTION 'user % would hold % bytes of source data, more than the limit of % bytes', NEW.user_id, total, max_bytes
            USING ERRCODE = 'CP413', HINT = max_bytes::text;
    END IF;
    RETURN NULL;
END;
$$;

-- Once per statement (a generated calendar inserts all its events in one): the calendars that received events stay
-- within 10 000 events each, and every user whose events grew stays within the byte bound. An update that does not grow
-- the events' text is never refused, so a user above a lowered bound can still shorten or delete.
CREATE FUNCTION enforce_calendar_event_limits() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    max_bytes  bigint  := coalesce(nullif(current_setting('content_planning.max_user_source_bytes', true), '')::bigint, 16777216);
    max_events integer := 10000;
    total      bigint;
    r          record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR r IN SELECT DISTINCT calendar_id FROM new_rows WHERE calendar_id IS NOT NULL ORDER BY 1 LOOP
            PERFORM pg_advisory_xact_lock(hashtextextended('calendar-events:' || r.calendar_id, 0));
            SELECT count(*) INTO total FROM calendar_events WHERE calendar_id = r.calendar_id;
            IF total > max_events THEN
                RAISE EXCEPTION 'calendar % would hold % events, more than the limit of %', r.calendar_id, total, max_events
                    USING ERRCODE = 'CP409', HINT = max_events::text;
            END IF;
        END LOOP;
    ELSIF (SELECT coalesce(sum(calendar_event_bytes(n)), 0) FROM new_rows n) <= (SELECT coalesce(sum(calendar_event_bytes(o)), 0) FROM old_rows o)
          AND NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.strategy_id IS DISTINCT FROM o.strategy_id) THEN
        RETURN NULL;
    END IF;

    FOR r IN SELECT DISTINCT s.user_id FROM new_rows n JOIN content_strategies s ON s.id = n.strategy_id ORDER BY 1 LOOP
        PERFORM lock_user_stored_bytes(r.user_id);
        total := user_stored_bytes(r.user_id);
        IF total > max_bytes THEN
            RAISE EXCEPTION 'user % would hold % bytes of source data, more than the limit of % bytes', r.user_id, total, max_bytes
                USING ERRCODE = 'CP413', HINT = max_bytes::text;
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_calendar_events_limits_insert AFTER INSERT ON calendar_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION enforce_calendar_event_limits();
CREATE TRIGGER trg_calendar_events_limits_update AFTER UPDATE ON calendar_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION enforce_calendar_event_limits();
