package metaverse

import "errors"

// ErrFenced: a write transaction was refused because it carried a fencing
// term older than the newest one the store has seen for its fence key: the
// writer was leader once and another engine has led since. Nothing of the
// transaction was committed. It is not a conflict; retrying cannot help.
var ErrFenced = errors.New("metaverse: fenced: a newer leader has written to the store")

// Fencer is an optional capability of a Store that can refuse the writes of
// a deposed leader (package ha uses it; stores that one process owns, such
// as boltstore, have no need of it).
//
// Fenced returns a view of the store whose write transactions carry term
// for key: each commits only when no transaction with a higher term for
// key has committed before it, and records term as the newest. The check
// is part of the transaction's commit, so a write of an old term fails with
// ErrFenced however late it arrives. View transactions are not fenced.
// Closing the view does not close the store.
type Fencer interface {
	Fenced(key string, term uint64) Store
}
