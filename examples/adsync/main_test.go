package main

import (
	"os"
	"testing"
)

// mainEnv makes the test binary run the daemon's main with its arguments
// instead of the tests: the SIGTERM test starts the real program, signal
// handling and exit status included, without a go build of its own.
const mainEnv = "ADSYNC_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
