package dirgen

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
)

// Source is a connector that serves a Directory as an Active Directory
// connector would (objects shaped by ldif.ActiveDirectorySchema), generating
// each object as it is imported: a million-user source costs no memory.
// Modify changes a user's title; DeltaImport reports the users modified
// since its watermark. It is import-only.
//
// Source is safe for concurrent use.
type Source struct {
	d       *Directory
	mu      sync.Mutex
	version uint64
	changed map[int]change // user index → latest change
}

type change struct {
	version uint64
	title   string
}

var (
	_ connector.Connector     = (*Source)(nil)
	_ connector.DeltaImporter = (*Source)(nil)
)

// NewSource returns a connector serving d.
func NewSource(d *Directory) *Source { return &Source{d: d, changed: map[int]change{}} }

// Schema returns ldif.ActiveDirectorySchema.
func (s *Source) Schema(context.Context) (*connector.Schema, error) {
	return ldif.ActiveDirectorySchema(), nil
}

// Modify sets user i's title, as an administrator's edit would.
func (s *Source) Modify(i int, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	s.changed[i] = change{s.version, title}
}

func (s *Source) user(i int) connector.Object {
	o := s.d.UserObject(i)
	s.mu.Lock()
	c, ok := s.changed[i]
	s.mu.Unlock()
	if ok {
		o.Attrs["title"] = []connector.Value{connector.StringValue(c.title)}
	}
	return o
}

func (s *Source) watermark() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return binary.BigEndian.AppendUint64(nil, s.version)
}

// Import reports every user and group, with a checkpoint every 1,000.
func (s *Source) Import(ctx context.Context, sink connector.ImportSink) error {
	wm := s.watermark()
	n := 0
	emit := func(o connector.Object) error {
		if err := sink.Object(ctx, connector.Change{Kind: connector.Add, Anchor: o.Anchor, Type: o.Type, DN: o.DN, Attrs: o.Attrs}); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			return sink.Checkpoint(ctx, wm)
		}
		return ctx.Err()
	}
	for i := 0; i < s.d.Users; i++ {
		if err := emit(s.user(i)); err != nil {
			return err
		}
	}
	for j := 0; j < s.d.Groups(); j++ {
		if err := emit(s.d.GroupObject(j)); err != nil {
			return err
		}
	}
	return sink.Checkpoint(ctx, wm)
}

// DeltaImport reports the users modified since watermark.
func (s *Source) DeltaImport(ctx context.Context, watermark []byte, sink connector.ImportSink) error {
	if len(watermark) != 8 {
		return fmt.Errorf("dirgen: watermark of %d bytes: %w", len(watermark), connector.ErrWatermarkExpired)
	}
	since := binary.BigEndian.Uint64(watermark)
	wm := s.watermark()
	s.mu.Lock()
	var users []int
	for i, c := range s.changed {
		if c.version > since {
			users = append(users, i)
		}
	}
	s.mu.Unlock()
	for _, i := range users {
		o := s.user(i)
		if err := sink.Object(ctx, connector.Change{Kind: connector.Add, Anchor: o.Anchor, Type: o.Type, DN: o.DN, Attrs: o.Attrs}); err != nil {
			return err
		}
	}
	return sink.Checkpoint(ctx, wm)
}

// Export refuses: the source is import-only.
func (s *Source) Export(_ context.Context, changes []connector.Change) ([]connector.ExportResult, error) {
	res := make([]connector.ExportResult, len(changes))
	for i, c := range changes {
		res[i] = connector.ExportResult{Anchor: c.Anchor, DN: c.DN, Err: &connector.ObjectError{Anchor: c.Anchor, DN: c.DN, Op: "export", Err: connector.ErrUnsupported}}
	}
	return res, nil
}

// Close does nothing.
func (s *Source) Close() error { return nil }
