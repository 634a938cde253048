package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/idbridge/idbridge/connector"
)

// Record is one line of a Dir's journal: a change applied to the directory
// (by an administrator or by an export), or an exported change it refused.
type Record struct {
	Op     string           `json:"op"` // "add", "update", "delete" or "refused"
	By     string           `json:"by"` // "admin" or "export"
	Anchor string           `json:"anchor,omitempty"`
	Type   string           `json:"type,omitempty"`
	DN     string           `json:"dn,omitempty"`
	OldDN  string           `json:"oldDN,omitempty"`
	Attrs  map[string][]val `json:"attrs,omitempty"` // add, update: the whole object after the change
	// Noop marks an update that changed nothing: a change sent again.
	Noop bool `json:"noop,omitempty"`
	// Mods are an exported update's modifications, for diagnosis.
	Mods []string `json:"mods,omitempty"`
	// Err is why a change was refused.
	Err string `json:"err,omitempty"`
}

// val is a Value in the journal: a string, or a reference by anchor (or by
// DN when it named no object when it was written).
type val struct {
	S string `json:"s,omitempty"`
	A string `json:"a,omitempty"`
	D string `json:"d,omitempty"`
	R bool   `json:"r,omitempty"`
}

// Dir is a directory whose state is the replay of an append-only journal
// file, fsynced after every change. It implements connector.Connector and
// connector.DeltaImporter (the watermark is a journal position), and gives
// new objects anchors of the form prefix + counter.
type Dir struct {
	name   string
	prefix string
	schema *connector.Schema

	// CheckpointEvery makes a delta import checkpoint after every n
	// journal records (0: only at the end).
	CheckpointEvery int
	// Hook, when set, is called with name + "." + event at the points where
	// a crash test may kill the process: "import.object" after the sink
	// took an object, "import.checkpoint" after a checkpoint,
	// "export.applied" after an exported change is in the journal and
	// before Export returns its result.
	Hook func(event string)

	mu      sync.Mutex
	f       *os.File
	log     []Record
	objects map[connector.Anchor]*connector.Object // references hold anchors only, or DNs only when unresolved
	next    int
}

var (
	_ connector.Connector     = (*Dir)(nil)
	_ connector.DeltaImporter = (*Dir)(nil)
)

// OpenDir opens (creating it when missing) the directory journaled in path.
// A last line cut short by a crash is dropped, as it was never fsynced.
func OpenDir(path, name, anchorPrefix string, schema *connector.Schema) (*Dir, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	d := &Dir{name: name, prefix: anchorPrefix, schema: schema, f: f, objects: map[connector.Anchor]*connector.Object{}}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	good := 0
	for len(data[good:]) > 0 {
		i := bytes.IndexByte(data[good:], '\n')
		if i < 0 {
			break
		}
		var r Record
		if err := json.Unmarshal(data[good:good+i], &r); err != nil {
			f.Close()
			return nil, fmt.Errorf("crashtest: %s: record %d: %w", path, len(d.log)+1, err)
		}
		d.replay(r)
		good += i + 1
	}
	if good < len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return nil, err
		}
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// replay applies a journal record to the in-memory state.
func (d *Dir) replay(r Record) {
	d.log = append(d.log, r)
	a := connector.Anchor(r.Anchor)
	switch r.Op {
	case "add", "update":
		d.objects[a] = &connector.Object{Anchor: a, DN: r.DN, Type: r.Type, Attrs: decodeAttrs(r.Attrs)}
		if n, ok := d.counter(a); ok && n > d.next {
			d.next = n
		}
	case "delete":
		delete(d.objects, a)
	}
}

func (d *Dir) counter(a connector.Anchor) (int, bool) {
	s, ok := bytes.CutPrefix([]byte(a), []byte(d.prefix))
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(s))
	return n, err == nil
}

// append writes a record to the journal, fsyncs it and applies it.
func (d *Dir) append(r Record) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := d.f.Write(append(line, '\n')); err != nil {
		return err
	}
	if err := d.f.Sync(); err != nil {
		return err
	}
	d.replay(r)
	return nil
}

// Close implements connector.Connector.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f.Close()
}

// Schema implements connector.Connector.
func (d *Dir) Schema(context.Context) (*connector.Schema, error) { return d.schema, nil }

// Journal returns a copy of the journal.
func (d *Dir) Journal() []Record {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.log)
}

// Len returns the journal's length: the watermark that covers everything.
func (d *Dir) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.log)
}

// Objects returns the objects sorted by anchor, references with their
// targets' current DNs.
func (d *Dir) Objects() []connector.Object {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]connector.Object, 0, len(d.objects))
	for _, a := range slices.Sorted(maps.Keys(d.objects)) {
		out = append(out, d.read(d.objects[a]))
	}
	return out
}

// Put adds or replaces an object, as an administrator would.
func (d *Dir) Put(o connector.Object) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	op := "add"
	if _, ok := d.objects[o.Anchor]; ok {
		op = "update"
	}
	return d.append(Record{Op: op, By: "admin", Anchor: string(o.Anchor), Type: o.Type, DN: o.DN, Attrs: d.encodeAttrs(o.Attrs)})
}

// Delete deletes an object, as an administrator would.
func (d *Dir) Delete(a connector.Anchor) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	o, ok := d.objects[a]
	if !ok {
		return connector.ErrNoSuchObject
	}
	return d.append(Record{Op: "delete", By: "admin", Anchor: string(a), Type: o.Type, DN: o.DN})
}

func (d *Dir) hook(event string) {
	if d.Hook != nil {
		d.Hook(d.name + "." + event)
	}
}

// Import implements connector.Connector: every object, then a checkpoint
// at the end of the journal.
func (d *Dir) Import(ctx context.Context, sink connector.ImportSink) error {
	objs, wm := d.Objects(), d.Len()
	for _, o := range objs {
		if err := sink.Object(ctx, connector.Change{Kind: connector.Add, Anchor: o.Anchor, Type: o.Type, DN: o.DN, Attrs: o.Attrs}); err != nil {
			return err
		}
		d.hook("import.object")
	}
	if err := sink.Checkpoint(ctx, watermark(wm)); err != nil {
		return err
	}
	d.hook("import.checkpoint")
	return nil
}

func watermark(n int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

// DeltaImport implements connector.DeltaImporter: for each journal record
// since the watermark, the current state of its object (an Add, or a
// Delete when it is gone), with a checkpoint every CheckpointEvery records.
func (d *Dir) DeltaImport(ctx context.Context, wm []byte, sink connector.ImportSink) error {
	if len(wm) != 8 {
		return fmt.Errorf("crashtest: bad watermark: %w", connector.ErrWatermarkExpired)
	}
	from := int(binary.BigEndian.Uint64(wm))
	d.mu.Lock()
	if from > len(d.log) {
		d.mu.Unlock()
		return fmt.Errorf("crashtest: watermark %d is past the journal's end %d: %w", from, len(d.log), connector.ErrWatermarkExpired)
	}
	type item struct {
		ch  connector.Change
		pos int // journal position after the record
	}
	var items []item
	for i, r := range d.log[from:] {
		if r.Op == "refused" {
			items = append(items, item{pos: from + i + 1})
			continue
		}
		ch := connector.Change{Kind: connector.Delete, Anchor: connector.Anchor(r.Anchor), DN: r.DN, Type: r.Type}
		if o, ok := d.objects[ch.Anchor]; ok {
			c := d.read(o)
			ch = connector.Change{Kind: connector.Add, Anchor: c.Anchor, Type: c.Type, DN: c.DN, Attrs: c.Attrs}
		}
		items = append(items, item{ch: ch, pos: from + i + 1})
	}
	end := len(d.log)
	d.mu.Unlock()
	for i, it := range items {
		if it.ch.Kind != 0 {
			if err := sink.Object(ctx, it.ch); err != nil {
				return err
			}
			d.hook("import.object")
		}
		if d.CheckpointEvery > 0 && (i+1)%d.CheckpointEvery == 0 && it.pos < end {
			if err := sink.Checkpoint(ctx, watermark(it.pos)); err != nil {
				return err
			}
			d.hook("import.checkpoint")
		}
	}
	if err := sink.Checkpoint(ctx, watermark(end)); err != nil {
		return err
	}
	d.hook("import.checkpoint")
	return nil
}

// Export implements connector.Connector. Each applied change is in the
// journal (fsynced) before the next one starts; a change the directory
// refuses is journaled as "refused".
func (d *Dir) Export(ctx context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	out := make([]connector.ExportResult, len(changes))
	for i, ch := range changes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d.mu.Lock()
		r, err := d.export(ch)
		if err != nil {
			var oe *connector.ObjectError
			if !errors.As(err, &oe) {
				d.mu.Unlock()
				return nil, err
			}
			out[i].Err = err
			if jerr := d.append(Record{Op: "refused", By: "export", Anchor: string(ch.Anchor), Type: ch.Type, DN: ch.DN, Err: err.Error()}); jerr != nil {
				d.mu.Unlock()
				return nil, jerr
			}
			d.mu.Unlock()
			continue
		}
		err = d.append(r)
		d.mu.Unlock()
		if err != nil {
			return nil, err
		}
		out[i].Anchor = connector.Anchor(r.Anchor)
		d.hook("export.applied")
	}
	return out, nil
}

// export turns an exported change into the record that applies it, or
// refuses it with an *connector.ObjectError.
func (d *Dir) export(ch connector.Change) (Record, error) {
	refuse := func(err error) (Record, error) {
		return Record{}, &connector.ObjectError{Anchor: ch.Anchor, DN: ch.DN, Op: ch.Kind.String(), Err: err}
	}
	switch ch.Kind {
	case connector.Add:
		if _, ok := d.byDN(ch.DN); ok {
			return refuse(fmt.Errorf("%s: %w", ch.DN, connector.ErrAlreadyExists))
		}
		a := d.prefix + strconv.Itoa(d.next+1)
		return Record{Op: "add", By: "export", Anchor: a, Type: ch.Type, DN: ch.DN, Attrs: d.encodeAttrs(ch.Attrs)}, nil
	case connector.Update:
		o, ok := d.objects[ch.Anchor]
		if !ok {
			return refuse(fmt.Errorf("<%s>: %w", ch.Anchor, connector.ErrNoSuchObject))
		}
		dn := o.DN
		if ch.OldDN != "" {
			if other, ok := d.byDN(ch.DN); ok && other != ch.Anchor {
				return refuse(fmt.Errorf("%s: %w", ch.DN, connector.ErrAlreadyExists))
			}
			dn = ch.DN
		}
		// References stored by DN when their objects did not exist yet
		// get their anchors first, so that a removal by anchor finds them.
		before := d.encodeAttrs(o.Attrs)
		attrs := decodeAttrs(before)
		mods := slices.Clone(ch.Mods)
		for i := range mods {
			mods[i].Values = d.normalize(mods[i].Values)
		}
		attrs.Apply(mods)
		after := d.encodeAttrs(attrs)
		noop := dn == o.DN && jsonEqual(before, after)
		var text []string
		for _, m := range ch.Mods {
			text = append(text, fmt.Sprintf("%s %s %v", m.Op, m.Name, m.Values))
		}
		return Record{Op: "update", By: "export", Anchor: string(o.Anchor), Type: o.Type, DN: dn, OldDN: ch.OldDN, Attrs: after, Noop: noop, Mods: text}, nil
	case connector.Delete:
		o, ok := d.objects[ch.Anchor]
		if !ok {
			return refuse(fmt.Errorf("<%s>: %w", ch.Anchor, connector.ErrNoSuchObject))
		}
		return Record{Op: "delete", By: "export", Anchor: string(o.Anchor), Type: o.Type, DN: o.DN}, nil
	}
	return refuse(fmt.Errorf("change kind %v: %w", ch.Kind, connector.ErrUnsupported))
}

func jsonEqual(a, b map[string][]val) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func (d *Dir) byDN(dn string) (connector.Anchor, bool) {
	fold := connector.FoldDN(dn)
	for a, o := range d.objects {
		if connector.FoldDN(o.DN) == fold {
			return a, true
		}
	}
	return "", false
}

// normalize stores references by anchor: a DN-only reference to an
// existing object gets its anchor, and the DN of an anchored one is
// dropped (it is looked up when read, so that renames follow).
func (d *Dir) normalize(vs []connector.Value) []connector.Value {
	out := slices.Clone(vs)
	for i, v := range out {
		if v.Type() != connector.Reference {
			continue
		}
		a, dn := v.Ref()
		if a == "" {
			if found, ok := d.byDN(dn); ok {
				a = found
			}
		}
		if a != "" {
			out[i] = connector.RefValue(a, "")
		} else {
			out[i] = connector.RefValue("", dn)
		}
	}
	return out
}

// read returns a copy of o with references carrying their targets'
// current DNs.
func (d *Dir) read(o *connector.Object) connector.Object {
	c := *o
	c.Attrs = o.Attrs.Clone()
	for _, vs := range c.Attrs {
		for i, v := range vs {
			if v.Type() != connector.Reference {
				continue
			}
			a, dn := v.Ref()
			if a == "" {
				if found, ok := d.byDN(dn); ok {
					a = found
				}
			}
			if t, ok := d.objects[a]; ok {
				dn = t.DN
			}
			vs[i] = connector.RefValue(a, dn)
		}
	}
	return c
}

func (d *Dir) encodeAttrs(attrs connector.Attributes) map[string][]val {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string][]val, len(attrs))
	for name, vs := range attrs {
		if len(vs) == 0 {
			continue
		}
		ev := make([]val, 0, len(vs))
		for _, v := range d.normalize(vs) {
			if v.Type() == connector.Reference {
				a, dn := v.Ref()
				ev = append(ev, val{R: true, A: string(a), D: dn})
			} else {
				ev = append(ev, val{S: v.Str()})
			}
		}
		slices.SortFunc(ev, func(x, y val) int {
			return cmpVal(x, y)
		})
		out[name] = ev
	}
	return out
}

func cmpVal(x, y val) int {
	for _, c := range [][2]string{{x.S, y.S}, {x.A, y.A}, {x.D, y.D}} {
		switch {
		case c[0] < c[1]:
			return -1
		case c[0] > c[1]:
			return 1
		}
	}
	return 0
}

func decodeAttrs(m map[string][]val) connector.Attributes {
	attrs := connector.Attributes{}
	for name, vs := range m {
		out := make([]connector.Value, len(vs))
		for i, v := range vs {
			if v.R {
				out[i] = connector.RefValue(connector.Anchor(v.A), v.D)
			} else {
				out[i] = connector.StringValue(v.S)
			}
		}
		attrs[name] = out
	}
	return attrs
}

// ReadJournal reads a journal file without opening the directory for
// writing.
func ReadJournal(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
