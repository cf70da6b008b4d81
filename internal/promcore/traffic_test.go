package promcore

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/procnet/procnet/netstat"
)

func key(port uint16) connKey {
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	return connKey{netstat.TCP, netip.AddrPortFrom(lo, port), netip.AddrPortFrom(lo, 80)}
}

func tr(sent, recv uint64) netstat.Traffic {
	return netstat.Traffic{BytesSent: sent, BytesReceived: recv, Known: true}
}

// sums is the ledger's series: program → sent, received ("" the fold).
func sums(l *ledger) map[string][2]uint64 {
	m := map[string][2]uint64{"": l.fold}
	for p, a := range l.kept {
		m[p] = *a
	}
	return m
}

// TestLedgerCases walks the cases of the monotonicity rule one by one.
func TestLedgerCases(t *testing.T) {
	now := time.Unix(1e9, 0)
	l := newLedger(10)
	scrape := func(f func()) {
		l.begin()
		f()
		l.prune(now)
	}
	want := func(step, prog string, sent, recv uint64) {
		t.Helper()
		if got := sums(l)[prog]; got != [2]uint64{sent, recv} {
			t.Errorf("%s: %q has %v, want [%d %d]", step, prog, got, sent, recv)
		}
	}
	// Listed at scrape 1, closed before scrape 2: final bytes once.
	scrape(func() { l.live(key(1000), 7, tr(100, 10), []string{"curl"}, now) })
	want("listed", "curl", 100, 10)
	l.closed(key(1000), tr(250, 30), "other", now)
	want("closed", "curl", 250, 30)
	// The close tracepoint fires just before the socket leaves the
	// table: a read that still lists it adds nothing.
	scrape(func() { l.live(key(1000), 7, tr(250, 30), []string{"curl"}, now) })
	want("listed after close", "curl", 250, 30)
	// The same 4-tuple reused by a new socket: a new connection.
	scrape(func() { l.live(key(1000), 8, tr(5, 0), []string{"curl"}, now) })
	want("4-tuple reused", "curl", 255, 30)
	// The inode number reused on other addresses: a new connection.
	scrape(func() { l.live(key(1001), 8, tr(1, 1), []string{"curl"}, now) })
	want("inode reused", "curl", 256, 31)
	// The owner changes (fd passed): the old program keeps its bytes,
	// the new one gets what moves after.
	scrape(func() { l.live(key(1002), 9, tr(40, 0), []string{"sshd"}, now) })
	scrape(func() { l.live(key(1002), 9, tr(70, 0), []string{"bash"}, now) })
	want("owner before", "sshd", 40, 0)
	want("owner after", "bash", 30, 0)
	// A shared connection counts for each distinct program once.
	scrape(func() { l.live(key(1003), 10, tr(9, 9), []string{"nginx", "nginx2"}, now) })
	want("shared a", "nginx", 9, 9)
	want("shared b", "nginx2", 9, 9)
	// Never listed: the event's program gets the final bytes.
	l.closed(key(1004), tr(3, 4), "wget", now)
	want("never listed", "wget", 3, 4)
	// No owner: the fold.
	scrape(func() { l.live(key(1005), 11, tr(6, 6), nil, now) })
	want("unowned", "", 6, 6)
	// Counters that go back (a source that reads less): nothing falls.
	scrape(func() { l.live(key(1005), 11, tr(2, 2), nil, now) })
	want("smaller", "", 6, 6)
	// Unlisted for staleAfter with no close event: forgotten.
	now = now.Add(staleAfter + time.Second)
	scrape(func() {})
	if len(l.conns) != 0 {
		t.Errorf("%d connections kept after staleAfter", len(l.conns))
	}
}

// TestLedgerMonotonic runs random histories — connections that grow,
// change owner, close with their events delivered late, 4-tuples and
// inodes reused, more programs than the bound — and checks that no
// series ever falls and that, once every connection closed, the series
// add up to exactly the bytes moved.
func TestLedgerMonotonic(t *testing.T) {
	type live struct {
		k          connKey
		inode      uint64
		sent, recv uint64
		prog       string
	}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		l := newLedger(3)
		now := time.Unix(1e9, 0)
		var open []*live
		type pending struct {
			k    connKey
			sent uint64
			recv uint64
			prog string
			at   time.Time
		}
		var queue []pending
		var total [2]uint64
		inode := uint64(0)
		prev := map[string][2]uint64{}
		check := func(step int) {
			for p, v := range sums(l) {
				if w := prev[p]; v[0] < w[0] || v[1] < w[1] {
					t.Fatalf("seed %d step %d: %q fell from %v to %v", seed, step, p, w, v)
				}
				prev[p] = v
			}
		}
		for step := range 400 {
			now = now.Add(time.Second)
			switch op := r.IntN(10); {
			case op < 3: // a new connection (4-tuples reused often)
				k := key(uint16(2000 + r.IntN(8)))
				if slices.ContainsFunc(open, func(c *live) bool { return c.k == k }) {
					continue // a 4-tuple has one open connection at a time
				}
				inode++
				n := inode
				if r.IntN(5) == 0 && n > 3 {
					n -= 3 // an inode number reused (on other addresses)
					if slices.ContainsFunc(l.conns[k], func(c *conn) bool { return c.inode == n }) {
						n = inode
					}
				}
				open = append(open, &live{k: k, inode: n, prog: "p" + strconv.Itoa(r.IntN(6))})
			case op < 6 && len(open) > 0: // traffic
				c := open[r.IntN(len(open))]
				s, v := uint64(r.IntN(1000)), uint64(r.IntN(1000))
				c.sent += s
				c.recv += v
				total[0] += s
				total[1] += v
			case op < 7 && len(open) > 0: // the owner changes
				open[r.IntN(len(open))].prog = "p" + strconv.Itoa(r.IntN(6))
			case op < 8 && len(open) > 0: // a close, its event queued
				i := r.IntN(len(open))
				c := open[i]
				queue = append(queue, pending{c.k, c.sent, c.recv, c.prog, now})
				open = append(open[:i], open[i+1:]...)
			case op < 9: // events delivered
				for _, e := range queue {
					l.closed(e.k, tr(e.sent, e.recv), e.prog, e.at)
				}
				queue = queue[:0]
			default: // a scrape
				l.begin()
				for _, c := range open {
					l.live(c.k, c.inode, tr(c.sent, c.recv), []string{c.prog}, now)
				}
				l.prune(now)
				check(step)
			}
		}
		for _, c := range open {
			queue = append(queue, pending{c.k, c.sent, c.recv, c.prog, now})
		}
		for _, e := range queue {
			l.closed(e.k, tr(e.sent, e.recv), e.prog, e.at)
		}
		l.begin()
		l.prune(now)
		check(-1)
		var got [2]uint64
		for _, v := range sums(l) {
			got[0] += v[0]
			got[1] += v[1]
		}
		if got != total {
			t.Fatalf("seed %d: series add up to %v, the connections moved %v", seed, got, total)
		}
		if len(l.kept) > 3 {
			t.Fatalf("seed %d: %d programs kept, bound 3", seed, len(l.kept))
		}
	}
}
