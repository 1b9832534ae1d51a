// Package resttest runs ksqlDB's REST test files (ksqldb-functional-tests/src/test/resources/
// rest-query-validation-tests/*.json in ksqlDB's repository: pull
// queries, push queries and INSERT VALUES through the HTTP API) against a live server over HTTP and
// the Kafka cluster it runs on, the way ksqlDB's own runner does (ksqldb-functional-tests,
// io.confluent.ksql.test.rest: RestTestExecutor, RestTestCase, RestQueryTranslationTest).
//
// # What it owns
//
//   - Loading: Load reads a file or a directory of test files (comments allowed, numbers kept as
//     json.Number) and expands each test into one Case per entry of its "format" list, {FORMAT}
//     substituted in the statements.
//   - Running a case against a server (Run), in ksqlDB's order, below.
//   - Scope: tests with enabled=false, formats that need a schema registry (AVRO, PROTOBUF, JSON_SR,
//     PROTOBUF_NOSR) and ksqlDB's test-only functions are skipped, with sql/qtt's rules. The
//     "queryProto" responses of testPullWithProtoFormat tests (protobuf over /query-stream) are not
//     checked: such a case reports Skip when everything else matches.
//
// # How a case runs
//
//  1. Clean the server and the case's topics (see Isolation), then create the topics the test
//     declares, those of its CREATE STREAM|TABLE statements and those its records name.
//  2. Send every statement before the first one starting with "SELECT " in one POST /ksql, joined
//     by newlines; its entities are the first responses.
//  3. Produce the inputs with the key and value formats of the source over each topic (the
//     statements are analyzed locally by package sql for that); with
//     inputConditions.waitForQueryHeader, only once the first query has sent its header.
//  4. Unless an error is expected, when responses to queries are expected, wait until every
//     persistent query is RUNNING (SHOW QUERIES) and its consumer group has committed the end of
//     each partition assigned to it.
//  5. Send each query in one POST /query and read the streamed rows until the server ends the
//     response (a push query's LIMIT). A query whose response does not match is sent again until it
//     does or the wait ends.
//  6. Read each output topic from the start and compare its records, in order, with "outputs".
//  7. Compare the responses: the i-th expected response with the i-th actual one, an "admin" object
//     field by field (only the fields it names), a "query" array row by row, with the rows'
//     "columns" as a multiset unless outputConditions.verifyOrder.
//
// An error response ends the case: it passes when it matches expectedError (status, message
// substring, entity type) and fails otherwise.
//
// # Isolation
//
// ksqlDB's runner shares one server between the tests of a batch and empties it after each test
// (terminate every query, drop every source, delete every topic but its command topic). Here the
// caller gives one server for many cases, and Run empties it before the case, so that a case never
// depends on the one before having cleaned up, and again after it:
//
//   - TERMINATE ALL; (or, where the server refuses it, TERMINATE <id>; for each query of SHOW
//     QUERIES;), then DROP STREAM|TABLE `name`; for every source of SHOW STREAMS; and SHOW TABLES;
//     but ksqlDB's processing log stream, in passes until none is left;
//   - the topics of the dropped sources and every topic the case names (declared, of its CREATE
//     statements, of its sources' sinks as analyzed locally, of its records) are deleted, and once
//     they are gone those the case needs are created again, empty;
//   - after the case, besides the above, the repartition and changelog topics that appeared during
//     it are deleted, and so are the consumer groups without members that committed offsets on the
//     deleted topics (a query reusing a group name must not resume from them).
//
// Topic names come from the test files, so two cases are never run at the same time on one server.
// The server's own topics (its command topic, the processing log) are never deleted: the runner
// deletes only topics it can attribute to a case or to a source it dropped.
//
// Every statement and query is sent with streamsProperties: the case's properties over
// ServerDefaults, which stand for the configuration ksqlDB's runner starts its server with
// (auto.offset.reset earliest, record caching off).
//
// # Where it differs from ksqlDB's runner
//
// ksqlDB's runner reads its engine in-process: the persistent queries and their source topics for
// the wait in step 4, the metastore for the formats in step 3. Over HTTP, the queries come from SHOW
// QUERIES and their consumer groups from the cluster (a group whose name contains a query id belongs
// to it, as ksqlDB's application ids do; otherwise every group with members counts), and the
// formats from Seiche's own analyzer. When the server has persistent queries but the cluster shows
// no consumer group with members for 3s, the wait gives up: the server's queries do not read through
// groups. Retrying a query in step 5 (for the whole Target.Timeout when the wait did not succeed,
// for 5s when it did) covers what that cannot see. A
// case that expects an error and never gets one fails here; ksqlDB's runner lets one without queries
// pass. Inputs are produced topic by topic in the order the topics first appear (ksqlDB groups them
// in a hash map).
//
// # What it never does
//
// It never panics on a server's answer, never runs a statement the test does not contain besides
// the cleanup ones above, and never deletes a topic that is neither the case's nor one of a source it
// dropped.
//
// # Concurrency
//
// Run is safe to call from several goroutines only against different Targets: it owns the server
// and the case's topics for its duration.
package resttest
