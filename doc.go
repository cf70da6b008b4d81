// Package procnet joins the kernel's socket tables with the processes that
// own them: what `netstat -tunap --all-netns` shows, as Go values.
//
// The parsers live in subpackages — netstat reads the socket tables,
// procmap finds which processes hold each socket — and procnet is the
// join: one call reads the tables of one network namespace or of every
// one, finds the owners with one walk of the processes, and hands back
// each socket with its owners and namespace.
//
//	snap, err := procnet.Read(ctx, procnet.Options{Owners: true, AllNamespaces: true})
//	if snap == nil {
//		return err // else err holds the rows that could not be parsed
//	}
//	for _, c := range snap.Conns {
//		for _, o := range c.Owners {
//			fmt.Println(c.Proto, c.Local, c.Remote, c.State, o.PID, snap.Process(o.PID).Name())
//		}
//	}
//
// # Snapshots and streams
//
// Reader.Snapshot holds every row in memory: what counts and comparisons
// need. A Stream (Reader.Stream, or Reader.Conns for the Internet rows
// alone) reads the owners first and then the rows, joining each as it is
// read: a listing of any size then costs the owner map and one buffer, as
// `netstat -tanp` does, not every row.
//
// # Options
//
// Options say what to read: the root (a fixture tree or a container's
// root; "" for the live system), the netstat.Filter applied inside the
// scan, unix sockets or not, owners or not (and their argv), only the
// sockets of some PIDs or programs, and one namespace (that of a PID) or
// all of them. The zero Options read the live system's Internet sockets
// of the caller's namespace, without owners.
//
// # Counts
//
// Count groups a snapshot's Internet sockets per process, per program,
// per remote address, per local port or by state, and tallies each group's
// states; a Counter does the same over a stream. One rule holds for
// shared sockets (after fork, in prefork servers, after SCM_RIGHTS): a
// socket counts once in each group it belongs to. A shared socket belongs
// to the group of each distinct owner key (PID, or program name), so it
// may count in several groups but never twice in one; totals count each
// socket once. A socket without a visible owner belongs to the group with
// PID 0 (program ""). An output of one line per socket names its first
// owner and counts the other processes (FirstOwner).
//
// # Changes
//
// A Poller reads a snapshot each time Poll is called and reports what
// changed since the last: new sockets, closed sockets and sockets whose
// state changed. A connection is known by its namespace, protocol,
// addresses and ports and, among rows with the same ends (SO_REUSEPORT
// listeners), by its inode; a connection that fell to TIME_WAIT (whose row
// then has inode 0 and no owner) is the same connection with a changed
// state, and keeps the owners it had. Owners come from a procmap.Tracker,
// which re-reads only what may have changed. The Poller holds none of the
// snapshots it returns: of the last it keeps only what the next poll
// compares with, about a third of the rows' size, and gives the rows that
// closed back whole. It reads and compares the rows in that compact form;
// PollRound returns them so (a Round), decoded one at a time, for a caller
// that goes over each row once or twice and would rather not hold them
// all as Conns.
//
// # Capture
//
// Capture writes the smallest fixture tree from which the same Options
// read the same snapshot: the tables, the namespace links and only the
// processes that own the selected sockets. It is safe as root (the
// directory is opened once and written through that handle, without
// following links; each file is bounded) and a Capturer adds what a
// program needs beside the sockets (route tables, interface attributes,
// etc/ files). procnettest turns the tree into a txtar fixture for golden
// tests and back.
//
// # Watching
//
// Changes.All gives a poll's rows (a Snapshot's or a Round's: Rows) as a
// watch shows them, each with its Mark, closed rows where they were;
// GroupWatch counts each poll into groups marked against the last poll's
// (CompareGroups). Polling misses
// what is shorter than a poll: given a connection feed (package flows:
// Poller.StartFeed, or SetFeed with any Drainer), a poll also reports the
// connections that opened and closed since the last (Changes.Brief,
// NewClosed), meters each row's and each owner's traffic with a
// flows.Meter (Changes.Traffic, Owners; AddTraffic gives groups theirs)
// and, told of every state change, skips reading when nothing happened
// (FeedOptions.SkipQuiet).
//
// # Cancellation
//
// Every call takes a context.Context. Reading stops within a few hundred
// rows, and the process walk between two processes, once it is done; the
// call then returns ctx.Err().
//
// # Errors
//
// A row that cannot be parsed is a *netstat.ParseError and the rows
// around it are kept: Snapshot returns the snapshot with the errors
// joined, and the streams yield them between the rows. An error that
// stops the reading (proc cannot be listed, the namespace of NamespacePID
// cannot be read, ctx done) returns a nil snapshot. With AllNamespaces,
// the namespaces that could not be read are told in Skipped.
//
// # Concurrency
//
// A Reader or a Poller is not safe for concurrent use: use one per
// goroutine. A Snapshot and the Changes a Poll returns are never modified
// afterwards and may be shared read-only, but for Changes.Traffic and
// Owners, which the next Poll reuses.
package procnet
