// Package admin is a web page for the operators of an embedded idbridge
// engine: an http.Handler that a product mounts next to its own pages,
// like the Synchronization Service Manager of Entra Connect.
//
// The pages are rendered on the server with html/template from templates
// and static files embedded in the binary (no Node build, nothing to
// deploy besides the program), with a little plain JavaScript that only
// adds comfort (a filter box over tables, a confirmation before actions):
//
//   - the dashboard: the runs in progress (objects done, rate, time left;
//     with a Live given the engine's progress hook), each connector's
//     state (active or in quarantine, with the reason, the next try and
//     the failed tries), last run and pending exports, and the last runs
//     of all connectors;
//   - the run history, a page at a time, by connector, profile and
//     outcome, with a chart of the duration and the number of objects
//     changed of each run (inline SVG drawn on the server);
//   - the objects in error now: failed imports and syncs, and exports the
//     connected systems refused (failed, or parked when for good);
//   - a search of the connector spaces (by ID, anchor or DN exactly, or by
//     text in DNs and values) and of the metaverse (by ID or text);
//   - a connector-space object: its imported attributes, pending import,
//     pending export and link; and a metaverse entry with its lineage: the
//     connector and rule whose flow set each attribute, and every linked
//     object with the rule that made the link; with an Explainer (the
//     engine is one), every flow that contributed to each attribute and
//     why it won or lost, what the outbound rules make of the entry and
//     the export that results, and for a disconnector the join rules it
//     tried, the values they looked up and the entries they found;
//   - the pending exports of each connector (Entra Connect's csexport).
//
// Mount it under a path ending in a slash; every link is relative:
//
//	mux.Handle("/admin/", http.StripPrefix("/admin", admin.New(engine, admin.Options{})))
//
// # Data source
//
// The pages read a Source, which *idbridge.Engine satisfies: its run
// history, current object errors, quarantines and pending exports, and
// the store, only through Store().View, for searches and object pages;
// they never write it. Actions need an optional capability of the Source,
// probed by type assertion: Cycler to run a cycle, ExportRetrier to retry
// exports, QuarantineClearer to clear a quarantine; without it the action
// is not offered. The full lineage needs Explainer; without it the pages show
// the stored lineage only (the winning connector and rule, the links).
//
// # Security
//
// The handler does no authentication: the product wraps it in its own
// middleware, as it does its other pages. The pages are read-only unless
// Options.Authorizer is set; every action is then a POST that must carry
// the page's anti-forgery token (an HMAC of a per-browser cookie under
// Options.CSRFKey) and pass http.CrossOriginProtection, and the Authorizer
// decides whether the request may do it. Every value from a connected
// system is escaped by html/template. Attributes that hold credentials
// (Options.HideAttribute, DefaultHideAttribute) are shown as "hidden" and
// are not searched. Each page sends a Content-Security-Policy that allows
// only the handler's own scripts and style sheet.
//
// # Errors
//
// A page that cannot read its data answers 500 and logs the error to
// Options.Logger (the error text may name internals, so the page does not
// show it); an unknown object, entry or connector answers 404, a stale
// page cursor 400. A refused action answers 403 with ErrActionsDisabled,
// ErrCSRF or the Authorizer's error; an action the Source cannot do, 501
// with ErrUnsupported; clearing a connector that is not in quarantine,
// 409; a form over 16 KiB, 413. An action that ran and failed (a cycle with failed runs) answers
// 200 with what failed.
//
// # Concurrency
//
// A Handler is safe for concurrent use. Actions run in the request's
// goroutine and end with its context: a cycle started from the page stops
// when the browser goes away (after the run in progress, as
// idbridge.Engine.Cycle does). The lineage of an object or entry page
// waits for a run in progress, as Engine.Explain does, bounded by the
// request's context.
package admin
