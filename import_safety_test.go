package idbridge_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/ldif"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse"
)

// faultyImport reports some objects of an in-memory system as unreadable
// (ImportSink.Error) instead of handing them over, and reports extra
// errors before the objects.
type faultyImport struct {
	*memconn.Connector
	fail  map[connector.Anchor]*connector.ObjectError
	extra []*connector.ObjectError
}

func (f *faultyImport) Import(ctx context.Context, sink connector.ImportSink) error {
	for _, oe := range f.extra {
		if err := sink.Error(ctx, oe); err != nil {
			return err
		}
	}
	return f.Connector.Import(ctx, &faultySink{ImportSink: sink, f: f})
}

type faultySink struct {
	connector.ImportSink
	f *faultyImport
}

func (s *faultySink) Object(ctx context.Context, ch connector.Change) error {
	if oe, ok := s.f.fail[ch.Anchor]; ok {
		return s.ImportSink.Error(ctx, oe)
	}
	return s.ImportSink.Object(ctx, ch)
}

// csObject returns the connector-space object with anchor a, or nil.
func (f *fixture) csObject(conn string, a connector.Anchor) *metaverse.CSObject {
	f.t.Helper()
	var o *metaverse.CSObject
	require.NoError(f.t, f.store.View(f.ctx, func(tx metaverse.Tx) error {
		var err error
		o, err = tx.ObjectByAnchor(f.ctx, conn, a)
		if errors.Is(err, metaverse.ErrNotFound) {
			return nil
		}
		return err
	}))
	return o
}

func userDN(given, sn string) string { return "CN=" + given + " " + sn + ",OU=Users,DC=contoso,DC=com" }

// An object that fails to import is kept as it was, marked seen, with its
// error; an error that names no held object, or a referral, makes the full
// import skip its delete pass. Every case also deletes u3 from the source,
// which only a delete pass that runs stages.
func TestFullImportKeepsWhatItCouldNotRead(t *testing.T) {
	bad := errors.New("unparsable value")
	tests := []struct {
		name       string
		fail       map[connector.Anchor]*connector.ObjectError
		extra      []*connector.ObjectError
		retype     bool // u1 comes back with a type not in the schema
		kept       connector.Anchor
		skipDelete bool
	}{
		{name: "error naming the DN", kept: "u1",
			fail: map[connector.Anchor]*connector.ObjectError{"u1": {DN: userDN("Ann", "One"), Op: "import", Err: bad}}},
		{name: "error naming the anchor", kept: "u1",
			fail: map[connector.Anchor]*connector.ObjectError{"u1": {Anchor: "u1", Op: "import", Err: bad}}},
		{name: "object the engine cannot stage", kept: "u1", retype: true},
		{name: "error naming nothing", kept: "u1", skipDelete: true,
			fail: map[connector.Anchor]*connector.ObjectError{"u1": {Op: "import", Err: bad}}},
		{name: "error naming a DN the connector space does not hold", kept: "u1", skipDelete: true,
			fail: map[connector.Anchor]*connector.ObjectError{"u1": {DN: "CN=Ann One,OU=Moved,DC=contoso,DC=com", Op: "import", Err: bad}}},
		{name: "referral", skipDelete: true,
			extra: []*connector.ObjectError{{DN: "ldap://dc2.contoso.com/OU=Far,DC=contoso,DC=com", Op: "import", Err: connector.ErrReferral}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi := &faultyImport{}
			f := newFixtureCfg(t, fixtureConfig{adConn: func(c *memconn.Connector) connector.Connector {
				fi.Connector = c
				return fi
			}})
			f.adUser("u1", "E1", "Ann", "One", 512, nil)
			f.adUser("u2", "E2", "Bob", "Two", 512, nil)
			f.adUser("u3", "E3", "Cid", "Three", 512, nil)
			f.cycle(idbridge.Initial)
			require.Equal(t, 3, f.cloud.Len())

			fi.fail, fi.extra = tt.fail, tt.extra
			if tt.retype {
				o, _ := f.ad.Get("u1")
				o.Type = "printer"
				f.ad.Put(o)
			}
			f.ad.Delete("u3")
			res, err := f.eng.FullImport(f.ctx, "ad")
			require.NoError(t, err)
			assert.Equal(t, 1, res.ErrorCount, "the failure is in the run result")
			if tt.skipDelete {
				assert.Zero(t, res.Deletes)
				assert.NotEmpty(t, res.DeletePassSkipped)
				assert.Contains(t, res.String(), "delete pass skipped")
			} else {
				assert.Equal(t, 1, res.Deletes, "u3 is deleted")
				assert.Empty(t, res.DeletePassSkipped)
			}
			if tt.kept != "" {
				o := f.csObject("ad", tt.kept)
				require.NotNil(t, o, "the object that could not be read is kept")
				assert.NotEqual(t, metaverse.ImportDelete, o.Pending)
				if !tt.skipDelete {
					assert.Contains(t, o.Error, "ad: import", "the error is on the object")
				}
			}

			f.cycle(idbridge.Delta)
			_, ok := f.cloud.ByDN("cn=E1,ou=users")
			assert.True(t, ok, "u1's cloud user is not deleted")
			_, ok = f.cloud.ByDN("cn=E3,ou=users")
			assert.Equal(t, tt.skipDelete, ok, "u3's cloud user is deleted only when the delete pass ran")

			if tt.kept != "" {
				// Read again: the error is cleared.
				fi.fail, fi.extra = nil, nil
				if tt.retype {
					o, _ := f.ad.Get("u1")
					o.Type = "user"
					f.ad.Put(o)
				}
				_, err := f.eng.FullImport(f.ctx, "ad")
				require.NoError(t, err)
				assert.Empty(t, f.csObject("ad", tt.kept).Error)
			}
		})
	}
}

// writeLDIF writes users E1..En as LDIF content records, record bad (1-based;
// 0: none) with a value that is not base64.
func writeLDIF(t *testing.T, path string, n, bad int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\ndn: CN=User %d,OU=Users,DC=contoso,DC=com\nobjectClass: user\nemployeeID: E%d\ngivenName: User\nsn: N%d\nmail: user%d@contoso.com\nuserAccountControl: 512\n", i, i, i, i)
		if i == bad {
			b.WriteString("title:: !!not base64!!\n")
		}
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
}

// A malformed LDIF record deletes nobody; an empty LDIF file deletes
// nobody.
func TestLDIFReadFailuresDeleteNobody(t *testing.T) {
	const users = 5
	tests := []struct {
		name     string
		write    func(t *testing.T, path string)
		wantErr  error
		errCount int
	}{
		{name: "malformed record", errCount: 1, write: func(t *testing.T, path string) { writeLDIF(t, path, users, 2) }},
		{name: "empty file", wantErr: idbridge.ErrImportShrink, write: func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, nil, 0o600))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.ldif")
			writeLDIF(t, path, users, 0)
			lc, err := ldif.New(ldif.Config{Path: path, Schema: adSchema, Anchor: "employeeID"})
			require.NoError(t, err)
			f := newFixtureCfg(t, fixtureConfig{adConn: func(*memconn.Connector) connector.Connector { return lc }})
			f.cycle(idbridge.Initial)
			require.Equal(t, users, f.cloud.Len())

			tt.write(t, path)
			res, err := f.eng.FullImport(f.ctx, "ad")
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				var se *idbridge.ImportShrinkError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, users, se.Deletes)
			} else {
				require.NoError(t, err)
			}
			assert.Zero(t, res.Deletes)
			assert.Equal(t, tt.errCount, res.ErrorCount)

			_, err = f.eng.Cycle(f.ctx, idbridge.Delta)
			if tt.wantErr == nil {
				require.NoError(t, err)
			}
			assert.Equal(t, users, f.cloud.Len(), "every cloud user is kept")
		})
	}
}

// A full import that would delete more than the guard allows stages no
// delete and says so; within the guard, or with the guard off, it deletes.
func TestFullImportShrinkGuard(t *testing.T) {
	const users = 50
	tests := []struct {
		name    string
		opts    idbridge.Options
		remove  int
		tripped bool
	}{
		{name: "up to the minimum", remove: 10},
		{name: "above share and minimum", remove: 11, tripped: true},
		{name: "every object", remove: users, tripped: true},
		{name: "higher share", opts: idbridge.Options{ImportDeleteShare: 0.5}, remove: 11},
		{name: "guard off", opts: idbridge.Options{ImportDeleteShare: -1}, remove: users},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.DeletionThreshold = -1
			f := newFixture(t, tt.opts)
			for i := range users {
				f.adUser(fmt.Sprintf("u%02d", i), fmt.Sprintf("E%d", i), "U", fmt.Sprint(i), 512, nil)
			}
			f.cycle(idbridge.Initial)
			for i := range tt.remove {
				f.ad.Delete(connector.Anchor(fmt.Sprintf("u%02d", i)))
			}
			res, err := f.eng.FullImport(f.ctx, "ad")
			if !tt.tripped {
				require.NoError(t, err)
				assert.Equal(t, tt.remove, res.Deletes)
				return
			}
			require.ErrorIs(t, err, idbridge.ErrImportShrink)
			var se *idbridge.ImportShrinkError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, idbridge.ImportShrinkError{Connector: "ad", Deletes: tt.remove, Size: users, Read: users - tt.remove}, *se)
			assert.Zero(t, res.Deletes)
			assert.NotEmpty(t, res.DeletePassSkipped)
			_, err = f.eng.DeltaSync(f.ctx, "ad")
			require.NoError(t, err)
			assert.Len(t, f.entries(), users, "no entry deleted")
		})
	}
}

// A full import that fails part way says what it read and stages no
// delete.
func TestFailedFullImportSaysWhatItRead(t *testing.T) {
	f := newFixture(t, idbridge.Options{})
	for i := range 20 {
		f.adUser(fmt.Sprintf("u%02d", i), fmt.Sprintf("E%d", i), "U", fmt.Sprint(i), 512, nil)
	}
	f.cycle(idbridge.Initial)
	f.ad.Delete("u19")
	f.ad.FailImportAfter = 5
	res, err := f.eng.FullImport(f.ctx, "ad")
	require.ErrorIs(t, err, connector.ErrUnavailable)
	assert.Equal(t, 5, res.Read)
	assert.Zero(t, res.Checkpointed, "the connector checkpoints at the end only")
	assert.Zero(t, res.Deletes)
	assert.Contains(t, res.DeletePassSkipped, "import failed")
	require.NotNil(t, f.csObject("ad", "u19"))
	assert.NotEqual(t, metaverse.ImportDelete, f.csObject("ad", "u19").Pending)
}
