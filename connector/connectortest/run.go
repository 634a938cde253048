package connectortest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
)

// missingAnchor is an anchor no backend holds, in the GUID form most use.
const missingAnchor connector.Anchor = "0c0ffee0-0000-4000-8000-00000000dead"

// Run runs the conformance suite against the connector h gives, in
// subtests grouped by capability: Schema, FullImport, DeltaImport,
// ExportRoundTrip, ErrorMapping and Watch. A group whose capability the
// connector (or the harness) lacks is skipped, saying why.
func Run(t *testing.T, h Harness) {
	t.Helper()
	s := &suite{h: h, opts: optionsOf(h)}
	t.Run("Schema", s.testSchema)
	t.Run("FullImport", s.testFullImport)
	t.Run("MalformedRecord", s.testMalformed)
	t.Run("DeltaImport", s.testDeltaImport)
	t.Run("ExportRoundTrip", s.testExportRoundTrip)
	t.Run("ErrorMapping", s.testErrorMapping)
	t.Run("Watch", s.testWatch)
}

type suite struct {
	h    Harness
	opts Options
}

// env is one test group's connector over a freshly seeded backend.
type env struct {
	c      connector.Connector
	schema *connector.Schema
	seeded []connector.Object
}

func (s *suite) setup(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	seeded, err := s.h.Seed(ctx)
	require.NoError(t, err, "Harness.Seed")
	c, err := s.h.Connector(ctx)
	require.NoError(t, err, "Harness.Connector")
	require.NotNil(t, c, "Harness.Connector")
	t.Cleanup(func() { assert.NoError(t, c.Close(), "Connector.Close") })
	schema, err := c.Schema(ctx)
	require.NoError(t, err, "Connector.Schema")
	require.NotNil(t, schema, "Connector.Schema")
	return &env{c: c, schema: schema, seeded: seeded}
}

// fullImport runs a full import and checks what every full import must
// satisfy: only Adds, each conforming to the schema, anchors unique and
// non-empty, a checkpoint last. It returns the imported state.
func (s *suite) fullImport(t *testing.T, e *env) (*state, *Recorder) {
	t.Helper()
	rec := &Recorder{}
	require.NoError(t, e.c.Import(t.Context(), rec), "Import")
	require.NotEmpty(t, rec.Events, "Import reported nothing, not even a checkpoint")
	assert.Equal(t, "checkpoint", rec.Events[len(rec.Events)-1], "Import must call Checkpoint last")
	st := newState()
	for _, c := range rec.Changes {
		assert.Equal(t, connector.Add, c.Kind, "a full import reports Adds only: %s", c.DN)
		if probs := checkConforms(e.schema, c.Object()); len(probs) > 0 {
			assert.Fail(t, "imported object does not conform to the schema", "%s <%s>: %s", c.DN, c.Anchor, strings.Join(probs, "; "))
		}
		if _, dup := st.objs[c.Anchor]; dup && c.Anchor != "" {
			assert.Fail(t, "anchor imported twice", "<%s>: %s", c.Anchor, c.DN)
		} else if a, dup := st.dns[connector.FoldDN(c.DN)]; dup && c.DN != "" {
			assert.Fail(t, "DN imported twice", "%s: <%s> and <%s>", c.DN, a, c.Anchor)
		}
		st.apply(c)
	}
	for _, oe := range rec.Errors {
		t.Logf("import reported an object error: %v", oe)
	}
	return st, rec
}

// seededAsImported returns the imported counterpart of each seeded object,
// checking that each appears exactly once with the seeded values. The
// result is sorted by DN so that the suite picks its targets
// deterministically.
func (s *suite) seededAsImported(t *testing.T, e *env, st *state) []connector.Object {
	t.Helper()
	var out []connector.Object
	for _, want := range e.seeded {
		got, ok := st.find(want)
		if !assert.True(t, ok, "seeded object not imported: %s <%s>", want.DN, want.Anchor) {
			continue
		}
		assert.Equal(t, connector.FoldDN(want.DN), connector.FoldDN(got.DN), "DN of <%s>", got.Anchor)
		assert.Equal(t, want.Type, got.Type, "type of %s", want.DN)
		st.assertAttrs(t, want, got)
		out = append(out, *got)
	}
	slices.SortFunc(out, func(a, b connector.Object) int {
		return strings.Compare(connector.FoldDN(a.DN), connector.FoldDN(b.DN))
	})
	return out
}

func (s *suite) testSchema(t *testing.T) {
	e := s.setup(t)
	require.NoError(t, e.schema.Validate())
	assert.NotEmpty(t, e.schema.Types, "the schema declares no object type")
	for _, typ := range e.schema.Types {
		if typ.Anchor != "" {
			a, ok := typ.Attr(typ.Anchor)
			if assert.True(t, ok, "type %q: anchor attribute %q not declared", typ.Name, typ.Anchor) {
				assert.False(t, a.Multi, "type %q: anchor attribute %q is multi-valued", typ.Name, typ.Anchor)
			}
		}
	}
	for _, o := range e.seeded {
		typ, ok := e.schema.Type(o.Type)
		if !assert.True(t, ok, "seeded object %s has type %q, not in the schema", o.DN, o.Type) {
			continue
		}
		for name := range o.Attrs {
			_, ok := typ.Attr(name)
			assert.True(t, ok, "seeded object %s has attribute %q, not in schema type %q", o.DN, name, o.Type)
		}
	}
}

func (s *suite) testFullImport(t *testing.T) {
	e := s.setup(t)
	st, _ := s.fullImport(t, e)
	objs := s.seededAsImported(t, e, st)
	assert.Len(t, objs, len(e.seeded))

	t.Run("AnchorsStable", func(t *testing.T) {
		again, _ := s.fullImport(t, e)
		assert.Equal(t, len(st.objs), len(again.objs), "a second import reports as many objects")
		for a, o := range st.objs {
			got, ok := again.objs[a]
			if assert.True(t, ok, "anchor <%s> (%s) not reported by a second import", a, o.DN) {
				assert.Equal(t, connector.FoldDN(o.DN), connector.FoldDN(got.DN))
			}
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := e.c.Import(ctx, &Recorder{})
		assert.Error(t, err, "Import with a cancelled context must fail")
	})
}

// target is an object the suite changes, with the change planned for it.
type target struct {
	obj   connector.Object
	attr  string // ModifyAttribute for this object
	value connector.Value
	newDN string
}

// plan picks distinct seeded objects to modify, rename and delete (any may
// be nil when there are too few).
func (s *suite) plan(e *env, objs []connector.Object, tag string) (mod, ren, del *target) {
	used := map[connector.Anchor]bool{}
	pick := func(needAttr bool) *target {
		for _, o := range objs {
			if used[o.Anchor] {
				continue
			}
			attr := s.modifyAttribute(e.schema, o)
			if needAttr && attr == "" {
				continue
			}
			used[o.Anchor] = true
			return &target{obj: o, attr: attr}
		}
		return nil
	}
	if mod = pick(true); mod != nil {
		mod.value = connector.StringValue("connectortest " + tag)
	}
	if !s.opts.NoRename {
		if ren = pick(false); ren != nil {
			ren.newDN = renamed(ren.obj.DN, "-"+tag)
		}
	}
	del = pick(false)
	return mod, ren, del
}

// modifyAttribute returns the attribute the suite modifies on o, or "".
func (s *suite) modifyAttribute(schema *connector.Schema, o connector.Object) string {
	typ, ok := schema.Type(o.Type)
	if !ok {
		return ""
	}
	if s.opts.ModifyAttribute != "" {
		if _, ok := typ.Attr(s.opts.ModifyAttribute); ok {
			return s.opts.ModifyAttribute
		}
		return ""
	}
	naming := rdnAttr(o.DN)
	eligible := func(a *connector.Attribute) bool {
		return a.Type == connector.String && !a.Multi && !a.ReadOnly && a.Name != typ.Anchor && !strings.EqualFold(a.Name, naming)
	}
	// Free-text attributes first: they take any value in most backends.
	for _, name := range []string{"description", "displayName", "title", "info", "department"} {
		if a, ok := typ.Attr(name); ok && eligible(a) {
			return a.Name
		}
	}
	for i := range typ.Attributes {
		if a := &typ.Attributes[i]; eligible(a) {
			return a.Name
		}
	}
	return ""
}

func (t *target) modChange() connector.Change {
	return connector.Change{Kind: connector.Update, Anchor: t.obj.Anchor, Type: t.obj.Type, DN: t.obj.DN,
		Mods: []connector.Mod{{Name: t.attr, Op: connector.ModReplace, Values: []connector.Value{t.value}}}}
}

func (t *target) renameChange() connector.Change {
	return connector.Change{Kind: connector.Update, Anchor: t.obj.Anchor, Type: t.obj.Type, DN: t.newDN, OldDN: t.obj.DN}
}

func (t *target) deleteChange() connector.Change {
	return connector.Change{Kind: connector.Delete, Anchor: t.obj.Anchor, Type: t.obj.Type, DN: t.obj.DN}
}

func addChange(o connector.Object) connector.Change {
	return connector.Change{Kind: connector.Add, Type: o.Type, DN: o.DN, Attrs: o.Attrs.Clone()}
}

// missingChange is an update of an object that does not exist, next to o.
func missingChange(o connector.Object, attr string, kind connector.ChangeKind) connector.Change {
	c := connector.Change{Kind: kind, Anchor: missingAnchor, Type: o.Type, DN: sibling(o.DN, "connectortest-missing")}
	if kind == connector.Update && attr != "" {
		c.Mods = []connector.Mod{{Name: attr, Op: connector.ModReplace, Values: []connector.Value{connector.StringValue("x")}}}
	}
	return c
}

func (s *suite) testDeltaImport(t *testing.T) {
	e := s.setup(t)
	di, ok := e.c.(connector.DeltaImporter)
	if !ok {
		t.Skip("the connector does not implement connector.DeltaImporter")
	}
	ctx := t.Context()
	st, rec := s.fullImport(t, e)
	objs := s.seededAsImported(t, e, st)
	wm := rec.Watermark()
	require.NotNil(t, wm, "a DeltaImporter's full import must checkpoint a watermark")

	delta := func(t *testing.T, from []byte) *Recorder {
		t.Helper()
		d := &Recorder{}
		require.NoError(t, di.DeltaImport(ctx, from, d), "DeltaImport")
		require.NotEmpty(t, d.Events, "DeltaImport reported nothing, not even a checkpoint")
		assert.Equal(t, "checkpoint", d.Events[len(d.Events)-1], "DeltaImport must call Checkpoint last")
		for _, c := range d.Changes {
			assert.NotEmpty(t, c.Anchor, "delta change without anchor: %s %s", c.Kind, c.DN)
			if c.Kind == connector.Add {
				if probs := checkConforms(e.schema, c.Object()); len(probs) > 0 {
					assert.Fail(t, "imported object does not conform to the schema", "%s: %s", c.DN, strings.Join(probs, "; "))
				}
			}
		}
		return d
	}

	d := delta(t, wm)
	assert.Empty(t, d.Changes, "a delta import with nothing changed reports nothing")
	wm = d.Watermark()

	m, ok := s.h.(Mutator)
	if !ok {
		t.Log("the harness does not implement Mutator: out-of-band changes not tested")
		return
	}
	mod, ren, del := s.plan(e, objs, "delta")
	want := map[connector.Anchor]string{} // anchor → what was done
	var added connector.Object
	if mk, ok := s.h.(ObjectMaker); ok {
		added = mk.NewObject(1)
		a, err := m.Mutate(ctx, addChange(added))
		require.NoError(t, err, "Mutate add %s", added.DN)
		added.Anchor = a
	}
	if mod != nil {
		_, err := m.Mutate(ctx, mod.modChange())
		require.NoError(t, err, "Mutate modify %s", mod.obj.DN)
		want[mod.obj.Anchor] = "modify"
	}
	if ren != nil {
		_, err := m.Mutate(ctx, ren.renameChange())
		require.NoError(t, err, "Mutate rename %s", ren.obj.DN)
		want[ren.obj.Anchor] = "rename"
	}
	if del != nil {
		_, err := m.Mutate(ctx, del.deleteChange())
		require.NoError(t, err, "Mutate delete %s", del.obj.DN)
		want[del.obj.Anchor] = "delete"
	}

	d = delta(t, wm)
	after := newState()
	for a, o := range st.objs {
		c := *o
		c.Attrs = o.Attrs.Clone()
		after.objs[a] = &c
		after.dns[connector.FoldDN(o.DN)] = a
	}
	touched := map[connector.Anchor]bool{}
	for _, c := range d.Changes {
		touched[c.Anchor] = true
		after.apply(c)
	}
	if added.DN != "" {
		got, ok := after.find(added)
		if assert.True(t, ok, "delta does not report the added object %s", added.DN) {
			after.assertAttrs(t, added, got)
			want[got.Anchor] = "add"
		}
	}
	if mod != nil {
		if got, ok := after.objs[mod.obj.Anchor]; assert.True(t, ok, "modified object %s gone", mod.obj.DN) {
			assert.Equal(t, []connector.Value{mod.value}, got.Attrs[mod.attr], "delta of a modification of %s %s", mod.obj.DN, mod.attr)
		}
	}
	if ren != nil {
		if got, ok := after.objs[ren.obj.Anchor]; assert.True(t, ok, "renamed object <%s> lost its anchor", ren.obj.Anchor) {
			assert.Equal(t, connector.FoldDN(ren.newDN), connector.FoldDN(got.DN), "delta of a rename keeps the anchor and gives the new DN")
		}
	}
	if del != nil {
		_, ok := after.objs[del.obj.Anchor]
		assert.False(t, ok, "delta does not report the delete of %s", del.obj.DN)
	}
	for a := range touched {
		if _, ok := want[a]; !ok {
			o := st.objs[a]
			dn := ""
			if o != nil {
				dn = o.DN
			}
			assert.Fail(t, "delta reports an object that did not change", "<%s> %s", a, dn)
		}
	}
	for a, what := range want {
		assert.True(t, touched[a], "delta does not report the %s of <%s>", what, a)
	}

	d = delta(t, d.Watermark())
	assert.Empty(t, d.Changes, "a delta from the last watermark reports nothing new")
}

func (s *suite) testExportRoundTrip(t *testing.T) {
	if !s.opts.Writable {
		t.Skip("the harness does not declare the connector writable (Options.Writable)")
	}
	e := s.setup(t)
	ctx := t.Context()
	st, _ := s.fullImport(t, e)
	objs := s.seededAsImported(t, e, st)
	require.NotEmpty(t, objs, "ExportRoundTrip needs seeded objects")
	mod, ren, del := s.plan(e, objs, "export")

	var batch []connector.Change
	bad := -1
	var news []connector.Object
	if mk, ok := s.h.(ObjectMaker); ok {
		news = []connector.Object{mk.NewObject(11), mk.NewObject(12)}
		batch = append(batch, addChange(news[0]))
	}
	if mod != nil {
		batch = append(batch, mod.modChange())
	}
	if ren != nil {
		batch = append(batch, ren.renameChange())
	}
	bad = len(batch)
	batch = append(batch, missingChange(objs[0], s.modifyAttribute(e.schema, objs[0]), connector.Update))
	if del != nil {
		batch = append(batch, del.deleteChange())
	}
	if len(news) > 0 {
		batch = append(batch, addChange(news[1]))
	}

	res, err := e.c.Export(ctx, batch)
	require.NoError(t, err, "Export")
	require.Len(t, res, len(batch), "Export returns one result per change")
	anchors := map[string]connector.Anchor{} // DN of an added object → anchor
	for i, r := range res {
		c := batch[i]
		if i == bad {
			assert.ErrorIs(t, r.Err, connector.ErrNoSuchObject, "update of a missing object, among good changes")
			var oe *connector.ObjectError
			assert.ErrorAs(t, r.Err, &oe, "export errors are *connector.ObjectError")
			continue
		}
		if !assert.NoError(t, r.Err, "result %d (%s %s)", i, c.Kind, c.DN) {
			continue
		}
		if c.Kind == connector.Add {
			assert.NotEmpty(t, r.Anchor, "result %d: an Add's result carries the new anchor", i)
			anchors[c.DN] = r.Anchor
		} else {
			assert.Equal(t, c.Anchor, r.Anchor, "result %d (%s %s): results are in the order of the changes", i, c.Kind, c.DN)
		}
	}

	// The anchor an Add returned addresses the object.
	var modNew *target
	if len(news) > 0 && anchors[news[0].DN] != "" {
		o := news[0]
		o.Anchor = anchors[o.DN]
		if attr := s.modifyAttribute(e.schema, o); attr != "" {
			modNew = &target{obj: o, attr: attr, value: connector.StringValue("connectortest export new")}
			res, err := e.c.Export(ctx, []connector.Change{modNew.modChange()})
			require.NoError(t, err, "Export")
			require.Len(t, res, 1)
			assert.NoError(t, res[0].Err, "update of an added object by the anchor its Add returned")
		}
	}

	after, _ := s.fullImport(t, e)
	for _, o := range news {
		o.Anchor = anchors[o.DN]
		got, ok := after.find(o)
		if !assert.True(t, ok, "exported Add %s not imported", o.DN) {
			continue
		}
		if modNew != nil && o.DN == modNew.obj.DN {
			o.Attrs = o.Attrs.Clone()
			o.Attrs.Set(modNew.attr, modNew.value)
		}
		after.assertAttrs(t, o, got)
	}
	if mod != nil {
		if got, ok := after.objs[mod.obj.Anchor]; assert.True(t, ok, "modified object %s not imported", mod.obj.DN) {
			assert.Equal(t, []connector.Value{mod.value}, got.Attrs[mod.attr], "exported modification of %s %s", mod.obj.DN, mod.attr)
		}
	}
	if ren != nil {
		if got, ok := after.objs[ren.obj.Anchor]; assert.True(t, ok, "renamed object <%s> lost its anchor", ren.obj.Anchor) {
			assert.Equal(t, connector.FoldDN(ren.newDN), connector.FoldDN(got.DN), "an exported rename keeps the anchor")
		}
	}
	if del != nil {
		_, ok := after.objs[del.obj.Anchor]
		assert.False(t, ok, "exported delete of %s: still imported", del.obj.DN)
	}
	wantN := len(st.objs) + len(anchors)
	if del != nil {
		wantN--
	}
	assert.Equal(t, wantN, len(after.objs), "objects after the export")
}

func (s *suite) testErrorMapping(t *testing.T) {
	bc, hasBad := s.h.(BadChanger)
	if !s.opts.Writable && !hasBad {
		t.Skip("the connector is not writable and the harness has no BadChanges")
	}
	e := s.setup(t)
	st, _ := s.fullImport(t, e)
	objs := s.seededAsImported(t, e, st)
	var cases []BadChange
	if s.opts.Writable && len(objs) > 0 {
		o := objs[0]
		attr := s.modifyAttribute(e.schema, o)
		typ, _ := e.schema.Type(o.Type)
		dup := connector.Change{Kind: connector.Add, Type: o.Type, DN: o.DN, Attrs: connector.Attributes{}}
		for name, vs := range o.Attrs {
			if a, ok := typ.Attr(name); ok && !a.ReadOnly && name != typ.Anchor {
				dup.Attrs[name] = vs
			}
		}
		cases = append(cases,
			BadChange{Name: "UpdateMissing", Change: missingChange(o, attr, connector.Update), Want: connector.ErrNoSuchObject},
			BadChange{Name: "DeleteMissing", Change: missingChange(o, attr, connector.Delete), Want: connector.ErrNoSuchObject},
			BadChange{Name: "AddExistingDN", Change: dup, Want: connector.ErrAlreadyExists},
		)
	}
	if hasBad {
		cases = append(cases, bc.BadChanges(objs)...)
	}
	for i, bad := range cases {
		name := bad.Name
		if name == "" {
			name = fmt.Sprintf("Case%d", i)
		}
		t.Run(name, func(t *testing.T) {
			res, err := e.c.Export(t.Context(), []connector.Change{bad.Change})
			require.NoError(t, err, "a refused change is reported in its result, not as Export's error")
			require.Len(t, res, 1)
			require.Error(t, res[0].Err, "%s %s must be refused", bad.Change.Kind, bad.Change.DN)
			assert.ErrorIs(t, res[0].Err, bad.Want)
			var oe *connector.ObjectError
			assert.ErrorAs(t, res[0].Err, &oe, "export errors are *connector.ObjectError")
		})
	}
}

func (s *suite) testWatch(t *testing.T) {
	e := s.setup(t)
	w, ok := e.c.(connector.Watcher)
	if !ok {
		t.Skip("the connector does not implement connector.Watcher")
	}
	m, ok := s.h.(Mutator)
	if !ok {
		t.Skip("the harness does not implement Mutator: it cannot make a change to watch")
	}
	st, _ := s.fullImport(t, e)
	objs := s.seededAsImported(t, e, st)
	mod, _, _ := s.plan(e, objs, "watch")
	require.NotNil(t, mod, "Watch needs a seeded object with a modifiable attribute")

	ctx, cancel := context.WithCancel(t.Context())
	notified := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- w.Watch(ctx, func() {
			select {
			case notified <- struct{}{}:
			default:
			}
		})
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				assert.NoError(t, err, "Watch returned after its context was cancelled")
			}
		case <-time.After(s.opts.Timeout):
			assert.Fail(t, "Watch did not return within the timeout after its context was cancelled")
		}
	}
	defer stop()

	// The watch may take a moment to start: change the object again every
	// tenth of the timeout until a notification arrives.
	deadline := time.After(s.opts.Timeout)
	tick := time.NewTicker(s.opts.Timeout / 10)
	defer tick.Stop()
	for n := 1; ; n++ {
		mod.value = connector.StringValue(fmt.Sprintf("connectortest watch %d", n))
		_, err := m.Mutate(ctx, mod.modChange())
		require.NoError(t, err, "Mutate")
		select {
		case <-notified:
			stop()
			return
		case err := <-done:
			stopped = true
			require.Failf(t, "Watch returned before its context was cancelled", "err: %v", err)
		case <-deadline:
			require.Fail(t, "no Watch notification within the timeout after an out-of-band change")
		case <-tick.C:
		}
	}
}
