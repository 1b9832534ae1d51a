-- Page views per page in one-minute tumbling windows, every update emitted (EMIT CHANGES).
CREATE STREAM pageviews (view_id BIGINT KEY, user_id STRING, page STRING)
  WITH (kafka_topic='pageviews', value_format='JSON');
CREATE TABLE views_per_page AS
  SELECT page, COUNT(*) AS views, WINDOWSTART AS window_start
  FROM pageviews
  WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 10 SECONDS)
  GROUP BY page
  EMIT CHANGES;
