package rules

import (
	"fmt"
	"strconv"

	"github.com/idbridge/idbridge/connector"
	"github.com/idbridge/idbridge/metaverse"
)

// Direction says whether a rule flows data into the metaverse or out of it.
type Direction uint8

// Directions.
const (
	Inbound  Direction = iota + 1 // connector space → metaverse
	Outbound                      // metaverse → connector space
)

var directionNames = [...]string{"", "inbound", "outbound"}

func (d Direction) String() string {
	if int(d) < len(directionNames) && d != 0 {
		return directionNames[d]
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// ParseDirection parses "inbound" or "outbound".
func ParseDirection(s string) (Direction, error) {
	for i, n := range directionNames {
		if i > 0 && n == s {
			return Direction(i), nil
		}
	}
	return 0, fmt.Errorf("unknown direction %q (want inbound or outbound)", s)
}

// DeprovisionAction says what an outbound rule does to the target object
// when its metaverse entry leaves the rule's scope or is deleted.
type DeprovisionAction uint8

// Deprovision actions. The zero value is DeprovisionDelete.
const (
	DeprovisionDelete     DeprovisionAction = iota // delete the target object
	DeprovisionDisconnect                          // unlink it and leave it as is
	DeprovisionDisable                             // keep it linked and apply the rule's DeprovisionFlows
)

var deprovisionNames = [...]string{"delete", "disconnect", "disable"}

func (a DeprovisionAction) String() string {
	if int(a) < len(deprovisionNames) {
		return deprovisionNames[a]
	}
	return "DeprovisionAction(" + strconv.Itoa(int(a)) + ")"
}

// ParseDeprovisionAction parses "delete", "disconnect" or "disable".
func ParseDeprovisionAction(s string) (DeprovisionAction, error) {
	for i, n := range deprovisionNames {
		if n == s {
			return DeprovisionAction(i), nil
		}
	}
	return 0, fmt.Errorf("unknown deprovision action %q (want delete, disconnect or disable)", s)
}

// MergeType says how the values of several contributors to one
// multi-valued target attribute combine.
type MergeType uint8

// Merge types. The zero value is MergeUpdate.
const (
	// MergeUpdate: the highest-precedence contributor's values replace the
	// others.
	MergeUpdate MergeType = iota
	// Merge: the union of the values of every contributor using Merge.
	Merge
	// MergeCaseInsensitive: like Merge, with strings compared without case.
	MergeCaseInsensitive
)

var mergeNames = [...]string{"update", "merge", "mergeCaseInsensitive"}

func (m MergeType) String() string {
	if int(m) < len(mergeNames) {
		return mergeNames[m]
	}
	return "MergeType(" + strconv.Itoa(int(m)) + ")"
}

// ParseMergeType parses "update", "merge" or "mergeCaseInsensitive".
func ParseMergeType(s string) (MergeType, error) {
	for i, n := range mergeNames {
		if n == s {
			return MergeType(i), nil
		}
	}
	return 0, fmt.Errorf("unknown merge type %q (want update, merge or mergeCaseInsensitive)", s)
}

// Rule is one sync rule, as written in a rule file. Compile turns rules
// into a Set.
type Rule struct {
	Name, Description string
	Direction         Direction
	Connector         string // connector name
	SourceType        string // inbound: connector object type; outbound: metaverse object type
	TargetType        string // inbound: metaverse object type; outbound: connector object type
	Precedence        int    // lower number wins
	Disabled          bool
	// Scope is a bool expression over the source object; "" selects every
	// object of SourceType.
	Scope string
	// Join (inbound only) lists join groups, tried in order by the engine;
	// the first group that finds exactly one entry wins.
	Join     []JoinGroup
	LinkType metaverse.LinkType // Provision, Join or StickyJoin
	Flows    []Flow
	// Deprovision (outbound only) says what happens to the target object
	// when the entry leaves scope or is deleted. It applies to objects
	// that outbound rules provisioned. An object joined to the entry (by
	// an inbound rule of its connector, not provisioned) is never
	// deleted or disabled: when the entry is deleted it is only
	// disconnected and stays in its directory as it is, as in Entra
	// Connect; while the entry lives, it stays linked even out of the
	// outbound rules' scope.
	Deprovision DeprovisionAction
	// DeprovisionFlows (outbound, DeprovisionDisable) are applied to the
	// target object when it is deprovisioned (accountEnabled = false).
	DeprovisionFlows []Flow
	Pos              Position // where the rule was defined

	scopeAt Position // where the scope expression is, when parsed from a file
}

func (r *Rule) scopePos() Position {
	if r.scopeAt.Line > 0 {
		return r.scopeAt
	}
	return r.Pos
}

// JoinGroup is a set of join conditions that must all match.
type JoinGroup struct{ Conditions []JoinCondition }

// JoinCondition matches an expression over the source object with a
// metaverse attribute.
type JoinCondition struct {
	Source          string // expression over the source object, e.g. source.employeeID
	Target          string // metaverse attribute (of the rule's TargetType)
	CaseInsensitive bool
	Pos             Position
}

// Flow sets one target attribute. Exactly one of Expression, Source and
// Constant (with HasConstant) is set.
type Flow struct {
	// Target is the target attribute. In outbound rules, the target "dn"
	// sets the DN of provisioned and renamed objects (a string).
	Target      string
	Expression  string // an expression, or
	Source      string // a direct flow from a source attribute, or
	Constant    string // a constant, converted to the target attribute's type
	HasConstant bool   // Constant is set (it may be "")
	ApplyOnce   bool   // only set when the target has no value yet
	Merge       MergeType
	Pos         Position
}

// Position is a place in a rule file.
type Position struct {
	File         string
	Line, Column int
}

// String returns "file:line:col", or the parts that are known.
func (p Position) String() string {
	s := p.File
	if p.Line > 0 {
		if s != "" {
			s += ":"
		}
		s += strconv.Itoa(p.Line)
		if p.Column > 0 {
			s += ":" + strconv.Itoa(p.Column)
		}
	}
	return s
}

// Input is what a rule is evaluated on.
type Input struct {
	Anchor connector.Anchor
	DN     string
	Type   string
	// Attrs is the source object: a connector-space object's attributes
	// (inbound) or a metaverse entry's (outbound).
	Attrs connector.Attributes
	// Target (outbound and deprovision only) holds the current attributes
	// of the target connector-space object; nil when provisioning.
	Target connector.Attributes
}

// NullKind says what a flow result contributes.
type NullKind uint8

// Null kinds.
const (
	// NotNull: Values is the contribution. Flows and DeprovisionFlows
	// give at least one value (no value is Null); a Program may return
	// NotNull with no values, which they turn into Null.
	NotNull NullKind = iota
	// Null: no contribution; a lower-precedence contributor may win.
	Null
	// AuthoritativeNull: wins over lower-precedence contributors and
	// clears the target.
	AuthoritativeNull
	// IgnoreThisFlow: no contribution, and the target keeps its current
	// value.
	IgnoreThisFlow
)

var nullNames = [...]string{"NotNull", "Null", "AuthoritativeNull", "IgnoreThisFlow"}

func (k NullKind) String() string {
	if int(k) < len(nullNames) {
		return nullNames[k]
	}
	return "NullKind(" + strconv.Itoa(int(k)) + ")"
}

// FlowResult is the outcome of one flow.
type FlowResult struct {
	Target    string
	Values    []connector.Value // valid when Null is NotNull
	Null      NullKind
	ApplyOnce bool
	Merge     MergeType
}

// JoinKey is one join condition evaluated on a source object: the entries
// to join have one of Values in Attr.
type JoinKey struct {
	Attr string
	// Values are of the metaverse attribute's type; empty when the source
	// object cannot join with this group.
	Values          []connector.Value
	CaseInsensitive bool
}
