package metaverse

import (
	"fmt"
	"slices"
	"time"

	"github.com/idbridge/idbridge/connector"
)

// PendingImport says what the last import changed in a connector-space
// object and sync has not yet processed.
type PendingImport uint8

// Pending import states.
const (
	ImportNone   PendingImport = iota // in sync
	ImportAdd                         // new object
	ImportUpdate                      // attributes or DN changed
	ImportDelete                      // gone from the connected system; removed after sync
)

func (p PendingImport) String() string {
	switch p {
	case ImportNone:
		return "none"
	case ImportAdd:
		return "add"
	case ImportUpdate:
		return "update"
	case ImportDelete:
		return "delete"
	}
	return fmt.Sprintf("PendingImport(%d)", uint8(p))
}

// ExportState is the state of a pending export.
type ExportState uint8

// Export states.
const (
	// ExportPending: computed by sync, not yet sent.
	ExportPending ExportState = iota + 1
	// ExportUnconfirmed: sent and accepted; a later import must see it.
	ExportUnconfirmed
	// ExportFailed: sent and refused with an error that may pass later;
	// sent again once the engine's retry backoff for its Attempts has
	// passed since Updated.
	ExportFailed
	// ExportParked: sent and refused for good (connector.IsPermanent):
	// not sent again until sync changes what the export wants or an
	// operator asks for a retry (Engine.RetryExports).
	ExportParked
)

func (s ExportState) String() string {
	switch s {
	case ExportPending:
		return "pending"
	case ExportUnconfirmed:
		return "unconfirmed"
	case ExportFailed:
		return "failed"
	case ExportParked:
		return "parked"
	}
	return fmt.Sprintf("ExportState(%d)", uint8(s))
}

// CSObject is an object in a connector space: the engine's copy of an
// object of a connected system as last imported, with what sync has yet to
// process (PendingImport) and what export has yet to write or see confirmed
// (Export).
type CSObject struct {
	ID        string           // assigned by the engine when the object is first staged or provisioned; immutable
	Connector string           // connector name
	Anchor    connector.Anchor // empty for an object provisioned but not yet exported
	DN        string
	Type      string
	Attrs     connector.Attributes // as last imported; reference values hold anchors of this connector space
	Pending   PendingImport
	// Changed is reserved for the names of the attributes an Update
	// import changed, so that delta sync could skip rules that read none of
	// them. The engine does not set or read it yet: it is always nil, and
	// sync evaluates every rule in scope. Stores persist it as given.
	Changed []string

	EntryID  string   // the metaverse entry this object is linked to; empty for a disconnector
	LinkType LinkType // when linked
	Rule     string   // the rule that made the link

	Export *Export // nil when nothing is pending for this object

	// Seen is the generation of the last full import that reported this
	// object; a full import deletes objects with an older generation.
	Seen     uint64
	Imported time.Time // when an import last changed it
	Error    string    // last sync error on this object, empty when none
}

// Export is an export pending on a connector-space object: what the
// outbound rules want the object to be. The concrete change is computed when
// exporting, as the difference between Attrs and the object's imported Attrs,
// so that an export retried after a partial failure sends only what is
// still missing.
type Export struct {
	Kind  connector.ChangeKind // Add, Update or Delete
	DN    string               // desired DN (Add, rename)
	Attrs connector.Attributes // desired values of the attributes the outbound rules manage; an empty slice means "no value"
	State ExportState
	// Attempts counts the failed export tries of this change; the engine
	// waits longer before each retry.
	Attempts  int
	LastError string
	// Updated is when sync last changed the export or an export last
	// recorded a result (a failure's time, from which the retry backoff
	// counts).
	Updated time.Time
}

// Clone returns a deep copy.
func (o *CSObject) Clone() *CSObject {
	if o == nil {
		return nil
	}
	c := *o
	c.Attrs = o.Attrs.Clone()
	c.Changed = slices.Clone(o.Changed)
	if o.Export != nil {
		x := *o.Export
		x.Attrs = o.Export.Attrs.Clone()
		c.Export = &x
	}
	return &c
}
