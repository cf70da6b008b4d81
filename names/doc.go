// Package names turns the numbers of a socket listing into names, as
// netstat does without -n: users from etc/passwd, services from
// etc/services, networks from etc/networks and hosts from etc/hosts, all
// read under a root directory, then reverse DNS for the hosts etc/hosts
// does not name.
//
// # Files under a root
//
// A Resolver reads each file the first time a name from it is asked for,
// under its Root: "" or "/" for the live system, or any tree holding etc/…,
// such as a fixture or a container's root. Links inside the tree resolve
// as if Root were "/" (a hostile tree's etc/passwd -> /etc/shadow reads the
// tree's own etc/shadow, never the host's), only regular files are read,
// and at most MaxFileSize of each. A file that cannot be opened gives no names: names are a nicety,
// the listing prints numbers instead.
//
// The parsers (ParseServices, ParsePasswd, ParseHosts, ParseNetworks) read
// one file each. As with getservbyport and friends, the first entry for a
// key wins. A line they cannot read is reported as a *ParseError naming the
// file and line ("etc/services:3: port: invalid syntax") and skipped; the
// lines around it are still read. A Resolver keeps those errors (Err) and
// answers from the good lines.
//
// # Escaping
//
// Everything this package returns — user, service, network and host names,
// from a file or from DNS — is already escaped under the module's one
// rule (control characters, C1 controls, invalid UTF-8, line separators
// and bidirectional overrides written as \n, \xNN, \uNNNN): a name a
// hostile root or a hostile DNS server gives cannot steer a terminal or
// break a line, whatever the output. Callers print the names as they are.
//
// # Reverse DNS
//
// Resolve looks up a batch of addresses: etc/hosts first, then the DNS
// (any value with net.Resolver's LookupAddr method; tests inject a fake so
// that no query leaves the machine), with at most MaxInFlight queries at
// once and Timeout for the whole batch. An address not answered in time
// stays unnamed, so a listing waits at most Timeout however many addresses
// it holds and however dead the DNS is (net-tools asks one address at a
// time and can hang for tens of seconds). Host then answers from what
// Resolve found, without blocking.
//
// # Concurrency
//
// A Resolver is safe for concurrent use once its fields are set. The
// parsers are safe for concurrent use.
package names
