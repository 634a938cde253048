package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGoHelpers(t *testing.T) {
	assert.Equal(t, "Sales", dnComponentOf("CN=x,OU=Sales,DC=c", 2))
	assert.Equal(t, "", dnComponentOf("CN=x", 0))
	assert.Equal(t, "OU=Sales,DC=c", dnParentOf(`CN=a\,b,OU=Sales,DC=c`))
	assert.Equal(t, never, fileTimeToTime(-1))
	assert.Equal(t, time.Date(1601, 1, 1, 0, 0, 0, 100, time.UTC), fileTimeToTime(1))
	s, err := formatSID([]byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0x50, 0x04, 0, 0})
	require.NoError(t, err)
	assert.Equal(t, "S-1-5-21-1-2-3-1104", s)
	assert.Equal(t, "00112233-4455-6677-8899-aabbccddeeff", formatGUID([]byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}))
}
