package graphsync_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnlyGraphsyncImportsTheSDK: msgraph-sdk-go costs minutes and
// gigabytes to build; no package outside graphsync (and the examples and
// benchmarks that sync to Entra ID) may depend on it, not even the
// emulator, which our users' tests import.
func TestOnlyGraphsyncImportsTheSDK(t *testing.T) {
	const module = "github.com/idbridge/idbridge"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", module+"/...").Output()
	require.NoError(t, err, "go list")
	heavy := func(dep string) bool {
		return strings.HasPrefix(dep, "github.com/microsoftgraph/") || strings.HasPrefix(dep, "github.com/microsoft/kiota")
	}
	allowed := func(pkg string) bool {
		return pkg == module+"/graphsync" ||
			strings.HasPrefix(pkg, module+"/examples/") ||
			pkg == module+"/bench" || strings.HasPrefix(pkg, module+"/bench/")
	}
	users := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := fields[0]
		for _, dep := range fields[1:] {
			if !heavy(dep) {
				continue
			}
			users++
			assert.True(t, allowed(pkg), "%s depends on %s", pkg, dep)
			break
		}
	}
	assert.NotZero(t, users, "graphsync itself uses the SDK: the check must see it")
}
