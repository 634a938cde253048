//go:build unix

package crashtest

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// state is what a run leaves behind, in a form that does not depend on the
// IDs the engine assigned or the anchors the target assigned (they follow
// the order of work, which a crash changes): objects are named by source
// anchor or target DN, entries by their source object.
type state struct {
	Target  map[string]string // folded DN → the target object
	Entries map[string]string // entry key → the metaverse entry
	Objects map[string]string // object key → the connector-space object

	src        []connector.Object // the source directory
	srcWM      int                // the source's watermark in the store; -1 when none
	srcJournal int                // the source journal's length
	journal    []Record           // the target's journal
}

// capture reads the state of a run from its journals and store.
func capture(t *testing.T, b *backend, dir, loc string) *state {
	t.Helper()
	return captureNamed(t, b, dir, loc, nil)
}

// captureNamed is capture with the target's DNs renamed by names (folded
// DN → stable name): a target that names its objects itself (Graph's
// users/{id}) gives them other names in another run.
func captureNamed(t *testing.T, b *backend, dir, loc string, names map[string]string) *state {
	t.Helper()
	rename := func(c, dn string) string {
		f := connector.FoldDN(dn)
		if n, ok := names[f]; ok && c == "tgt" {
			return n
		}
		return f
	}
	ctx := context.Background()
	st := &state{Target: map[string]string{}, Entries: map[string]string{}, Objects: map[string]string{}, srcWM: -1}

	src, err := openSrc(dir)
	require.NoError(t, err)
	st.src, st.srcJournal = src.Objects(), src.Len()
	require.NoError(t, src.Close())
	tgt, err := openTgt(dir)
	require.NoError(t, err)
	for _, o := range tgt.Objects() {
		st.Target[connector.FoldDN(o.DN)] = o.Type + " " + attrsText(o.Attrs, func(v connector.Value) string {
			a, dn := v.Ref()
			if dn == "" {
				return "dangling:" + string(a)
			}
			return connector.FoldDN(dn)
		})
	}
	st.journal = tgt.Journal()
	require.NoError(t, tgt.Close())

	store, err := openStore(ctx, b.name, loc)
	require.NoError(t, err)
	defer store.Close()
	var entries []*metaverse.Entry
	objects := map[string][]*metaverse.CSObject{}
	require.NoError(t, store.View(ctx, func(tx metaverse.Tx) error {
		after := ""
		for {
			page, err := tx.Entries(ctx, after, 100)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			entries = append(entries, page...)
			after = page[len(page)-1].ID
		}
		for _, c := range []string{"src", "tgt"} {
			after := ""
			for {
				page, err := tx.Objects(ctx, c, after, 100)
				if err != nil {
					return err
				}
				if len(page) == 0 {
					break
				}
				objects[c] = append(objects[c], page...)
				after = page[len(page)-1].ID
			}
		}
		wm, err := tx.Watermark(ctx, "src")
		if err != nil {
			return err
		}
		if len(wm) == 8 {
			st.srcWM = int(binary.BigEndian.Uint64(wm))
		}
		return nil
	}))

	// Names that survive a crash.
	byID := map[string]string{}                // connector/object ID → object key
	byAnchor := map[string]map[string]string{} // connector → anchor → object key
	key := func(o *metaverse.CSObject) string {
		if o.Connector == "src" {
			return "src:" + string(o.Anchor)
		}
		return o.Connector + ":" + rename(o.Connector, o.DN)
	}
	for c, objs := range objects {
		byAnchor[c] = map[string]string{}
		for _, o := range objs {
			byID[c+"/"+o.ID] = key(o)
			if o.Anchor != "" {
				byAnchor[c][string(o.Anchor)] = key(o)
			}
		}
	}
	entryKey := map[string]string{}
	for _, e := range entries {
		k := "entry:" + e.ID
		for _, l := range e.Links {
			if l.Inbound {
				k = byID[l.Connector+"/"+l.ObjectID]
				break
			}
		}
		entryKey[e.ID] = k
	}
	named := func(m map[string]string, k, prefix string) string {
		if v, ok := m[k]; ok {
			return v
		}
		return prefix + k
	}
	for _, e := range entries {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", e.Type, attrsText(e.Attrs, func(v connector.Value) string {
			a, _ := v.Ref()
			return named(entryKey, string(a), "entry:")
		}))
		srcs := slices.Sorted(maps.Keys(e.Sources))
		for _, s := range srcs {
			fmt.Fprintf(&b, " source(%s)=%s/%s", s, e.Sources[s].Connector, e.Sources[s].Rule)
		}
		var links []string
		for _, l := range e.Links {
			links = append(links, fmt.Sprintf("%s %s %q inbound=%v", named(byID, l.Connector+"/"+l.ObjectID, "id:"), l.Type, l.Rule, l.Inbound))
		}
		sort.Strings(links)
		fmt.Fprintf(&b, " links=%q", links)
		k := entryKey[e.ID]
		if _, dup := st.Entries[k]; dup {
			k += " (again) " + e.ID
		}
		st.Entries[k] = b.String()
	}
	for c, objs := range objects {
		for _, o := range objs {
			var b strings.Builder
			fmt.Fprintf(&b, "%s dn=%q pending=%s changed=%q entry=%s link=%s rule=%q error=%q %s",
				o.Type, rename(c, o.DN), o.Pending, o.Changed, named(entryKey, o.EntryID, "entry:"), o.LinkType, o.Rule, o.Error,
				attrsText(o.Attrs, func(v connector.Value) string {
					// A reference by DN (imported when its object did not
					// exist yet) names the same object as one by anchor.
					a, dn := v.Ref()
					if a == "" {
						return c + ":" + rename(c, dn)
					}
					return named(byAnchor[c], string(a), "anchor:")
				}))
			if x := o.Export; x != nil {
				fmt.Fprintf(&b, " export=%s/%s dn=%q %s", x.Kind, x.State, rename(c, x.DN), attrsText(x.Attrs, func(v connector.Value) string {
					a, _ := v.Ref()
					return named(byID, c+"/"+string(a), "id:")
				}))
			}
			k := key(o)
			if _, dup := st.Objects[k]; dup {
				k += " (again) " + o.ID
			}
			st.Objects[k] = b.String()
		}
	}
	return st
}

// attrsText renders attributes sorted, references through ref.
func attrsText(attrs connector.Attributes, ref func(connector.Value) string) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		var vs []string
		for _, v := range attrs[name] {
			if v.Type() == connector.Reference {
				vs = append(vs, ref(v))
			} else {
				vs = append(vs, fmt.Sprintf("%q", v.String()))
			}
		}
		sort.Strings(vs)
		parts = append(parts, name+"=["+strings.Join(vs, ",")+"]")
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// journalCounts counts the exported changes a target journal applied:
// adds and deletes by DN, updates that changed nothing, refused changes.
type journalCounts struct {
	Adds    map[string]int
	Deletes map[string]int
	Updates int
	Noops   []string
	Refused []string
}

func countJournal(j []Record) journalCounts {
	n := journalCounts{Adds: map[string]int{}, Deletes: map[string]int{}}
	for i, r := range j {
		if r.By != "export" {
			continue
		}
		switch r.Op {
		case "add":
			n.Adds[connector.FoldDN(r.DN)]++
		case "delete":
			n.Deletes[connector.FoldDN(r.DN)]++
		case "update":
			n.Updates++
			if r.Noop {
				n.Noops = append(n.Noops, fmt.Sprintf("record %d: update of %s: %q", i+1, r.DN, r.Mods))
			}
		case "refused":
			n.Refused = append(n.Refused, fmt.Sprintf("record %d: %s", i+1, r.Err))
		}
	}
	return n
}

// checkState compares the state after a crash and restart with the clean
// run's.
func checkState(t *testing.T, want, got *state) {
	t.Helper()
	// The target holds what a clean run gives it, and received every add
	// and delete exactly once and no update twice.
	sameMap(t, "target directory", want.Target, got.Target)
	wj, gj := countJournal(want.journal), countJournal(got.journal)
	for dn, n := range gj.Adds {
		assert.Equal(t, 1, n, "adds of %s in the target", dn)
	}
	assert.Equal(t, wj.Adds, gj.Adds, "adds applied by the target")
	assert.Equal(t, wj.Deletes, gj.Deletes, "deletes applied by the target")
	assert.Empty(t, gj.Noops, "updates sent again")
	assert.Empty(t, gj.Refused, "changes the target refused")
	if gj.Updates != wj.Updates {
		t.Logf("the target applied %d updates (clean run: %d)", gj.Updates, wj.Updates)
	}
	// The metaverse and connector spaces are those of a clean run.
	sameMap(t, "metaverse", want.Entries, got.Entries)
	sameMap(t, "connector spaces", want.Objects, got.Objects)
	// No watermark skipped anything: the source's connector space holds
	// every source object as it is, and the watermark is at the end.
	assert.Equal(t, got.srcJournal, got.srcWM, "source watermark")
	for _, o := range got.src {
		cs, ok := got.Objects["src:"+string(o.Anchor)]
		if assert.True(t, ok, "source object %s is in the connector space", o.Anchor) {
			assert.Contains(t, cs, fmt.Sprintf("dn=%q pending=none", connector.FoldDN(o.DN)), "source object %s", o.Anchor)
			assert.Contains(t, cs, attrsText(o.Attrs, func(v connector.Value) string {
				a, _ := v.Ref()
				return "src:" + string(a)
			}), "source object %s", o.Anchor)
		}
	}
	n := 0
	for k := range got.Objects {
		if strings.HasPrefix(k, "src:") {
			n++
		}
	}
	assert.Equal(t, len(got.src), n, "objects in the source's connector space")
}

// journalPath returns a journal file of a work directory.
func journalPath(dir, name string) string { return filepath.Join(dir, name+".journal") }

// sameMap compares two maps and reports the first few differences only
// (the whole maps are too long to read).
func sameMap(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		switch g, ok := got[k]; {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("missing %s:\n\twant %s", k, want[k]))
		case g != want[k]:
			diffs = append(diffs, fmt.Sprintf("%s differs:\n\twant %s\n\tgot  %s", k, want[k], g))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected %s:\n\tgot %s", k, got[k]))
		}
	}
	if len(diffs) == 0 {
		return
	}
	more := ""
	if len(diffs) > 3 {
		more = fmt.Sprintf("\n(and %d more)", len(diffs)-3)
		diffs = diffs[:3]
	}
	t.Errorf("%s: %d differences from the clean run:\n%s%s", what, len(diffs), strings.Join(diffs, "\n"), more)
}
