-- Bulk seed for scripts/bench-http.sh: :users users named bench-1 .. bench-N, each with a profile, 3 strategies (the newest
-- active), 2 gap analyses, 5 recommendations and 10 analytics rows. Set-based INSERT ... SELECT, one statement per table.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO user_profiles (user_id, industry, business_size, target_audience, writing_tone, content_types, platform_preferences,
                           posting_preferences, posting_days, optimal_times, website_url)
SELECT 'bench-' || u, (ARRAY['technology', 'retail', 'healthcare', 'finance'])[1 + u % 4], 'smb',
       '{"roles": ["CTO", "marketing lead"], "regions": ["EU", "US"]}', 'professional', '["blog", "video", "newsletter"]',
       '{"linkedin": {"priority": "high"}, "youtube": {"priority": "medium"}, "blog": {"priority": "high"}}',
       '{"daily": 1, "weekly": 4, "monthly": 16}', '["monday", "wednesday", "friday"]', '["09:00", "13:00"]',
       'https://bench-' || u || '.example.com'
FROM generate_series(1, :users) u;

INSERT INTO content_strategies (user_id, name, industry, business_objectives, target_metrics, content_budget, team_size,
                                implementation_timeline, competitive_position, content_pillars, preferred_formats,
                                content_frequency, optimal_timing, comprehensive_ai_analysis, completion_percentage, created_at)
SELECT 'bench-' || u, 'Strategy ' || s || ' of bench-' || u, 'technology', '["grow qualified leads", "developer trust"]',
       '{"mql_per_month": 120}', 12000, 4, '6 months', 'challenger', '{"architecture": 3, "case studies": 2, "tutorials": 1}',
       '["long-form", "video"]', 'weekly', '{"linkedin": ["09:00"], "blog": ["10:00"]}',
       '{"summary": "Strong technical depth, weak distribution."}', 40, now() - (4 - s) * interval '1 day'
FROM generate_series(1, :users) u, generate_series(1, 3) s;

INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date, performance_score)
SELECT DISTINCT ON (user_id) id, user_id, 'active', now(), 0.7
FROM content_strategies WHERE user_id LIKE 'bench-%' ORDER BY user_id, created_at DESC, id DESC;

INSERT INTO content_gap_analyses (user_id, website_url, competitor_urls, target_keywords, analysis_results, recommendations, opportunities, created_at)
SELECT 'bench-' || u, 'https://bench-' || u || '.example.com', '["https://competitor.example.com"]',
       '["platform engineering", "observability", "caching"]', '{"content_gaps": ["no case studies", "no video tutorials"]}',
       '["publish case studies"]', '["migration guides", "benchmarks explained"]', now() - g * interval '1 day'
FROM generate_series(1, :users) u, generate_series(1, 2) g;

INSERT INTO content_recommendations (user_id, recommendation_type, title, description, target_keywords, priority, platforms, status)
SELECT 'bench-' || u, 'blog', 'Recommendation ' || r || ' for bench-' || u, 'Write about what readers ask most.',
       '["caching", "latency"]', (ARRAY['low', 'medium', 'high'])[1 + r % 3], '["blog", "linkedin"]', 'pending'
FROM generate_series(1, :users) u, generate_series(1, 5) r;

INSERT INTO content_analytics (user_id, platform, metrics, performance_score, recorded_at)
SELECT 'bench-' || u, (ARRAY['linkedin', 'blog', 'youtube'])[1 + a % 3], '{"views": 1200, "clicks": 85, "shares": 7}', 50 + a,
       now() - a * interval '1 hour'
FROM generate_series(1, :users) u, generate_series(1, 10) a;
COMMIT;
ANALYZE;
