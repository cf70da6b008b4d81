package main

// -s: the kernel's protocol counters (netstat.ReadStats), worded as
// net-tools 2.10 words them. --json writes an object per group shown and
// --csv a record per counter, by the kernel's names: README.md's "-s
// --json" says their keys.

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/netstat"
)

// statKind is how net-tools prints a counter (its enum State).
type statKind uint8

const (
	kNumber    statKind = iota // always
	kOptNumber                 // only when not zero
	kInICMP                    // under "ICMP input histogram:", when not zero
	kOutICMP                   // under "ICMP output histogram:", when not zero
)

// statIndent and statTitle are net-tools' states[] table.
var statIndent = [...]int{kNumber: 4, kOptNumber: 4, kInICMP: 8, kOutICMP: 8}
var statTitle = [...]string{kInICMP: "ICMP input histogram:", kOutICMP: "ICMP output histogram:"}

type statEntry struct {
	name string
	out  string   // "%llu …" with the value where %d stands; "" prints nothing
	kind statKind // a kind with a title (statTitle) is net-tools' I_TITLE
}

// statTable is one of net-tools' tables. Entries keep net-tools' order,
// which is not quite sorted: lookups go through the same binary search
// net-tools uses (bsearch), so the counters it misses ("Forwarding",
// "TCPTimeouts", …) fall back to "Name: value" exactly as there.
type statTable struct {
	title   string
	entries []statEntry
	proto   func(c *config) bool
}

// find is glibc's bsearch with strcmp over the table as it stands.
func (t *statTable) find(name string) *statEntry {
	lo, hi := 0, len(t.entries)
	for lo < hi {
		mid := (lo + hi) / 2
		switch c := strings.Compare(name, t.entries[mid].name); {
		case c < 0:
			hi = mid
		case c > 0:
			lo = mid + 1
		default:
			return &t.entries[mid]
		}
	}
	return nil
}

var ipTab = []statEntry{
	// net-tools' I_STATIC entries ("Default TTL is %d", "Forwarding is
	// %s", "RTO algorithm is %s") are never printed.
	{"DefaultTTL", "", kNumber},
	{"Forwarding", "", kNumber},
	{"ForwDatagrams", "%d forwarded", kNumber},
	{"FragCreates", "%d fragments created", kOptNumber},
	{"FragFails", "%d outgoing packets failed fragmentation", kOptNumber},
	{"FragOKs", "%d outgoing packets fragmented ok", kOptNumber},
	{"InAddrErrors", "%d with invalid addresses", kOptNumber},
	{"InDelivers", "%d incoming packets delivered", kNumber},
	{"InDiscards", "%d incoming packets discarded", kNumber},
	{"InHdrErrors", "%d with invalid headers", kOptNumber},
	{"InReceives", "%d total packets received", kNumber},
	{"InUnknownProtos", "%d with unknown protocol", kOptNumber},
	{"OutDiscards", "%d outgoing packets dropped", kOptNumber},
	{"OutNoRoutes", "%d dropped because of missing route", kOptNumber},
	{"OutRequests", "%d requests sent out", kNumber},
	{"ReasmFails", "%d packet reassemblies failed", kOptNumber},
	{"ReasmOKs", "%d packets reassembled ok", kOptNumber},
	{"ReasmReqds", "%d reassemblies required", kOptNumber},
	{"ReasmTimeout", "%d fragments dropped after timeout", kOptNumber},
}

var ip6Tab = []statEntry{
	{"Ip6FragCreates", "%d fragments created", kOptNumber},
	{"Ip6FragFails", "%d outgoing packets failed fragmentation", kOptNumber},
	{"Ip6FragOKs", "%d outgoing packets fragmented ok", kOptNumber},
	{"Ip6InAddrErrors", "%d with invalid addresses", kOptNumber},
	{"Ip6InDelivers", "%d incoming packets delivered", kNumber},
	{"Ip6InDiscards", "%d incoming packets discarded", kNumber},
	{"Ip6InHdrErrors", "%d with invalid headers", kOptNumber},
	{"Ip6InMcastPkts", "%d incoming multicast packets", kOptNumber},
	{"Ip6InNoRoutes", "%d incoming packets with no route", kOptNumber},
	{"Ip6InReceives", "%d total packets received", kNumber},
	{"Ip6InTooBigErrors", "%d with packets too big", kOptNumber},
	{"Ip6InTruncatedPkts", "%d with truncated packets", kOptNumber},
	{"Ip6InUnknownProtos", "%d with unknown protocol", kOptNumber},
	{"Ip6OutDiscards", "%d outgoing packets dropped", kOptNumber},
	{"Ip6OutForwDatagrams", "%d forwarded", kNumber},
	{"Ip6OutMcastPkts", "%d outgoing multicast packets", kOptNumber},
	{"Ip6OutNoRoutes", "%d dropped because of missing route", kOptNumber},
	{"Ip6OutRequests", "%d requests sent out", kNumber},
	{"Ip6ReasmFails", "%d packet reassemblies failed", kOptNumber},
	{"Ip6ReasmOKs", "%d packets reassembled ok", kOptNumber},
	{"Ip6ReasmReqds", "%d reassemblies required", kOptNumber},
	{"Ip6ReasmTimeout", "%d fragments dropped after timeout", kOptNumber},
}

var icmpTab = []statEntry{
	{"InAddrMaskReps", "address mask replies: %d", kInICMP},
	{"InAddrMasks", "address mask request: %d", kInICMP},
	{"InDestUnreachs", "destination unreachable: %d", kInICMP},
	{"InEchoReps", "echo replies: %d", kInICMP},
	{"InEchos", "echo requests: %d", kInICMP},
	{"InErrors", "%d input ICMP message failed", kNumber},
	{"InMsgs", "%d ICMP messages received", kNumber},
	{"InParmProbs", "wrong parameters: %d", kInICMP},
	{"InRedirects", "redirects: %d", kInICMP},
	{"InSrcQuenchs", "source quenches: %d", kInICMP},
	{"InTimeExcds", "timeout in transit: %d", kInICMP},
	{"InTimestampReps", "timestamp reply: %d", kInICMP},
	{"InTimestamps", "timestamp request: %d", kInICMP},
	{"OutAddrMaskReps", "address mask replies: %d", kOutICMP},
	{"OutAddrMasks", "address mask requests: %d", kOutICMP},
	{"OutDestUnreachs", "destination unreachable: %d", kOutICMP},
	{"OutEchoReps", "echo replies: %d", kOutICMP},
	{"OutEchos", "echo requests: %d", kOutICMP},
	{"OutErrors", "%d ICMP messages failed", kNumber},
	{"OutMsgs", "%d ICMP messages sent", kNumber},
	{"OutParmProbs", "wrong parameters: %d", kOutICMP},
	{"OutRedirects", "redirect: %d", kOutICMP},
	{"OutSrcQuenchs", "source quench: %d", kOutICMP},
	{"OutTimeExcds", "time exceeded: %d", kOutICMP},
	{"OutTimestampReps", "timestamp replies: %d", kOutICMP},
	{"OutTimestamps", "timestamp requests: %d", kOutICMP},
}

var icmp6Tab = []statEntry{
	{"Icmp6InDestUnreachs", "destination unreachable: %d", kInICMP},
	{"Icmp6InEchoReplies", "echo replies: %d", kInICMP},
	{"Icmp6InEchos", "echo requests: %d", kInICMP},
	{"Icmp6InErrors", "%d input ICMP message failed", kNumber},
	{"Icmp6InGroupMembQueries", "group member queries: %d", kInICMP},
	{"Icmp6InGroupMembReductions", "group member reductions: %d", kInICMP},
	{"Icmp6InGroupMembResponses", "group member responses: %d", kInICMP},
	{"Icmp6InMsgs", "%d ICMP messages received", kNumber},
	{"Icmp6InNeighborAdvertisements", "neighbour advertisement: %d", kInICMP},
	{"Icmp6InNeighborSolicits", "neighbour solicits: %d", kInICMP},
	{"Icmp6InParmProblems", "parameter problem: %d", kInICMP},
	{"Icmp6InPktTooBigs", "packets too big: %d", kInICMP},
	{"Icmp6InRedirects", "redirects: %d", kInICMP},
	{"Icmp6InRouterAdvertisements", "router advertisement: %d", kInICMP},
	{"Icmp6InRouterSolicits", "router solicits: %d", kInICMP},
	{"Icmp6InTimeExcds", "received ICMPv6 time exceeded: %d", kInICMP},
	{"Icmp6OutDestUnreachs", "destination unreachable: %d", kOutICMP},
	{"Icmp6OutEchoReplies", "echo replies: %d", kOutICMP},
	{"Icmp6OutEchos", "echo requests: %d", kOutICMP},
	{"Icmp6OutGroupMembQueries", "group member queries: %d", kOutICMP},
	{"Icmp6OutGroupMembReductions", "group member reductions: %d", kOutICMP},
	{"Icmp6OutGroupMembResponses", "group member responses: %d", kOutICMP},
	{"Icmp6OutMsgs", "%d ICMP messages sent", kNumber},
	{"Icmp6OutNeighborAdvertisements", "neighbor advertisements: %d", kOutICMP},
	{"Icmp6OutNeighborSolicits", "neighbor solicits: %d", kOutICMP},
	{"Icmp6OutParmProblems", "parameter problem: %d", kOutICMP},
	{"Icmp6OutPktTooBigs", "packets too big: %d", kOutICMP},
	{"Icmp6OutRedirects", "redirects: %d", kOutICMP},
	// The trailing space is net-tools' own: the kernel's counter never
	// matches this entry.
	{"Icmp6OutRouterAdvertisements ", "router advertisement: %d", kOutICMP},
	{"Icmp6OutRouterSolicits", "router solicits: %d", kOutICMP},
	{"Icmp6OutTimeExcds", "sent ICMPv6 time exceeded: %d", kOutICMP},
}

var tcpTab = []statEntry{
	{"ActiveOpens", "%d active connection openings", kNumber},
	{"AttemptFails", "%d failed connection attempts", kNumber},
	{"CurrEstab", "%d connections established", kNumber},
	{"EstabResets", "%d connection resets received", kNumber},
	{"InErrs", "%d bad segments received", kNumber},
	{"InSegs", "%d segments received", kNumber},
	{"MaxConn", "", kNumber},
	{"OutRsts", "%d resets sent", kNumber},
	{"OutSegs", "%d segments sent out", kNumber},
	{"PassiveOpens", "%d passive connection openings", kNumber},
	{"RetransSegs", "%d segments retransmitted", kNumber},
	{"RtoAlgorithm", "", kNumber}, // I_STATIC
	{"RtoMax", "", kNumber},
	{"RtoMin", "", kNumber},
}

var udpTab = []statEntry{
	{"InDatagrams", "%d packets received", kNumber},
	{"InErrors", "%d packet receive errors", kNumber},
	{"NoPorts", "%d packets to unknown port received", kNumber},
	{"OutDatagrams", "%d packets sent", kNumber},
	{"RcvbufErrors", "%d receive buffer errors", kNumber},
	{"SndbufErrors", "%d send buffer errors", kNumber},
}

var udp6Tab = []statEntry{
	{"Udp6InDatagrams", "%d packets received", kNumber},
	{"Udp6InErrors", "%d packet receive errors", kNumber},
	{"Udp6NoPorts", "%d packets to unknown port received", kNumber},
	{"Udp6OutDatagrams", "%d packets sent", kNumber},
}

var tcpExtTab = []statEntry{
	{"DelayedACKLocked", "%d delayed acks further delayed because of locked socket", kOptNumber},
	{"DelayedACKLost", "Quick ack mode was activated %d times", kOptNumber},
	{"DelayedACKs", "%d delayed acks sent", kOptNumber},
	{"EmbryonicRsts", "%d resets received for embryonic SYN_RECV sockets", kOptNumber},
	{"ListenDrops", "%d SYNs to LISTEN sockets dropped", kOptNumber},
	{"ListenOverflows", "%d times the listen queue of a socket overflowed", kOptNumber},
	{"LockDroppedIcmps", "%d ICMP packets dropped because socket was locked", kOptNumber},
	{"OfoPruned", "%d packets dropped from out-of-order queue because of socket buffer overrun", kOptNumber},
	{"OutOfWindowIcmps", "%d ICMP packets dropped because they were out-of-window", kOptNumber},
	{"PAWSActive", "%d active connections rejected because of time stamp", kOptNumber},
	{"PAWSEstab", "%d packets rejected in established connections because of timestamp", kOptNumber},
	{"PAWSPassive", "%d passive connections rejected because of time stamp", kOptNumber},
	{"PruneCalled", "%d packets pruned from receive queue because of socket buffer overrun", kOptNumber},
	{"RcvPruned", "%d packets pruned from receive queue", kOptNumber},
	{"SockMallocOOM", "Ran %d times out of system memory during packet sending", kOptNumber},
	{"SyncookiesFailed", "%d invalid SYN cookies received", kOptNumber},
	{"SyncookiesRecv", "%d SYN cookies received", kOptNumber},
	{"SyncookiesSent", "%d SYN cookies sent", kOptNumber},
	{"TCPAbortFailed", "%d times unable to send RST due to no memory", kOptNumber},
	{"TCPAbortOnClose", "%d connections reset due to early user close", kOptNumber},
	{"TCPAbortOnData", "%d connections reset due to unexpected data", kOptNumber},
	{"TCPAbortOnLinger", "%d connections aborted after user close in linger timeout", kOptNumber},
	{"TCPAbortOnMemory", "%d connections aborted due to memory pressure", kOptNumber},
	{"TCPAbortOnSyn", "%d connections reset due to unexpected SYN", kOptNumber},
	{"TCPAbortOnTimeout", "%d connections aborted due to timeout", kOptNumber},
	{"TCPDirectCopyFromBacklog", "%d bytes directly in process context from backlog", kOptNumber},
	{"TCPDirectCopyFromPrequeue", "%d bytes directly received in process context from prequeue", kOptNumber},
	{"TCPDSACKOfoRecv", "%d DSACKs for out of order packets received", kOptNumber},
	{"TCPDSACKOfoSent", "%d DSACKs sent for out of order packets", kOptNumber},
	{"TCPDSACKOldSent", "%d DSACKs sent for old packets", kOptNumber},
	{"TCPDSACKRecv", "%d DSACKs received", kOptNumber},
	{"TCPDSackUndo", "%d congestion window recovered without slow start using DSACK", kOptNumber},
	{"TCPDSACKUndo", "%d congestion windows recovered without slow start by DSACK", kOptNumber},
	{"TCPFACKReorder", "Detected reordering %d times using FACK", kOptNumber},
	{"TCPFastRetrans", "%d fast retransmits", kOptNumber},
	{"TCPForwardRetrans", "%d forward retransmits", kOptNumber},
	{"TCPFullUndo", "%d congestion windows fully recovered without slow start", kOptNumber},
	{"TCPHPAcks", "%d predicted acknowledgments", kOptNumber},
	{"TCPHPHits", "%d packet headers predicted", kNumber},
	{"TCPHPHitsToUser", "%d packet headers predicted and directly queued to user", kOptNumber},
	{"TCPLossFailures", "%d timeouts in loss state", kOptNumber},
	{"TCPLoss", "%d TCP data loss events", kOptNumber},
	{"TCPLossUndo", "%d congestion windows recovered without slow start after partial ack", kOptNumber},
	{"TCPLostRetransmits", "%d retransmits lost", kOptNumber},
	{"TCPMemoryPressures", "TCP ran low on memory %d times", kOptNumber},
	{"TCPPartialUndo", "%d congestion windows partially recovered using Hoe heuristic", kOptNumber},
	{"TCPPrequeued", "%d packets directly queued to recvmsg prequeue", kOptNumber},
	{"TCPPrequeueDropped", "%d packets dropped from prequeue", kOptNumber},
	{"TCPPureAcks", "%d acknowledgments not containing data payload received", kOptNumber},
	{"TCPRcvCollapsed", "%d packets collapsed in receive queue due to low socket buffer", kOptNumber},
	{"TCPRenoFailures", "%d timeouts after reno fast retransmit", kOptNumber},
	{"TCPRenoRecoveryFailed", "%d reno fast retransmits failed", kOptNumber},
	{"TCPRenoRecoveryFail", "%d classic Reno fast retransmits failed", kOptNumber},
	{"TCPRenoRecovery", "%d times recovered from packet loss due to fast retransmit", kOptNumber},
	{"TCPRenoReorder", "Detected reordering %d times using reno fast retransmit", kOptNumber},
	{"TCPSackFailures", "%d timeouts after SACK recovery", kOptNumber},
	{"TCPSackRecoveryFail", "%d SACK retransmits failed", kOptNumber},
	{"TCPSackRecovery", "%d times recovered from packet loss by selective acknowledgements", kOptNumber},
	{"TCPSACKReneging", "%d bad SACK blocks received", kOptNumber},
	{"TCPSACKReorder", "Detected reordering %d times using SACK", kOptNumber},
	{"TCPSchedulerFailed", "%d times receiver scheduled too late for direct processing", kOptNumber},
	{"TCPSlowStartRetrans", "%d retransmits in slow start", kOptNumber},
	{"TCPTimeouts", "%d other TCP timeouts", kOptNumber},
	{"TCPTSReorder", "Detected reordering %d times using time stamp", kOptNumber},
	{"TWKilled", "%d TCP sockets finished time wait in slow timer", kOptNumber},
	{"TW", "%d TCP sockets finished time wait in fast timer", kOptNumber},
	{"TWRecycled", "%d time wait sockets recycled by time stamp", kOptNumber},
}

func rawOn(c *config) bool { return c.raw }
func tcpOn(c *config) bool { return c.tcp }
func udpOn(c *config) bool { return c.udp }

// snmpTabs and snmp6Tabs are net-tools' snmptabs and snmp6tabs.
var snmpTabs = []statTable{
	{"Ip", ipTab, rawOn}, {"Icmp", icmpTab, rawOn}, {"Tcp", tcpTab, tcpOn},
	{"Udp", udpTab, udpOn}, {"TcpExt", tcpExtTab, tcpOn},
}
var snmp6Tabs = []statTable{
	{"Ip6", ip6Tab, rawOn}, {"Icmp6", icmp6Tab, rawOn}, {"Udp6", udp6Tab, udpOn}, {"Tcp6", tcpTab, tcpOn},
}

// isSnmp6 reports whether a group came from proc/…/snmp6.
func isSnmp6(g *netstat.StatGroup) bool { return strings.HasSuffix(g.File, "snmp6") }

// shownGroup is a group -s prints, with the table that words it (nil for
// a group net-tools does not know, which it prints as "Name: value").
type shownGroup struct {
	g     *netstat.StatGroup
	tab   *statTable
	print bool // the group's protocol was asked for
}

// statGroups picks the groups net-tools prints, in its order: for IPv4
// proc/net/snmp and proc/net/netstat; for IPv6 (-6 alone) proc/net/snmp6
// then the Tcp group of proc/net/snmp.
func statGroups(c *config, st *netstat.Stats) []shownGroup {
	var out []shownGroup
	pick := func(g *netstat.StatGroup, tabs []statTable) {
		sg := shownGroup{g: g, print: true} // unknown groups always print
		if i := slices.IndexFunc(tabs, func(t statTable) bool { return t.title == g.Name }); i >= 0 {
			sg.tab, sg.print = &tabs[i], tabs[i].proto(c)
		}
		out = append(out, sg)
	}
	v6, tabs := c.statsFamily() == "inet6", snmpTabs
	if v6 {
		tabs = snmp6Tabs
	}
	for i := range st.Groups {
		if g := &st.Groups[i]; v6 == isSnmp6(g) {
			pick(g, tabs)
		}
	}
	if g := st.Group("Tcp"); v6 && g != nil { // snmp6 has no group of that name
		pick(g, snmpTabs)
	}
	return out
}

// statsFamily is the one family -s reads: "inet" unless one was named.
// As net-tools, -s knows "inet" or "inet6" alone; anything else (unix,
// both families, a family named twice) is returned as the list.
func (c *config) statsFamily() string {
	if len(c.families) == 0 {
		return "inet"
	}
	return strings.Join(c.families, ",")
}

func statistics(c *config, stdout, stderr io.Writer) error {
	if f := c.statsFamily(); f != "inet" && f != "inet6" {
		return errors.New("no statistics support for specified address family: " + f)
	}
	appendStats := appendStatsText
	switch {
	case c.json:
		appendStats = appendStatsJSON
	case c.csv:
		appendStats = appendStatsCSV
	}
	return c.every(func() (bool, error) {
		st, err := netstat.ReadStats(c.root, 0) // st holds what could be read
		failed := report(stderr, err)
		if _, err := stdout.Write(appendStats(nil, statGroups(c, st))); err != nil {
			return true, err
		}
		return false, failed
	})
}

// appendStatsText is net-tools' newtable/printval state machine.
func appendStatsText(b []byte, groups []shownGroup) []byte {
	state := kNumber
	for _, sg := range groups {
		if sg.tab != nil {
			state = kNumber // newtable resets the state for a known table only
		}
		if !sg.print {
			continue
		}
		b = append(append(b, sg.g.Name...), ":\n"...)
		prefix := ""
		if isSnmp6(sg.g) {
			prefix = sg.g.Name
		}
		for _, s := range sg.g.Stats {
			name := prefix + s.Name
			val := uint64(s.Value) // net-tools reads with strtoull
			var ent *statEntry
			if sg.tab != nil {
				ent = sg.tab.find(name)
			}
			if ent == nil {
				if val != 0 {
					b = fmt.Appendf(b, "%*s%s: %d\n", statIndent[state], "", sanitize(name), val)
				}
				continue
			}
			if ent.out == "" {
				continue
			}
			kind := ent.kind
			if statTitle[kind] != "" && state != kind {
				b = fmt.Appendf(b, "%*s%s\n", statIndent[state], "", statTitle[kind])
			}
			if kind == kNumber || val != 0 {
				b = fmt.Appendf(b, "%*s"+ent.out+"\n", statIndent[kind], "", val)
			}
			state = kind
		}
	}
	return b
}

func appendStatsJSON(b []byte, groups []shownGroup) []byte {
	for _, sg := range groups {
		if !sg.print {
			continue
		}
		counters := []byte{'{'}
		for i, s := range sg.g.Stats {
			if i > 0 {
				counters = append(counters, ',')
			}
			counters = strconv.AppendInt(append(escape.AppendJSON(counters, s.Name), ':'), s.Value, 10)
		}
		b = appendFields(b, []field{textField("group", sg.g.Name), textField("file", sg.g.File),
			{"counters", string(append(counters, '}')), fRaw}}, false)
	}
	return b
}

func appendStatsCSV(b []byte, groups []shownGroup) []byte {
	b = appendCSV(b, []string{"group", "file", "name", "value"})
	for _, sg := range groups {
		if !sg.print {
			continue
		}
		group, file := sanitize(sg.g.Name), sanitize(sg.g.File)
		for _, s := range sg.g.Stats {
			b = appendCSV(b, []string{group, file, sanitize(s.Name), strconv.FormatInt(s.Value, 10)})
		}
	}
	return b
}
