package procnet_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"os"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
)

// events is a Drainer giving a list of events once, as a feed would have
// them between two polls. On the live system, Poller.StartFeed starts a
// real one (flows.Start).
type events []flows.Event

func (e *events) Drain(dst []flows.Event) ([]flows.Event, error) {
	dst = append(dst, *e...)
	*e = nil
	return dst, nil
}

// With a connection feed a poll also tells of the connections that
// opened and closed since the last one, which no poll could see, and
// Changes.All lists a round's rows as a watch shows them.
func ExamplePoller_SetFeed() {
	dir := root("feed.txtar")
	defer os.RemoveAll(dir)
	p := procnet.NewPoller(procnet.Options{Root: dir, Owners: true,
		Filter: netstat.Filter{Protos: netstat.Protos(netstat.TCP)}})
	feed := &events{}
	p.SetFeed(feed, procnet.FeedOptions{})
	ctx := context.Background()
	if _, _, err := p.Poll(ctx); err != nil {
		log.Fatal(err)
	}

	// Between the polls, curl (PID 42) connected to port 80, sent 400
	// bytes and closed.
	*feed = events{{Kind: flows.Close, Proto: netstat.TCP, PID: 42, Program: "curl",
		Local:   netip.MustParseAddrPort("127.0.0.1:80"),
		Remote:  netip.MustParseAddrPort("127.0.0.1:6000"),
		Traffic: netstat.Traffic{Known: true, BytesSent: 400}}}
	snap, changes, err := p.Poll(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for r := range changes.All(snap) {
		name := "-"
		if len(r.Owners) > 0 {
			name = r.Procs.Process(r.Owners[0].PID).Comm
		}
		fmt.Printf("%q %v %v %v %s\n", r.Mark.String(), r.Local, r.Remote, r.State, name)
	}
	// Output:
	// "none" 127.0.0.1:80 0.0.0.0:0 LISTEN -
	// "none" 127.0.0.1:5001 127.0.0.1:80 ESTABLISHED client
	// "none" 127.0.0.1:5002 127.0.0.1:80 ESTABLISHED client
	// "brief" 127.0.0.1:80 127.0.0.1:6000 CLOSE curl
}
