package idbridge

import (
	"context"
	"fmt"
	"slices"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// takeOver settles an accepted Add whose anchor another object of the
// connector space already holds: the import staged (or adopted) the object
// the Add created before its result was recorded, after a crash or a lost
// response. The object that carries the Add, linked to the entry that
// provisioned it, takes over the imported one: it gains its anchor, what
// the import saw and its import generation, and the imported object is
// removed, with its link when it had one; its export is settled against
// what the import saw. It returns a note for the run's
// warnings, or, when the holder is another entry's provisioned object (two
// entries would own one target object), an error that parks the Add.
func takeOver(ctx context.Context, tx metaverse.Tx, o *metaverse.CSObject, add *connector.Change, r connector.ExportResult) (note string, refusal error, err error) {
	anchor := r.Anchor
	other, err := tx.ObjectByAnchor(ctx, o.Connector, anchor)
	if isNotFound(err) {
		return "", nil, nil
	}
	if err != nil || other.ID == o.ID {
		return "", nil, err
	}
	if other.EntryID != "" && other.EntryID != o.EntryID && other.LinkType == metaverse.Provision {
		return "", connector.Permanent(fmt.Errorf("the target returned object <%s>, which object %s provisioned for metaverse entry %s: %w",
			anchor, other.ID, other.EntryID, connector.ErrAlreadyExists)), nil
	}
	note = fmt.Sprintf("the added object was in the connector space already, imported as object %s: merged into this one", other.ID)
	if other.EntryID != "" {
		entry, err := tx.Entry(ctx, other.EntryID)
		if err != nil && !isNotFound(err) {
			return "", nil, err
		}
		if entry != nil {
			entry.Links = slices.DeleteFunc(entry.Links, func(l metaverse.Link) bool {
				return l.Connector == other.Connector && l.ObjectID == other.ID
			})
			if err := tx.PutEntry(ctx, entry); err != nil {
				return "", nil, err
			}
		}
		if other.EntryID != o.EntryID {
			note += fmt.Sprintf("; its link to metaverse entry %s was removed", other.EntryID)
		}
	}
	if err := tx.DeleteObject(ctx, other.Connector, other.ID); err != nil {
		return "", nil, err
	}
	o.Seen = max(o.Seen, other.Seen)
	if other.Imported.After(o.Imported) {
		o.Imported = other.Imported
	}
	if other.Pending != metaverse.ImportNone && o.Pending == metaverse.ImportNone {
		o.Pending = metaverse.ImportUpdate // what the import saw is synced through this object
	}
	// The object is what the import saw: the export is confirmed when
	// that is what the Add wanted, and otherwise becomes the update that
	// sends the difference.
	o.Anchor, o.Attrs = anchor, other.Attrs
	o.DN = cmpOr(r.DN, cmpOr(other.DN, add.DN))
	if attrsMatch(o.Attrs, add.Attrs) {
		o.Export = nil
		return note, nil, nil
	}
	x := o.Export
	x.Kind, x.State, x.Attempts, x.LastError = connector.Update, metaverse.ExportPending, 0, ""
	return note, nil, nil
}
