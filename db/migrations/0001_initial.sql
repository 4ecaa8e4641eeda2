-- Content Planning: initial schema. Applied once by the migrator, inside one transaction.

CREATE DOMAIN user_id_text AS text
    CHECK (VALUE ~ '^[A-Za-z0-9_.@-]{1,128}$');

CREATE TABLE user_profiles (
    user_id              user_id_text PRIMARY KEY,
    industry             text,
    business_size        text,
    target_audience      jsonb,
    writing_tone         text,
    writing_voice        text,
    content_types        jsonb,
    brand_values         jsonb,
    platform_preferences jsonb,
    posting_preferences  jsonb,
    posting_days         jsonb,
    optimal_times        jsonb,
    website_url          text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE content_strategies (
    id                            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                       user_id_text NOT NULL,
    name                          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    industry                      text,
    -- business context
    business_objectives           jsonb,
    target_metrics                jsonb,
    content_budget                numeric CHECK (content_budget >= 0),
    team_size                     integer CHECK (team_size BETWEEN 0 AND 100000),
    implementation_timeline       text,
    market_share                  text,
    competitive_position          text CHECK (competitive_position IN ('leader', 'challenger', 'niche', 'emerging')),
    performance_metrics           jsonb,
    -- audience
    content_preferences           jsonb,
    consumption_patterns          jsonb,
    audience_pain_points          jsonb,
    buying_journey                jsonb,
    seasonal_trends               jsonb,
    engagement_metrics            jsonb,
    -- competition
    top_competitors               jsonb,
    competitor_content_strategies jsonb,
    market_gaps                   jsonb,
    industry_trends               jsonb,
    emerging_trends               jsonb,
    -- content
    preferred_formats             jsonb,
    content_mix                   jsonb,
    content_frequency             text,
    optimal_timing                jsonb,
    quality_metrics               jsonb,
    editorial_guidelines          jsonb,
    brand_voice                   jsonb,
    -- performance
    traffic_sources               jsonb,
    conversion_rates              jsonb,
    content_roi_targets           jsonb,
    ab_testing_capabilities       boolean NOT NULL DEFAULT false,
    target_audience               jsonb,
    content_pillars               jsonb,
    comprehensive_ai_analysis     jsonb,
    completion_percentage         real NOT NULL DEFAULT 0 CHECK (completion_percentage BETWEEN 0 AND 100),
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination (newest first) and the active-strategy fallbacks read by user, newest first.
CREATE INDEX ix_content_strategies_user_created ON content_strategies (user_id, created_at DESC, id DESC);

CREATE TABLE strategy_activation_status (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    strategy_id       bigint NOT NULL REFERENCES content_strategies (id) ON DELETE CASCADE,
    user_id           user_id_text NOT NULL,
    status            text NOT NULL CHECK (status IN ('active', 'inactive', 'paused')),
    activation_date   timestamptz,
    performance_score real,
    last_updated      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_strategy_activation_status_strategy UNIQUE (strategy_id)
);
-- At most one active strategy per user, enforced by the database.
CREATE UNIQUE INDEX ux_strategy_activation_one_active_per_user
    ON strategy_activation_status (user_id) WHERE status = 'active';
CREATE INDEX ix_strategy_activation_status_user ON strategy_activation_status (user_id);

CREATE TABLE generated_calendars (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         user_id_text NOT NULL,
    strategy_id     bigint REFERENCES content_strategies (id) ON DELETE SET NULL,
    calendar_type   text NOT NULL CHECK (calendar_type IN ('weekly', 'monthly', 'quarterly', 'yearly', 'custom')),
    start_date      date NOT NULL,
    end_date        date NOT NULL CHECK (end_date >= start_date),
    request         jsonb NOT NULL,
    result          jsonb,
    idempotency_key text UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_generated_calendars_strategy ON generated_calendars (strategy_id);
CREATE INDEX ix_generated_calendars_user ON generated_calendars (user_id, created_at DESC);

CREATE TABLE calendar_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    strategy_id  bigint NOT NULL REFERENCES content_strategies (id) ON DELETE CASCADE,
    calendar_id  bigint REFERENCES generated_calendars (id) ON DELETE CASCADE,
    title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
    description  text,
    content_type text,
    platform     text,
    scheduled_at timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'published', 'cancelled')),
    pillar       text,
    details      jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_calendar_events_strategy_scheduled ON calendar_events (strategy_id, scheduled_at);
CREATE INDEX ix_calendar_events_calendar ON calendar_events (calendar_id);

CREATE TABLE content_gap_analyses (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           user_id_text NOT NULL,
    website_url       text NOT NULL,
    competitor_urls   jsonb,
    target_keywords   jsonb,
    analysis_results  jsonb,
    recommendations   jsonb,
    opportunities     jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_content_gap_analyses_user ON content_gap_analyses (user_id, created_at DESC, id DESC);

CREATE TABLE content_recommendations (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             user_id_text NOT NULL,
    strategy_id         bigint REFERENCES content_strategies (id) ON DELETE SET NULL,
    recommendation_type text NOT NULL,
    title               text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
    description         text,
    target_keywords     jsonb,
    estimated_length    text,
    priority            text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high')),
    platforms           jsonb,
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected', 'implemented')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_content_recommendations_user ON content_recommendations (user_id, status);
CREATE INDEX ix_content_recommendations_strategy ON content_recommendations (strategy_id);

CREATE TABLE content_analytics (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id          bigint REFERENCES calendar_events (id) ON DELETE SET NULL,
    strategy_id       bigint REFERENCES content_strategies (id) ON DELETE SET NULL,
    user_id           user_id_text NOT NULL,
    platform          text NOT NULL,
    metrics           jsonb NOT NULL DEFAULT '{}'::jsonb,
    performance_score real,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_content_analytics_event ON content_analytics (event_id);
CREATE INDEX ix_content_analytics_strategy ON content_analytics (strategy_id, platform);
CREATE INDEX ix_content_analytics_user ON content_analytics (user_id, platform);

CREATE TABLE comprehensive_user_data_cache (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            user_id_text NOT NULL,
    strategy_id        bigint REFERENCES content_strategies (id) ON DELETE CASCADE,
    data_hash          char(64) NOT NULL,
    comprehensive_data jsonb NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    last_accessed      timestamptz NOT NULL DEFAULT now(),
    access_count       bigint NOT NULL DEFAULT 0,
    CONSTRAINT uq_comprehensive_user_data_cache_user_strategy UNIQUE NULLS NOT DISTINCT (user_id, strategy_id)
);
CREATE INDEX ix_comprehensive_user_data_cache_expires ON comprehensive_user_data_cache (expires_at);
CREATE INDEX ix_comprehensive_user_data_cache_strategy ON comprehensive_user_data_cache (strategy_id);

-- A per-user source version, bumped by triggers on every source table (also for writes made directly in SQL),
-- so a comprehensive-data snapshot can tell whether its sources changed without re-reading them.
CREATE TABLE user_data_versions (
    user_id    user_id_text PRIMARY KEY,
    version    bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION bump_user_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO user_data_versions AS v (user_id) VALUES (OLD.user_id)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1, updated_at = now();
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        INSERT INTO user_data_versions AS v (user_id) VALUES (NEW.user_id)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1, updated_at = now();
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_user_profiles_version AFTER INSERT OR UPDATE OR DELETE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION bump_user_data_version();
CREATE TRIGGER trg_content_strategies_version AFTER INSERT OR UPDATE OR DELETE ON content_strategies
    FOR EACH ROW EXECUTE FUNCTION bump_user_data_version();
CREATE TRIGGER trg_strategy_activation_status_version AFTER INSERT OR UPDATE OR DELETE ON strategy_activation_status
    FOR EACH ROW EXECUTE FUNCTION bump_user_data_version();
CREATE TRIGGER trg_content_gap_analyses_version AFTER INSERT OR UPDATE OR DELETE ON content_gap_analyses
    FOR EACH ROW EXECUTE FUNCTION bump_user_data_version();
CREATE TRIGGER trg_content_recommendations_version AFTER INSERT OR UPDATE OR DELETE ON content_recommendations
    FOR EACH ROW EXECUTE FUNCTION bump_user_data_version();
CREATE TRIGGER trg_content_analytics_version AFTER INSERT OR UPDATE OR DELETE ON content_analytics
    FOR EACH ROW EXECUTE FUNCTION bump_user_data_version();
