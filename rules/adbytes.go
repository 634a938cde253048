package rules

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/idbridge/idbridge/internal/adcodec"
)

// guidBytes and sidBytes are the inverses of guidString and sidString:
// they give the binary values Active Directory keeps in octet-string
// attributes (msDS-DeviceID, msDS-RegisteredOwner, objectSid) from the
// text a cloud directory gives (a device id, an onPremisesSecurityIdentifier).

func guidBytes(v ref.Val) ref.Val {
	b, err := adcodec.ParseGUID(string(v.(types.String)))
	if err != nil {
		return types.NewErr("guidBytes: %s", err)
	}
	return types.Bytes(b)
}

func sidBytes(v ref.Val) ref.Val {
	b, err := parseSID(string(v.(types.String)))
	if err != nil {
		return types.NewErrFromString(err.Error())
	}
	return types.Bytes(b)
}

// parseSID parses "S-1-5-21-…" into the binary form: revision, number of
// sub-authorities, a 48-bit big-endian identifier authority, and the
// sub-authorities as 32-bit little-endian values (at most 15).
func parseSID(s string) ([]byte, error) {
	bad := func() ([]byte, error) {
		if len(s) > 80 {
			s = s[:80] + "…"
		}
		return nil, fmt.Errorf("sidBytes: %q is not a SID", s)
	}
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts) > 18 || (parts[0] != "S" && parts[0] != "s") {
		return bad()
	}
	rev, err := strconv.ParseUint(parts[1], 10, 8)
	if err != nil {
		return bad()
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return bad()
	}
	subs := parts[3:]
	b := make([]byte, 8, 8+4*len(subs))
	b[0], b[1] = byte(rev), byte(len(subs))
	for i := 0; i < 6; i++ {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for _, p := range subs {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return bad()
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	return b, nil
}
