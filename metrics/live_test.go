package metrics

import (
	"net"
	"strconv"
	"testing"

	"github.com/procnet/procnet/netstat"
)

// TestSeriesBoundLive opens 1,000 ephemeral listeners on loopback: none
// gets a series of its own, the aggregate counts them all, and the
// series stay within the documented bound.
func TestSeriesBoundLive(t *testing.T) {
	o := Options{NoUnix: true, Filter: netstat.Filter{Protos: netstat.Protos(netstat.TCP)}}
	before := collect(t, New(o))
	was, _ := value(before, "procnet_other_listening_sockets")
	ports := map[string]bool{}
	for range 1000 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)] = true
	}
	fams := collect(t, New(o))
	// The host's other listeners may close meanwhile (tests of other
	// packages run beside this one): ours are the 1000 sure to be there.
	if now, _ := value(fams, "procnet_other_listening_sockets"); now < 1000 {
		t.Errorf("procnet_other_listening_sockets: %v before, %v with 1000 more listeners", was, now)
	}
	total := 0
	for _, mf := range fams {
		total += len(mf.Metric)
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "port" && ports[l.GetValue()] {
					t.Errorf("%s has a series for ephemeral port %s", mf.GetName(), l.GetValue())
				}
			}
		}
	}
	if b := bound(o); total > b {
		t.Errorf("%d series, beyond the documented bound %d", total, b)
	}
	t.Logf("%d series with 1000 ephemeral listeners (bound %d)", total, bound(o))
}
