package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/idbridge/idbridge/metaverse"
)

// FormatVersion is the version of the file layout this build writes. A file
// written by an older version is migrated when Open knows how, and refused
// otherwise; a file of a newer version is refused with
// metaverse.ErrIncompatible.
const FormatVersion = 1

// migrations upgrade a file from version k to k+1, inside the transaction
// that then records version k+1. None yet: version 1 is the first.
var migrations = map[uint32]func(*bolt.Tx) error{}

// ErrFull is returned (wrapped) when a write transaction cannot commit
// because the file reached Options.MaxSize or the disk is full. Nothing of
// that transaction is written; what was committed before is intact.
var ErrFull = errors.New("boltstore: database full")

// ErrCorrupt is metaverse.ErrCorrupt, returned (wrapped) when the file is
// not a bbolt database, is truncated, or fails a consistency check.
// Restore it from a backup.
//
// Deprecated: match metaverse.ErrCorrupt, which every store uses.
var ErrCorrupt = metaverse.ErrCorrupt

// Options tunes a Store. The zero value (or nil) is the safe default.
type Options struct {
	// Timeout is how long Open waits for the file lock that another
	// process holds. Default 1s; negative waits forever.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// ReadOnly opens the file shared and read-only: Update fails with
	// metaverse.ErrReadOnly, and Open neither creates nor migrates.
	ReadOnly bool `json:"readOnly,omitempty" yaml:"readOnly,omitempty"`
	// NoSync skips fsync at commit. A crash may then lose or corrupt
	// committed data: for tests and benchmarks only.
	NoSync bool `json:"noSync,omitempty" yaml:"noSync,omitempty"`
	// MaxSize caps the file size in bytes (0: no cap). A commit that would
	// grow the file past it fails with ErrFull.
	MaxSize int `json:"maxSize,omitempty" yaml:"maxSize,omitempty"`
	// InitialMmapSize is the initial memory map size in bytes; a map large
	// enough for the file lets read transactions never wait for a
	// remap. Default 0 (grow as needed).
	InitialMmapSize int `json:"initialMmapSize,omitempty" yaml:"initialMmapSize,omitempty"`
	// CheckOnOpen runs a full consistency check of the file at Open
	// (it reads every page: seconds for a large file).
	CheckOnOpen bool `json:"checkOnOpen,omitempty" yaml:"checkOnOpen,omitempty"`
}

// Validate reports invalid options.
func (o *Options) Validate() error {
	if o == nil {
		return nil
	}
	if o.MaxSize < 0 {
		return fmt.Errorf("boltstore: Options.MaxSize %d is negative", o.MaxSize)
	}
	if o.InitialMmapSize < 0 {
		return fmt.Errorf("boltstore: Options.InitialMmapSize %d is negative", o.InitialMmapSize)
	}
	if o.ReadOnly && o.MaxSize > 0 {
		return errors.New("boltstore: Options.MaxSize makes no sense with ReadOnly")
	}
	return nil
}

// Store is a metaverse.Store in one bbolt file. It is safe for concurrent
// use: read transactions run in parallel, write transactions one at a time.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool
	closed   atomic.Bool
	exports  metaverse.LocalExportLocks // see lock.go
}

var (
	_ metaverse.Store       = (*Store)(nil)
	_ metaverse.FoldIndexer = (*Store)(nil)
)

// Bucket names.
var (
	bMeta       = []byte("meta")
	bIndexes    = []byte("mvindexes") // declared metaverse attribute indexes: attr → {}
	bEntries    = []byte("entries")
	bEntryIdx   = []byte("entryidx") // lp(attr) lp(valuekey) lp(type) id → {}
	bCS         = []byte("cs")       // one nested bucket per connector
	bWatermarks = []byte("watermarks")
	bCounters   = []byte("counters")
	bRuns       = []byte("runs")

	kFormat = []byte("format")

	// in each connector bucket
	bObjects   = []byte("o") // id → record
	bAnchors   = []byte("a") // anchor → id
	bDNs       = []byte("d") // lp(folded dn) id → {}
	bPendImp   = []byte("i") // id → {}
	bPendExp   = []byte("x") // id → {}
	topBuckets = [][]byte{bMeta, bIndexes, bEntries, bEntryIdx, bCS, bWatermarks, bCounters, bRuns}
)

// Open opens the store in the file at path, creating it when it does not
// exist (unless opts.ReadOnly). It refuses a file of a newer format
// version with metaverse.ErrIncompatible, and a file that is not a store,
// is truncated or corrupt with ErrCorrupt.
func Open(path string, opts *Options) (s *Store, err error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	bo := &bolt.Options{
		Timeout:         o.Timeout,
		ReadOnly:        o.ReadOnly,
		NoSync:          o.NoSync,
		MaxSize:         o.MaxSize,
		InitialMmapSize: o.InitialMmapSize,
		FreelistType:    bolt.FreelistMapType,
		NoFreelistSync:  false,
	}
	switch {
	case bo.Timeout == 0:
		bo.Timeout = time.Second
	case bo.Timeout < 0:
		bo.Timeout = 0
	}
	if fi, statErr := os.Stat(path); statErr == nil && fi.Size() > 0 && fi.Size() < 2*int64(os.Getpagesize()) {
		return nil, fmt.Errorf("%w: %s: file is %d bytes, too short for a database (truncated?)", ErrCorrupt, path, fi.Size())
	}
	var db *bolt.DB
	err = guard(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, bo)
		return err
	})
	if err != nil {
		switch {
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, ErrCorrupt):
			return nil, fmt.Errorf("%w: %s is not a readable bbolt database: %w", ErrCorrupt, path, err)
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("boltstore: %s is locked by another process (waited %s): %w", path, bo.Timeout, err)
		}
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s = &Store{db: db, path: path, readOnly: o.ReadOnly}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	if err := s.checkSize(); err != nil {
		return nil, err
	}
	if err := s.initFormat(); err != nil {
		return nil, err
	}
	if o.CheckOnOpen {
		if err := s.Check(context.Background()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkSize refuses a file shorter than the pages its metadata says it
// has: reading them would fault.
func (s *Store) checkSize() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	return guard(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			if need := tx.Size(); fi.Size() < need {
				return fmt.Errorf("%w: %s is %d bytes but its metadata says %d: the file was truncated", ErrCorrupt, s.path, fi.Size(), need)
			}
			return nil
		})
	})
}

// initFormat creates the buckets of a new file, or checks (and migrates)
// the format version of an existing one.
func (s *Store) initFormat() error {
	var version uint32
	var empty bool
	err := guard(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bMeta)
			if meta == nil {
				k, _ := tx.Cursor().First()
				empty = k == nil
				if !empty {
					return fmt.Errorf("%w: %s is a bbolt database but not an idbridge store (no %q bucket)", metaverse.ErrIncompatible, s.path, bMeta)
				}
				return nil
			}
			v := meta.Get(kFormat)
			if len(v) != 4 {
				return fmt.Errorf("%w: %s has no valid format version", ErrCorrupt, s.path)
			}
			version = binary.BigEndian.Uint32(v)
			return nil
		})
	})
	if err != nil {
		return err
	}
	switch {
	case empty && s.readOnly:
		return fmt.Errorf("boltstore: %s is empty and the store is opened read-only", s.path)
	case empty:
		return s.write(func(tx *bolt.Tx) error {
			for _, b := range topBuckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return tx.Bucket(bMeta).Put(kFormat, binary.BigEndian.AppendUint32(nil, FormatVersion))
		})
	case version == FormatVersion:
		return nil
	case version > FormatVersion:
		return fmt.Errorf("%w: %s has format version %d, written by a newer idbridge; this build reads version %d", metaverse.ErrIncompatible, s.path, version, FormatVersion)
	}
	// Older: migrate step by step, in one transaction.
	for v := version; v < FormatVersion; v++ {
		if migrations[v] == nil {
			return fmt.Errorf("%w: %s has format version %d, which this build (version %d) cannot migrate", metaverse.ErrIncompatible, s.path, version, FormatVersion)
		}
	}
	if s.readOnly {
		return fmt.Errorf("%w: %s has format version %d and needs a migration to %d, impossible read-only", metaverse.ErrIncompatible, s.path, version, FormatVersion)
	}
	return s.write(func(tx *bolt.Tx) error {
		for v := version; v < FormatVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("boltstore: migrating %s from format version %d to %d: %w", s.path, v, v+1, err)
			}
		}
		return tx.Bucket(bMeta).Put(kFormat, binary.BigEndian.AppendUint32(nil, FormatVersion))
	})
}

// write runs a bbolt write transaction, mapping its failures.
func (s *Store) write(fn func(*bolt.Tx) error) error {
	return s.mapErr(guard(func() error { return s.db.Update(fn) }))
}

func (s *Store) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrMaxSizeReached):
		return fmt.Errorf("%w: %s reached Options.MaxSize; the transaction was rolled back: %w", ErrFull, s.path, err)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w: no space left on the device of %s; the transaction was rolled back: %w", ErrFull, s.path, err)
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return fmt.Errorf("%w: %w", metaverse.ErrClosed, err)
	}
	return err
}

// View implements metaverse.Store.
func (s *Store) View(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	return s.mapErr(guard(func() error {
		return s.db.View(func(btx *bolt.Tx) error {
			return fn(&tx{s: s, btx: btx})
		})
	}))
}

// Update implements metaverse.Store. Writers run one at a time, so fn is
// called exactly once.
func (s *Store) Update(ctx context.Context, fn func(tx metaverse.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("boltstore: %s is open read-only: %w", s.path, metaverse.ErrReadOnly)
	}
	return s.write(func(btx *bolt.Tx) error {
		t := &tx{s: s, btx: btx, write: true}
		if err := fn(t); err != nil {
			return err
		}
		// A Close during fn: do not commit what fn may have cut short.
		if s.closed.Load() {
			return metaverse.ErrClosed
		}
		return ctx.Err()
	})
}

func (s *Store) ready(ctx context.Context) error {
	if s.closed.Load() {
		return metaverse.ErrClosed
	}
	return ctx.Err()
}

// Close implements metaverse.Store. It waits for running transactions,
// which fail with metaverse.ErrClosed at their next call.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.db.Close()
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Check runs bbolt's consistency check over the whole file.
func (s *Store) Check(ctx context.Context) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	return guard(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			var errs []error
			for err := range tx.Check() {
				errs = append(errs, err)
				if len(errs) == 10 {
					break
				}
			}
			if len(errs) > 0 {
				return fmt.Errorf("%w: %s fails its consistency check: %w", ErrCorrupt, s.path, errors.Join(errs...))
			}
			return nil
		})
	})
}

// guard runs fn with faults on the memory map turned into panics, and
// turns those, and bbolt's own panics on corrupt pages, into ErrCorrupt.
// Other panics (a bug in a caller's fn) go on.
func guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		_, fault := r.(interface{ Addr() uintptr })
		_, missing := r.(missingBucket)
		if fault || missing || panickedInBolt() {
			err = fmt.Errorf("%w: %v", ErrCorrupt, r)
			return
		}
		panic(r)
	}()
	return fn()
}

// panickedInBolt reports whether the panic being recovered was raised by
// bbolt's code.
func panickedInBolt() bool {
	pcs := make([]uintptr, 16)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}
