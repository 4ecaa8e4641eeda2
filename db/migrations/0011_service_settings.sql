-- Issue 24: the per-user byte bound of 0008 reached the trigger as a connection startup parameter
-- (Options=-c content_planning.max_user_source_bytes=...), which PgBouncer refuses ("unsupported startup parameter:
-- options") and which a transaction pooler could not keep per client anyway. The bound now lives in a table every node
-- writes at start (Database__MaxUserSourceBytes; all nodes of one database should agree, the last to start wins). A
-- transaction may still lower or raise it for itself with SET LOCAL content_planning.max_user_source_bytes (that wins);
-- without either, the built-in 16 MiB applies, as before.
CREATE TABLE service_settings (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION max_user_source_bytes() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        nullif(current_setting('content_planning.max_user_source_bytes', true), '')::bigint,
        (SELECT value::bigint FROM service_settings WHERE name = 'max_user_source_bytes'),
        16777216)
$$;

-- Same body as 0008 but for where the bound comes from.
CREATE OR REPLACE FUNCTION enforce_user_source_bytes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    max_bytes bigint := max_user_source_bytes();
    total     bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND pg_column_size(NEW) <= pg_column_size(OLD) AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id THEN
        RETURN NULL;
    END IF;

    SELECT
        coalesce((SELECT sum(coalesce(pg_column_size(g.website_url), 0) + coalesce(pg_column_size(g.competitor_urls), 0)
                             + coalesce(pg_column_size(g.target_keywords), 0) + coalesce(pg_column_size(g.analysis_results), 0)
                             + coalesce(pg_column_size(g.recommendations), 0) + coalesce(pg_column_size(g.opportunities), 0))
                  FROM content_gap_analyses g WHERE g.user_id = NEW.user_id), 0)
      + coalesce((SELECT sum(coalesce(pg_column_size(r.title), 0) + coalesce(pg_column_size(r.description), 0)
                             + coalesce(pg_column_size(r.target_keywords), 0) + coalesce(pg_column_size(r.platforms), 0))
                  FROM content_recommendations r WHERE r.user_id = NEW.user_id), 0)
      + coalesce((SELECT sum(pg_column_size(a.metrics)) FROM content_analytics a WHERE a.user_id = NEW.user_id), 0)
    INTO total;

    IF total > max_bytes THEN
        RAISE EXCEPTION 'user % would hold % bytes of source data, more than the limit of % bytes', NEW.user_id, total, max_bytes
            USING ERRCODE = 'CP413', HINT = max_bytes::text;
    END IF;
    RETURN NULL;
END;
$$;
