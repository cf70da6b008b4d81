package flows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnavailable is wrapped by every error that says a source cannot be
// used here (as opposed to a failure while using it).
var ErrUnavailable = errors.New("flows: source unavailable")

// Feed is a stream of connection events from one source. Read it with
// Next from one goroutine; Close may be called from any.
type Feed struct {
	src      Source
	opts     Options
	items    chan item
	stop     chan struct{}
	done     chan struct{}
	closeSrc func() // unblocks the source's reader
	once     sync.Once
	skipped  []error
	lost     atomic.Uint64 // the source's own count, to add to statsFn's
	statsFn  func() Stats
}

type item struct {
	ev  Event
	err error
}

// Start starts a feed from opts.Source, or under SourceAuto from the best
// source that works here: SourceTracepoint, then SourceDestroy, then
// SourcePoll. Skipped says why better sources were passed over.
//
// A forced source that cannot be used is an error wrapping
// ErrUnavailable.
func Start(opts Options) (*Feed, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	f := &Feed{
		opts:  opts,
		items: make(chan item, 4096),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	order := []Source{opts.Source}
	if opts.Source == SourceAuto {
		order = []Source{SourceTracepoint, SourceDestroy, SourcePoll}
	}
	for _, src := range order {
		err := refuse(src)
		switch {
		case err != nil:
		case src == SourceTracepoint:
			err = f.startTracepoint()
		case src == SourceDestroy:
			err = f.startDestroy()
		case src == SourcePoll:
			err = f.startPoll()
		default:
			return nil, fmt.Errorf("flows: unknown source %v", src)
		}
		if err == nil {
			f.src = src
			return f, nil
		}
		f.skipped = append(f.skipped, fmt.Errorf("%v: %w", src, err))
	}
	return nil, errors.Join(f.skipped...)
}

// refuse lets tests make a source unavailable.
var refuse = func(Source) error { return nil }

// Source returns the source in use.
func (f *Feed) Source() Source { return f.src }

// Skipped returns why SourceAuto passed over better sources, one error
// per source tried before the one in use.
func (f *Feed) Skipped() []error { return f.skipped }

// Stats counts what a feed's source dropped, and what it saved from
// being dropped.
type Stats struct {
	// Lost counts events dropped for want of room: the tracepoint's ring
	// buffer full (the reader fell behind), the destroy notifications'
	// socket overrun (counted once per overrun, which loses one or more).
	Lost uint64
	// Missed (tracepoint) counts the state changes the kernel ran
	// neither copy of the program for (see Nested): an upper bound of
	// the events missed, since they may have been any TCP socket's, in
	// any network namespace, and changes that make no event.
	Missed uint64
	// Nested (tracepoint) counts the state changes that interrupted the
	// program on its CPU (a softirq's, while it ran in a process's
	// system call), which the kernel does not run the program for; the
	// second copy of the program handled them: not lost.
	Nested uint64
	// Untracked (tracepoint) counts the sockets the program had no room
	// to remember (its socket map full): their later events have no
	// PID of their own.
	Untracked uint64
}

// Stats returns the source's counts so far.
func (f *Feed) Stats() Stats {
	var st Stats
	if f.statsFn != nil {
		st = f.statsFn()
	}
	st.Lost += f.lost.Load()
	return st
}

// Lost returns how many events the source is known to have dropped, or
// may have: Stats' Lost and Missed.
func (f *Feed) Lost() uint64 {
	st := f.Stats()
	return st.Lost + st.Missed
}

// Next returns the next event. A bad record or message is returned as an
// error and the feed goes on; after Close (or when ctx is done) Next
// returns io.EOF (ctx.Err()).
func (f *Feed) Next(ctx context.Context) (Event, error) {
	select {
	case it, ok := <-f.items:
		if !ok {
			return Event{}, io.EOF
		}
		return it.ev, it.err
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// Drain appends to dst every event already waiting, without blocking,
// and returns it with the errors met (bad records) joined: what a program
// that polls (a watch round) reads between two rounds. After Close it
// returns dst and io.EOF.
func (f *Feed) Drain(dst []Event) ([]Event, error) {
	var errs []error
	for {
		select {
		case it, ok := <-f.items:
			if !ok {
				return dst, io.EOF
			}
			if it.err != nil {
				errs = append(errs, it.err)
				continue
			}
			dst = append(dst, it.ev)
		default:
			return dst, errors.Join(errs...)
		}
	}
}

// Close stops the feed and releases what it holds (the BPF program, the
// netlink socket). Events not yet read are dropped.
func (f *Feed) Close() error {
	f.once.Do(func() {
		close(f.stop)
		if f.closeSrc != nil {
			f.closeSrc()
		}
	})
	// Drain so that a source blocked on a full channel sees stop.
	for {
		select {
		case _, ok := <-f.items:
			if !ok {
				<-f.done
				return nil
			}
		case <-f.done:
			return nil
		}
	}
}

// send hands an event to Next, or reports that the feed is closing.
func (f *Feed) send(it item) bool {
	select {
	case f.items <- it:
		return true
	case <-f.stop:
		return false
	}
}

// run runs a source's loop in its own goroutine.
func (f *Feed) run(loop func()) {
	go func() {
		defer close(f.done)
		defer close(f.items)
		loop()
	}()
}

// startPoll starts the polling source. It reads the live system's
// /proc, Linux's: elsewhere it is unavailable.
func (f *Feed) startPoll() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%w: polling reads Linux's /proc/net, not %s's", ErrUnavailable, runtime.GOOS)
	}
	sc := newScanner()
	sc.scan(time.Now(), nil, nil)
	f.run(func() {
		t := time.NewTicker(f.opts.Interval)
		defer t.Stop()
		for {
			select {
			case <-f.stop:
				return
			case now := <-t.C:
				var out []Event
				sc.scan(now, func(k connKey, c seenConn) {
					out = append(out, sc.event(Open, k, c, now))
				}, func(k connKey, c seenConn) {
					ev := sc.event(Close, k, c, now)
					ev.Duration = now.Sub(c.first)
					ev.Traffic = c.traffic
					out = append(out, ev)
				})
				for _, ev := range out {
					if !f.send(item{ev: ev}) {
						return
					}
				}
			}
		}
	})
	return nil
}

// event builds an event of the scanner's knowledge of connection k.
func (s *scanner) event(kind Kind, k connKey, c seenConn, now time.Time) Event {
	ev := Event{Kind: kind, Time: now, Proto: c.proto, Local: k.local, Remote: k.remote}
	_, ev.Passive = listener(s.listeners, k.local)
	if c.owner.pid != 0 {
		ev.PID, ev.Program, ev.Attribution = c.owner.pid, c.owner.program, AttrTracker
	} else if ev.Passive {
		o, _ := listener(s.listeners, k.local)
		ev.PID, ev.Program, ev.Attribution = o.pid, o.program, AttrListener
	}
	return ev
}
