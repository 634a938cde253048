package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/idbridge/idbridge"
)

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name string
		in   idbridge.Progress
		want string
	}{
		{
			name: "import, total unknown",
			in:   idbridge.Progress{Connector: "ad", Profile: idbridge.FullImport, Done: 1500, Rate: 750.4},
			want: "\r\x1b[Kad FullImport: 1500 objects, 750/s",
		},
		{
			name: "sync with a total and errors",
			in:   idbridge.Progress{Connector: "ad", Profile: idbridge.FullSync, Done: 250, Total: 1000, Rate: 125, Errors: 2, ETA: 6 * time.Second},
			want: "\r\x1b[Kad FullSync: 250/1000 objects (25%), 125/s, 2 errors, 6s left",
		},
		{
			name: "the last report ends the line",
			in:   idbridge.Progress{Connector: "entra", Profile: idbridge.Export, Done: 10, Total: 10, Rate: 5, Elapsed: 2 * time.Second, Final: true},
			want: "\r\x1b[Kentra Export: 10/10 objects (100%), 5/s, 2s\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			(&progressLine{w: &b}).report(tt.in)
			assert.Equal(t, tt.want, b.String())
		})
	}
}

func TestProgressOnlyOnTerminal(t *testing.T) {
	var opts idbridge.Options
	(&cli{}).withProgress(&opts)
	assert.Nil(t, opts.Hooks.Progress)
	(&cli{terminal: true, stderr: &strings.Builder{}}).withProgress(&opts)
	assert.NotNil(t, opts.Hooks.Progress)
}
