package idbridge

import (
	"errors"
	"fmt"
)

// Defaults of the full import's shrink guard (Options.ImportDeleteShare
// and Options.ImportDeleteMin): a full import may delete up to 10 objects,
// or up to a fifth of its connector space. Entra Connect's own guard counts
// exports only (500 deletes); this one stops a misread source before its
// deletes reach any rule, and so any target.
const (
	DefaultImportDeleteShare = 0.2
	DefaultImportDeleteMin   = 10
)

// ErrImportShrink: a full import would have deleted a larger share of its
// connector space than Options.ImportDeleteShare allows; it staged no
// delete. The error is an *ImportShrinkError.
var ErrImportShrink = errors.New("idbridge: full import would shrink the connector space beyond the guard")

// ImportShrinkError is returned by a full import whose delete pass the
// shrink guard stopped. Everything the import read is staged; the objects
// it did not see are kept as they were. It matches ErrImportShrink.
type ImportShrinkError struct {
	Connector string
	Deletes   int // objects the import did not see
	Size      int // objects in the connector space
	Read      int // objects the connector reported
}

func (e *ImportShrinkError) Error() string {
	return fmt.Sprintf("idbridge: full import of %q staged no delete: %d of %d objects were not seen (%d read), more than the import delete guard allows (check the connector's scope, then raise Options.ImportDeleteShare or ImportDeleteMin)",
		e.Connector, e.Deletes, e.Size, e.Read)
}

// Is reports whether target is ErrImportShrink.
func (e *ImportShrinkError) Is(target error) bool { return target == ErrImportShrink }

// shrinks reports whether deleting n of size objects after reading read
// trips the guard.
func (o *Options) shrinks(n, size, read int) bool {
	if o.ImportDeleteShare < 0 || n == 0 {
		return false
	}
	if read == 0 {
		return true // an empty source never deletes everything
	}
	return n > o.ImportDeleteMin && float64(n) > o.ImportDeleteShare*float64(size)
}
