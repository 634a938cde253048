package entraconnect_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/graphsync"
	"github.com/idbridge/idbridge/graphsync/graphtest"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules/entraconnect"
)

// sid encodes S-1-5-21-sub… in binary.
func sid(sub ...uint32) []byte {
	sub = append([]uint32{21}, sub...)
	b := []byte{1, byte(len(sub)), 0, 0, 0, 0, 0, 5}
	for _, s := range sub {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return b
}

// TestMultiForest: an account forest and a resource forest with Exchange,
// synced in both orders, give one cloud user per person. Alice's enabled
// account (account forest) joins her linked mailbox (resource forest) by
// objectSid ↔ msExchMasterAccountSid; Carol, a user in both forests, is
// joined by mail. Sign-in attributes come from the enabled account, mail
// from the mailbox forest, the other attributes from the first forest;
// the anchor is written back only to the object it came from; the
// arbitration mailbox stays on-premises.
func TestMultiForest(t *testing.T) {
	for _, order := range [][2]string{{"accounts", "resources"}, {"resources", "accounts"}} {
		t.Run(order[0]+" first", func(t *testing.T) {
			ctx := context.Background()
			forests := []entraconnect.Forest{{Connector: "accounts"}, {Connector: "resources", Exchange: true}}
			opts := entraconnect.Options{Forests: forests, JoinByMail: true, JoinAccountResource: true, GroupAnchor: groupAnchor}
			systems := map[string]*memconn.System{}
			for _, f := range forests {
				systems[f.Connector] = memconn.New(adSchema(f))
			}
			str := func(s ...string) []connector.Value {
				var vs []connector.Value
				for _, x := range s {
					vs = append(vs, connector.StringValue(x))
				}
				return vs
			}
			user := func(conn, cn string, guid byte, uac int64, attrs connector.Attributes) {
				attrs["objectGUID"] = []connector.Value{connector.BytesValue([]byte{guid, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})}
				attrs["cn"] = str(cn)
				attrs["sAMAccountName"] = str(cn)
				attrs["userAccountControl"] = []connector.Value{connector.IntValue(uac)}
				systems[conn].Put(connector.Object{Anchor: connector.Anchor(conn + "-" + cn), DN: "CN=" + cn + ",DC=" + conn + ",DC=test", Type: "user", Attrs: attrs})
			}
			user("accounts", "alice", 1, 512, connector.Attributes{"objectSid": {connector.BytesValue(sid(1, 2, 3, 1104))},
				"userPrincipalName": str("alice@contoso.test"), "department": str("Engineering")})
			user("accounts", "carol", 2, 512, connector.Attributes{"objectSid": {connector.BytesValue(sid(1, 2, 3, 1105))},
				"userPrincipalName": str("carol@contoso.test"), "mail": str("carol@contoso.test"), "department": str("Operations")})
			user("resources", "alice-mbx", 3, 514, connector.Attributes{"objectSid": {connector.BytesValue(sid(9, 9, 9, 2001))},
				"msExchMasterAccountSid": {connector.BytesValue(sid(1, 2, 3, 1104))}, "msExchRecipientTypeDetails": {connector.IntValue(2)},
				"userPrincipalName": str("alice-mbx@resources.test"), "mail": str("alice@contoso.test"),
				"proxyAddresses": str("SMTP:alice@contoso.test", "smtp:alice@resources.test"), "department": str("Mailboxes")})
			user("resources", "carol", 4, 512, connector.Attributes{"objectSid": {connector.BytesValue(sid(9, 9, 9, 2002))},
				"userPrincipalName": str("carol@resources.test"), "mail": str("Carol@Contoso.test"), "department": str("Elsewhere"),
				"msExchRecipientTypeDetails": {connector.IntValue(1)}, "msExchMasterAccountSid": {connector.BytesValue([]byte{1, 1, 0, 0, 0, 0, 0, 5, 10, 0, 0, 0})}})
			user("resources", "arbitration", 5, 514, connector.Attributes{"userPrincipalName": str("arb@resources.test"),
				"msExchRecipientTypeDetails": {connector.IntValue(8388608)}, "mail": str("arb@resources.test")})

			tenant := graphtest.NewServer(graphtest.Options{Token: "t", Domains: []string{"contoso.test", "resources.test"}})
			t.Cleanup(tenant.Close)
			cloud, err := graphsync.New(graphsync.Config{
				BaseURL: tenant.URL() + "/v1.0", Credential: graphsync.StaticToken("t"), HTTPClient: tenant.Client(),
				Types: []string{graphsync.TypeUser, graphsync.TypeGroup}, GroupAnchor: groupAnchor, WriteBudget: graphsync.Unlimited,
			})
			require.NoError(t, err)
			f, err := entraconnect.Load(opts)
			require.NoError(t, err)
			eng, err := idbridge.New(ctx, idbridge.Config{Store: memstore.New(), Rules: f, Connectors: map[string]connector.Connector{
				"accounts": systems["accounts"].Connector(), "resources": systems["resources"].Connector(), "cloud": cloud}})
			require.NoError(t, err)
			t.Cleanup(func() { eng.Close() })

			// The forests' objects are synced in the order of the subtest.
			for _, conn := range order {
				_, err := eng.FullImport(ctx, conn)
				require.NoError(t, err)
			}
			for _, conn := range order {
				r, err := eng.FullSync(ctx, conn)
				require.NoError(t, err)
				require.Empty(t, r.Errors, "%s", r)
			}
			for range 2 { // the second exports what waited for cloud ids
				for _, conn := range []string{"cloud", "accounts", "resources"} {
					r, err := eng.Export(ctx, conn)
					require.NoError(t, err)
					require.Empty(t, r.Errors, "%s", r)
				}
				for _, conn := range []string{"cloud", "accounts", "resources"} {
					_, err := eng.DeltaImport(ctx, conn)
					require.NoError(t, err)
					_, err = eng.DeltaSync(ctx, conn)
					require.NoError(t, err)
				}
			}

			users := map[string]map[string]any{}
			for _, u := range tenant.Users() {
				users[u["userPrincipalName"].(string)] = u
			}
			require.Len(t, users, 2, "one cloud user per person, none for the arbitration mailbox: %v", users)
			alice, carol := users["alice@contoso.test"], users["carol@contoso.test"]
			require.NotNil(t, alice, "the enabled account's UPN")
			require.NotNil(t, carol)
			assert.Equal(t, true, alice["accountEnabled"])
			assert.Equal(t, "alice@contoso.test", alice["mail"], "mail from the mailbox forest")
			assert.Equal(t, "Operations", carol["department"], "the account forest is first")
			first := map[string]byte{"accounts": 1, "resources": 3}[order[0]]
			guid := []byte{first, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
			assert.Equal(t, base64.StdEncoding.EncodeToString(guid), alice["onPremisesImmutableId"], "the anchor of the object synced first")

			// The anchor is written back to the object it came from only.
			for conn, cn := range map[string]string{"accounts": "alice", "resources": "alice-mbx"} {
				o, ok := systems[conn].Get(connector.Anchor(conn + "-" + cn))
				require.True(t, ok)
				if conn == order[0] {
					require.Len(t, o.Attrs["mS-DS-ConsistencyGuid"], 1, conn)
					assert.Equal(t, guid, o.Attrs["mS-DS-ConsistencyGuid"][0].Octets())
				} else {
					assert.Empty(t, o.Attrs["mS-DS-ConsistencyGuid"], conn)
				}
			}
		})
	}
}
