// Package arrowrows writes SQL query results as an Arrow IPC stream (the Arrow columnar streaming
// format: a schema message, record batches, an end-of-stream marker), which pyarrow
// (pa.ipc.open_stream), Polars (pl.read_ipc_stream), DuckDB, arrow-go and the npm apache-arrow package read
// without any Seiche code.
//
// # What it owns
//
// The mapping from SQL columns to an Arrow schema (Schema) and the buffering of rows into record batches
// (Writer). Every Arrow field is nullable and named exactly as its column, so SQL NULL is representable
// everywhere, including inside arrays, map values and struct fields:
//
//	BOOLEAN          bool
//	INT              int32
//	BIGINT           int64
//	DOUBLE           float64
//	DECIMAL(p, s)    decimal128(p, s)
//	STRING           utf8
//	BYTES            binary
//	DATE             date32 (days since 1970-01-01)
//	TIME             time32[ms] (milliseconds since midnight, as Seiche stores it)
//	TIMESTAMP        timestamp[ms, tz=UTC]
//	ARRAY<T>         list<item: T>
//	MAP<K, V>        map<K, V> (entries<key: K not null, value: V>, in the map's insertion order)
//	STRUCT<F T, ...> struct<F: T, ...>
//
// TIMESTAMP is an instant (milliseconds since the Unix epoch), and Arrow spells an instant as a timestamp
// with a time zone; a zone-less Arrow timestamp means a wall-clock time in an unknown zone. With "UTC",
// pyarrow gives tz-aware datetimes, pandas datetime64[ms, UTC] and Polars Datetime("ms", "UTC"): the
// same instant ksqlDB prints. The units are Seiche's own (milliseconds), so no value is rescaled.
// STRING is utf8 rather than large_utf8 or a view type because every reader supports it; a batch is
// limited to 2 GiB of string data per column, far above a batch of result rows.
//
// Arrow requires map keys to be non-null, so a MAP value with a NULL key is a bad value (ErrBadValue).
//
// # What it never does
//
// It never converts between SQL types: a value whose Go representation is not the one package types
// documents for its column's type is rejected with ErrBadValue, and the row is not written. It never
// writes dictionaries or compresses bodies, so that every Arrow reader accepts the stream.
//
// # Concurrency
//
// A Writer is owned by one goroutine. A push query that flushes on a timer selects on its rows and a
// ticker in that goroutine, calling Write for rows and Flush on ticks.
package arrowrows
