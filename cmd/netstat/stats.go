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

func num(name, out string) statEntry     { return statEntry{name: name, out: out, kind: kNumber} }
func opt(name, out string) statEntry     { return statEntry{name: name, out: out, kind: kOptNumber} }
func icmpIn(name, out string) statEntry  { return statEntry{name: name, out: out, kind: kInICMP} }
func icmpOut(name, out string) statEntry { return statEntry{name: name, out: out, kind: kOutICMP} }

var ipTab = []statEntry{
	// net-tools' I_STATIC entries ("Default TTL is %d", "Forwarding is
	// %s", "RTO algorithm is %s") are never printed.
	num("DefaultTTL", ""),
	num("Forwarding", ""),
	num("ForwDatagrams", "%d forwarded"),
	opt("FragCreates", "%d fragments created"),
	opt("FragFails", "%d outgoing packets failed fragmentation"),
	opt("FragOKs", "%d outgoing packets fragmented ok"),
	opt("InAddrErrors", "%d with invalid addresses"),
	num("InDelivers", "%d incoming packets delivered"),
	num("InDiscards", "%d incoming packets discarded"),
	opt("InHdrErrors", "%d with invalid headers"),
	num("InReceives", "%d total packets received"),
	opt("InUnknownProtos", "%d with unknown protocol"),
	opt("OutDiscards", "%d outgoing packets dropped"),
	opt("OutNoRoutes", "%d dropped because of missing route"),
	num("OutRequests", "%d requests sent out"),
	opt("ReasmFails", "%d packet reassemblies failed"),
	opt("ReasmOKs", "%d packets reassembled ok"),
	opt("ReasmReqds", "%d reassemblies required"),
	opt("ReasmTimeout", "%d fragments dropped after timeout"),
}

var ip6Tab = []statEntry{
	opt("Ip6FragCreates", "%d fragments created"),
	opt("Ip6FragFails", "%d outgoing packets failed fragmentation"),
	opt("Ip6FragOKs", "%d outgoing packets fragmented ok"),
	opt("Ip6InAddrErrors", "%d with invalid addresses"),
	num("Ip6InDelivers", "%d incoming packets delivered"),
	num("Ip6InDiscards", "%d incoming packets discarded"),
	opt("Ip6InHdrErrors", "%d with invalid headers"),
	opt("Ip6InMcastPkts", "%d incoming multicast packets"),
	opt("Ip6InNoRoutes", "%d incoming packets with no route"),
	num("Ip6InReceives", "%d total packets received"),
	opt("Ip6InTooBigErrors", "%d with packets too big"),
	opt("Ip6InTruncatedPkts", "%d with truncated packets"),
	opt("Ip6InUnknownProtos", "%d with unknown protocol"),
	opt("Ip6OutDiscards", "%d outgoing packets dropped"),
	num("Ip6OutForwDatagrams", "%d forwarded"),
	opt("Ip6OutMcastPkts", "%d outgoing multicast packets"),
	opt("Ip6OutNoRoutes", "%d dropped because of missing route"),
	num("Ip6OutRequests", "%d requests sent out"),
	opt("Ip6ReasmFails", "%d packet reassemblies failed"),
	opt("Ip6ReasmOKs", "%d packets reassembled ok"),
	opt("Ip6ReasmReqds", "%d reassemblies required"),
	opt("Ip6ReasmTimeout", "%d fragments dropped after timeout"),
}

var icmpTab = []statEntry{
	icmpIn("InAddrMaskReps", "address mask replies: %d"),
	icmpIn("InAddrMasks", "address mask request: %d"),
	icmpIn("InDestUnreachs", "destination unreachable: %d"),
	icmpIn("InEchoReps", "echo replies: %d"),
	icmpIn("InEchos", "echo requests: %d"),
	num("InErrors", "%d input ICMP message failed"),
	num("InMsgs", "%d ICMP messages received"),
	icmpIn("InParmProbs", "wrong parameters: %d"),
	icmpIn("InRedirects", "redirects: %d"),
	icmpIn("InSrcQuenchs", "source quenches: %d"),
	icmpIn("InTimeExcds", "timeout in transit: %d"),
	icmpIn("InTimestampReps", "timestamp reply: %d"),
	icmpIn("InTimestamps", "timestamp request: %d"),
	icmpOut("OutAddrMaskReps", "address mask replies: %d"),
	icmpOut("OutAddrMasks", "address mask requests: %d"),
	icmpOut("OutDestUnreachs", "destination unreachable: %d"),
	icmpOut("OutEchoReps", "echo replies: %d"),
	icmpOut("OutEchos", "echo requests: %d"),
	num("OutErrors", "%d ICMP messages failed"),
	num("OutMsgs", "%d ICMP messages sent"),
	icmpOut("OutParmProbs", "wrong parameters: %d"),
	icmpOut("OutRedirects", "redirect: %d"),
	icmpOut("OutSrcQuenchs", "source quench: %d"),
	icmpOut("OutTimeExcds", "time exceeded: %d"),
	icmpOut("OutTimestampReps", "timestamp replies: %d"),
	icmpOut("OutTimestamps", "timestamp requests: %d"),
}

var icmp6Tab = []statEntry{
	icmpIn("Icmp6InDestUnreachs", "destination unreachable: %d"),
	icmpIn("Icmp6InEchoReplies", "echo replies: %d"),
	icmpIn("Icmp6InEchos", "echo requests: %d"),
	num("Icmp6InErrors", "%d input ICMP message failed"),
	icmpIn("Icmp6InGroupMembQueries", "group member queries: %d"),
	icmpIn("Icmp6InGroupMembReductions", "group member reductions: %d"),
	icmpIn("Icmp6InGroupMembResponses", "group member responses: %d"),
	num("Icmp6InMsgs", "%d ICMP messages received"),
	icmpIn("Icmp6InNeighborAdvertisements", "neighbour advertisement: %d"),
	icmpIn("Icmp6InNeighborSolicits", "neighbour solicits: %d"),
	icmpIn("Icmp6InParmProblems", "parameter problem: %d"),
	icmpIn("Icmp6InPktTooBigs", "packets too big: %d"),
	icmpIn("Icmp6InRedirects", "redirects: %d"),
	icmpIn("Icmp6InRouterAdvertisements", "router advertisement: %d"),
	icmpIn("Icmp6InRouterSolicits", "router solicits: %d"),
	icmpIn("Icmp6InTimeExcds", "received ICMPv6 time exceeded: %d"),
	icmpOut("Icmp6OutDestUnreachs", "destination unreachable: %d"),
	icmpOut("Icmp6OutEchoReplies", "echo replies: %d"),
	icmpOut("Icmp6OutEchos", "echo requests: %d"),
	icmpOut("Icmp6OutGroupMembQueries", "group member queries: %d"),
	icmpOut("Icmp6OutGroupMembReductions", "group member reductions: %d"),
	icmpOut("Icmp6OutGroupMembResponses", "group member responses: %d"),
	num("Icmp6OutMsgs", "%d ICMP messages sent"),
	icmpOut("Icmp6OutNeighborAdvertisements", "neighbor advertisements: %d"),
	icmpOut("Icmp6OutNeighborSolicits", "neighbor solicits: %d"),
	icmpOut("Icmp6OutParmProblems", "parameter problem: %d"),
	icmpOut("Icmp6OutPktTooBigs", "packets too big: %d"),
	icmpOut("Icmp6OutRedirects", "redirects: %d"),
	// The trailing space is net-tools' own: the kernel's counter never
	// matches this entry.
	icmpOut("Icmp6OutRouterAdvertisements ", "router advertisement: %d"),
	icmpOut("Icmp6OutRouterSolicits", "router solicits: %d"),
	icmpOut("Icmp6OutTimeExcds", "sent ICMPv6 time exceeded: %d"),
}

var tcpTab = []statEntry{
	num("ActiveOpens", "%d active connection openings"),
	num("AttemptFails", "%d failed connection attempts"),
	num("CurrEstab", "%d connections established"),
	num("EstabResets", "%d connection resets received"),
	num("InErrs", "%d bad segments received"),
	num("InSegs", "%d segments received"),
	num("MaxConn", ""),
	num("OutRsts", "%d resets sent"),
	num("OutSegs", "%d segments sent out"),
	num("PassiveOpens", "%d passive connection openings"),
	num("RetransSegs", "%d segments retransmitted"),
	num("RtoAlgorithm", ""), // I_STATIC
	num("RtoMax", ""),
	num("RtoMin", ""),
}

var udpTab = []statEntry{
	num("InDatagrams", "%d packets received"),
	num("InErrors", "%d packet receive errors"),
	num("NoPorts", "%d packets to unknown port received"),
	num("OutDatagrams", "%d packets sent"),
	num("RcvbufErrors", "%d receive buffer errors"),
	num("SndbufErrors", "%d send buffer errors"),
}

var udp6Tab = []statEntry{
	num("Udp6InDatagrams", "%d packets received"),
	num("Udp6InErrors", "%d packet receive errors"),
	num("Udp6NoPorts", "%d packets to unknown port received"),
	num("Udp6OutDatagrams", "%d packets sent"),
}

var tcpExtTab = []statEntry{
	opt("DelayedACKLocked", "%d delayed acks further delayed because of locked socket"),
	opt("DelayedACKLost", "Quick ack mode was activated %d times"),
	opt("DelayedACKs", "%d delayed acks sent"),
	opt("EmbryonicRsts", "%d resets received for embryonic SYN_RECV sockets"),
	opt("ListenDrops", "%d SYNs to LISTEN sockets dropped"),
	opt("ListenOverflows", "%d times the listen queue of a socket overflowed"),
	opt("LockDroppedIcmps", "%d ICMP packets dropped because socket was locked"),
	opt("OfoPruned", "%d packets dropped from out-of-order queue because of socket buffer overrun"),
	opt("OutOfWindowIcmps", "%d ICMP packets dropped because they were out-of-window"),
	opt("PAWSActive", "%d active connections rejected because of time stamp"),
	opt("PAWSEstab", "%d packets rejected in established connections because of timestamp"),
	opt("PAWSPassive", "%d passive connections rejected because of time stamp"),
	opt("PruneCalled", "%d packets pruned from receive queue because of socket buffer overrun"),
	opt("RcvPruned", "%d packets pruned from receive queue"),
	opt("SockMallocOOM", "Ran %d times out of system memory during packet sending"),
	opt("SyncookiesFailed", "%d invalid SYN cookies received"),
	opt("SyncookiesRecv", "%d SYN cookies received"),
	opt("SyncookiesSent", "%d SYN cookies sent"),
	opt("TCPAbortFailed", "%d times unable to send RST due to no memory"),
	opt("TCPAbortOnClose", "%d connections reset due to early user close"),
	opt("TCPAbortOnData", "%d connections reset due to unexpected data"),
	opt("TCPAbortOnLinger", "%d connections aborted after user close in linger timeout"),
	opt("TCPAbortOnMemory", "%d connections aborted due to memory pressure"),
	opt("TCPAbortOnSyn", "%d connections reset due to unexpected SYN"),
	opt("TCPAbortOnTimeout", "%d connections aborted due to timeout"),
	opt("TCPDirectCopyFromBacklog", "%d bytes directly in process context from backlog"),
	opt("TCPDirectCopyFromPrequeue", "%d bytes directly received in process context from prequeue"),
	opt("TCPDSACKOfoRecv", "%d DSACKs for out of order packets received"),
	opt("TCPDSACKOfoSent", "%d DSACKs sent for out of order packets"),
	opt("TCPDSACKOldSent", "%d DSACKs sent for old packets"),
	opt("TCPDSACKRecv", "%d DSACKs received"),
	opt("TCPDSackUndo", "%d congestion window recovered without slow start using DSACK"),
	opt("TCPDSACKUndo", "%d congestion windows recovered without slow start by DSACK"),
	opt("TCPFACKReorder", "Detected reordering %d times using FACK"),
	opt("TCPFastRetrans", "%d fast retransmits"),
	opt("TCPForwardRetrans", "%d forward retransmits"),
	opt("TCPFullUndo", "%d congestion windows fully recovered without slow start"),
	opt("TCPHPAcks", "%d predicted acknowledgments"),
	num("TCPHPHits", "%d packet headers predicted"),
	opt("TCPHPHitsToUser", "%d packet headers predicted and directly queued to user"),
	opt("TCPLossFailures", "%d timeouts in loss state"),
	opt("TCPLoss", "%d TCP data loss events"),
	opt("TCPLossUndo", "%d congestion windows recovered without slow start after partial ack"),
	opt("TCPLostRetransmits", "%d retransmits lost"),
	opt("TCPMemoryPressures", "TCP ran low on memory %d times"),
	opt("TCPPartialUndo", "%d congestion windows partially recovered using Hoe heuristic"),
	opt("TCPPrequeued", "%d packets directly queued to recvmsg prequeue"),
	opt("TCPPrequeueDropped", "%d packets dropped from prequeue"),
	opt("TCPPureAcks", "%d acknowledgments not containing data payload received"),
	opt("TCPRcvCollapsed", "%d packets collapsed in receive queue due to low socket buffer"),
	opt("TCPRenoFailures", "%d timeouts after reno fast retransmit"),
	opt("TCPRenoRecoveryFailed", "%d reno fast retransmits failed"),
	opt("TCPRenoRecoveryFail", "%d classic Reno fast retransmits failed"),
	opt("TCPRenoRecovery", "%d times recovered from packet loss due to fast retransmit"),
	opt("TCPRenoReorder", "Detected reordering %d times using reno fast retransmit"),
	opt("TCPSackFailures", "%d timeouts after SACK recovery"),
	opt("TCPSackRecoveryFail", "%d SACK retransmits failed"),
	opt("TCPSackRecovery", "%d times recovered from packet loss by selective acknowledgements"),
	opt("TCPSACKReneging", "%d bad SACK blocks received"),
	opt("TCPSACKReorder", "Detected reordering %d times using SACK"),
	opt("TCPSchedulerFailed", "%d times receiver scheduled too late for direct processing"),
	opt("TCPSlowStartRetrans", "%d retransmits in slow start"),
	opt("TCPTimeouts", "%d other TCP timeouts"),
	opt("TCPTSReorder", "Detected reordering %d times using time stamp"),
	opt("TWKilled", "%d TCP sockets finished time wait in slow timer"),
	opt("TW", "%d TCP sockets finished time wait in fast timer"),
	opt("TWRecycled", "%d time wait sockets recycled by time stamp"),
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
