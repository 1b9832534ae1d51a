package main

import (
	"context"
	"io"
	"testing"
)

// TestSmoke measures once: the shell reaches its prompt with an embedded server (new and reused data
// directory) and with a running server, and exits cleanly.
func TestSmoke(t *testing.T) {
	res, err := run(context.Background(), 1, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for name, ds := range map[string]int{"floor": len(res.floor), "first": len(res.first), "restart": len(res.restart), "connect": len(res.connect), "exit": len(res.exit)} {
		if ds != 1 {
			t.Errorf("%s: %d figures", name, ds)
		}
	}
	res.print(io.Discard)
}
