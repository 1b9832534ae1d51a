// Package ir is the resolved, typed intermediate representation of Seiche's SQL: what the analyzer
// produces from the AST and the planner lowers. Names are resolved to row positions, expressions are
// type-checked and compiled into closures, and the texts the later stages print (generated column
// names, ksqlDB's formatting of an expression in a message) are computed once by the analyzer.
//
//	parser (AST) ─▶ analyzer ─▶ ir.Query, ir.Source ─▶ planner
//
// It owns the vocabulary the planner and the engine share with the analyzer: sources and their kinds,
// windows, emit kinds, join types, compiled expressions, aggregate and table function calls, the
// projection and the output schema.
//
// Its enumerations (SourceKind, JoinType, WindowKind, EmitKind) repeat the parser's on purpose: the
// AST says what was written, the IR what the planner builds, and neither stage imports the other's
// package (the analyzer maps one onto the other, in analyzer/lower.go).
//
// It never imports the parser and never parses or compiles anything itself: a value of this package
// is complete when the analyzer returns it, and read-only afterwards, so one Query may be lowered
// several times and read from several goroutines.
package ir
