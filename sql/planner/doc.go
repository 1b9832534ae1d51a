// Package planner turns an analyzed persistent query (CREATE STREAM|TABLE AS SELECT, INSERT INTO ...
// SELECT) into a logical plan and lowers that plan onto a dsl.Builder, with sql rows (types.Row) as
// keys and values:
//
//	analyzer.PersistentQuery ─▶ Build ─▶ *Plan (a chain of logical nodes) ─▶ Lower ─▶ dsl graph
//
// The logical nodes are, in the order a plan chains them: Source (deserialize a topic into Input rows
// with the pseudo-columns), Filter (WHERE), TableFunction (EXPLODE, CUBE_EXPLODE), PartitionBy
// (re-key), Aggregate (GROUP BY over a stream or a table, optionally windowed), Having, Suppress (EMIT
// FINAL), Project and Sink (serialize with the sink's formats, ksqlDB's output topic naming). One file
// per node (node_*.go), each with its lowering.
//
// Several queries may lower onto one Builder (a QTT case or a script runs all its queries in one
// topology): an Env shares one raw source node per topic, so that two sources over one topic, or a
// query reading the output of another, work as they do with separate ksqlDB queries.
//
// Bad records never stop a query: a record that does not deserialize, or whose expression evaluation
// fails, is dropped and reported as a processing error (the runtime's processing log), as ksqlDB does.
// Where ksqlDB yields NULL for a failed expression (projection), the expression compiler already does.
//
// Not yet lowered (Build returns an Unsupported error): joins, which wait for a row-typed lowering of
// the stateful DSL's joins; tables with PARTITION BY; sink TIMESTAMP columns.
package planner
