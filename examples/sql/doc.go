// Package sql holds example KSQL scripts, each in its own directory in ksqlDB's ksql-test-runner
// format: statements.sql, input.json and output.json. sql_test.go runs every one of them, as
// `seiche test --statements statements.sql --input input.json --output output.json` does.
//
//	pageviews        enrich page views with the user's region (stream-table join, WHERE)
//	windowed_counts  page views per page in one-minute tumbling windows with a grace period
package sql
