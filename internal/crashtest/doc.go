// Package crashtest holds the kill-and-restart test of the engine with its
// persistent stores (boltstore, pgstore): a sync cycle runs in a child
// process that kills itself with SIGKILL at a chosen point — while an
// import stages objects, in the middle of a sync, between an export and the
// store recording its result — and is then restarted. The test checks that
// the target received every change exactly once, that the metaverse and
// connector spaces equal those of a clean run, and that no import
// watermark skipped a change.
//
// Dir, the connected system of the test, keeps its objects in an
// append-only journal file, so that it survives the kills like a real
// directory and can say how often each change was applied.
//
// # Errors
//
// Dir reports a change it cannot apply as a *connector.ObjectError wrapping
// connector.ErrAlreadyExists (an add of a DN that exists) or
// connector.ErrNoSuchObject, as a directory would; a journal that cannot be
// read or written fails the call.
//
// # Concurrency
//
// A Dir is safe for concurrent use; the engine calls it from one run at a
// time.
package crashtest
