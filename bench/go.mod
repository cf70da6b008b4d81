module github.com/procnet/procnet/bench

go 1.26.0

require github.com/procnet/procnet v0.0.0

require (
	github.com/prometheus/procfs v0.23.0 // indirect
	github.com/shirou/gopsutil/v4 v4.26.10 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/procnet/procnet => ../
