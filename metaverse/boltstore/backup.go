package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/idbridge/idbridge/metaverse"
)

var (
	_ metaverse.Backuper = (*Store)(nil)
	_ metaverse.Restorer = (*Store)(nil)
)

// Backup writes a consistent copy of the whole file to w, from one read
// transaction: writers go on meanwhile. The copy is a store file that Open
// reads, and that Restore checks and loads.
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

// Restore replaces everything the store holds with the backup read from r,
// in one write transaction: the backup is first written to a temporary
// file beside the store's and checked (a complete store file of this
// build's format version, passing bbolt's consistency check), then its
// buckets replace the store's. When Restore fails, with metaverse.ErrCorrupt for a
// damaged or truncated backup, metaverse.ErrIncompatible for one of another
// format version, or an error of the disk, the store is left as it was,
// and the temporary file is removed.
//
// To restore a store whose file is lost or damaged, Open a new file and
// call Restore on it.
func (s *Store) Restore(ctx context.Context, r io.Reader) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("boltstore: restore: %s is open read-only: %w", s.path, metaverse.ErrReadOnly)
	}
	f, err := os.CreateTemp(filepath.Dir(s.path), filepath.Base(s.path)+".restore-*")
	if err != nil {
		return fmt.Errorf("boltstore: restore: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	n, err := io.Copy(ctxWriter{ctx, f}, r)
	if err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	if err != nil {
		return fmt.Errorf("boltstore: restore: reading the backup: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("boltstore: restore: %w: the backup is empty", metaverse.ErrCorrupt)
	}
	b, err := Open(tmp, &Options{ReadOnly: true, CheckOnOpen: true})
	if err != nil {
		return fmt.Errorf("boltstore: restore: the backup is not usable: %w", err)
	}
	defer b.Close()
	// The backup's read transaction stays open until the store's write
	// commits, so its values are put without copies.
	err = guard(func() error {
		return b.db.View(func(src *bolt.Tx) error {
			return s.write(func(dst *bolt.Tx) error {
				for _, name := range topBuckets {
					if err := dst.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
						return err
					}
				}
				err := src.ForEach(func(name []byte, sb *bolt.Bucket) error {
					db, err := dst.CreateBucket(name)
					if err != nil {
						return err
					}
					return copyBucket(ctx, db, sb)
				})
				if err != nil {
					return err
				}
				return ctx.Err()
			})
		})
	})
	if err != nil {
		return fmt.Errorf("boltstore: restore into %s: %w", s.path, err)
	}
	return nil
}

// copyBucket copies src's keys, nested buckets and sequence (run IDs come
// from it) into the empty dst.
func copyBucket(ctx context.Context, dst, src *bolt.Bucket) error {
	dst.FillPercent = appendFill // keys arrive in order
	if err := dst.SetSequence(src.Sequence()); err != nil {
		return err
	}
	n := 0
	return src.ForEach(func(k, v []byte) error {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if v != nil {
			return dst.Put(k, v)
		}
		nested, err := dst.CreateBucket(k)
		if err != nil {
			return err
		}
		return copyBucket(ctx, nested, src.Bucket(k))
	})
}
