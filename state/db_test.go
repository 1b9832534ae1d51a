package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log sink safe for Pebble's background goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeCommitted(t *testing.T, db *DB, cl Changelog, kv map[string]string) {
	t.Helper()
	ctx := context.Background()
	var opts []TaskOpt
	if cl != nil {
		opts = append(opts, WithChangelog(cl))
	}
	tk, err := db.OpenTask("app", "0_0", 0, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Close()
	s, err := tk.KeyValueStore(ctx, "kv")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range kv {
		if err := s.Put([]byte(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tk.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, db *DB, cl Changelog) map[string]string {
	t.Helper()
	ctx := context.Background()
	var opts []TaskOpt
	if cl != nil {
		opts = append(opts, WithChangelog(cl))
	}
	tk, err := db.OpenTask("app", "0_0", 0, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Close()
	s, err := tk.KeyValueStore(ctx, "kv")
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.All()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	out := map[string]string{}
	for it.Next() {
		out[string(it.Key())] = string(it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCorruptDirectory: a state directory Pebble cannot read is reported with its path, moved
// aside, and the logged store is rebuilt from its changelog.
func TestCorruptDirectory(t *testing.T) {
	corruptions := map[string]func(t *testing.T, dir string){
		"manifest": func(t *testing.T, dir string) {
			ms, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
			if len(ms) == 0 {
				t.Fatal("no MANIFEST")
			}
			for _, m := range ms {
				if err := os.WriteFile(m, bytes.Repeat([]byte("garbage!"), 100), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		},
		"missing manifest": func(t *testing.T, dir string) {
			// Pebble v2 has no CURRENT file; a missing manifest is as unreadable.
			ms, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
			for _, m := range ms {
				os.Remove(m)
			}
			os.WriteFile(filepath.Join(dir, "CURRENT"), []byte("MANIFEST-999999\n"), 0o644)
		},
		"not a directory": func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, []byte("I am a file"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, corrupt := range corruptions {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			cl := newFakeChangelog()
			db, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"a": "1", "b": "2", "c": "3"}
			writeCommitted(t, db, cl, want)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			corrupt(t, dir)

			var logs syncBuffer
			db, err = Open(dir, Logger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatalf("open corrupt directory: %v", err)
			}
			defer db.Close()
			if !strings.Contains(logs.String(), "path="+dir) || !strings.Contains(logs.String(), "level=ERROR") {
				t.Fatalf("corruption not reported with the path; log:\n%s", logs.String())
			}
			if _, err := os.Stat(dir + ".corrupt"); err != nil {
				t.Fatalf("corrupt directory not kept aside: %v", err)
			}
			if got := readAll(t, db, cl); !equalMaps(got, want) {
				t.Fatalf("rebuilt %v, want %v", got, want)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// TestDirectoryInUse: a directory another DB holds is an error naming the holder, and is left
// alone.
func TestDirectoryInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	writeCommitted(t, db, nil, map[string]string{"k": "v"})
	_, err = Open(dir)
	if want := fmt.Sprintf("in use by this process (pid %d)", os.Getpid()); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second open of a locked directory: %v, want an error containing %q", err, want)
	}
	if _, err := os.Stat(dir + ".corrupt"); err == nil {
		t.Fatal("locked directory was moved aside")
	}
	if got := readAll(t, db, nil); got["k"] != "v" {
		t.Fatalf("data lost: %v", got)
	}
}

func TestClosed(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := e.open(t)
			tk, err := db.OpenTask("app", "0_0", 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.OpenTask("app", "0_0", 0); err == nil {
				t.Fatal("task opened twice")
			}
			kv, _ := tk.KeyValueStore(ctx, "kv")
			ws, _ := tk.WindowStore(ctx, "w", 1, 10)
			ss, _ := tk.SessionStore(ctx, "s", 10)
			kv.Put([]byte("a"), []byte("1"))
			openIter, err := kv.All()
			if err != nil {
				t.Fatal(err)
			}
			if err := db.DropTask("app", "0_0"); err == nil {
				t.Fatal("dropped an open task")
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatalf("second close: %v", err)
			}
			checks := map[string]error{
				"kv put":      kv.Put([]byte("a"), []byte("b")),
				"window put":  ws.Put([]byte("a"), 0, []byte("b")),
				"session put": ss.Put([]byte("a"), Window{}, []byte("b")),
				"commit":      tk.Commit(ctx),
				"abort":       tk.Abort(),
			}
			_, _, err = kv.Get([]byte("a"))
			checks["kv get"] = err
			_, err = kv.All()
			checks["kv all"] = err
			_, err = ws.FetchAll(0, 1)
			checks["window fetch"] = err
			_, err = ss.FindSessions([]byte("a"), 0, 1)
			checks["session find"] = err
			_, err = tk.KeyValueStore(ctx, "other")
			checks["open store"] = err
			_, err = db.OpenTask("app", "1_0", 0)
			checks["open task"] = err
			if openIter.Next() {
				t.Error("iterator opened before close still iterates")
			}
			checks["open iterator"] = openIter.Err()
			openIter.Close()
			for what, err := range checks {
				if !errors.Is(err, ErrClosed) {
					t.Errorf("%s after close: %v, want ErrClosed", what, err)
				}
			}
			if err := tk.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDropTask: dropping a task removes all of its state and nothing else.
func TestDropTask(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := e.open(t)
			defer db.Close()
			for _, id := range []string{"0_0", "0_1", "0_10"} {
				tk, _ := db.OpenTask("app", id, 0)
				s, _ := tk.KeyValueStore(ctx, "kv")
				s.Put([]byte("k"), []byte(id))
				tk.Commit(ctx)
				tk.Close()
			}
			if err := db.DropTask("app", "0_1"); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"0_0", "0_1", "0_10"} {
				tk, _ := db.OpenTask("app", id, 0)
				s, _ := tk.KeyValueStore(ctx, "kv")
				v, ok, _ := s.Get([]byte("k"))
				if ok != (id != "0_1") || (ok && string(v) != id) {
					t.Errorf("task %s after dropping 0_1: %q %v", id, v, ok)
				}
				tk.Close()
			}
		})
	}
}
