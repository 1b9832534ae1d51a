// Package nexmark runs the Nexmark benchmark on Seiche: the standard event generator (package gen),
// the queries in Seiche SQL and as Go DSL programs, and a runner that measures them in process (no
// broker), through Seiche's broker as runtime applications, or as persistent queries of a `seiche
// server`.
//
// It owns what `seiche bench nexmark` (package cli) and the benchmark program
// benchmarks/nexmark share. It lives under internal because it is a benchmark, not an API: the
// benchmarks module may import it (its import path is under this module's), users may not. The
// baselines that are not Seiche (the hand-written franz-go loop) stay in benchmarks/nexmark and
// plug in as extra implementations (Config.Extra).
//
// It never changes the engine's behaviour: it drives the public runtime, engine and broker APIs.
//
// Concurrency: Run runs one measurement at a time; a broker-mode measurement has a producer, the
// implementation under test and an output reader running concurrently, joined before it returns.
package nexmark
