-- Enrich page views with the viewing user's region: a stream-table join.
CREATE TABLE users (user_id STRING PRIMARY KEY, region STRING, gender STRING)
  WITH (kafka_topic='users', value_format='JSON');
CREATE STREAM pageviews (view_id BIGINT KEY, user_id STRING, page STRING)
  WITH (kafka_topic='pageviews', value_format='JSON');
CREATE STREAM pageviews_enriched AS
  SELECT pv.user_id AS user_id, pv.page AS page, u.region AS region
  FROM pageviews pv JOIN users u ON pv.user_id = u.user_id
  WHERE pv.page <> 'health-check'
  EMIT CHANGES;
