-- Demo data for scripts/run.sh (loaded once by the `seed` verb; never by the API itself).
--   demo-alice: profile, three strategies (one active), gap analyses, recommendations, analytics
--   demo-bob:   profile, two strategies, none active, one with an AI analysis  -> fallback_most_recent_analyzed
--   demo-carol: profile only                                                  -> comprehensive data with missing sections
--   demo-dave:  one strategy, no profile, no analysis                         -> fallback_most_recent

INSERT INTO user_profiles (user_id, industry, business_size, target_audience, writing_tone, writing_voice, content_types,
                           brand_values, platform_preferences, posting_preferences, posting_days, optimal_times, website_url)
VALUES
  ('demo-alice', 'technology', 'smb', '{"roles": ["CTO", "engineering manager"], "regions": ["EU", "US"]}', 'professional', 'expert',
   '["blog", "video", "newsletter"]', '["clarity", "craft"]', '{"linkedin": {"priority": "high", "content_focus": "thought leadership"}, "youtube": {"priority": "medium", "content_focus": "tutorials", "posting_frequency": "biweekly"}}',
   '{"daily": 1, "weekly": 4, "monthly": 16}', '["monday", "wednesday", "friday"]', '["09:00", "13:00"]', 'https://alice.example.com'),
  ('demo-bob', 'retail', 'enterprise', '{"segments": ["families"]}', 'friendly', 'warm', '["social", "email"]', '["value"]',
   '["instagram", "facebook", "pinterest"]', '{"weekly": "3 per week"}', '["saturday"]', '["18:00"]', 'https://bob.example.com'),
  ('demo-carol', 'healthcare', 'startup', NULL, 'empathetic', NULL, '["blog"]', NULL, NULL, NULL, NULL, NULL, NULL);

INSERT INTO content_strategies (user_id, name, industry, business_objectives, target_metrics, content_budget, team_size,
                                implementation_timeline, competitive_position, content_pillars, preferred_formats,
                                content_frequency, comprehensive_ai_analysis, completion_percentage, created_at)
VALUES
  ('demo-alice', 'Developer trust 2026', 'technology', '["grow qualified leads", "developer trust"]', '{"mql_per_month": 120}', 12000, 4,
   '6 months', 'challenger', '["architecture", "case studies"]', '["long-form", "video"]', 'weekly',
   '{"summary": "Strong technical depth, weak distribution."}', 25.0, now() - interval '30 days'),
  ('demo-alice', 'Launch campaign', 'technology', '["product launch"]', NULL, 5000, 3, '3 months', 'challenger',
   '["launch"]', '["short-form"]', 'daily', NULL, 17.9, now() - interval '10 days'),
  ('demo-alice', 'Community first', 'technology', '["community growth"]', '{"members": 5000}', 3000, 2, '12 months', 'niche',
   '["community"]', '["events", "newsletter"]', 'monthly', '{"summary": "Community as a moat."}', 21.4, now() - interval '2 days'),
  ('demo-bob', 'Holiday season', 'retail', '["seasonal revenue"]', NULL, 20000, 6, '2 months', 'leader',
   '["gift guides"]', '["carousel"]', 'daily', '{"summary": "Peak in December."}', 21.4, now() - interval '20 days'),
  ('demo-bob', 'Spring refresh', 'retail', '["brand refresh"]', NULL, 8000, 4, '3 months', 'leader',
   '["spring"]', '["reels"]', 'weekly', NULL, 17.9, now() - interval '5 days'),
  ('demo-dave', 'First steps', NULL, NULL, NULL, NULL, 1, NULL, 'emerging', NULL, NULL, NULL, NULL, 7.1, now() - interval '1 day');

INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date, performance_score)
SELECT id, user_id, 'active', now() - interval '29 days', 72.5 FROM content_strategies WHERE user_id = 'demo-alice' AND name = 'Developer trust 2026';
INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date, performance_score)
SELECT id, user_id, 'inactive', NULL, NULL FROM content_strategies WHERE user_id = 'demo-alice' AND name = 'Launch campaign';

INSERT INTO content_gap_analyses (user_id, website_url, competitor_urls, target_keywords, analysis_results, recommendations, opportunities, created_at)
VALUES
  ('demo-alice', 'https://alice.example.com', '["https://rival.example.com"]', '["observability", "platform engineering"]',
   '{"content_gaps": ["no migration guides", "no benchmarks"], "keyword_opportunities": ["opentelemetry tutorial"], "competitor_insights": ["rival publishes weekly"]}',
   '["write a migration guide series"]', '["benchmarks page"]', now() - interval '14 days'),
  ('demo-alice', 'https://alice.example.com', '["https://other.example.com"]', '["sre"]',
   '{"content_gaps": ["no benchmarks", "no customer stories"], "keyword_opportunities": ["slo examples"]}',
   '["publish two case studies"]', '["customer stories hub"]', now() - interval '3 days'),
  ('demo-bob', 'https://bob.example.com', NULL, '["gift ideas"]', '{"content_gaps": ["no buying guides"]}', NULL, NULL, now() - interval '7 days');

INSERT INTO content_recommendations (user_id, strategy_id, recommendation_type, title, description, target_keywords, estimated_length, priority, platforms, status)
SELECT 'demo-alice', id, 'blog_post', 'OpenTelemetry in 30 minutes', 'Hands-on tutorial', '["opentelemetry tutorial"]', '2000 words', 'high', '["blog", "linkedin"]', 'pending'
FROM content_strategies WHERE user_id = 'demo-alice' AND name = 'Developer trust 2026';
INSERT INTO content_recommendations (user_id, recommendation_type, title, priority, platforms, status)
VALUES ('demo-alice', 'video', 'Benchmark walkthrough', 'medium', '["youtube"]', 'accepted'),
       ('demo-alice', 'newsletter', 'Monthly digest', 'low', '["email"]', 'pending'),
       ('demo-bob', 'social', 'Gift guide carousel', 'high', '["instagram"]', 'pending');

INSERT INTO content_analytics (user_id, strategy_id, platform, metrics, performance_score, recorded_at)
SELECT 'demo-alice', s.id, m.platform, m.metrics::jsonb, m.score, now() - m.age
FROM content_strategies s,
     (VALUES ('linkedin', '{"impressions": 5400, "clicks": 210, "shares": 12}', 78.0, interval '6 days'),
             ('linkedin', '{"impressions": 3100, "clicks": 95, "shares": 4}', 61.5, interval '2 days'),
             ('youtube', '{"views": 1800, "watch_minutes": 5200}', 70.0, interval '4 days')) AS m(platform, metrics, score, age)
WHERE s.user_id = 'demo-alice' AND s.name = 'Developer trust 2026';
