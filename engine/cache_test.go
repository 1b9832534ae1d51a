package engine

import (
	"testing"

	"github.com/seichedb/seiche/sql/planner"
)

// A query's cache.max.bytes.buffering comes from its own properties, then the server's (either
// with ksqlDB's "ksql.streams." prefix or without), then ksqlDB's default of 10,000,000 bytes.
func TestCacheMaxBytesProperty(t *testing.T) {
	for _, c := range []struct {
		stmt, server map[string]string
		want         int64
	}{
		{want: planner.DefaultCacheBytes},
		{server: map[string]string{"ksql.streams.cache.max.bytes.buffering": "0"}, want: 0},
		{stmt: map[string]string{"cache.max.bytes.buffering": "0"}, want: 0},
		{stmt: map[string]string{"ksql.streams.cache.max.bytes.buffering": "1000"},
			server: map[string]string{"cache.max.bytes.buffering": "0"}, want: 1000},
		{stmt: map[string]string{"cache.max.bytes.buffering": "-1"}, want: planner.DefaultCacheBytes},
	} {
		cfg := defaultConfig()
		for k, v := range c.server {
			cfg.props[k] = v
		}
		e := &Engine{cfg: cfg}
		if got := e.cacheMaxBytes(c.stmt); got != c.want {
			t.Errorf("%v %v: %d, want %d", c.stmt, c.server, got, c.want)
		}
	}
	if planner.DefaultCacheBytes != 10_000_000 {
		t.Errorf("default %d, want ksqlDB's 10000000", planner.DefaultCacheBytes)
	}
}
