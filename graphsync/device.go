package graphsync

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf16"

	"github.com/idbridge/idbridge/connector"
)

// Device properties the connector derives: they are not properties Graph
// selects on a device, so they are never in a $select.
const (
	// DeviceOwnerSID is the device attribute carrying the
	// onPremisesSecurityIdentifier ("S-1-5-21-…") of the device's
	// registered owner: what Entra Connect's device writeback writes to
	// msDS-RegisteredOwner (as binary; a rule converts it with
	// sidBytes). Absent when the device has no owner, or the owner is a
	// cloud-only user, who has no on-premises SID.
	DeviceOwnerSID = "registeredOwnerSecurityIdentifier"
	// DeviceOwners is the device attribute referencing its registered
	// owners (users; Graph allows one).
	DeviceOwners = "registeredOwners"
)

// deviceDerived are the device attributes read apart from the delta
// round's $select.
var deviceDerived = map[string]bool{DeviceOwnerSID: true, DeviceOwners: true}

// deviceAttributes are the device schema's attributes that device.go
// reads, besides the plain properties of schema.go.
func deviceAttributes() []connector.Attribute {
	return []connector.Attribute{
		// alternativeSecurityIds as text: see altSecurityIdentity.
		ro(multi("alternativeSecurityIds", connector.String)),
		ro(attr(DeviceOwnerSID, connector.String)),
		ro(multi(DeviceOwners, connector.Reference)),
	}
}

// enrichDevices completes the devices of a delta page before they are
// converted: alternativeSecurityIds become text, and the registered owner
// of each device is read (GET /devices/{id}/registeredOwners, 20 devices
// per $batch; https://learn.microsoft.com/graph/api/device-list-registeredowners),
// since a device delta reports neither the owner nor the owner's SID.
// Graph does not report an owner change as a change of the device: a
// device whose owner alone changed is read again at the next full import.
func (c *Connector) enrichDevices(ctx context.Context, objs []*rawObject) error {
	t, _ := c.schema.Type(TypeDevice)
	_, wantIDs := t.Attr("alternativeSecurityIds")
	_, wantSID := t.Attr(DeviceOwnerSID)
	_, wantRefs := t.Attr(DeviceOwners)
	var tasks []*task
	for _, o := range objs {
		id, _ := plain(o.props["id"]).(string)
		if _, removed := o.props["@removed"]; removed || id == "" {
			continue
		}
		if raw, ok := o.props["alternativeSecurityIds"]; ok {
			if wantIDs {
				o.props["alternativeSecurityIds"] = altSecurityIdentities(raw)
			} else {
				delete(o.props, "alternativeSecurityIds")
			}
		}
		if !wantSID && !wantRefs {
			continue
		}
		tk := &task{c: c, ch: connector.Change{Anchor: connector.Anchor(id), DN: dnOf(TypeDevice, id), Type: TypeDevice}, result: &connector.ExportResult{}}
		path := "/devices/" + url.PathEscape(id) + "/registeredOwners?$select=id,onPremisesSecurityIdentifier&$top=999"
		tk.start = func() []*op {
			return []*op{tk.op(http.MethodGet, path, nil, func(_ int, rb map[string]any) []*op {
				vs, _ := rb["value"].([]any)
				var sid any
				owners := []any{}
				for _, v := range vs {
					m, _ := v.(map[string]any)
					oid, _ := m["id"].(string)
					if oid == "" {
						continue
					}
					owners = append(owners, map[string]any{"id": oid, "@odata.type": m["@odata.type"]})
					if s, ok := m["onPremisesSecurityIdentifier"].(string); ok && s != "" && sid == nil {
						sid = s
					}
				}
				// Set even when empty: in an incremental round, an absent
				// owner clears the attribute.
				if wantSID {
					o.props[DeviceOwnerSID] = sid
				}
				if wantRefs {
					o.props[DeviceOwners] = owners
				}
				return nil
			})}
		}
		tasks = append(tasks, tk)
	}
	if len(tasks) == 0 {
		return nil
	}
	if err := c.run(ctx, tasks); err != nil {
		return err
	}
	for _, tk := range tasks {
		if tk.failed != nil {
			return fmt.Errorf("graphsync: registered owners of %s: %w", tk.ch.DN, tk.failed)
		}
	}
	return nil
}

// altSecurityIdentities converts a device's alternativeSecurityIds
// (https://learn.microsoft.com/graph/api/resources/alternativesecurityid:
// type, identityProvider, key as Edm.Binary) into the text Active
// Directory keeps in altSecurityIdentities. The key of a device's
// certificate entry (type 2) is that text itself in UTF-16LE, e.g.
// "X509:<SHA1-TP-PUBKEY>{thumbprint}{public key hash}"; entries whose key
// is not such text are left out.
func altSecurityIdentities(raw any) []any {
	list, _ := plain(raw).([]any)
	out := []any{}
	for _, e := range list {
		m, _ := e.(map[string]any)
		k, _ := m["key"].(string)
		if s, ok := altSecurityIdentity(k); ok {
			out = append(out, s)
		}
	}
	return out
}

// altSecurityIdentity decodes one key (base64 of UTF-16LE text starting
// with "X509:").
func altSecurityIdentity(key string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(b) < 2 || len(b)%2 != 0 {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	s := strings.TrimRight(string(utf16.Decode(u)), "\x00")
	if !strings.HasPrefix(s, "X509:") || strings.ContainsRune(s, '\uFFFD') {
		return "", false
	}
	return s, true
}

// AltSecurityIDKey encodes the text of an altSecurityIdentities value as
// the key of a device's alternativeSecurityIds entry (base64 of UTF-16LE),
// the inverse of what the connector imports: for seeding emulators and
// tests.
func AltSecurityIDKey(text string) string {
	u := utf16.Encode([]rune(text))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return base64.StdEncoding.EncodeToString(b)
}
