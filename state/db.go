package state

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/seichedb/seiche/internal/dirlock"
)

// defaultCacheBytes is the Pebble block cache of a DB, shared by all its tasks (Kafka Streams gives
// each RocksDB store 50 MiB).
const defaultCacheBytes = 128 << 20

// formatVersion is the key layout version written at the first open of a state directory.
const formatVersion = 1

var formatKey = []byte{tagFormat, 'f', 'o', 'r', 'm', 'a', 't'}

// DB is one state directory: one Pebble instance (or one in-memory tree) holding the stores of every
// task opened on it. A DB is safe for concurrent use by several tasks; each Task belongs to one
// goroutine.
type DB struct {
	eng    engine
	dir    string // "" when in memory
	logger *slog.Logger
	lock   *dirLocks

	mu struct {
		sync.Mutex
		closed bool
		tasks  map[string]*Task // by task prefix
	}
}

// Open opens the state directory dir, creating it if needed. A directory Pebble cannot open
// (corrupt, truncated, not a directory) is logged with its path, moved aside to dir+".corrupt"
// (replacing an older one) and replaced by an empty one: logged stores then rebuild from their
// changelogs when they open. A directory locked by another process is an error, never moved.
// Pebble gets a 128 MiB block cache and 64 MiB memtables unless PebbleOptions says otherwise; writes
// are not fsynced, since the changelogs, not the directory, are the durable copy.
func Open(dir string, opts ...Opt) (*DB, error) {
	cfg := newDBConfig(opts)
	db := &DB{dir: dir, logger: cfg.logger}
	pdb, lock, err := openPebble(dir, cfg)
	if err != nil {
		return nil, err
	}
	db.eng, db.lock = &pebbleEngine{db: pdb}, lock
	if err := db.checkFormat(); err != nil {
		db.Close()
		return nil, err
	}
	db.mu.tasks = map[string]*Task{}
	return db, nil
}

// OpenMemory returns a DB that keeps everything in memory, with the same behaviour as a Pebble one.
// Its contents live as long as the DB: close and reopen a task on the same DB to test restarts.
func OpenMemory(opts ...Opt) *DB {
	cfg := newDBConfig(opts)
	db := &DB{eng: newMemoryEngine(), logger: cfg.logger}
	db.mu.tasks = map[string]*Task{}
	return db
}

func openPebble(dir string, cfg dbConfig) (*pebble.DB, *dirLocks, error) {
	pdb, lock, err := tryOpenPebble(dir, cfg)
	if err == nil {
		return pdb, lock, nil
	}
	var inUse *lockError
	if errors.As(err, &inUse) {
		return nil, nil, err
	}
	aside := dir + ".corrupt"
	cfg.logger.Error("state: state directory unreadable; moving it aside and rebuilding from changelogs",
		"path", dir, "moved_to", aside, "err", err)
	if err := os.RemoveAll(aside); err != nil {
		return nil, nil, fmt.Errorf("state: remove %s: %w", aside, err)
	}
	if err := os.Rename(dir, aside); err != nil {
		return nil, nil, fmt.Errorf("state: move unreadable state directory %s aside: %w", dir, err)
	}
	pdb, lock, err = tryOpenPebble(dir, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("state: open fresh state directory %s: %w", dir, err)
	}
	return pdb, lock, nil
}

type lockError struct{ err error }

func (e *lockError) Error() string { return e.err.Error() }
func (e *lockError) Unwrap() error { return e.err }

// dirLocks keep other processes out of a state directory: ours, whose file names the holder's
// process id for the error a second process gets, and Pebble's own.
type dirLocks struct {
	dir    *dirlock.Lock
	pebble *pebble.Lock
}

func (l *dirLocks) Close() error {
	return errors.Join(l.pebble.Close(), l.dir.Release())
}

func tryOpenPebble(dir string, cfg dbConfig) (*pebble.DB, *dirLocks, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	dl, err := dirlock.Acquire(dir)
	if err != nil {
		return nil, nil, &lockError{fmt.Errorf("state: lock state directory: %w", err)}
	}
	pl, err := pebble.LockDirectory(dir, vfs.Default)
	if err != nil {
		dl.Release()
		return nil, nil, &lockError{fmt.Errorf("state: lock state directory %s (in use by another process?): %w", dir, err)}
	}
	lock := &dirLocks{dir: dl, pebble: pl}
	cache := pebble.NewCache(defaultCacheBytes)
	defer cache.Unref() // Open takes its own reference
	o := &pebble.Options{
		Cache:        cache,
		MemTableSize: 64 << 20,
	}
	if cfg.pebble != nil {
		cfg.pebble(o)
	}
	o.Logger = pebbleLogger{l: cfg.logger, dir: dir}
	o.Lock = pl
	pdb, err := pebble.Open(dir, o)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	return pdb, lock, nil
}

func (db *DB) checkFormat() error {
	v, ok, err := db.eng.get(formatKey)
	if err != nil {
		return fmt.Errorf("state: read format of %s: %w", db.dir, err)
	}
	if !ok {
		t := db.eng.newTxn()
		if err := t.set(formatKey, []byte{formatVersion}); err != nil {
			return err
		}
		return t.commit()
	}
	if len(v) != 1 || v[0] != formatVersion {
		return fmt.Errorf("state: %s has state format %x, this build reads %d", db.dir, v, formatVersion)
	}
	return nil
}

// Close closes every task still open, then the DB. It is idempotent; operations after it return
// ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.mu.closed {
		db.mu.Unlock()
		return nil
	}
	db.mu.closed = true
	tasks := make([]*Task, 0, len(db.mu.tasks))
	for _, t := range db.mu.tasks {
		tasks = append(tasks, t)
	}
	db.mu.Unlock()
	for _, t := range tasks {
		t.Close()
	}
	err := db.eng.close()
	if db.lock != nil {
		if lerr := db.lock.Close(); err == nil {
			err = lerr
		}
	}
	return err
}

// Dir returns the state directory, or "" for an in-memory DB.
func (db *DB) Dir() string { return db.dir }

// DropTask deletes every store of a task that is not open (its state moved to another instance, or
// is to be rebuilt from the changelogs).
func (db *DB) DropTask(app, task string) error {
	return db.drop(taskPrefix(app, task))
}

// DropApplication deletes the state of every task of an application, none of which may be open.
func (db *DB) DropApplication(app string) error {
	return db.drop(appPrefix(app))
}

func (db *DB) drop(prefix []byte) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return ErrClosed
	}
	for k := range db.mu.tasks {
		if len(k) >= len(prefix) && k[:len(prefix)] == string(prefix) {
			return fmt.Errorf("state: drop: task is open")
		}
	}
	return db.eng.deleteRange(prefix, prefixEnd(prefix))
}

// pebbleLogger sends Pebble's messages to slog. Pebble expects Fatalf not to return; it is called
// only on invariant violations, and panics after logging.
type pebbleLogger struct {
	l   *slog.Logger
	dir string
}

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble: "+fmt.Sprintf(format, args...), "path", p.dir)
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("pebble: "+fmt.Sprintf(format, args...), "path", p.dir)
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error("pebble: fatal: "+msg, "path", p.dir)
	panic("pebble: " + msg)
}
