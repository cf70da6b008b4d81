package iface

import (
	"slices"
	"time"
)

// Sample is every interface's counters at one instant.
type Sample struct {
	Time       time.Time
	Interfaces []Interface
}

// Sample reads the interfaces and stamps them with the current time.
func (r *Reader) Sample() (Sample, error) {
	ifs, err := r.Interfaces()
	return Sample{Time: time.Now(), Interfaces: ifs}, err
}

// Delta returns how much each counter grew from prev to cur. A counter
// that went down was reset (the interface was deleted and recreated under
// the same name, or the driver reset its statistics): its delta is its
// current value, the count since the reset, never a wrapped-around huge
// number. On 32-bit kernels, whose counters wrap at 2^32, a wrap is taken
// for a reset too and that interval is undercounted.
func Delta(prev, cur Counters) Counters {
	d := func(p, c uint64) uint64 {
		if c < p {
			return c
		}
		return c - p
	}
	return Counters{
		RxBytes:      d(prev.RxBytes, cur.RxBytes),
		RxPackets:    d(prev.RxPackets, cur.RxPackets),
		RxErrs:       d(prev.RxErrs, cur.RxErrs),
		RxDrop:       d(prev.RxDrop, cur.RxDrop),
		RxFifo:       d(prev.RxFifo, cur.RxFifo),
		RxFrame:      d(prev.RxFrame, cur.RxFrame),
		RxCompressed: d(prev.RxCompressed, cur.RxCompressed),
		RxMulticast:  d(prev.RxMulticast, cur.RxMulticast),
		TxBytes:      d(prev.TxBytes, cur.TxBytes),
		TxPackets:    d(prev.TxPackets, cur.TxPackets),
		TxErrs:       d(prev.TxErrs, cur.TxErrs),
		TxDrop:       d(prev.TxDrop, cur.TxDrop),
		TxFifo:       d(prev.TxFifo, cur.TxFifo),
		TxColls:      d(prev.TxColls, cur.TxColls),
		TxCarrier:    d(prev.TxCarrier, cur.TxCarrier),
		TxCompressed: d(prev.TxCompressed, cur.TxCompressed),
	}
}

// Rate is an interface's throughput between two samples, per second.
type Rate struct {
	Name string
	// Flags are the interface's flags in the later sample (an interface
	// that went down shows its last rate without FlagUp).
	Flags     Flags
	RxBytes   float64
	RxPackets float64
	TxBytes   float64
	TxPackets float64
	// Delta holds the counters' growth over the interval (see Delta).
	Delta Counters
	// Interval is the time between the two samples.
	Interval time.Duration
}

// Rates returns the rate of every interface of cur that prev also has,
// matched by name, in cur's order. An interface new in cur has no rate. If
// the interval is not positive (equal or reversed times), the deltas are
// given but every per-second rate is 0.
func Rates(prev, cur Sample) []Rate {
	before := make(map[string]*Counters, len(prev.Interfaces))
	for i := range prev.Interfaces {
		before[prev.Interfaces[i].Name] = &prev.Interfaces[i].Counters
	}
	dt := cur.Time.Sub(prev.Time)
	var perSec float64
	if dt > 0 {
		perSec = 1 / dt.Seconds()
	}
	rates := make([]Rate, 0, len(cur.Interfaces))
	for _, ifc := range cur.Interfaces {
		p, ok := before[ifc.Name]
		if !ok {
			continue
		}
		d := Delta(*p, ifc.Counters)
		rates = append(rates, Rate{
			Name:      ifc.Name,
			Flags:     ifc.Flags,
			RxBytes:   float64(d.RxBytes) * perSec,
			RxPackets: float64(d.RxPackets) * perSec,
			TxBytes:   float64(d.TxBytes) * perSec,
			TxPackets: float64(d.TxPackets) * perSec,
			Delta:     d,
			Interval:  dt,
		})
	}
	return rates
}

// Meter gives the interfaces' rates over successive reads: what `netstat
// -i --rate -c` prints each interval. Its zero value reads the live
// system and gives the rates of the interfaces that are up.
//
// A Meter is not safe for concurrent use.
type Meter struct {
	// Reader reads the counters.
	Reader Reader
	// All gives the rates of interfaces that are down too; without it
	// only those with FlagUp are rated, as netstat -i lists them.
	All bool
	// Now stamps each sample; nil is time.Now.
	Now func() time.Time

	last   Sample
	primed bool
}

// Read reads the interfaces and returns them, in net-tools' order with
// an old kernel's alias rows (eth0:1 in proc/net/dev) given their
// parent's MTU and flags (see AppendAliases and Sort), and their rates
// since the previous Read (see Rates): none on the first.
//
// Errors are as Interfaces'. When no interface could be read and the
// read failed (not a bad row), Read returns an empty Sample and the
// error, and the next Read measures from the last sample that was read.
func (m *Meter) Read() (Sample, []Rate, error) {
	list, err := m.Reader.AppendInterfaces(nil)
	if len(list) == 0 && slices.ContainsFunc(appendErr(nil, err), isFailure) {
		return Sample{}, nil, err
	}
	list, _ = AppendAliases(list, nil)
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	s := Sample{Time: now(), Interfaces: Sort(list)}
	var rates []Rate
	if m.primed {
		rates = slices.DeleteFunc(Rates(m.last, s), func(r Rate) bool { return !m.All && !r.Flags.Has(FlagUp) })
	}
	m.last, m.primed = s, true
	return s, rates, err
}
