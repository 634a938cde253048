package idbridge

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
	"github.com/idbridge/idbridge/metaverse/memstore"
)

// TestWorkObjectByDN: in a unit of work holding any number of objects, an
// object renamed into the DN of another, which is then renamed away (a
// swap), is found by its new DN; so is the other. With more than 32
// objects the unit of work found neither (its DN index kept the last
// object read under a DN, and it searched itself only when small).
func TestWorkObjectByDN(t *testing.T) {
	for _, fillers := range []int{0, 10, 30, 31, 32, 33, 100, 1000} {
		t.Run(fmt.Sprint(fillers, " other objects"), func(t *testing.T) {
			ctx := context.Background()
			st := memstore.New()
			defer st.Close()
			put := []*metaverse.CSObject{
				{Connector: "ad", ID: "a", Anchor: "anchor-a", DN: "CN=A,DC=x"},
				{Connector: "ad", ID: "b", Anchor: "anchor-b", DN: "CN=B,DC=x"},
				{Connector: "cloud", ID: "c", Anchor: "anchor-c", DN: "CN=A,DC=x"}, // same DN, other connector
			}
			for i := range fillers {
				put = append(put, &metaverse.CSObject{Connector: "ad", ID: fmt.Sprintf("f%04d", i), Anchor: connector.Anchor(fmt.Sprint("anchor-f", i)), DN: fmt.Sprintf("CN=F%d,DC=x", i)})
			}
			require.NoError(t, st.Update(ctx, func(tx metaverse.Tx) error {
				for _, o := range put {
					if err := tx.PutObject(ctx, o); err != nil {
						return err
					}
				}
				return nil
			}))
			require.NoError(t, st.Update(ctx, func(tx metaverse.Tx) error {
				w := (&batch{ctx: ctx, tx: tx}).work()
				for i := range fillers {
					o, err := w.object("ad", fmt.Sprintf("f%04d", i))
					require.NoError(t, err)
					require.NotNil(t, o)
				}
				a, err := w.objectByDN("ad", "cn=a,dc=x")
				require.NoError(t, err)
				require.NotNil(t, a)
				a.DN = "CN=B,DC=x"
				w.putObject(a)
				b, err := w.objectByAnchor("ad", "anchor-b")
				require.NoError(t, err)
				require.NotNil(t, b)
				b.DN = "CN=A,DC=x"
				w.putObject(b)

				for _, tt := range []struct {
					conn, dn string
					want     string
				}{
					{"ad", "cn=b, dc=x", "a"},
					{"ad", "CN=A,DC=X", "b"},
					{"cloud", "cn=a,dc=x", "c"},
					{"cloud", "cn=b,dc=x", ""},
					{"ad", "cn=nobody,dc=x", ""},
				} {
					got, err := w.objectByDN(tt.conn, tt.dn)
					require.NoError(t, err)
					if tt.want == "" {
						assert.Nil(t, got, tt.dn)
						continue
					}
					if assert.NotNil(t, got, tt.dn) {
						assert.Equal(t, tt.want, got.ID, tt.dn)
					}
				}

				// Deleted in the unit of work: gone by its DN.
				w.deleteObject(a)
				got, err := w.objectByDN("ad", "cn=b,dc=x")
				require.NoError(t, err)
				assert.Nil(t, got, "deleted")
				return nil
			}))
		})
	}
}
