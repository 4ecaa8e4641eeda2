-- Issue 10 item 6: bound what one user's comprehensive data can hold. Gap analyses (up to 50 kept of up to 1 MiB each),
-- recommendations and analytics grow without limit per user, and the assembled answer is held in RAM per cached entry.
-- After a row of those tables is written, the user's total stored bytes in them must stay within
-- content_planning.max_user_source_bytes (the API sets it per connection from Database__MaxUserSourceBytes; any other
-- writer gets the default below, 16 MiB). Stored bytes are pg_column_size: what PostgreSQL keeps on disk, compressed
-- when TOASTed, read without detoasting the values.
--
-- The check runs under the user's lock: these triggers are named to fire after the version trigger of the same table,
-- whose upsert holds the user's user_data_versions row until commit. A concurrent writer of the same user waits there,
-- then (READ COMMITTED, a fresh snapshot per statement) counts the rows the first one committed. A write that does not
-- grow the row (a shrinking update) is never refused, so a user above a lowered limit can still trim their data.
CREATE FUNCTION enforce_user_source_bytes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    max_bytes bigint := coalesce(nullif(current_setting('content_planning.max_user_source_bytes', true), '')::bigint, 16777216);
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

CREATE TRIGGER trg_content_gap_analyses_version_size AFTER INSERT OR UPDATE ON content_gap_analyses
    FOR EACH ROW EXECUTE FUNCTION enforce_user_source_bytes();
CREATE TRIGGER trg_content_recommendations_version_size AFTER INSERT OR UPDATE ON content_recommendations
    FOR EACH ROW EXECUTE FUNCTION enforce_user_source_bytes();
CREATE TRIGGER trg_content_analytics_version_size AFTER INSERT OR UPDATE ON content_analytics
    FOR EACH ROW EXECUTE FUNCTION enforce_user_source_bytes();
