// Package rules holds sync rules, their YAML files and their evaluation.
//
// A Rule says how objects of one type flow between a connector space and
// the metaverse: its Direction (Inbound: connector space → metaverse;
// Outbound: metaverse → connector space), its connector and object types, a
// Scope filter, Join conditions (inbound), a LinkType, attribute Flows, a
// Precedence (lower wins) and, for outbound rules, what Deprovision does.
// Parse and ParseFile read rule files; Compile type-checks rules against
// the connectors' and the metaverse's schemas and returns an immutable Set
// the engine evaluates: Compiled.InScope, Compiled.JoinKeys,
// Compiled.Flows and Compiled.DeprovisionFlows. Precedence between
// contributors, joins and merges are the engine's job; this package
// computes what each rule contributes.
//
// # Rule files
//
//	metaverse:
//	  types:
//	    - name: person
//	      attributes:
//	        - {name: displayName, type: string}
//	        - {name: proxyAddresses, type: string, multi: true}
//	rules:
//	  - name: In from AD - User
//	    direction: inbound            # or outbound
//	    connector: ad
//	    source: user                  # connector type (inbound), metaverse type (outbound)
//	    target: person                # metaverse type (inbound), connector type (outbound)
//	    precedence: 100
//	    linkType: Provision           # Provision, Join or StickyJoin
//	    disabled: false
//	    scope: 'source.objectClass.exists(c, c == "user") && !isBitSet(source.userAccountControl, 2)'
//	    join:                         # groups, tried in order; conditions of a group are ANDed
//	      - [{source: source.employeeID, target: employeeID}]
//	      - [{source: source.mail, target: mail, caseInsensitive: true}]
//	    flows:
//	      - {target: displayName, expression: 'source.givenName + " " + source.sn'}
//	      - {target: mail, source: mail}             # direct flow
//	      - {target: company, constant: Contoso}     # constant, converted to the target's type
//	      - {target: cloudSourceAnchor, expression: base64(source.objectGUID), applyOnce: true}
//	      - {target: proxyAddresses, source: proxyAddresses, merge: merge}  # update (default), merge, mergeCaseInsensitive
//	    deprovision: disable          # outbound: delete (default), disconnect or disable
//	    deprovisionFlows:             # outbound, with disable
//	      - {target: accountEnabled, constant: "false"}
//
// Unknown keys and invalid values are errors. In outbound rules the flow
// target "dn" (DNTarget) sets the DN of provisioned and renamed objects.
// Constants are converted to the target type: integers (decimal or 0x…),
// true/false, RFC 3339 times, base64 for bytes, and for references
// "dn:<DN>" or an anchor.
//
// A direct flow copies the source attribute's values unchanged (references
// keep their anchor and DN); it needs the same type on both sides and a
// multi-valued target for a multi-valued source. When the source attribute
// has no value, the flow's result is Null (see Results).
//
// # Expressions
//
// Scopes, join conditions and flow expressions are CEL
// (https://cel.dev) by default, compiled once by Compile. They see:
//
//	source  the object the rule reads (connector object inbound, metaverse entry outbound)
//	target  outbound flows only (not scopes): the target connector object as last imported (no attributes when provisioning)
//	dn      the source object's DN (string; "" for metaverse entries)
//	anchor  the source object's anchor (string)
//
// source and target are typed after the schema, so that unknown attributes
// and type errors are refused by Compile: string → string, bytes → bytes,
// integer → int, boolean → bool, time → google.protobuf.Timestamp,
// reference → string, and a multi-valued attribute is a list of those.
//
// Absent attributes: has(source.x) is false, and reading it gives the zero
// value: "", b"", 0, false, timestamp(0) (1970-01-01T00:00:00Z), or [] for
// a multi-valued attribute. The optional syntax distinguishes too:
// source.?mail is optional.none() when mail is absent, and
// source.?mail.orValue("x") defaults it.
//
// Attribute names with '-' (ms-DS-ConsistencyGuid) are reachable with
// CEL's escaped field syntax, source.`ms-DS-ConsistencyGuid`, or with '-'
// replaced by '_': source.ms_DS_ConsistencyGuid (unless the schema has an
// attribute of that name too). source["…"] is not supported: objects are
// not maps.
//
// References read as a string: the value's Key, that is the anchor, or
// "dn:" and the folded DN when only a DN is known. A string result flowing
// into a reference attribute is converted back: "dn:<DN>" becomes a
// reference by DN, anything else a reference by anchor.
//
// # Results
//
// A flow expression must produce the target attribute's type or, for a
// multi-valued target, that type or a list of it; Compile refuses anything
// else. Directories store no empty strings: an empty string, empty bytes
// or an empty list is no value, and a flow that yields no value — an
// absent source of a direct flow, an empty constant, an expression giving
// "" or [] — is Null, as in Entra Connect: it does not contribute, so that
// a lower-precedence contributor may win (and when none does, the
// attribute has no value). A NotNull result always has values. To clear
// an attribute whatever lower-precedence rules say, use
// AuthoritativeNull(). The special results, whose type adapts to the other
// branch of a conditional:
//
//	null, Null(), optional.none()  Null: no contribution, a lower-precedence contributor may win
//	AuthoritativeNull()            AuthoritativeNull: wins and clears the attribute
//	IgnoreThisFlow()               IgnoreThisFlow: no contribution, the current value stays
//
// CEL's null only type-checks alone; in a conditional write
// `has(source.mail) ? source.mail : Null()`. Null elements inside a list
// result are skipped. A scope must produce a bool; a join condition the
// metaverse attribute's type or a list of it (each value is a candidate;
// no value means the group cannot join).
//
// # Functions
//
// Besides CEL's standard library, the cel-go extensions ext.Strings
// (lowerAscii, split, replace, format, …), ext.Lists (slice, flatten,
// sortBy, …), ext.Encoders (base64.encode/decode) and optional types,
// expressions can call:
//
//	guidString(bytes) string         AD objectGUID as text, mixed-endian: "00112233-4455-…"
//	sidString(bytes) string          binary SID as "S-1-5-21-…"
//	guidBytes(string) bytes          the inverse of guidString (a device id to msDS-DeviceID)
//	sidBytes(string) bytes           the inverse of sidString (an onPremisesSecurityIdentifier to msDS-RegisteredOwner)
//	base64(bytes) string             standard base64 (also convertToBase64(bytes|string))
//	bitAnd(int, int) int             bitwise and (CEL has no &)
//	bitOr(int, int) int              bitwise or
//	isBitSet(int, int) bool          whether every bit of the flag is set: isBitSet(source.userAccountControl, 2)
//	dnComponent(string, int) string  unescaped value of the n-th RDN, from 1 at the left (Entra Connect's DNComponent)
//	dnComponentRev(string, int) string  the same, counting from the right
//	dnParent(string) string          the DN without its first RDN
//	escapeRDN(string) string         the value escaped for an RDN (RFC 4514: " + , ; < > \, leading # or space, trailing space, NUL)
//	rdn(string, string) string       attribute=escaped value: rdn("cn", source.displayName) + ",ou=users,dc=contoso,dc=com"
//	fileTimeToTime(int) timestamp    Windows FILETIME (accountExpires, pwdLastSet) to a time; 0 and "never" give 9999-12-31T23:59:59Z
//	coalesce(list(T)) T              the first element that is not null nor empty; null when none
//	Null(), AuthoritativeNull(), IgnoreThisFlow()   special results (above)
//
// Entra Connect's IIF is CEL's conditional, cond ? a : b.
//
// # Custom functions
//
// A program adds its own functions with NewCEL's options, declared with Go
// types (no cel-go types needed):
//
//	eval := rules.NewCEL(
//		rules.Function("normalizePhone", func(s string) string { … }),
//		rules.Function("normalizePhone", func(s, region string) (string, error) { … }), // an overload
//	)
//	set, err := rules.Compile(f.Rules, schemas, rules.Options{Evaluator: eval})
//	// or, for an engine: idbridge.Options{Evaluator: eval}
//
// Parameters and results may be string, int64 (or int), bool, []byte,
// time.Time (a timestamp) and []string (list(string)); a function may
// also return an error, which fails the evaluation with ErrEval. Calls are
// type-checked by Compile like any other: a call with an argument of
// another type is refused with its position (file:line:col and the
// column in the expression). Custom functions are called concurrently and
// must be safe for that; their cost counts one unit plus one per ten
// bytes (or list elements) of their arguments and result, expressions
// calling them are always evaluated with runtime cost tracking, and a
// result over Env.MaxValueSize fails with ErrValueTooLarge. Macros adds
// cel-go macros: an advanced escape hatch that takes cel-go's own types.
//
// Build DNs with rdn or escapeRDN, never by concatenating a value: a
// displayName "Mallory,ou=admins" in "cn=" + source.displayName + ",ou=users"
// makes a DN in another OU, and "x+uid=root" a multi-valued RDN; escaped,
// each stays one value of one RDN under the intended parent.
//
// # Cost
//
// Every expression has a cost limit (Options.CostLimit, DefaultCostLimit
// by default). Compile estimates each expression's worst cost assuming that
// attributes have at most 100 values of at most 256 bytes, and refuses one
// whose estimate exceeds the limit (nested loops over multi-valued
// attributes, typically). Evaluation of an object within those assumptions
// needs no runtime cost tracking; any other evaluation is tracked and
// stops with ErrCostLimit when it exceeds the limit.
//
// Sizes are bounded too, so that a hostile value cannot exhaust memory
// before the cost is counted: each string, bytes or reference value an
// expression reads, and the DN and anchor, must be at most
// Env.MaxValueSize bytes (DefaultMaxValueSize, 1 MiB); and the functions
// that build larger values than they read — replace, join, format, string,
// bytes and list concatenation — predict their result's size before they
// allocate and refuse one over the same limit. Both fail the evaluation
// with ErrValueTooLarge (and ErrEval), naming the attribute or the
// function. Evaluation honours its context: comprehensions check it every
// 100 iterations and stop with the context's error.
//
// # Other expression languages
//
// Options.Evaluator plugs another language: an Evaluator compiles an
// expression for an Env (the source and target types and the expected
// ResultType) into a Program, which evaluates it on an Input.
//
// # Errors
//
// Parse returns *ParseError values (matching ErrSyntax), joined, each with
// its file:line:col. Compile returns every problem found, joined, each a
// *CompileError (matching ErrInvalidRule) naming the position of the rule,
// flow or join condition, the rule, the flow target, the expression and,
// for CEL errors, the column in the expression; estimated costs over the
// limit also match ErrCostLimit. Evaluation errors are *EvalError values
// naming the rule and the flow target (or "scope", "join <attr>"),
// wrapping ErrEval, ErrCostLimit or the context's error. Flows and
// DeprovisionFlows return the results of the flows that succeeded along
// with the errors of the others.
//
// # Concurrency
//
// A Set and its Compiled rules are immutable and safe for concurrent use
// by any number of goroutines; expressions are compiled once, in Compile,
// and evaluation allocates little (an object's attributes are converted
// only when an expression reads them). Inputs are only read, and must not
// be modified during an evaluation. The CEL Evaluator may be shared by
// concurrent Compile calls; any Evaluator's Programs are evaluated
// concurrently.
package rules
