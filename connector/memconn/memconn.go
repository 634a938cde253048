package memconn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/idbridge/idbridge/connector"
)

// System is an in-memory connected system: objects keyed by anchor, and a
// change log for delta imports. Its methods are safe for concurrent use;
// its exported fields are read by the connector under the system's lock
// but written by tests without it, so set them before the engine runs or
// use the fault-injection methods (FailCall, FailObject, Malform), which
// may be called at any time.
type System struct {
	mu      sync.Mutex
	schema  *connector.Schema
	objects map[connector.Anchor]*connector.Object
	byDN    map[string][]connector.Anchor // folded DN → anchors, so adds and reference lookups do not scan every object
	log     []logEntry                    // change log for delta imports
	nextID  int
	faults  faults

	// FailExport, when set, is called for every exported change; a non-nil
	// error fails that change (the others are applied).
	FailExport func(c connector.Change) error
	// ApplyThenFail, when set, is called for every exported change that
	// was applied; a non-nil error is returned as that change's result as
	// if the response had been lost (a timeout after the server applied
	// it).
	ApplyThenFail func(c connector.Change) error
	// naming is set by SelfNaming.
	naming map[string][]string
	// FailImportAfter, when > 0, fails a (full or delta) import with
	// connector.ErrUnavailable after that many objects, without a
	// checkpoint: a server that went away in the middle of an import.
	FailImportAfter int
	// ExportCalls counts Export calls (Calls(OpExport) too).
	ExportCalls int
	// Exported lists every change applied by Export, in order.
	Exported []connector.Change
}

type logEntry struct {
	anchor  connector.Anchor
	deleted bool
}

// New returns an empty system with the given schema.
func New(s *connector.Schema) *System {
	return &System{schema: s, objects: map[connector.Anchor]*connector.Object{}, byDN: map[string][]connector.Anchor{}}
}

// put stores o and indexes its DN; s.mu is held.
func (s *System) put(o *connector.Object) {
	if old, ok := s.objects[o.Anchor]; ok {
		s.unindex(old)
	}
	s.objects[o.Anchor] = o
	k := connector.FoldDN(o.DN)
	s.byDN[k] = append(s.byDN[k], o.Anchor)
}

// unindex removes o's DN from the index; s.mu is held.
func (s *System) unindex(o *connector.Object) {
	k := connector.FoldDN(o.DN)
	as := slices.DeleteFunc(s.byDN[k], func(a connector.Anchor) bool { return a == o.Anchor })
	if len(as) == 0 {
		delete(s.byDN, k)
	} else {
		s.byDN[k] = as
	}
}

// remove deletes the object with anchor a; s.mu is held.
func (s *System) remove(a connector.Anchor) {
	if o, ok := s.objects[a]; ok {
		s.unindex(o)
		delete(s.objects, a)
	}
}

// rename changes o's DN; s.mu is held.
func (s *System) rename(o *connector.Object, dn string) {
	s.unindex(o)
	o.DN = dn
	k := connector.FoldDN(dn)
	s.byDN[k] = append(s.byDN[k], o.Anchor)
}

// findDN returns an object with the given DN, or nil; s.mu is held.
func (s *System) findDN(dn string) *connector.Object {
	if as := s.byDN[connector.FoldDN(dn)]; len(as) > 0 {
		return s.objects[as[0]]
	}
	return nil
}

// Put adds or replaces an object (out of band, as an administrator would).
func (s *System) Put(o connector.Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := o
	c.Attrs = o.Attrs.Clone()
	s.put(&c)
	s.log = append(s.log, logEntry{anchor: o.Anchor})
}

// Modify applies modifications to an object out of band.
func (s *System) Modify(a connector.Anchor, mods ...connector.Mod) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[a]
	if !ok {
		return connector.ErrNoSuchObject
	}
	o.Attrs.Apply(mods)
	s.log = append(s.log, logEntry{anchor: a})
	return nil
}

// Rename changes an object's DN out of band.
func (s *System) Rename(a connector.Anchor, dn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[a]
	if !ok {
		return connector.ErrNoSuchObject
	}
	s.rename(o, dn)
	s.log = append(s.log, logEntry{anchor: a})
	return nil
}

// Delete removes an object out of band.
func (s *System) Delete(a connector.Anchor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[a]; ok {
		s.remove(a)
		s.log = append(s.log, logEntry{anchor: a, deleted: true})
	}
}

// Get returns a copy of an object.
func (s *System) Get(a connector.Anchor) (connector.Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[a]
	if !ok {
		return connector.Object{}, false
	}
	c := *o
	c.Attrs = o.Attrs.Clone()
	return c, true
}

// ByDN returns a copy of the object with the given DN.
func (s *System) ByDN(dn string) (connector.Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.findDN(dn); o != nil {
		c := *o
		c.Attrs = o.Attrs.Clone()
		return c, true
	}
	return connector.Object{}, false
}

// Len returns the number of objects.
func (s *System) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// All returns copies of all objects sorted by DN.
func (s *System) All() []connector.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]connector.Object, 0, len(s.objects))
	for _, a := range slices.Sorted(maps.Keys(s.objects)) {
		o := *s.objects[a]
		o.Attrs = o.Attrs.Clone()
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b connector.Object) int {
		return compare(connector.FoldDN(a.DN), connector.FoldDN(b.DN))
	})
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Connector returns a connector to the system.
func (s *System) Connector() *Connector { return &Connector{s: s} }

// Connector is the connector to a System. It implements connector.Connector,
// connector.DeltaImporter, connector.PasswordSetter and connector.AddMatcher
// (see System.SelfNaming).
type Connector struct {
	s *System
	// Passwords records passwords set (for tests: the fake keeps them).
	// SetPassword writes it under the system's lock; read it with Password
	// while the connector may be in use.
	Passwords map[connector.Anchor]connector.Secret
}

// Password returns the password last set for the object with anchor a.
func (c *Connector) Password(a connector.Anchor) (connector.Secret, bool) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	pw, ok := c.Passwords[a]
	return pw, ok
}

var (
	_ connector.Connector      = (*Connector)(nil)
	_ connector.DeltaImporter  = (*Connector)(nil)
	_ connector.PasswordSetter = (*Connector)(nil)
)

// Schema implements connector.Connector.
func (c *Connector) Schema(ctx context.Context) (*connector.Schema, error) { return c.s.schema, nil }

// Close implements connector.Connector.
func (c *Connector) Close() error { return nil }

func watermark(n int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// Import implements connector.Connector.
func (c *Connector) Import(ctx context.Context, sink connector.ImportSink) error {
	c.s.mu.Lock()
	if err := c.s.call(OpImport); err != nil {
		c.s.mu.Unlock()
		return err
	}
	changes := make([]connector.Change, 0, len(c.s.objects))
	for _, a := range slices.Sorted(maps.Keys(c.s.objects)) {
		o := c.s.objects[a]
		changes = append(changes, connector.Change{Kind: connector.Add, Anchor: o.Anchor, Type: o.Type, DN: o.DN, Attrs: o.Attrs.Clone()})
	}
	wm := watermark(len(c.s.log))
	fail, faults := c.s.FailImportAfter, c.s.objectFaults(OpImport)
	c.s.mu.Unlock()
	return report(ctx, sink, OpImport, changes, wm, fail, faults)
}

// DeltaImport implements connector.DeltaImporter.
func (c *Connector) DeltaImport(ctx context.Context, wm []byte, sink connector.ImportSink) error {
	c.s.mu.Lock()
	if err := c.s.call(OpDeltaImport); err != nil {
		c.s.mu.Unlock()
		return err
	}
	if len(wm) != 8 {
		c.s.mu.Unlock()
		return fmt.Errorf("memconn: bad watermark: %w", connector.ErrWatermarkExpired)
	}
	from := int(binary.BigEndian.Uint64(wm))
	if from > len(c.s.log) {
		c.s.mu.Unlock()
		return fmt.Errorf("memconn: watermark from the future: %w", connector.ErrWatermarkExpired)
	}
	var changes []connector.Change
	seen := map[connector.Anchor]bool{}
	for _, l := range c.s.log[from:] {
		if seen[l.anchor] {
			continue
		}
		seen[l.anchor] = true
		o, ok := c.s.objects[l.anchor]
		if !ok {
			changes = append(changes, connector.Change{Kind: connector.Delete, Anchor: l.anchor})
			continue
		}
		changes = append(changes, connector.Change{Kind: connector.Add, Anchor: o.Anchor, Type: o.Type, DN: o.DN, Attrs: o.Attrs.Clone()})
	}
	wmNew := watermark(len(c.s.log))
	fail, faults := c.s.FailImportAfter, c.s.objectFaults(OpDeltaImport)
	c.s.mu.Unlock()
	return report(ctx, sink, OpDeltaImport, changes, wmNew, fail, faults)
}

// report hands an import's changes to sink, an object with an injected
// fault as an object error, then the watermark; with failAfter > 0 it
// fails after that many changes.
func report(ctx context.Context, sink connector.ImportSink, op Op, changes []connector.Change, wm []byte, failAfter int, faults map[string]error) error {
	for i, ch := range changes {
		if failAfter > 0 && i >= failAfter {
			return fmt.Errorf("memconn: %s: %w", op, connector.ErrUnavailable)
		}
		var err error
		if f := objectFault(faults, ch.Anchor, ch.DN); f != nil && ch.Kind != connector.Delete {
			err = sink.Error(ctx, &connector.ObjectError{Anchor: ch.Anchor, DN: ch.DN, Op: string(op), Err: f})
		} else {
			err = sink.Object(ctx, ch)
		}
		if err != nil {
			return err
		}
	}
	return sink.Checkpoint(ctx, wm)
}

// Export implements connector.Connector.
func (c *Connector) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ExportCalls++
	if err := s.call(OpExport); err != nil {
		return nil, err
	}
	faults := s.faults.objects[OpExport]
	out := make([]connector.ExportResult, len(changes))
	for i, ch := range changes {
		if err := objectFault(faults, ch.Anchor, ch.DN); err != nil {
			out[i].Anchor = ch.Anchor
			out[i].Err = &connector.ObjectError{Anchor: ch.Anchor, DN: ch.DN, Op: ch.Kind.String(), Err: err}
			continue
		}
		if s.FailExport != nil {
			if err := s.FailExport(ch); err != nil {
				out[i].Err = &connector.ObjectError{Anchor: ch.Anchor, DN: ch.DN, Op: ch.Kind.String(), Err: err}
				continue
			}
		}
		a, err := s.apply(ch)
		out[i].Anchor = a
		if o := s.objects[a]; err == nil && s.naming != nil && ch.Kind == connector.Add && o != nil {
			out[i].DN = o.DN // the name the system chose
		}
		if err == nil {
			s.Exported = append(s.Exported, ch)
			if s.ApplyThenFail != nil {
				err = s.ApplyThenFail(ch)
			}
		}
		if err != nil {
			out[i] = connector.ExportResult{Err: &connector.ObjectError{Anchor: ch.Anchor, DN: ch.DN, Op: ch.Kind.String(), Err: err}}
		}
	}
	return out, nil
}

func (s *System) apply(ch connector.Change) (connector.Anchor, error) {
	switch ch.Kind {
	case connector.Add:
		if ch.DN != "" && s.naming == nil && s.findDN(ch.DN) != nil {
			return "", fmt.Errorf("%s: %w", ch.DN, connector.ErrAlreadyExists)
		}
		s.nextID++
		a := connector.Anchor("mem-" + strconv.Itoa(s.nextID))
		dn := ch.DN
		if s.naming != nil {
			dn = ch.Type + "s/" + string(a)
		}
		s.put(&connector.Object{Anchor: a, DN: dn, Type: ch.Type, Attrs: resolveRefs(s, ch.Attrs.Clone())})
		s.log = append(s.log, logEntry{anchor: a})
		return a, nil
	case connector.Update:
		o, ok := s.objects[ch.Anchor]
		if !ok {
			return ch.Anchor, fmt.Errorf("<%s>: %w", ch.Anchor, connector.ErrNoSuchObject)
		}
		mods := slices.Clone(ch.Mods)
		for i := range mods {
			mods[i].Values = resolveRefs(s, connector.Attributes{"x": mods[i].Values})["x"]
		}
		o.Attrs.Apply(mods)
		if ch.OldDN != "" {
			s.rename(o, ch.DN)
		}
		s.log = append(s.log, logEntry{anchor: ch.Anchor})
		return ch.Anchor, nil
	case connector.Delete:
		if _, ok := s.objects[ch.Anchor]; !ok {
			return ch.Anchor, fmt.Errorf("<%s>: %w", ch.Anchor, connector.ErrNoSuchObject)
		}
		s.remove(ch.Anchor)
		s.log = append(s.log, logEntry{anchor: ch.Anchor, deleted: true})
		return ch.Anchor, nil
	}
	return "", errors.New("memconn: unknown change kind")
}

// resolveRefs stores references with their anchor, as a directory would.
func resolveRefs(s *System, attrs connector.Attributes) connector.Attributes {
	for _, vs := range attrs {
		for i, v := range vs {
			if a, dn := v.Ref(); v.Type() == connector.Reference && a == "" && dn != "" {
				if o := s.findDN(dn); o != nil {
					vs[i] = connector.RefValue(o.Anchor, o.DN)
				}
			}
		}
	}
	return attrs
}

// SetPassword implements connector.PasswordSetter.
func (c *Connector) SetPassword(ctx context.Context, a connector.Anchor, dn string, pw connector.Secret) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if _, ok := c.s.objects[a]; !ok {
		return &connector.ObjectError{Anchor: a, DN: dn, Op: "set-password", Err: connector.ErrNoSuchObject}
	}
	if c.Passwords == nil {
		c.Passwords = map[connector.Anchor]connector.Secret{}
	}
	c.Passwords[a] = pw
	return nil
}
