package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole file to w, from one read
// transaction: writers go on meanwhile. The copy is a store file that Open
// reads, and that Restore installs.
func (s *Store) Backup(ctx context.Context, w io.Writer) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	return guard(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			if _, err := tx.WriteTo(ctxWriter{ctx, w}); err != nil {
				return fmt.Errorf("boltstore: backup of %s: %w", s.path, err)
			}
			return nil
		})
	})
}

// ctxWriter stops a long copy when ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// Restore writes the backup read from r to a new store file at path, after
// checking it: it must be a complete store file of a format version this
// build reads, and pass the consistency check. Restore refuses to overwrite
// an existing file (remove it first, with the store closed); it writes a
// temporary file beside path and renames it, so that a failed restore
// leaves nothing behind.
func Restore(ctx context.Context, r io.Reader, path string) (err error) {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("boltstore: restore: %s exists; remove it first", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("boltstore: restore: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".restore-*")
	if err != nil {
		return fmt.Errorf("boltstore: restore: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(ctxWriter{ctx, f}, r); err != nil {
		return fmt.Errorf("boltstore: restore: reading the backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("boltstore: restore: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("boltstore: restore: %w", err)
	}
	s, err := Open(tmp, &Options{ReadOnly: true, CheckOnOpen: true})
	if err != nil {
		return fmt.Errorf("boltstore: restore: the backup is not usable: %w", err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("boltstore: restore: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("boltstore: restore: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("boltstore: restore: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("boltstore: restore: %w", err)
	}
	return nil
}
