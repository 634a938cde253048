package idbridge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idbridge/idbridge"
	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/connector/memconn"
	"github.com/idbridge/idbridge/metaverse/memstore"
	"github.com/idbridge/idbridge/rules"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts idbridge.Options
		want string // "" when valid
	}{
		{"zero value", idbridge.Options{}, ""},
		{"sizes", idbridge.Options{BatchSize: 10, LargeObjectValues: 100, ExportBatchSize: 5, MaxErrors: 1}, ""},
		{"deletion threshold disabled", idbridge.Options{DeletionThreshold: -1}, ""},
		{"negative batch size", idbridge.Options{BatchSize: -1}, "BatchSize is -1"},
		{"negative large object values", idbridge.Options{LargeObjectValues: -5}, "LargeObjectValues is -5"},
		{"negative export batch size", idbridge.Options{ExportBatchSize: -100}, "ExportBatchSize is -100"},
		{"negative max errors", idbridge.Options{MaxErrors: -1}, "MaxErrors is -1"},
		{"cost limit too high", idbridge.Options{CostLimit: rules.MaxCostLimit + 1}, "CostLimit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			_, nerr := idbridge.New(context.Background(), idbridge.Config{
				Store: memstore.New(), Rules: joinRules(t, `[{source: source.employeeNumber, target: employeeID}]`),
				Connectors: map[string]connector.Connector{"ad": memconn.New(joinADSchema).Connector(), "hr": memconn.New(joinHRSchema).Connector()},
				Options:    tt.opts,
			})
			if tt.want == "" {
				assert.NoError(t, err)
				assert.NoError(t, nerr)
				return
			}
			require.ErrorIs(t, err, idbridge.ErrInvalidOptions)
			assert.ErrorContains(t, err, tt.want)
			assert.ErrorIs(t, nerr, idbridge.ErrInvalidOptions, "New validates")
		})
	}
	err := (&idbridge.Options{BatchSize: -1, MaxErrors: -1}).Validate()
	assert.ErrorContains(t, err, "BatchSize")
	assert.ErrorContains(t, err, "MaxErrors", "every invalid field is reported")
}

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name string
		s    idbridge.Schedule
		want string
	}{
		{"zero value", idbridge.Schedule{}, ""},
		{"durations", idbridge.Schedule{Interval: time.Minute, Debounce: time.Second, WatchBackoff: time.Second, WatchBackoffMax: time.Minute}, ""},
		{"negative interval", idbridge.Schedule{Interval: -time.Minute}, "Schedule.Interval"},
		{"negative debounce", idbridge.Schedule{Debounce: -1}, "Schedule.Debounce"},
		{"negative back-off", idbridge.Schedule{WatchBackoff: -1}, "Schedule.WatchBackoff"},
		{"negative back-off maximum", idbridge.Schedule{WatchBackoffMax: -1}, "Schedule.WatchBackoffMax"},
	}
	eng := newRunEngine(t, memconn.New(joinADSchema).Connector(), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, idbridge.ErrInvalidOptions)
			assert.ErrorContains(t, err, tt.want)
			assert.ErrorIs(t, eng.Run(context.Background(), tt.s), idbridge.ErrInvalidOptions, "Run validates")
		})
	}
}

// schemaConn is a connector whose Schema fails or is invalid.
type schemaConn struct {
	*memconn.Connector
	schema *connector.Schema
	err    error
}

func (c *schemaConn) Schema(context.Context) (*connector.Schema, error) { return c.schema, c.err }

func TestNewRefuses(t *testing.T) {
	errSchema := errors.New("schema unreadable")
	okConns := func() map[string]connector.Connector {
		return map[string]connector.Connector{"ad": memconn.New(joinADSchema).Connector(), "hr": memconn.New(joinHRSchema).Connector()}
	}
	tests := []struct {
		name   string
		cfg    func(t *testing.T) idbridge.Config
		target error
		msg    string
	}{
		{"no store", func(t *testing.T) idbridge.Config {
			return idbridge.Config{Rules: joinRules(t), Connectors: okConns()}
		}, nil, "Config.Store is required"},
		{"no rules", func(t *testing.T) idbridge.Config {
			return idbridge.Config{Store: memstore.New(), Connectors: okConns()}
		}, nil, "Config.Rules is required"},
		{"nil connector", func(t *testing.T) idbridge.Config {
			c := okConns()
			c["hr"] = nil
			return idbridge.Config{Store: memstore.New(), Rules: joinRules(t), Connectors: c}
		}, nil, `connector "hr" is nil`},
		{"schema fails", func(t *testing.T) idbridge.Config {
			c := okConns()
			c["hr"] = &schemaConn{err: errSchema}
			return idbridge.Config{Store: memstore.New(), Rules: joinRules(t), Connectors: c}
		}, errSchema, `schema of connector "hr"`},
		{"invalid schema", func(t *testing.T) idbridge.Config {
			c := okConns()
			c["hr"] = &schemaConn{schema: &connector.Schema{Types: []connector.ObjectType{{Name: "worker"}, {Name: "worker"}}}}
			return idbridge.Config{Store: memstore.New(), Rules: joinRules(t), Connectors: c}
		}, nil, "declared twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := idbridge.New(context.Background(), tt.cfg(t))
			require.Error(t, err)
			assert.ErrorContains(t, err, tt.msg)
			if tt.target != nil {
				assert.ErrorIs(t, err, tt.target)
			}
		})
	}
}
